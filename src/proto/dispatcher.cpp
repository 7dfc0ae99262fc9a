// dispatcher.cpp — the command table (dispatcher.hpp). Lab 07 rewrites this file; the typed
// on<Message>() and slot() stay in the header.
#include <avant/proto/dispatcher.hpp>

namespace avant::proto {

void Dispatcher::on_package(ProtoCmd cmd, PackageHandler handler) {
  slot(static_cast<int>(cmd)) = [h = std::move(handler)](Context& context,
                                                         const PackageView& view) {
    // The package made again from its command and bytes: one per thread, so a steady stream
    // of packages does not allocate; a nested dispatch on the thread gets a fresh one.
    thread_local ProtoPackage reused;
    thread_local bool in_use = false;
    const auto fill = [&view](ProtoPackage& package) -> ProtoPackage& {
      package.set_cmd(static_cast<ProtoCmd>(view.cmd));
      package.mutable_protocol()->assign(view.protocol.data(), view.protocol.size());
      return package;
    };
    if (in_use) {
      ProtoPackage fresh;
      h(context, fill(fresh));
      return true;
    }
    in_use = true;  // (a handler that throws leaves it marked: that thread then uses fresh ones)
    h(context, fill(reused));
    in_use = false;
    return true;
  };
}

const Dispatcher::Entry* Dispatcher::find(int cmd) const noexcept {
  if (cmd >= 0 && cmd < kDirect) {
    const Entry& entry = direct_[static_cast<std::size_t>(cmd)];
    return entry ? &entry : nullptr;
  }
  const auto it = others_.find(cmd);
  return it != others_.end() && it->second ? &it->second : nullptr;
}

Dispatcher::Outcome Dispatcher::dispatch(Context& context, const PackageView& package) const {
  const Entry* entry = find(package.cmd);
  if (entry == nullptr) return Outcome::unknown;
  return (*entry)(context, package) ? Outcome::handled : Outcome::malformed;
}

void add_echo_example(Dispatcher& dispatcher) {
  dispatcher.on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE, [](Context& context, ProtoCSReqExample& request) {
        // One answer per thread. The request's string is swapped into it, not copied: both
        // messages are reused for the next package, and keep each other's capacity.
        thread_local ProtoCSResExample answer;
        answer.mutable_testcontext()->swap(*request.mutable_testcontext());
        context.reply(PROTO_CMD_CS_RES_EXAMPLE, answer);
      });
}

}  // namespace avant::proto
