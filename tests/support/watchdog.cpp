// watchdog.cpp — compiled into every test executable (an INTERFACE source of avant::test_support),
// where a static object registers a GoogleTest listener before main() runs. See watchdog.hpp.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include <avant/testing/watchdog.hpp>

#include <gtest/gtest.h>

namespace avant::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What a blocked thread's current system call usually means, in the words of the chapters.
std::string explain_syscall(long number) {
  switch (number) {
    case 202:  // futex (x86_64)
      return "futex: a mutex, a condition variable, a future or a join";
    case 232:  // epoll_wait
    case 281:  // epoll_pwait
      return "epoll_wait: an event loop waiting for events";
    case 7:  // poll
      return "poll: waiting for a socket";
    case 0:  // read
      return "read";
    case 1:  // write
      return "write";
    case 230:  // clock_nanosleep
    case 35:   // nanosleep
      return "sleep";
    case 43:  // accept
    case 288:
      return "accept";
    case 61:  // wait4
      return "wait4: waiting for a child process";
    default:
      return "system call " + std::to_string(number);
  }
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class Watchdog {
 public:
  static Watchdog& instance() {
    // Never destroyed: its detached thread may still wait on its mutex while the process exits.
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory,cppcoreguidelines-avoid-non-const-global-variables)
    static auto* const dog = new Watchdog;
    return *dog;
  }

  unsigned long push(Clock::duration limit, std::string what, std::string hint) {
    const std::lock_guard lock(mutex_);
    const unsigned long id = ++next_id_;
    scopes_.push_back(
        Scope{id, Clock::now(), Clock::now() + limit, std::move(what), std::move(hint)});
    wake_.notify_one();
    return id;
  }

  void pop(unsigned long id) {
    const std::lock_guard lock(mutex_);
    std::erase_if(scopes_, [id](const Scope& s) { return s.id == id; });
  }

  void set_hint(std::string text) {
    const std::lock_guard lock(mutex_);
    test_hint_ = std::move(text);
  }

  void test_started(const ::testing::TestInfo& info) {
    const std::lock_guard lock(mutex_);
    test_name_ = std::string(info.test_suite_name()) + "." + info.name();
    test_started_ = Clock::now();
    test_deadline_ = test_started_ + budget_;
    test_hint_.clear();
    test_tid_ = ::gettid();  // listeners run on the test's own thread
    running_ = true;
    wake_.notify_one();
  }

  void test_ended() {
    const std::lock_guard lock(mutex_);
    running_ = false;
    scopes_.clear();
  }

 private:
  struct Scope {
    unsigned long id;
    Clock::time_point started;
    Clock::time_point deadline;
    std::string what;
    std::string hint;
  };

  Watchdog() {
    // ctest's timeout for this test, in seconds (set by avant_add_gtest): fire a little before it
    // so the explanation is printed by us rather than replaced by ctest's "Timeout".
    double timeout = 60;
    // Read before main() runs the tests, when no thread changes the environment.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    if (const char* env = std::getenv("AVANT_TEST_TIMEOUT"); env != nullptr) {
      timeout = std::max(2.0, std::strtod(env, nullptr));
    }
    const double margin = std::clamp(timeout * 0.2, 1.0, 10.0);
    budget_ = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(timeout - margin));
    std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "watchdog");
      watch();
    }).detach();
  }

  void watch() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, std::chrono::milliseconds(50));
      if (!running_) continue;
      const auto now = Clock::now();
      for (const Scope& scope : scopes_) {
        if (now >= scope.deadline) {
          report(scope.started, "blocked in \"" + scope.what + "\"", scope.hint);
        }
      }
      if (now >= test_deadline_) {
        report(test_started_, "has not finished", test_hint_);
      }
    }
  }

  // Prints the explanation and ends the process as a failed test. Called with mutex_ held.
  [[noreturn]] void report(Clock::time_point since, const std::string& what,
                           const std::string& hint) {
    const double seconds = std::chrono::duration<double>(Clock::now() - since).count();
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << "\n[  HANG    ] " << test_name_ << ": " << what
        << " for " << seconds << " s\n";
    if (!hint.empty()) out << "  hint: " << hint << '\n';
    out << "  threads (name, tid, what each one waits in):\n" << describe_threads(test_tid_);
    out << "  The watchdog ends the test here, before ctest's own timeout would end it silently.\n";
    const std::string text = out.str();
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    std::fflush(stdout);
    std::_Exit(3);
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Scope> scopes_;
  unsigned long next_id_ = 0;
  bool running_ = false;
  std::string test_name_;
  std::string test_hint_;
  Clock::time_point test_started_;
  Clock::time_point test_deadline_;
  Clock::duration budget_{};
  pid_t test_tid_ = 0;
};

// GoogleTest owns (and deletes at exit) the listeners it is given, while the watchdog's thread
// must outlive every test: the listener only forwards to it.
class Listener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo& info) override {
    Watchdog::instance().test_started(info);
  }
  void OnTestEnd(const ::testing::TestInfo& /*info*/) override {
    Watchdog::instance().test_ended();
  }
};

// Registers the listener before main() (gtest_main) runs the tests.
const bool registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new Listener);  // NOLINT(*-owning-memory)
  return true;
}();

}  // namespace

Within::Within(std::chrono::milliseconds limit, std::string what, std::string hint)
    : id_(Watchdog::instance().push(limit, std::move(what), std::move(hint))) {}

Within::~Within() {
  Watchdog::instance().pop(id_);
}

void hint(std::string text) {
  Watchdog::instance().set_hint(std::move(text));
}

std::string describe_threads(pid_t test_tid) {
  std::ostringstream out;
  std::error_code ec;
  std::vector<std::filesystem::path> tasks;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    tasks.push_back(entry.path());
  }
  std::sort(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) {
    return std::stol(a.filename().string()) < std::stol(b.filename().string());
  });
  const std::string self = std::to_string(gettid());
  for (const auto& task : tasks) {
    const std::string tid = task.filename().string();
    std::string doing;
    if (tid == self) {
      doing = "the watchdog itself";
    } else {
      const std::string syscall = read_first_line(task / "syscall");
      if (syscall == "running") {
        doing = "running (busy: a loop that never waits?)";
      } else if (!syscall.empty()) {
        doing = "in " + explain_syscall(std::strtol(syscall.c_str(), nullptr, 10));
      } else {
        doing = "(its state is not readable)";
      }
    }
    if (tid == std::to_string(test_tid)) doing += "   <- the test's thread";
    out << "    " << std::left << std::setw(14) << read_first_line(task / "comm") << " tid "
        << std::setw(8) << tid << doing << '\n';
  }
  return out.str();
}

}  // namespace avant::testing
