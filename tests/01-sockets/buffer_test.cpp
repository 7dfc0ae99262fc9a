// Unit tests of net::Buffer: layout, growth, prepend, limits, search, and readv into the side
// buffer.
#include <array>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::net {
namespace {

// A pipe whose ends close with the test; the kernel pipe is enlarged so a test can queue more
// than the default 64 KiB without blocking.
struct Pipe {
  FileDescriptor read_end;
  FileDescriptor write_end;

  Pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    ::fcntl(write_end.get(), F_SETPIPE_SZ, 1 << 20);
  }

  void write_all(std::string_view bytes) const {
    while (!bytes.empty()) {
      const IoResult r = write_some(write_end.get(), bytes);
      ASSERT_EQ(r.status, IoStatus::ok) << to_string(r.status) << " errno " << r.error;
      bytes.remove_prefix(r.bytes);
    }
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST(Buffer, NewBufferHasCheapPrependAndInitialSize) {
  const Buffer b(BufferOptions{.initial_size = 100});
  EXPECT_EQ(b.readable_bytes(), 0U);
  EXPECT_EQ(b.writable_bytes(), 100U);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(Buffer::kCheapPrepend, 8U) << "room for exactly one uint64 length prefix";
  EXPECT_TRUE(b.empty());
}

TEST(Buffer, AppendThenRetrieveMovesTheReadIndex) {
  Buffer b;
  ASSERT_TRUE(b.append("hello, avant"));
  EXPECT_EQ(b.view(), "hello, avant");
  b.retrieve(7);
  EXPECT_EQ(b.view(), "avant");
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend + 7);
  EXPECT_EQ(b.retrieve_as_string(2), "av");
  EXPECT_EQ(b.retrieve_all_as_string(), "ant");
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend)
      << "a drained buffer restarts at the front";
  EXPECT_TRUE(b.empty());
}

TEST(Buffer, RetrievingEverythingResetsIndexes) {
  Buffer b(BufferOptions{.initial_size = 16});
  ASSERT_TRUE(b.append("0123456789"));
  b.retrieve(10);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(b.writable_bytes(), 16U);
}

TEST(Buffer, GrowsToHoldLargeAppends) {
  Buffer b(BufferOptions{.initial_size = 16});
  const std::string big = pattern(10'000);
  ASSERT_TRUE(b.append(big));
  EXPECT_EQ(b.readable_bytes(), big.size());
  EXPECT_EQ(b.view(), big);
  EXPECT_GE(b.capacity(), Buffer::kCheapPrepend + big.size());
}

TEST(Buffer, SlidesContentForwardBeforeGrowing) {
  Buffer b(BufferOptions{.initial_size = 64});
  const std::size_t capacity = b.capacity();
  ASSERT_TRUE(b.append(pattern(60)));
  b.retrieve(50);  // 10 readable, 50 free in front, 4 free at the back
  ASSERT_TRUE(b.append(std::string(40, 'x')));
  EXPECT_EQ(b.capacity(), capacity) << "44 free bytes overall: slide, do not allocate";
  EXPECT_EQ(b.view(), pattern(60).substr(50) + std::string(40, 'x'));
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
}

TEST(Buffer, ManySmallAppendsKeepOrder) {
  Buffer b(BufferOptions{.initial_size = 8});
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string piece = std::to_string(i) + ',';
    ASSERT_TRUE(b.append(piece));
    expected += piece;
    if (i % 3 == 0) {
      b.retrieve(1);
      expected.erase(0, 1);
    }
  }
  EXPECT_EQ(b.view(), expected);
}

TEST(Buffer, AppendsStdBytes) {
  Buffer b;
  const std::array<std::byte, 3> bytes{std::byte{0x00}, std::byte{0xff}, std::byte{0x41}};
  ASSERT_TRUE(b.append(std::span<const std::byte>(bytes)));
  EXPECT_EQ(b.view(), std::string_view("\x00\xff\x41", 3));
}

