// threads.hpp — threads as a failing test should print them: by name, not by a raw id.
//
//   EXPECT_EQ(on_loop(loop, testing::this_thread), testing::this_thread());
//
// prints `thread "worker-1" (tid 4243)` on each side when it fails, where comparing
// std::thread::id values would print two unreadable numbers. Equality is the thread's identity.
// Threads: any.
#pragma once

#include <array>
#include <ostream>
#include <string>
#include <thread>

#include <pthread.h>
#include <unistd.h>

namespace avant::testing {

struct ThreadTag {
  std::thread::id id;
  std::string name;
  pid_t tid = 0;

  friend bool operator==(const ThreadTag& a, const ThreadTag& b) { return a.id == b.id; }
  friend bool operator<(const ThreadTag& a, const ThreadTag& b) { return a.id < b.id; }
  // GoogleTest prints values through PrintTo, found by argument-dependent lookup.
  friend void PrintTo(const ThreadTag& t, std::ostream* os) {
    *os << "thread \"" << t.name << "\" (tid " << t.tid << ")";
  }
};

// The name the kernel knows the calling thread by (pthread_setname_np, at most 15 characters).
inline std::string this_thread_name() {
  std::array<char, 16> name{};
  ::pthread_getname_np(::pthread_self(), name.data(), name.size());
  return name.data();
}

inline ThreadTag this_thread() {
  return {std::this_thread::get_id(), this_thread_name(), ::gettid()};
}

}  // namespace avant::testing
