// link_rules.hpp — which side of a pair dials, and which of two connections a pair keeps. Both
// processes of a pair answer these from the same two app ids, so they agree without talking.
//
//   0.0.0.1 ──dials──> 0.0.0.2           the lower app_id dials (compare_app_ids), the higher
//                                        one only accepts: one connection per pair, normally
//   a second connection (the higher one dialed too, as the original does; or an old link the
//   dialer gave up on is still open on the other side) is resolved when its handshake is done:
//     dialed by different sides -> keep the one the lower app_id dialed
//     dialed by the same side   -> keep the new one (the dialer only dials again when it lost
//                                  the old one, which the other side may not know yet)
//
// Threads: plain functions.
#pragma once

#include <string_view>

namespace avant::ipc {

// Whether the process `own` dials `peer`.
[[nodiscard]] bool dials(std::string_view own, std::string_view peer);
// The lower of two app ids.
[[nodiscard]] std::string_view lower_of(std::string_view a, std::string_view b);
// A pair (own, peer) has a link, and a second connection has done its handshake: whether the
// new one becomes the link (and the old one is closed) rather than being closed itself.
// `new_dialed_by_us` / `old_dialed_by_us`: whether `own` dialed the new / the old connection.
[[nodiscard]] bool keeps_new_link(std::string_view own, std::string_view peer,
                                  bool new_dialed_by_us, bool old_dialed_by_us);

}  // namespace avant::ipc
