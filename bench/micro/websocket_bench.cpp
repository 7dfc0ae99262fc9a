// Micro-benchmarks of module websocket: what a server does per message it reads and sends back.
#include <string>

#include <avant/websocket/frame.hpp>
#include <avant/websocket/message_parser.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace avant::websocket;

// Unmasking a client's payload in place (every byte a client sends is masked).
void BM_ApplyMask(benchmark::State& state) {
  std::string payload(static_cast<std::size_t>(state.range(0)), 'm');
  const MaskKey key{0x37, 0xfa, 0x21, 0x3d};
  for (auto _ : state) {
    apply_mask(payload.data(), payload.size(), key, 0);
    benchmark::DoNotOptimize(payload.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ApplyMask)->Arg(64)->Arg(4096)->Arg(65536);

// One masked binary frame in, one message out: the parser's whole per-message work (header,
// unmasking, the message's checks). The frame is re-masked each time: the parser unmasks in place.
void BM_ParseMaskedMessage(benchmark::State& state) {
  const std::string payload(static_cast<std::size_t>(state.range(0)), 'p');
  FrameHeader h;
  h.opcode = Opcode::binary;
  h.masked = true;
  h.mask = {0x12, 0x34, 0x56, 0x78};
  std::string frame;
  append_frame(frame, h, payload);
  const std::string original = frame;
  MessageParser parser(Role::server);
  for (auto _ : state) {
    frame = original;
    const auto r = parser.feed({frame.data(), frame.size()});
    if (r.event != MessageParser::Event::message) state.SkipWithError("no message");
    benchmark::DoNotOptimize(parser.payload().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ParseMaskedMessage)->Arg(64)->Arg(4096);

// A server's frame: header and payload appended to an output batch.
void BM_AppendServerFrame(benchmark::State& state) {
  const std::string payload(static_cast<std::size_t>(state.range(0)), 'o');
  FrameHeader h;
  h.opcode = Opcode::binary;
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_frame(out, h, payload);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AppendServerFrame)->Arg(64)->Arg(4096);

}  // namespace
