// Lab 09 — which side of a pair dials, and which of two connections a pair keeps
// (link_rules.hpp): the rules both processes of a pair apply alike, so that they agree without
// talking. Contract: src/ipc/include/avant/ipc/link_rules.hpp. Given in mesh_config.hpp:
// compare_app_ids (the order of two app ids). Tests: ctest -L ch09 (09.LinkRules.* first).
#include <stdexcept>
#include <string>

#include <avant/ipc/link_rules.hpp>
#include <avant/ipc/mesh_config.hpp>

namespace avant::ipc {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(09): ") + what);
}
}  // namespace

bool dials(std::string_view own, std::string_view peer) {
  static_cast<void>(own);
  static_cast<void>(peer);
  todo("dials: the lower app_id of a pair (compare_app_ids) dials the higher one");
}

std::string_view lower_of(std::string_view a, std::string_view b) {
  static_cast<void>(a);
  static_cast<void>(b);
  todo("lower_of: the lower of two app ids (compare_app_ids)");
}

bool keeps_new_link(std::string_view own, std::string_view peer, bool new_dialed_by_us,
                    bool old_dialed_by_us) {
  static_cast<void>(own);
  static_cast<void>(peer);
  static_cast<void>(new_dialed_by_us);
  static_cast<void>(old_dialed_by_us);
  todo(
      "keeps_new_link: the same side dialed both -> keep the new one; different sides -> keep "
      "the one the lower app_id dialed (we dialed it when we are the lower)");
}

}  // namespace avant::ipc