TEST(Buffer, PrependPutsAHeaderBeforeTheBody) {
  Buffer b;
  ASSERT_TRUE(b.append("body"));
  ASSERT_TRUE(b.prepend_u64_be(4));
  EXPECT_EQ(b.readable_bytes(), 12U);
  EXPECT_EQ(b.peek_u64_be(), 4U);
  EXPECT_EQ(b.view(), std::string_view("\0\0\0\0\0\0\0\x04"
                                       "body",
                                       12));
  EXPECT_EQ(b.prependable_bytes(), 0U);
  EXPECT_FALSE(b.prepend("x")) << "no room left in front";
  EXPECT_EQ(b.readable_bytes(), 12U) << "a refused prepend changes nothing";
}

TEST(Buffer, U64IsBigEndianOnTheWire) {
  Buffer b;
  ASSERT_TRUE(b.append_u64_be(0x0f));  // hello-avant's length prefix: docs/original-avant.md
  EXPECT_EQ(b.view(), std::string_view("\x00\x00\x00\x00\x00\x00\x00\x0f", 8));
  b.retrieve_all();
  for (const std::uint64_t v :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0102030405060708}, ~std::uint64_t{0}}) {
    ASSERT_TRUE(b.append_u64_be(v));
    EXPECT_EQ(b.peek_u64_be(), v);
    b.retrieve(8);
  }
  ASSERT_TRUE(b.append_u64_be(0x0102030405060708));
  EXPECT_EQ(b.view(), "\x01\x02\x03\x04\x05\x06\x07\x08");
}

TEST(Buffer, U64IsReadAtAnOffsetWithoutConsuming) {
  // Two frames in one read: [len 3]["abc"][len 2]["de"]. The second length is at 8 + 3.
  Buffer b;
  ASSERT_TRUE(b.append_u64_be(3));
  ASSERT_TRUE(b.append("abc"));
  ASSERT_TRUE(b.append_u64_be(0x0a0b0c0d0e0f1011));
  EXPECT_EQ(b.peek_u64_be(0), 3U);
  EXPECT_EQ(b.peek_u64_be(11), 0x0a0b0c0d0e0f1011U);
  EXPECT_EQ(b.readable_bytes(), 19U) << "peeking consumes nothing";
  b.retrieve(1);  // offsets count from the first readable byte, not from the storage
  EXPECT_EQ(b.peek_u64_be(10), 0x0a0b0c0d0e0f1011U);
  EXPECT_EQ(b.peek_u64_be(), 3U << 8U | 'a');
}

TEST(Buffer, MaxSizeRefusesAppendsAndKeepsContent) {
  Buffer b(BufferOptions{.initial_size = 16, .max_size = 100});
  ASSERT_TRUE(b.append(std::string(100, 'a')));  // exactly the maximum is fine
  EXPECT_FALSE(b.append("b")) << "one byte past max_size";
  EXPECT_EQ(b.readable_bytes(), 100U);
  EXPECT_FALSE(b.ensure_writable(1));
  b.retrieve(1);
  EXPECT_TRUE(b.append("b"));
  EXPECT_EQ(b.readable_bytes(), 100U);
  EXPECT_LE(b.capacity(), Buffer::kCheapPrepend + 100) << "never allocates past what it may hold";
}

TEST(Buffer, EnsureWritableThenHasWritten) {
  Buffer b(BufferOptions{.initial_size = 4});
  ASSERT_TRUE(b.ensure_writable(10));
  ASSERT_GE(b.writable_bytes(), 10U);
  std::memcpy(b.begin_write(), "0123456789", 10);
  b.has_written(10);
  EXPECT_EQ(b.view(), "0123456789");
}

