// deflate.cpp — permessage-deflate: negotiation (RFC 7692 §7) and the zlib glue (deflate.hpp).
#include <array>
#include <charconv>
#include <deque>
#include <stdexcept>
#include <utility>

// zlib then declares its input pointers const.
#define ZLIB_CONST
#include <zlib.h>

#include <avant/http/headers.hpp>
#include <avant/websocket/deflate.hpp>

namespace avant::websocket {
namespace {

constexpr std::array<unsigned char, 4> kTail = {0x00, 0x00, 0xFF, 0xFF};
constexpr std::size_t kChunk = 16u << 10;
constexpr int kMemLevel = 8;

// The next element of a comma- or semicolon-separated list, outside quoted strings; `rest` moves
// past it and its separator.
std::string_view next_item(std::string_view& rest, char separator) {
  bool quoted = false;
  std::size_t i = 0;
  for (; i < rest.size(); ++i) {
    if (rest[i] == '"') quoted = !quoted;
    if (rest[i] == separator && !quoted) break;
  }
  const std::string_view item = rest.substr(0, i);
  rest = i < rest.size() ? rest.substr(i + 1) : std::string_view{};
  return http::trim_ows(item);
}

// A window size parameter's value: 8..15, maybe quoted; -1 if it is not one.
int window_bits(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  int bits = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
  if (ec != std::errc() || end != value.data() + value.size() || bits < 8 || bits > 15) return -1;
  return bits;
}

// One offer's parameters; nullopt when the offer must be declined.
struct Offer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;  // 0: not offered
  bool client_max_window_bits = false;
  int client_max_window_bits_value = 0;  // 0: offered without a value
};

std::optional<Offer> read_offer(std::string_view params) {
  Offer offer;
  std::array<bool, 4> seen{};
  while (!params.empty()) {
    std::string_view param = next_item(params, ';');
    std::string_view value;
    bool has_value = false;
    if (const auto eq = param.find('='); eq != std::string_view::npos) {
      value = http::trim_ows(param.substr(eq + 1));
      param = http::trim_ows(param.substr(0, eq));
      has_value = true;
    }
    std::size_t which = 0;
    if (http::iequals(param, "server_no_context_takeover")) {
      which = 0;
      if (has_value) return std::nullopt;
      offer.server_no_context_takeover = true;
    } else if (http::iequals(param, "client_no_context_takeover")) {
      which = 1;
      if (has_value) return std::nullopt;
      offer.client_no_context_takeover = true;
    } else if (http::iequals(param, "server_max_window_bits")) {
      which = 2;
      offer.server_max_window_bits = has_value ? window_bits(value) : -1;
      if (offer.server_max_window_bits < 0) return std::nullopt;
    } else if (http::iequals(param, "client_max_window_bits")) {
      which = 3;
      offer.client_max_window_bits = true;
      if (has_value) {
        offer.client_max_window_bits_value = window_bits(value);
        if (offer.client_max_window_bits_value < 0) return std::nullopt;
      }
    } else {
      return std::nullopt;  // a parameter this server does not know
    }
    if (seen[which]) return std::nullopt;
    seen[which] = true;
  }
  return offer;
}

}  // namespace

