// watchdog.hpp — hangs that explain themselves.
//
// A test that blocks forever is the hardest failure to read: ctest kills it at its timeout and
// prints nothing after "[ RUN ]". Every test executable links a watchdog (watchdog.cpp) that
// watches the running test from a thread of its own and, when the test overstays, prints what it
// knows and ends the process with a failure before ctest's timeout does:
//
//   [  HANG    ] 03.TaskPool.AFullQueueBlocksTheSubmitter: blocked for 2.0 s in
//                "submit() while another task runs"
//     hint: submit() must not wait for a running task: does run() hold mutex_ while a task runs?
//     threads:  main (tid 4242) in futex: a mutex or a condition variable
//               task-0 (tid 4243) in futex: a mutex or a condition variable
//
// Two deadlines are watched:
//   - a scope's: `Within w(2s, "what the test waits for", "hint in the contract's words");`
//     around a call that may block (a submit, a stop, a join, a future's get); the scope ends
//     when the call returns;
//   - the test's: AVANT_TEST_TIMEOUT (seconds, set by CMake from the ctest timeout) less a
//     margin, with a hint set by `hint("...")` for the rest of the test, if any.
//
// Threads: Within and hint() are called from the test's thread; the watchdog's own thread only
// reads what they registered, under a mutex.
#pragma once

#include <chrono>
#include <string>

#include <sys/types.h>

namespace avant::testing {

// Fails the test (ending the process) if this scope is still alive after `limit`.
class Within {
 public:
  Within(std::chrono::milliseconds limit, std::string what, std::string hint = {});
  ~Within();
  Within(const Within&) = delete;
  Within& operator=(const Within&) = delete;

 private:
  unsigned long id_;
};

// The hint printed if the current test overstays its own deadline (replaces an earlier one; the
// next test starts without one).
void hint(std::string text);

// "task-0  tid 4243  in futex: a mutex, ...", one line per thread of the process; the line of
// `test_tid` (the test's own thread) is marked.
[[nodiscard]] std::string describe_threads(pid_t test_tid = 0);

}  // namespace avant::testing