TEST(Buffer, FindsCrlf) {
  Buffer b;
  ASSERT_TRUE(b.append("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(b.find_crlf(), 14U);
  EXPECT_EQ(b.find_crlf(15), 23U);
  EXPECT_EQ(b.find_crlf(24), 25U);
  EXPECT_EQ(b.find_crlf(26), Buffer::npos);
  EXPECT_EQ(b.find_crlf(1000), Buffer::npos);
  b.retrieve(16);  // offsets are relative to the readable bytes
  EXPECT_EQ(b.find_crlf(), 7U);
}

TEST(Buffer, CrlfIsFoundAtEverySplitPoint) {
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::size_t split = 1; split < request.size(); ++split) {
    Buffer b(BufferOptions{.initial_size = 4});
    ASSERT_TRUE(b.append(std::string_view(request).substr(0, split)));
    const std::size_t first = b.find_crlf();
    EXPECT_EQ(first, split >= 16 ? 14U : Buffer::npos) << "split at " << split;
    ASSERT_TRUE(b.append(std::string_view(request).substr(split)));
    EXPECT_EQ(b.find_crlf(), 14U) << "split at " << split;
  }
}

TEST(Buffer, LoneCarriageReturnIsNotALineEnd) {
  Buffer b;
  ASSERT_TRUE(b.append("abc\r"));
  EXPECT_EQ(b.find_crlf(), Buffer::npos);
  ASSERT_TRUE(b.append("\n"));
  EXPECT_EQ(b.find_crlf(), 3U);
}

TEST(Buffer, FindsEol) {
  Buffer b;
  ASSERT_TRUE(b.append("one\ntwo\n"));
  EXPECT_EQ(b.find_eol(), 3U);
  EXPECT_EQ(b.find_eol(4), 7U);
  EXPECT_EQ(b.find_eol(8), Buffer::npos);
}

TEST(Buffer, ReadFdTakesALargeReadInOneCallThroughTheSideBuffer) {
  Pipe pipe;
  const std::string data = pattern(200'000);
  pipe.write_all(data);
  Buffer b(BufferOptions{.initial_size = 1024});
  const IoResult first = b.read_fd(pipe.read_end.get());
  ASSERT_EQ(first.status, IoStatus::ok) << to_string(first.status);
  EXPECT_EQ(first.bytes, 1024 + Buffer::kExtraRead)
      << "one readv fills the writable part and the whole stack side buffer";
  while (b.readable_bytes() < data.size()) {
    const IoResult r = b.read_fd(pipe.read_end.get());
    ASSERT_EQ(r.status, IoStatus::ok) << to_string(r.status);
  }
  EXPECT_EQ(b.view(), data);
  EXPECT_EQ(b.read_fd(pipe.read_end.get()).status, IoStatus::would_block)
      << "an empty non-blocking pipe is EAGAIN, which is not an error";
}

TEST(Buffer, ReadFdStopsAtMaxSize) {
  Pipe pipe;
  pipe.write_all(pattern(5000));
  Buffer b(BufferOptions{.initial_size = 64, .max_size = 1000});
  std::size_t total = 0;
  for (int i = 0; i < 100 && total < 1000; ++i) {
    const IoResult r = b.read_fd(pipe.read_end.get());
    ASSERT_EQ(r.status, IoStatus::ok);
    total += r.bytes;
  }
  EXPECT_EQ(total, 1000U);
  EXPECT_EQ(b.readable_bytes(), 1000U);
  EXPECT_EQ(b.read_fd(pipe.read_end.get()).status, IoStatus::full);
  b.retrieve(500);
  const IoResult more = b.read_fd(pipe.read_end.get());
  ASSERT_EQ(more.status, IoStatus::ok);
  EXPECT_EQ(more.bytes, 500U) << "reads exactly what fits below max_size";
  EXPECT_EQ(b.view(), pattern(5000).substr(500, 1000));
}

TEST(Buffer, ReadFdReportsEndOfStream) {
  Pipe pipe;
  pipe.write_all("last words");
  pipe.write_end.reset();
  Buffer b;
  ASSERT_EQ(b.read_fd(pipe.read_end.get()).status, IoStatus::ok);
  EXPECT_EQ(b.read_fd(pipe.read_end.get()).status, IoStatus::closed);
  EXPECT_EQ(b.view(), "last words");
}

TEST(Buffer, ReadFdReportsErrorsAsValues) {
  Buffer b;
  const IoResult r = b.read_fd(-1);
  EXPECT_EQ(r.status, IoStatus::error);
  EXPECT_EQ(r.error, EBADF);
}

TEST(Buffer, WriteFdRetrievesWhatWasWritten) {
  Pipe pipe;
  Buffer out;
  ASSERT_TRUE(out.append("to the pipe"));
  const IoResult w = out.write_fd(pipe.write_end.get());
  ASSERT_EQ(w.status, IoStatus::ok);
  EXPECT_EQ(w.bytes, 11U);
  EXPECT_TRUE(out.empty());
  Buffer in;
  ASSERT_EQ(in.read_fd(pipe.read_end.get()).status, IoStatus::ok);
  EXPECT_EQ(in.view(), "to the pipe");
}

TEST(Buffer, ShrinkKeepsContent) {
  Buffer b(BufferOptions{.initial_size = 16});
  ASSERT_TRUE(b.append(pattern(100'000)));
  b.retrieve(99'990);
  b.shrink(6);
  EXPECT_EQ(b.view(), pattern(100'000).substr(99'990));
  EXPECT_EQ(b.capacity(), Buffer::kCheapPrepend + 10 + 6);
}

TEST(Buffer, AnEmptyBufferShrunkToNothingHoldsNoStorageUntilItsNextWrite) {
  Buffer b(BufferOptions{.initial_size = 64});
  ASSERT_TRUE(b.append("request"));
  b.retrieve_all();
  b.shrink();
  EXPECT_EQ(b.capacity(), 0U) << "an idle connection's buffer costs no heap";
  EXPECT_EQ(b.prependable_bytes(), 0U);
  EXPECT_EQ(b.writable_bytes(), 0U);
  EXPECT_TRUE(b.view().empty());
  EXPECT_EQ(b.find_crlf(), Buffer::npos);
  ASSERT_TRUE(b.append(""));
  EXPECT_EQ(b.capacity(), 0U) << "nothing appended, nothing allocated";
  b.retrieve_all();
  EXPECT_EQ(b.prependable_bytes(), 0U);

  ASSERT_TRUE(b.append("body"));
  EXPECT_EQ(b.view(), "body");
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend) << "the first write brings front room";
  ASSERT_TRUE(b.prepend_u64_be(4));
  EXPECT_EQ(b.peek_u64_be(), 4U);
  b.retrieve_all();
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend) << "storage kept: front room kept";
}

TEST(Buffer, ABufferMadeWithoutStorageReadsAndRefusesLikeAnyOther) {
  Buffer none(BufferOptions{.initial_size = 0, .max_size = 5});
  EXPECT_EQ(none.capacity(), 0U);
  EXPECT_FALSE(none.prepend("x")) << "no front room without storage";
  EXPECT_TRUE(none.prepend("")) << "nothing always fits";
  EXPECT_FALSE(none.append("123456")) << "max_size holds before any storage exists";
  EXPECT_EQ(none.capacity(), 0U) << "a refused append allocates nothing";

  Pipe pipe;
  ASSERT_EQ(::write(pipe.write_end.get(), "12345678", 8), 8);
  Buffer in(BufferOptions{.initial_size = 0, .max_size = 6});
  const IoResult r = in.read_fd(pipe.read_end.get());
  ASSERT_EQ(r.status, IoStatus::ok);
  EXPECT_EQ(r.bytes, 6U) << "read_fd stops at max_size";
  EXPECT_EQ(in.view(), "123456");
  in.retrieve_all();
  in.shrink();
  EXPECT_EQ(in.capacity(), 0U);
  ASSERT_EQ(in.read_fd(pipe.read_end.get()).status, IoStatus::ok);
  EXPECT_EQ(in.view(), "78");
}

TEST(Buffer, SwapExchangesEverything) {
  Buffer a(BufferOptions{.max_size = 10});
  Buffer b(BufferOptions{.max_size = 20});
  ASSERT_TRUE(a.append("aaa"));
  ASSERT_TRUE(b.append("b"));
  a.swap(b);
  EXPECT_EQ(a.view(), "b");
  EXPECT_EQ(b.view(), "aaa");
  EXPECT_EQ(a.max_size(), 20U);
  EXPECT_EQ(b.max_size(), 10U);
}

}  // namespace
}  // namespace avant::net
