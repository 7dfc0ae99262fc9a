// steps.hpp — a learner-readable trail for a failing test.
//
// A test records what it does as it goes; when the test fails, the trail is printed after
// GoogleTest's own message, so the reader sees the steps that led to the failure, not only the
// last assertion:
//
//   avant::testing::Steps steps;
//   steps.add("connect to " + address.to_string());
//   ...
//   steps.expect_eq("bytes echoed", sent.size(), got.size());
//
// Threads: one test thread.
#pragma once

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace avant::testing {

class Steps {
 public:
  Steps() = default;
  Steps(const Steps&) = delete;
  Steps& operator=(const Steps&) = delete;
  ~Steps() {
    if (!::testing::Test::HasFailure() || steps_.empty()) return;
    std::cerr << "\nSteps that led here:\n";
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      std::cerr << "  " << (i + 1) << ". " << steps_[i] << '\n';
    }
  }

  void add(std::string step) { steps_.push_back(std::move(step)); }

  // EXPECT_EQ that also records the step, with both values, in the trail.
  template <class A, class B>
  void expect_eq(const std::string& what, const A& expected, const B& actual) {
    std::ostringstream line;
    const bool same = (expected == actual);
    line << what << ": expected " << ::testing::PrintToString(expected) << ", got "
         << ::testing::PrintToString(actual) << (same ? "" : "   <-- differs");
    add(line.str());
    EXPECT_TRUE(same) << what << ": expected " << ::testing::PrintToString(expected) << ", got "
                      << ::testing::PrintToString(actual);
  }

 private:
  std::vector<std::string> steps_;
};

}  // namespace avant::testing
