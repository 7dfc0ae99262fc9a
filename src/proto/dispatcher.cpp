// dispatcher.cpp — the command table (dispatcher.hpp). Lab 07 rewrites this file; the typed
// on<Message>() stays in the header.
#include <avant/proto/dispatcher.hpp>

namespace avant::proto {

void Dispatcher::on_package(ProtoCmd cmd, PackageHandler handler) {
  handlers_[static_cast<int>(cmd)] = [h = std::move(handler)](Context& context,
                                                              const ProtoPackage& package) {
    h(context, package);
    return true;
  };
}

Dispatcher::Outcome Dispatcher::dispatch(Context& context, const ProtoPackage& package) const {
  const auto it = handlers_.find(static_cast<int>(package.cmd()));
  if (it == handlers_.end()) return Outcome::unknown;
  return it->second(context, package) ? Outcome::handled : Outcome::malformed;
}

void add_echo_example(Dispatcher& dispatcher) {
  dispatcher.on<ProtoCSReqExample>(PROTO_CMD_CS_REQ_EXAMPLE,
                                   [](Context& context, const ProtoCSReqExample& request) {
                                     // One per thread: assigning keeps the string's capacity.
                                     thread_local ProtoCSResExample answer;
                                     answer.set_testcontext(request.testcontext());
                                     context.reply(PROTO_CMD_CS_RES_EXAMPLE, answer);
                                   });
}

}  // namespace avant::proto
