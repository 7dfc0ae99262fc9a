// api.hpp — the public API of module net that chapter 01's tests use, pinned at compile time.
//
// Every test file of the chapter includes this, so a lab starter that drifts from the reference
// API (a renamed method, a changed return type) fails to compile with a message naming the concept
// it breaks, instead of failing somewhere deep in a test.
#pragma once

#include <concepts>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include <avant/net/buffer.hpp>
#include <avant/net/file_descriptor.hpp>
#include <avant/net/io.hpp>
#include <avant/net/socket.hpp>
#include <avant/net/socket_address.hpp>

namespace avant::net {
// Lets GoogleTest print addresses as text in failure messages.
inline void PrintTo(const SocketAddress& address, std::ostream* out) {
  *out << address.to_string();
}
// ... and result enums by name ("would_block", not "1"). to_string(IoStatus) is given code;
// to_string(AddressError) is the learner's, so its names are spelled here.
inline void PrintTo(IoStatus status, std::ostream* out) {
  *out << to_string(status);
}
inline void PrintTo(AddressError error, std::ostream* out) {
  switch (error) {
    case AddressError::none:
      *out << "AddressError::none";
      return;
    case AddressError::empty:
      *out << "AddressError::empty";
      return;
    case AddressError::missing_port:
      *out << "AddressError::missing_port";
      return;
    case AddressError::bad_port:
      *out << "AddressError::bad_port";
      return;
    case AddressError::bad_host:
      *out << "AddressError::bad_host";
      return;
    case AddressError::bad_brackets:
      *out << "AddressError::bad_brackets";
      return;
  }
  *out << "AddressError(" << static_cast<int>(error) << ")";
}
}  // namespace avant::net

namespace avant::net::api {

template <class T>
concept OwningDescriptor =
    std::movable<T> && !std::copyable<T> && std::default_initializable<T> &&
    std::is_nothrow_destructible_v<T> && std::is_nothrow_move_constructible_v<T> &&
    requires(T fd, const T cfd, int raw) {
  T{raw};
  { cfd.get() } -> std::same_as<int>;
  { cfd.valid() } -> std::same_as<bool>;
  { fd.release() } -> std::same_as<int>;
  { fd.reset(raw) } -> std::same_as<void>;
  { fd.close() } -> std::same_as<void>;
  { cfd.duplicate() } -> std::same_as<T>;
};

template <class T>
concept Address = std::regular<T> && requires(const T a, std::string_view text, std::uint16_t p) {
  { T::parse(text) } -> std::same_as<AddressParse>;
  { T::from_ip_port(text, p) } -> std::same_as<AddressParse>;
  { T::ipv4_loopback(p) } -> std::same_as<T>;
  { T::ipv6_loopback(p) } -> std::same_as<T>;
  { a.port() } -> std::same_as<std::uint16_t>;
  { a.ip() } -> std::same_as<std::string>;
  { a.to_string() } -> std::same_as<std::string>;
  { a.is_loopback() } -> std::same_as<bool>;
  { a.length() } -> std::same_as<socklen_t>;
};

template <class T>
concept NetSocket = std::movable<T> && !std::copyable<T> &&
                    requires(T s, const T cs, const SocketAddress& a, std::span<char> in,
                             std::span<const char> out, SocketAddress& from) {
  { T::create(sa_family_t{AF_INET}, SocketType::tcp) } -> std::same_as<T>;
  { cs.fd() } -> std::same_as<int>;
  { s.bind(a) } -> std::same_as<void>;
  { s.listen() } -> std::same_as<void>;
  { s.accept() } -> std::same_as<AcceptResult>;
  { s.connect(a) } -> std::same_as<IoResult>;
  { cs.pending_error() } -> std::same_as<int>;
  { s.read(in) } -> std::same_as<IoResult>;
  { s.write(out) } -> std::same_as<IoResult>;
  { s.shutdown_write() } -> std::same_as<IoResult>;
  { s.send_to(out, a) } -> std::same_as<IoResult>;
  { s.receive_from(in, from) } -> std::same_as<IoResult>;
  { cs.local_address() } -> std::same_as<SocketAddress>;
  { cs.peer_address() } -> std::same_as<SocketAddress>;
  s.set_reuse_address(true);
  s.set_reuse_port(true);
  s.set_no_delay(true);
  s.set_keep_alive(true);
  s.set_send_buffer(1);
  s.set_receive_buffer(1);
};

template <class T>
concept ByteBuffer = requires(T b, const T cb, std::string_view text, std::size_t n, int fd) {
  T{BufferOptions{}};
  { T::kCheapPrepend } -> std::convertible_to<std::size_t>;
  { cb.readable_bytes() } -> std::same_as<std::size_t>;
  { cb.writable_bytes() } -> std::same_as<std::size_t>;
  { cb.prependable_bytes() } -> std::same_as<std::size_t>;
  { cb.view() } -> std::same_as<std::string_view>;
  { cb.peek() } -> std::same_as<const char*>;
  { b.append(text) } -> std::same_as<bool>;
  { b.prepend(text) } -> std::same_as<bool>;
  { b.ensure_writable(n) } -> std::same_as<bool>;
  { b.begin_write() } -> std::same_as<char*>;
  b.has_written(n);
  b.retrieve(n);
  b.retrieve_all();
  { b.retrieve_as_string(n) } -> std::same_as<std::string>;
  { b.append_u64_be(std::uint64_t{}) } -> std::same_as<bool>;
  { b.prepend_u64_be(std::uint64_t{}) } -> std::same_as<bool>;
  { cb.peek_u64_be() } -> std::same_as<std::uint64_t>;
  { cb.find_crlf(n) } -> std::same_as<std::size_t>;
  { cb.find_eol(n) } -> std::same_as<std::size_t>;
  { b.read_fd(fd) } -> std::same_as<IoResult>;
  { b.write_fd(fd) } -> std::same_as<IoResult>;
};

static_assert(OwningDescriptor<FileDescriptor>,
              "FileDescriptor: RAII, move-only, see file_descriptor.hpp");
static_assert(Address<SocketAddress>, "SocketAddress: value type, see socket_address.hpp");
static_assert(NetSocket<Socket>, "Socket: move-only, see socket.hpp");
static_assert(ByteBuffer<Buffer>, "Buffer: see buffer.hpp");

}  // namespace avant::net::api
