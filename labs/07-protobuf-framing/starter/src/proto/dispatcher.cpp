// Lab 07 — the dispatcher: the command table and the original's echo example. Contract:
// src/proto/include/avant/proto/dispatcher.hpp, where the typed on<Message>() is given and shows
// what an entry of handlers_ is: a function that runs the handler and returns false when the
// package's inner message does not parse. Tests: ctest -L ch07 (07.Dispatcher*, then every test
// that sends a package).
#include <stdexcept>
#include <string>

#include <avant/proto/dispatcher.hpp>

namespace avant::proto {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(07): ") + what);
}
}  // namespace

// By value, as the header declares it: your code moves `handler` into handlers_.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void Dispatcher::on_package(ProtoCmd cmd, PackageHandler handler) {
  static_cast<void>(cmd);
  static_cast<void>(handler);
  todo(
      "Dispatcher::on_package: handlers_[cmd] = an entry that calls `handler` with the package as "
      "it came and returns true (nothing to parse, so never malformed); a later registration of "
      "the same command replaces the earlier one, typed or not");
}

Dispatcher::Outcome Dispatcher::dispatch(Context& context, const ProtoPackage& package) const {
  static_cast<void>(context);
  static_cast<void>(package);
  // const, and called from every worker loop at once: it only reads handlers_.
  todo(
      "Dispatcher::dispatch: no entry for package.cmd() -> unknown; else run the entry with "
      "`context` and `package`: true -> handled, false -> malformed");
}

void add_echo_example(Dispatcher& dispatcher) {
  // The registration is given: avant calls add_echo_example() at startup whatever its task type,
  // so a stub that threw here would stop the HTTP server of chapters 05 and 06 as well. The
  // handler's body is yours.
  dispatcher.on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE, [](Context& context, const ProtoCSReqExample& request) {
        static_cast<void>(context);
        static_cast<void>(request);
        todo(
            "add_echo_example: answer with a ProtoCSResExample holding request.testcontext(), as "
            "command PROTO_CMD_CS_RES_EXAMPLE, through context.reply(cmd, message)");
      });
}

}  // namespace avant::proto