std::optional<Negotiated> negotiate_deflate(std::string_view offers,
                                            const DeflateOptions& options) {
  if (!options.enabled) return std::nullopt;
  while (!offers.empty()) {
    std::string_view element = next_item(offers, ',');
    std::string_view name = next_item(element, ';');
    if (!http::iequals(name, "permessage-deflate")) continue;
    const std::optional<Offer> offer = read_offer(element);
    if (!offer) continue;
    // zlib cannot deflate raw data with an 8-bit window (it uses 9), so that request is declined.
    if (offer->server_max_window_bits == 8) continue;

    Negotiated n;
    DeflateParams& p = n.params;
    p.server_no_context_takeover =
        offer->server_no_context_takeover || options.server_no_context_takeover;
    p.client_no_context_takeover =
        offer->client_no_context_takeover || options.client_no_context_takeover;
    p.server_max_window_bits = options.server_max_window_bits;
    if (offer->server_max_window_bits > 0 &&
        offer->server_max_window_bits < p.server_max_window_bits) {
      p.server_max_window_bits = offer->server_max_window_bits;
    }
    p.client_max_window_bits = 15;
    if (offer->client_max_window_bits) {
      p.client_max_window_bits = options.client_max_window_bits;
      if (offer->client_max_window_bits_value > 0 &&
          offer->client_max_window_bits_value < p.client_max_window_bits) {
        p.client_max_window_bits = offer->client_max_window_bits_value;
      }
    }

    n.response = "permessage-deflate";
    if (p.server_no_context_takeover) n.response += "; server_no_context_takeover";
    if (p.client_no_context_takeover) n.response += "; client_no_context_takeover";
    if (offer->server_max_window_bits > 0 || p.server_max_window_bits < 15) {
      n.response += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
    }
    if (offer->client_max_window_bits && p.client_max_window_bits < 15) {
      n.response += "; client_max_window_bits=" + std::to_string(p.client_max_window_bits);
    }
    return n;
  }
  return std::nullopt;
}

DeflateAnswer read_deflate_answer(std::string_view answer) {
  DeflateAnswer out;
  const auto refuse = [&out](std::string reason) {
    out.ok = false;
    out.reason = std::move(reason);
    return out;
  };
  if (http::trim_ows(answer).empty()) return out;
  std::string_view element = next_item(answer, ',');
  if (!http::trim_ows(answer).empty()) return refuse("more than one extension in the answer");
  const std::string_view name = next_item(element, ';');
  if (!http::iequals(name, "permessage-deflate")) {
    return refuse("the server agreed to an extension that was not offered");
  }
  const std::optional<Offer> agreed = read_offer(element);
  if (!agreed) return refuse("malformed permessage-deflate parameters in the answer");
  if (agreed->client_max_window_bits && agreed->client_max_window_bits_value == 0) {
    return refuse("client_max_window_bits without a value in the answer");
  }
  if (agreed->client_max_window_bits_value == 8) {
    return refuse("client_max_window_bits=8 cannot be honoured (zlib's smallest window is 9)");
  }
  DeflateParams p;
  p.server_no_context_takeover = agreed->server_no_context_takeover;
  p.client_no_context_takeover = agreed->client_no_context_takeover;
  if (agreed->server_max_window_bits > 0) p.server_max_window_bits = agreed->server_max_window_bits;
  if (agreed->client_max_window_bits_value > 0) {
    p.client_max_window_bits = agreed->client_max_window_bits_value;
  }
  out.params = p;
  return out;
}

// --- Deflater ---

struct Deflater::Stream {
  z_stream z{};
  Stream() = default;
  ~Stream() { deflateEnd(&z); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&&) = delete;
  Stream& operator=(Stream&&) = delete;
};

Deflater::Deflater(int window_bits, bool context_takeover, int level)
    : window_bits_(window_bits < 9 ? 9 : window_bits), level_(level), takeover_(context_takeover) {}
Deflater::~Deflater() = default;
Deflater::Deflater(Deflater&&) noexcept = default;
Deflater& Deflater::operator=(Deflater&&) noexcept = default;

void Deflater::release() noexcept {
  stream_.reset();
}

