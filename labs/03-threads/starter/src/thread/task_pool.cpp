// Lab 03 — TaskPool: a bounded pool of threads for blocking work.
// The given parts (construction, accessors) are in src/thread/thread_lifecycle.cpp.
// Contract: src/thread/include/avant/thread/task_pool.hpp. Tests: ctest -L ch03.
#include <stdexcept>
#include <string>
#include <utility>

#include <avant/thread/task_pool.hpp>

namespace avant::thread {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(03): ") + what);
}
}  // namespace

TaskPool::TaskPool(TaskPoolOptions options) : options_(std::move(options)) {
  todo("TaskPool::TaskPool: start options_.threads threads, thread i running run(i)");
}

SubmitStatus TaskPool::submit(std::function<void()> work) {
  static_cast<void>(work);
  todo(
      "TaskPool::submit: under mutex_: stopped -> stopped; full -> rejected_full (reject) or "
      "wait on has_room_ counting waiting_ (block); else queue it and wake one worker");
}

void TaskPool::run(std::size_t index) {
  static_cast<void>(index);
  todo(
      "TaskPool::run: name the thread name_prefix + index; take tasks in order until stopping "
      "and the queue is empty; run each outside the lock; an exception is logged, never lost");
}

void TaskPool::stop() {
  todo(
      "TaskPool::stop: once (std::call_once): set stopping_, wake every worker and every waiting "
      "submitter, join the threads (what is queued still runs)");
}

}  // namespace avant::thread
