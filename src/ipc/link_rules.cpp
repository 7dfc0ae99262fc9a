// link_rules.cpp — who dials and which link a pair keeps (link_rules.hpp). Lab 09: the learner's
// file.
#include <compare>

#include <avant/ipc/link_rules.hpp>
#include <avant/ipc/mesh_config.hpp>

namespace avant::ipc {

bool dials(std::string_view own, std::string_view peer) {
  return std::is_lt(compare_app_ids(own, peer));
}

std::string_view lower_of(std::string_view a, std::string_view b) {
  return std::is_lteq(compare_app_ids(a, b)) ? a : b;
}

bool keeps_new_link(std::string_view own, std::string_view peer, bool new_dialed_by_us,
                    bool old_dialed_by_us) {
  if (new_dialed_by_us == old_dialed_by_us) return true;
  // Different dialers: keep the one the lower app_id dialed. We dialed it when we are the lower.
  const bool we_are_lower = dials(own, peer);
  return new_dialed_by_us == we_are_lower;
}

}  // namespace avant::ipc
