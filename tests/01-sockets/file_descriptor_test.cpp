// Unit tests of net::FileDescriptor: exactly one close per descriptor, checked with fcntl(F_GETFD).
#include <array>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::net {
namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

// Two fresh descriptors (a pipe), as raw numbers the test hands to FileDescriptors.
std::array<int, 2> raw_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
  return fds;
}

TEST(FileDescriptor, DefaultIsEmpty) {
  const FileDescriptor fd;
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
}

TEST(FileDescriptor, DestructorClosesExactlyOnce) {
  const auto [r, w] = raw_pipe();
  {
    const FileDescriptor a(r);
    const FileDescriptor b(w);
    EXPECT_TRUE(is_open(r));
    EXPECT_TRUE(a.valid());
  }
  EXPECT_FALSE(is_open(r)) << "destructor must close";
  EXPECT_FALSE(is_open(w));
}

TEST(FileDescriptor, MoveConstructionTransfersOwnership) {
  const auto [r, w] = raw_pipe();
  const FileDescriptor keep_w(w);
  FileDescriptor a(r);
  {
    const FileDescriptor b(std::move(a));
    // The moved-from state is what this test checks.
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_EQ(a.get(), -1) << "a moved-from descriptor is empty";
    EXPECT_EQ(b.get(), r);
    EXPECT_TRUE(is_open(r));
  }
  EXPECT_FALSE(is_open(r)) << "the new owner closes it";
}

TEST(FileDescriptor, MoveAssignmentClosesWhatItHeld) {
  const auto [r, w] = raw_pipe();
  FileDescriptor a(r);
  FileDescriptor b(w);
  b = std::move(a);
  EXPECT_FALSE(is_open(w)) << "assignment closes the old descriptor";
  EXPECT_TRUE(is_open(r));
  EXPECT_EQ(b.get(), r);
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  EXPECT_EQ(a.get(), -1);
}

TEST(FileDescriptor, SelfMoveAssignmentKeepsTheDescriptor) {
  const auto [r, w] = raw_pipe();
  const FileDescriptor keep_w(w);
  FileDescriptor a(r);
  FileDescriptor& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.get(), r);
  EXPECT_TRUE(is_open(r));
}

TEST(FileDescriptor, ReleaseGivesUpWithoutClosing) {
  const auto [r, w] = raw_pipe();
  const FileDescriptor keep_w(w);
  int raw = -1;
  {
    FileDescriptor a(r);
    raw = a.release();
    EXPECT_EQ(a.get(), -1);
  }
  EXPECT_EQ(raw, r);
  EXPECT_TRUE(is_open(r)) << "released descriptors are the caller's to close";
  ::close(raw);
}

TEST(FileDescriptor, ResetClosesTheOldAndAdoptsTheNew) {
  const auto [r, w] = raw_pipe();
  FileDescriptor a(r);
  a.reset(w);
  EXPECT_FALSE(is_open(r));
  EXPECT_EQ(a.get(), w);
  a.reset();
  EXPECT_FALSE(is_open(w));
  EXPECT_FALSE(a.valid());
}

TEST(FileDescriptor, CloseNowLeavesItEmpty) {
  const auto [r, w] = raw_pipe();
  const FileDescriptor keep_w(w);
  FileDescriptor a(r);
  a.close();
  EXPECT_FALSE(is_open(r));
  EXPECT_FALSE(a.valid());
  EXPECT_NO_THROW(a.close()) << "closing an empty descriptor does nothing";
}

TEST(FileDescriptor, CloseReportsKernelErrorsNamingTheCall) {
  const auto [r, w] = raw_pipe();
  const FileDescriptor keep_w(w);
  FileDescriptor a(r);
  ::close(r);  // someone else closed it behind our back: close(2) must fail with EBADF
  try {
    a.close();
    FAIL() << "close of a closed descriptor must throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EBADF);
    EXPECT_NE(std::string(e.what()).find("close"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(a.valid());
}

TEST(FileDescriptor, DuplicateIsASecondIndependentCloseOnExecDescriptor) {
  const auto [r, w] = raw_pipe();
  const FileDescriptor reader(r);
  FileDescriptor writer(w);
  const FileDescriptor copy = writer.duplicate();
  ASSERT_TRUE(copy.valid());
  EXPECT_NE(copy.get(), w);
  EXPECT_NE(::fcntl(copy.get(), F_GETFD) & FD_CLOEXEC, 0) << "duplicates must be close-on-exec";
  writer.close();
  EXPECT_TRUE(is_open(copy.get())) << "closing the original leaves the duplicate open";
  ASSERT_EQ(::write(copy.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(reader.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(FileDescriptor, DuplicateOfEmptyIsEmpty) {
  const FileDescriptor empty;
  EXPECT_FALSE(empty.duplicate().valid());
}

}  // namespace
}  // namespace avant::net
