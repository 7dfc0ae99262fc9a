#include <utility>

#include <avant/tls/tls_filter.hpp>

namespace avant::tls {

namespace {
tcp::ConnectionFilter::Status convert(TlsStatus status) noexcept {
  switch (status) {
    case TlsStatus::ok:
      return tcp::ConnectionFilter::Status::ok;
    case TlsStatus::closed:
      return tcp::ConnectionFilter::Status::closed;
    case TlsStatus::error:
      break;
  }
  return tcp::ConnectionFilter::Status::error;
}
}  // namespace

tcp::ConnectionFilter::Status TlsFilter::receive(std::string_view wire, net::Buffer& app) {
  return convert(engine_.receive(wire, app));
}

tcp::ConnectionFilter::Status TlsFilter::send(std::string_view app) {
  return convert(engine_.send(app));
}

tcp::FilterFactory server_filter(std::shared_ptr<const TlsContext> context) {
  return [context = std::move(context)]() -> std::unique_ptr<tcp::ConnectionFilter> {
    return std::make_unique<TlsFilter>(TlsEngine::server(*context));
  };
}

tcp::FilterFactory client_filter(std::shared_ptr<const TlsContext> context,
                                 std::string server_name) {
  return [context = std::move(context),
          name = std::move(server_name)]() -> std::unique_ptr<tcp::ConnectionFilter> {
    return std::make_unique<TlsFilter>(TlsEngine::client(*context, name));
  };
}

const TlsEngine* tls_session(const tcp::TcpConnection& connection) noexcept {
  const auto* filter = dynamic_cast<const TlsFilter*>(connection.filter());
  return filter == nullptr ? nullptr : &filter->engine();
}

}  // namespace avant::tls
