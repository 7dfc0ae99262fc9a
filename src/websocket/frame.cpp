// frame.cpp — encoding frame headers and masking (frame.hpp).
#include <array>
#include <bit>
#include <cstring>

#include <avant/websocket/frame.hpp>

namespace avant::websocket {

bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

std::size_t encode_header(const FrameHeader& h, std::array<char, kMaxHeaderSize>& out) noexcept {
  auto byte = [](unsigned v) { return static_cast<char>(static_cast<std::uint8_t>(v)); };
  unsigned b0 = static_cast<unsigned>(h.opcode) & 0x0Fu;
  if (h.fin) b0 |= 0x80u;
  if (h.rsv1) b0 |= 0x40u;
  const unsigned mask_bit = h.masked ? 0x80u : 0u;
  out[0] = byte(b0);
  std::size_t n = 2;
  if (h.length < 126) {
    out[1] = byte(mask_bit | static_cast<unsigned>(h.length));
  } else if (h.length <= 0xFFFF) {
    out[1] = byte(mask_bit | 126u);
    out[2] = byte(static_cast<unsigned>(h.length >> 8));
    out[3] = byte(static_cast<unsigned>(h.length));
    n = 4;
  } else {
    out[1] = byte(mask_bit | 127u);
    for (std::size_t i = 0; i < 8; ++i) {
      out[2 + i] = byte(static_cast<unsigned>(h.length >> (56 - 8 * i)));
    }
    n = 10;
  }
  if (h.masked) {
    std::memcpy(out.data() + n, h.mask.data(), h.mask.size());
    n += 4;
  }
  return n;
}

void apply_mask(char* data, std::size_t n, const MaskKey& key, std::uint64_t offset) noexcept {
  // The key rotated to this offset and repeated to eight bytes (byte i of the rotated key is
  // key[(offset + i) % 4]), XORed into the payload a word at a time.
  std::uint32_t k = 0;
  std::memcpy(&k, key.data(), sizeof k);
  const unsigned shift = 8u * static_cast<unsigned>(offset & 3u);
  // In memory order: a right rotation moves key byte (offset % 4) to the first byte.
  if constexpr (std::endian::native == std::endian::little) {
    k = std::rotr(k, static_cast<int>(shift));
  } else {
    k = std::rotl(k, static_cast<int>(shift));
  }
  const std::uint64_t word_key = (std::uint64_t{k} << 32) | k;
  std::size_t i = 0;
  // Thirty-two bytes a round as four words, which the compiler turns into two vector XORs; then
  // what is left a word at a time, then the tail byte by byte.
  for (; i + 32 <= n; i += 32) {
    std::array<std::uint64_t, 4> w{};
    std::memcpy(w.data(), data + i, sizeof w);
    for (std::uint64_t& x : w)
      x ^= word_key;
    std::memcpy(data + i, w.data(), sizeof w);
  }
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, data + i, sizeof w);
    w ^= word_key;
    std::memcpy(data + i, &w, sizeof w);
  }
  std::array<std::uint8_t, 8> rotated{};
  std::memcpy(rotated.data(), &word_key, sizeof word_key);
  for (; i < n; ++i)
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ rotated[i & 7u]);
}

void append_frame(std::string& out, const FrameHeader& h, std::string_view payload) {
  FrameHeader header = h;
  header.length = payload.size();
  std::array<char, kMaxHeaderSize> head{};
  const std::size_t head_size = encode_header(header, head);
  const std::size_t at = out.size();
  out.append(head.data(), head_size);
  out.append(payload);
  if (header.masked) apply_mask(out.data() + at + head_size, payload.size(), header.mask, 0);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  if (code == close_code::kNoStatus) return {};
  constexpr std::size_t kMaxReason = kMaxControlPayload - 2;
  if (reason.size() > kMaxReason) {
    std::size_t cut = kMaxReason;
    // Back up to the first byte of a character (never cut one in two).
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0u) == 0x80u)
      --cut;
    reason = reason.substr(0, cut);
  }
  std::string p;
  p.reserve(2 + reason.size());
  p += static_cast<char>(static_cast<std::uint8_t>(code >> 8));
  p += static_cast<char>(static_cast<std::uint8_t>(code));
  p += reason;
  return p;
}

}  // namespace avant::websocket
