// Micro-benchmarks of net::Buffer: the operations every connection does per message.
#include <array>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <avant/net/buffer.hpp>
#include <avant/net/file_descriptor.hpp>

#include <benchmark/benchmark.h>

namespace {

using avant::net::Buffer;

// Append a message, then consume it: the steady state of a connection's input buffer.
void BM_AppendRetrieve(benchmark::State& state) {
  const std::string message(static_cast<std::size_t>(state.range(0)), 'x');
  Buffer buffer;
  for (auto _ : state) {
    if (!buffer.append(message)) state.SkipWithError("append refused");
    benchmark::DoNotOptimize(buffer.peek());
    buffer.retrieve(message.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AppendRetrieve)->Arg(64)->Arg(4096)->Arg(65536);

// A length-prefixed frame: body first, then the 8-byte header into the cheap-prepend space.
void BM_FrameWithPrependedLength(benchmark::State& state) {
  const std::string body(static_cast<std::size_t>(state.range(0)), 'p');
  Buffer buffer;
  for (auto _ : state) {
    if (!buffer.append(body) || !buffer.prepend_u64_be(body.size())) {
      state.SkipWithError("refused");
    }
    benchmark::DoNotOptimize(buffer.peek_u64_be());
    buffer.retrieve_all();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_FrameWithPrependedLength)->Arg(64)->Arg(4096);

// Partial consumption that forces the slide-to-front path instead of growth.
void BM_PartialRetrieveSlides(benchmark::State& state) {
  const std::string chunk(1000, 's');
  Buffer buffer(avant::net::BufferOptions{.initial_size = 4096});
  for (auto _ : state) {
    if (!buffer.append(chunk)) state.SkipWithError("append refused");
    buffer.retrieve(buffer.readable_bytes() > 2000 ? 1500 : 500);
  }
}
BENCHMARK(BM_PartialRetrieveSlides);

// read_fd through a pipe: one readv per call, into the buffer and the stack side buffer.
void BM_ReadFdFromPipe(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
    state.SkipWithError("pipe2 failed");
    return;
  }
  const avant::net::FileDescriptor read_end(fds[0]);
  const avant::net::FileDescriptor write_end(fds[1]);
  const std::string payload(size, 'r');
  Buffer buffer;
  for (auto _ : state) {
    if (::write(write_end.get(), payload.data(), payload.size()) !=
        static_cast<ssize_t>(payload.size())) {
      state.SkipWithError("short write to the pipe");
      break;
    }
    while (buffer.readable_bytes() < size) {
      if (!buffer.read_fd(read_end.get()).ok()) {
        state.SkipWithError("read_fd failed");
        break;
      }
    }
    buffer.retrieve_all();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ReadFdFromPipe)->Arg(512)->Arg(16384);

}  // namespace
