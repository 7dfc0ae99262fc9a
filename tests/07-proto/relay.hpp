// relay.hpp — a dispatcher for chapter 07's tests of Context::send_to and the Directory.
#pragma once

#include <cstdint>
#include <string>

#include <avant/proto/dispatcher.hpp>

namespace avant::proto::testing {

// A relay: "whoami" is answered with the sender's connection id, "to:<id>:<text>" sends <text>
// to connection <id> and answers the sender with the send's status.
inline void add_relay(Dispatcher& dispatcher) {
  dispatcher.on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE, [](Context& context, const ProtoCSReqExample& request) {
        const std::string& text = request.testcontext();
        ProtoCSResExample answer;
        if (text == "whoami") {
          answer.set_testcontext(std::to_string(context.connection_id()));
        } else if (text.starts_with("to:")) {
          const std::size_t colon = text.find(':', 3);
          const std::uint64_t id = std::stoull(text.substr(3, colon - 3));
          ProtoCSResExample relayed;
          relayed.set_testcontext(text.substr(colon + 1));
          answer.set_testcontext(
              std::string(to_string(context.send_to(id, PROTO_CMD_CS_RES_EXAMPLE, relayed))));
        }
        context.reply(PROTO_CMD_CS_RES_EXAMPLE, answer);
      });
}

}  // namespace avant::proto::testing
