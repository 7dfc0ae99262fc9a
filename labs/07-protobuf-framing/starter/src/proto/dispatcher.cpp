// Lab 07 — the dispatcher: the command table and the original's echo example. Contract:
// src/proto/include/avant/proto/dispatcher.hpp, where the typed on<Message>() and slot() are
// given and show what an entry is: a function of (Context&, const PackageView&) that runs the
// handler and returns false when the package's inner bytes do not parse. Tests: ctest -L ch07
// (07.Dispatcher*, then every test that sends a package).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <avant/proto/dispatcher.hpp>

namespace avant::proto {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(07): ") + what);
}

// For the noexcept function: a TODO cannot be thrown from there, so the lab says it loudly and
// stops.
[[noreturn]] void todo_noexcept(const char* what) noexcept {
  std::fputs("TODO(07): ", stderr);
  std::fputs(what, stderr);
  std::fputs("\n", stderr);
  std::abort();
}
}  // namespace

// By value, as the header declares it: your code moves `handler` into the table.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void Dispatcher::on_package(ProtoCmd cmd, PackageHandler handler) {
  static_cast<void>(cmd);
  static_cast<void>(handler);
  todo(
      "Dispatcher::on_package: slot(cmd) = an entry that makes a ProtoPackage of the view's cmd "
      "and protocol bytes, calls `handler` with it and returns true (nothing to parse, so never "
      "malformed); a later registration of the same command replaces the earlier one, typed or "
      "not");
}

const Dispatcher::Entry* Dispatcher::find(int cmd) const noexcept {
  static_cast<void>(cmd);
  todo_noexcept(
      "Dispatcher::find: the entry of `cmd`, or nullptr when it has none: direct_[cmd] for "
      "0 <= cmd < kDirect, others_ for any other int; an empty std::function is no entry");
}

Dispatcher::Outcome Dispatcher::dispatch(Context& context, const PackageView& package) const {
  static_cast<void>(context);
  static_cast<void>(package);
  // const, and called from every worker loop at once: it only reads the table.
  todo(
      "Dispatcher::dispatch: no entry for package.cmd -> unknown; else run the entry with "
      "`context` and `package`: true -> handled, false -> malformed");
}

void add_echo_example(Dispatcher& dispatcher) {
  // The registration is given: avant calls add_echo_example() at startup whatever its task type,
  // so a stub that threw here would stop the HTTP server of chapters 05 and 06 as well. The
  // handler's body is yours.
  dispatcher.on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE, [](Context& context, ProtoCSReqExample& request) {
        static_cast<void>(context);
        static_cast<void>(request);
        todo(
            "add_echo_example: answer with a ProtoCSResExample holding the request's testcontext "
            "(the request is yours during the call: swap the string out of it rather than copy), "
            "as command PROTO_CMD_CS_RES_EXAMPLE, through context.reply(cmd, message)");
      });
}

}  // namespace avant::proto
