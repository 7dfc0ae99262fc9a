// deflate.hpp — permessage-deflate (RFC 7692): the negotiation and the two halves of the codec.
//
// A client offers it in `Sec-WebSocket-Extensions`; the server takes the first offer it can honour
// and answers with the parameters agreed:
//
//   Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate
//   Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=12
//
// A compressed message has RSV1 on its first frame; its payload is raw DEFLATE (no zlib header)
// ended by a sync flush whose last four bytes, 00 00 FF FF, are left off the wire.
//
// Context takeover (the default) keeps the LZ77 window from message to message: better ratios,
// but zlib state for as long as the connection lasts (with a 15-bit window, about 256 KiB to
// deflate and 39 KiB to inflate, by zlib's own formula in zconf.h). Without it each
// message stands alone, so the state can be dropped between messages and one per thread serves
// every connection (shared_deflater / shared_inflater below): an idle session then holds none.
//
// Inflating is bounded: it stops as soon as the output passes the caller's limit (a zip bomb of
// a few KiB that would inflate to gigabytes is refused after `limit` bytes, 1009).
//
// Threads: negotiate_deflate is a plain function; a Deflater or Inflater is used by one thread at
// a time; the shared ones belong to the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace avant::websocket {

struct DeflateOptions {
  bool enabled = false;
  // Ask for no context takeover even when the client does not: no zlib state between messages.
  bool server_no_context_takeover = true;
  bool client_no_context_takeover = true;
  int server_max_window_bits = 15;  // 9..15 (zlib cannot deflate with an 8-bit window)
  int client_max_window_bits = 15;  // 8..15, used when the client lets the server choose
  std::size_t min_size = 64;        // messages shorter than this are sent uncompressed
  int level = 6;                    // zlib's compression level, 1..9
};

// What both ends agreed to.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

struct Negotiated {
  DeflateParams params;
  std::string response;  // the Sec-WebSocket-Extensions value to answer with
};

// Reads the client's offers (every Sec-WebSocket-Extensions value, comma-joined) and picks the
// first permessage-deflate offer that is well formed and can be honoured. An offer with an unknown
// or repeated parameter or a value out of range is declined (RFC 7692 §7.1); so is one asking
// for server_max_window_bits=8. nullopt: no compression on this connection.
[[nodiscard]] std::optional<Negotiated> negotiate_deflate(std::string_view offers,
                                                          const DeflateOptions& options);

// The client's side: the offer it sends, and what it makes of the server's answer (every
// Sec-WebSocket-Extensions value of the 101, comma-joined). The answer must be one
// permessage-deflate element with known parameters, each once and in range, and may name
// client_max_window_bits only because the offer did (RFC 7692 §7.1.2); anything else fails the
// connection (an extension the client did not offer, or parameters it cannot honour). An empty
// answer: no compression. The client then deflates with client_max_window_bits (a server asking
// for 8 is refused: zlib cannot deflate with an 8-bit window) and inflates with the full window.
inline constexpr std::string_view kDeflateOffer = "permessage-deflate; client_max_window_bits";
struct DeflateAnswer {
  bool ok = true;                       // false: fail the connection (reason says why)
  std::string reason;                   // when !ok
  std::optional<DeflateParams> params;  // agreed; nullopt: no compression
};
[[nodiscard]] DeflateAnswer read_deflate_answer(std::string_view answer);

class Deflater {
 public:
  // Which window and whether the window survives from message to message.
  Deflater(int window_bits, bool context_takeover, int level = 6);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  Deflater(Deflater&& other) noexcept;
  Deflater& operator=(Deflater&& other) noexcept;

  // Appends the compressed form of one message (without the 00 00 FF FF tail) to `out`.
  void compress(std::string_view message, std::string& out);
  // The zlib state is allocated (it is allocated on first use and, without context takeover,
  // freed again by release()).
  [[nodiscard]] bool holds_state() const noexcept { return stream_ != nullptr; }
  void release() noexcept;

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  int window_bits_;
  int level_;
  bool takeover_;
};

class Inflater {
 public:
  enum class Status : std::uint8_t { ok, too_big, corrupt };

  Inflater(int window_bits, bool context_takeover);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  Inflater(Inflater&& other) noexcept;
  Inflater& operator=(Inflater&& other) noexcept;

  // Inflates one message's payload into `out` (replacing what it held). too_big as soon as the
  // output would pass `limit` bytes; corrupt for data that is not DEFLATE. After either, the
  // connection is to be closed (1009 or 1007).
  Status inflate(std::string_view compressed, std::size_t limit, std::string& out);
  [[nodiscard]] bool holds_state() const noexcept { return stream_ != nullptr; }
  void release() noexcept;

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  int window_bits_;
  bool takeover_;
};

// The calling thread's Deflater for connections without context takeover, one per window size and
// level; and its Inflater, with the full window (a smaller one agreed with a peer only limits
// what the peer may send, and a full window reads it).
[[nodiscard]] Deflater& shared_deflater(int window_bits, int level);
[[nodiscard]] Inflater& shared_inflater();

}  // namespace avant::websocket
