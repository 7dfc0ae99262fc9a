// Signals read from a signalfd on the loop (signals.hpp).
#include <cerrno>
#include <csignal>
#include <string>
#include <system_error>
#include <utility>

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <avant/reactor/log.hpp>
#include <avant/reactor/signals.hpp>

namespace avant::reactor {

namespace {

// Blocks SIGINT, SIGTERM, SIGUSR1 and SIGHUP in the calling thread; returns a signalfd for them.
net::FileDescriptor block_and_open() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signo : {SIGINT, SIGTERM, SIGUSR1, SIGHUP})
    sigaddset(&set, signo);
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
  }
  net::FileDescriptor fd{::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)};
  if (!fd) throw std::system_error(errno, std::generic_category(), "signalfd");
  return fd;
}

}  // namespace

SignalWatcher::SignalWatcher(EventLoop& loop, SignalActions actions)
    : loop_(loop), actions_(std::move(actions)), fd_(block_and_open()), channel_(loop, fd_.get()) {
  loop_.assert_in_loop_thread();
  channel_.on_read([this] { handle_read(); });
  channel_.enable_reading();
}

SignalWatcher::~SignalWatcher() {
  channel_.remove();
}

void SignalWatcher::handle_read() {
  signalfd_siginfo info{};
  while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    const int signo = static_cast<int>(info.ssi_signo);
    switch (signo) {
      case SIGUSR1:
        if (actions_.reload) {
          actions_.reload();
        } else {
          log::info("signals", "SIGUSR1: nothing to reload");
        }
        break;
      case SIGHUP:
        if (actions_.reopen_logs) {
          actions_.reopen_logs();
        } else {
          log::info("signals", "SIGHUP: no log file to reopen (the log goes to stderr)");
        }
        break;
      default:  // SIGINT, SIGTERM
        if (stopping_) {
          log::info("signals", std::string(signo == SIGINT ? "SIGINT" : "SIGTERM") +
                                   ": already stopping; the stop under way finishes first");
          break;
        }
        stopping_ = true;
        if (actions_.stop) actions_.stop(signo);
        break;
    }
  }
}

}  // namespace avant::reactor
