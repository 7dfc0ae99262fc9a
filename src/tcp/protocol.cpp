// Protocol's defaults and CallbackProtocol (protocol.hpp).
#include <avant/net/buffer.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

void Protocol::on_up(const TcpConnectionPtr& /*connection*/) {}
void Protocol::on_down(const TcpConnectionPtr& /*connection*/) {}
void Protocol::on_write_complete(const TcpConnectionPtr& /*connection*/) {}
void Protocol::on_high_water(const TcpConnectionPtr& /*connection*/, std::size_t /*queued*/) {}
void Protocol::on_drain(const TcpConnectionPtr& connection) {
  connection->shutdown();
}

void CallbackProtocol::on_up(const TcpConnectionPtr& connection) {
  if (callbacks_.connection) callbacks_.connection(connection);
}

void CallbackProtocol::on_message(const TcpConnectionPtr& connection, net::Buffer& input) {
  if (callbacks_.message) {
    callbacks_.message(connection, input);
  } else {
    input.retrieve_all();
  }
}

void CallbackProtocol::on_down(const TcpConnectionPtr& connection) {
  if (callbacks_.connection) callbacks_.connection(connection);
}

void CallbackProtocol::on_write_complete(const TcpConnectionPtr& connection) {
  if (callbacks_.write_complete) callbacks_.write_complete(connection);
}

void CallbackProtocol::on_high_water(const TcpConnectionPtr& connection, std::size_t queued) {
  if (callbacks_.high_water) callbacks_.high_water(connection, queued);
}

void CallbackProtocol::on_drain(const TcpConnectionPtr& connection) {
  if (callbacks_.drain) {
    if (connection->connected()) callbacks_.drain(connection);
  } else {
    connection->shutdown();
  }
}

}  // namespace avant::tcp