void Deflater::compress(std::string_view message, std::string& out) {
  // An empty message is one empty stored block, 0x00 (RFC 7692 §7.2.3.6). Asking zlib instead
  // gives nothing at all once a flush has been made with context takeover, and "nothing" followed
  // by the tail 00 00 FF FF is not DEFLATE.
  if (message.empty()) {
    out += '\0';
    return;
  }
  if (!stream_) {
    auto s = std::make_unique<Stream>();
    if (deflateInit2(&s->z, level_, Z_DEFLATED, -window_bits_, kMemLevel, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      throw std::runtime_error("deflateInit2 failed (out of memory)");
    }
    stream_ = std::move(s);
  }
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<const Bytef*>(message.data());
  z.avail_in = static_cast<uInt>(message.size());
  const std::size_t start = out.size();
  do {
    const std::size_t at = out.size();
    out.resize(at + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z.avail_out = static_cast<uInt>(kChunk);
    deflate(&z, Z_SYNC_FLUSH);  // cannot fail with valid arguments and room to write
    out.resize(at + kChunk - z.avail_out);
  } while (z.avail_out == 0);
  // A sync flush ends with an empty stored block, 00 00 FF FF: the wire leaves it off.
  if (out.size() - start >= kTail.size()) out.resize(out.size() - kTail.size());
  if (!takeover_) deflateReset(&z);
}

// --- Inflater ---

struct Inflater::Stream {
  z_stream z{};
  Stream() = default;
  ~Stream() { inflateEnd(&z); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&&) = delete;
  Stream& operator=(Stream&&) = delete;
};

Inflater::Inflater(int window_bits, bool context_takeover)
    : window_bits_(window_bits), takeover_(context_takeover) {}
Inflater::~Inflater() = default;
Inflater::Inflater(Inflater&&) noexcept = default;
Inflater& Inflater::operator=(Inflater&&) noexcept = default;

void Inflater::release() noexcept {
  stream_.reset();
}

Inflater::Status Inflater::inflate(std::string_view compressed, std::size_t limit,
                                   std::string& out) {
  out.clear();
  if (!stream_) {
    auto s = std::make_unique<Stream>();
    if (inflateInit2(&s->z, -window_bits_) != Z_OK) {
      throw std::runtime_error("inflateInit2 failed (out of memory)");
    }
    stream_ = std::move(s);
  }
  z_stream& z = stream_->z;
  Status status = Status::ok;
  // The payload, then the tail the sender left off; each input is inflated until zlib has
  // taken all of it and has no more output pending.
  const std::array<std::string_view, 2> inputs = {
      compressed, {reinterpret_cast<const char*>(kTail.data()), kTail.size()}};
  for (const std::string_view input : inputs) {
    z.next_in = reinterpret_cast<const Bytef*>(input.data());
    z.avail_in = static_cast<uInt>(input.size());
    for (;;) {
      // Never more room than the limit allows, plus one byte to see that it was passed.
      const std::size_t left = limit - out.size();
      const std::size_t room = left >= kChunk ? kChunk : left + 1;
      const std::size_t at = out.size();
      out.resize(at + room);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
      z.avail_out = static_cast<uInt>(room);
      const int rc = ::inflate(&z, Z_SYNC_FLUSH);
      out.resize(at + room - z.avail_out);
      if (out.size() > limit) {
        status = Status::too_big;
        break;
      }
      if (rc == Z_STREAM_END) {
        // A final block (BFINAL): the stream is done; the next message starts a new one.
        inflateReset(&z);
        break;
      }
      if (rc == Z_BUF_ERROR || (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)) break;
      if (rc != Z_OK) {
        status = Status::corrupt;
        break;
      }
    }
    if (status != Status::ok) break;
  }
  if (status != Status::ok || !takeover_) {
    inflateReset(&z);
  }
  return status;
}

Deflater& shared_deflater(int window_bits, int level) {
  struct Entry {
    int window_bits;
    int level;
    Deflater deflater;
  };
  thread_local std::deque<Entry> entries;  // a deque: references stay valid as it grows
  for (Entry& e : entries) {
    if (e.window_bits == window_bits && e.level == level) return e.deflater;
  }
  entries.push_back({window_bits, level, Deflater(window_bits, false, level)});
  return entries.back().deflater;
}

Inflater& shared_inflater() {
  thread_local Inflater inflater(15, false);
  return inflater;
}

}  // namespace avant::websocket
