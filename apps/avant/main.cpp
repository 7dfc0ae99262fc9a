// avant — the assembled server: the original Avant's main.ini, a static site over HTTP and HTTPS
// (chapter 05) with WebSocket on [websocket] path, or WebSocket alone with WEBSOCKET_TASK (chapter
// 06; binary messages are ProtoPackages since chapter 07), or the protobuf stream with STREAM_TASK
// (chapter 07); both serve the original's echo example. Beside them, on the `other` thread, the
// original's UDP listener (chapter 08): ProtoPackages in datagrams, the echo example and the safe
// stop; and the IPC mesh of ipc.json (chapter 09), which answers the echo example too. Lua comes
// with chapter 10.
//
//   avant [-c main.ini] [--set section.key=value ...] [--check]
//
//   -c FILE      the configuration (default ./main.ini); relative paths in it are relative to it
//   --set S.K=V  overrides one key after the file (e.g. --set server.port=0 for any free port)
//   --check      reads and checks the configuration, prints it, and exits
//
// Exit status: 0 after a stop by SIGINT/SIGTERM or by a UDP safe stop naming this app_id
// (requests in flight finish first, up to [http] drain_timeout_ms), 2 for a configuration mistake (named with file:line), 1 when the
// system refuses (a port in use, ...).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <avant/http/http_server.hpp>
#include <avant/http/static_files.hpp>
#include <avant/ipc/ipc_mesh.hpp>
#include <avant/ipc/mesh_config.hpp>
#include <avant/net/file_descriptor.hpp>
#include <avant/proto/dispatcher.hpp>
#include <avant/proto/stream.hpp>
#include <avant/proto/websocket.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/log.hpp>
#include <avant/reactor/signals.hpp>
#include <avant/thread/event_loop_thread.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>
#include <avant/thread/threaded_tcp_server.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>
#include <avant/udp/datagram_service.hpp>
#include <avant/udp/udp_endpoint.hpp>
#include <avant/websocket/server.hpp>

#include "config.hpp"

namespace {

using avant::app::Config;
using avant::app::ConfigError;
using avant::app::TaskType;
namespace log = avant::reactor::log;

// Exit 2: the configuration is wrong (as opposed to the system refusing something).
struct StartupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

log::Level level_of(int original) {
  switch (original) {
    case 0:
      return log::Level::debug;
    case 1:
      return log::Level::info;
    case 2:
      return log::Level::warn;
    default:
      return log::Level::error;  // 3 ERROR, 4 FATAL
  }
}

avant::http::HttpOptions http_options(const Config& c, std::uint16_t port,
                                      const std::string& ip = {}) {
  const std::string& host = ip.empty() ? c.ip : ip;
  const auto address = avant::net::SocketAddress::parse(host + ":" + std::to_string(port));
  if (!address.ok()) throw StartupError("'" + host + "' is not an address");
  avant::http::HttpOptions o;
  o.server.tcp.listen = address.address;
  o.server.tcp.max_connections = c.max_client_cnt;
  o.server.tcp.accept_per_tick = c.accept_per_tick;
  o.server.workers = c.worker_cnt;
  o.server.drain_timeout = c.drain_timeout;
  o.limits.max_target = c.max_target_bytes;
  o.limits.max_header_bytes = c.max_header_bytes;
  o.limits.max_headers = c.max_headers;
  o.limits.max_body = c.max_body_bytes;
  o.header_timeout = c.header_timeout;
  o.body_timeout = c.body_timeout;
  o.keep_alive_timeout = c.keep_alive_timeout;
  o.send_timeout = c.send_timeout;
  o.rest_after = c.rest_after;
  o.max_requests_per_connection = c.max_requests_per_connection;
  o.max_pipeline = c.max_pipeline;
  return o;
}

avant::websocket::ServerOptions websocket_options(const Config& c) {
  avant::websocket::ServerOptions o;
  o.limits.max_message = c.ws_max_message_bytes;
  o.deflate.enabled = c.ws_compression;
  o.ping_interval = c.ws_ping_interval;
  o.close_timeout = c.ws_close_timeout;
  o.max_buffered = c.ws_max_buffered_bytes;
  o.slow_consumer = c.ws_drop_when_slow ? avant::websocket::SlowConsumer::drop
                                        : avant::websocket::SlowConsumer::close;
  o.handshake.origins = c.ws_origins;
  return o;
}

avant::thread::ThreadedServerOptions stream_options(const Config& c, std::uint16_t port,
                                                    const std::string& ip = {}) {
  const std::string& host = ip.empty() ? c.ip : ip;
  const auto address = avant::net::SocketAddress::parse(host + ":" + std::to_string(port));
  if (!address.ok()) throw StartupError("'" + host + "' is not an address");
  avant::thread::ThreadedServerOptions o;
  o.tcp.listen = address.address;
  o.tcp.max_connections = c.max_client_cnt;
  o.tcp.accept_per_tick = c.accept_per_tick;
  o.drain_timeout = c.drain_timeout;
  return o;
}

// Runs `f` on `loop`'s thread and waits for it; what it throws is thrown here.
void call_on(avant::reactor::EventLoop& loop, const std::function<void()>& f) {
  auto task = std::make_shared<std::packaged_task<void()>>(f);
  std::future<void> done = task->get_future();
  loop.run_in_loop([task] { (*task)(); });
  done.get();
}

std::string url(const char* scheme, const avant::net::SocketAddress& a, const std::string& ip) {
  // A wildcard listener is reached on loopback from this machine.
  const std::string host = ip == "0.0.0.0" ? "127.0.0.1" : ip;
  return std::string(scheme) + "://" + host + ":" + std::to_string(a.port()) + "/";
}

// The IPC mesh's options from [ipc] and ipc.json, or nullopt when IPC is off (no ipc.json at the
// default path). Before daemon() and before any thread: a wrong ipc.json stops start-up (exit 2),
// and so does a listening port in use (exit 1; the mesh binds it on the `other` thread, later).
std::optional<avant::ipc::MeshOptions> mesh_options(const Config& config) {
  if (!config.ipc_json_path_set && !std::filesystem::exists(config.ipc_json_path)) {
    return std::nullopt;
  }
  avant::ipc::MeshOptions o;
  try {
    o.mesh = avant::ipc::load_mesh(config.ipc_json_path);
  } catch (const avant::ipc::MeshConfigError& e) {
    throw StartupError(e.what());
  }
  const avant::ipc::MeshEntry* own = o.mesh.find(config.app_id);
  if (own == nullptr) {
    throw StartupError(config.ipc_json_path.string() + ": no entry for server.app_id \"" +
                       config.app_id + "\"");
  }
  o.app_id = config.app_id;
  o.listen = own->address;
  if (config.ipc_listen_port >= 0) {
    o.listen = avant::net::SocketAddress::from_ip_port(
                   own->address.ip(), static_cast<std::uint16_t>(config.ipc_listen_port))
                   .address;
  }
  if (o.listen->port() != 0) {
    avant::net::Socket probe =
        avant::net::Socket::create(o.listen->family(), avant::net::SocketType::tcp);
    probe.set_reuse_address(true);
    probe.bind(*o.listen);  // "bind 127.0.0.1:20024: Address already in use"
  }
  o.max_connections = config.max_ipc_conn_num;
  o.handshake_timeout = config.ipc_handshake_timeout;
  o.heartbeat = config.ipc_heartbeat;
  o.peer_timeout = config.ipc_peer_timeout;
  o.max_queued = config.ipc_max_queued;
  o.when_full =
      config.ipc_drop_oldest ? avant::ipc::WhenFull::drop_oldest : avant::ipc::WhenFull::reject;
  o.max_frame = config.ipc_max_frame_bytes;
  if (config.ipc_use_ssl) {
    // Mutual TLS: the listener requires a certificate signed by ipc.ca.pem; the dialer shows
    // ours and checks the peer's against the same CA, for the address it dials.
    avant::tls::TlsServerOptions server;
    server.certificate_chain_file = config.ipc_crt_pem.string();
    server.private_key_file = config.ipc_key_pem.string();
    server.alpn = {};
    server.client_ca_file = config.ipc_ca_pem.string();
    server.require_client_certificate = true;
    o.server_filter = avant::tls::server_filter(
        std::make_shared<const avant::tls::TlsContext>(avant::tls::TlsContext::server(server)));
    avant::tls::TlsClientOptions client;
    client.ca_file = config.ipc_ca_pem.string();
    client.certificate_chain_file = config.ipc_crt_pem.string();
    client.private_key_file = config.ipc_key_pem.string();
    auto context =
        std::make_shared<const avant::tls::TlsContext>(avant::tls::TlsContext::client(client));
    o.client_filter = [context](const avant::ipc::MeshEntry& peer) {
      return avant::tls::client_filter(context, peer.address.ip());
    };
  }
  return o;
}

int serve(const Config& config) {
  avant::app::check_servable(config);
  log::set_level(level_of(config.log_level));

  const bool websocket_only = config.task_type == avant::app::TaskType::websocket;
  const bool stream_only = config.task_type == avant::app::TaskType::stream;
  std::shared_ptr<avant::http::StaticFiles> files;  // the site (HTTP_TASK only)
  try {
    if (!websocket_only && !stream_only) {
      avant::http::StaticOptions site{.root = config.http_static_dir,
                                      .index = config.index,
                                      .directory_listing = config.directory_listing};
      site.cache.entries = config.open_file_cache_entries;
      site.cache.valid = config.open_file_cache_valid;
      site.cache.inactive = config.open_file_cache_inactive;
      site.cache.file_bytes = config.open_file_cache_file_bytes;
      site.cache.memory_bytes = config.open_file_cache_memory_bytes;
      files = std::make_shared<avant::http::StaticFiles>(std::move(site));
    }
  } catch (const std::system_error& e) {
    throw StartupError("server.http_static_dir: " + std::string(e.what()));
  }
  const bool listener_tls = std::any_of(config.listeners.begin(), config.listeners.end(),
                                        [](const avant::app::Listener& l) { return l.use_ssl; });
  const bool listener_ws =
      std::any_of(config.listeners.begin(), config.listeners.end(),
                  [](const avant::app::Listener& l) { return l.task_type == TaskType::websocket; });
  std::shared_ptr<const avant::tls::TlsContext> tls;
  if (config.use_ssl || config.https_port != 0 || listener_tls) {
    tls = std::make_shared<const avant::tls::TlsContext>(
        avant::tls::TlsContext::server({.certificate_chain_file = config.crt_pem.string(),
                                        .private_key_file = config.key_pem.string()}));
  }

  avant::thread::set_thread_name("main");
  avant::reactor::EventLoop loop;
  // One pool of worker_cnt loops serves every listener (the original's worker threads): the
  // process runs 1 + worker_cnt threads, whatever the number of ports. Declared before the
  // servers, so it outlives them (their connections close on its running loops).
  avant::thread::EventLoopThreadPool workers(
      loop, avant::thread::LoopPoolOptions{.threads = config.worker_cnt});
  // The protobuf commands (chapter 07): the original's echo example, for STREAM_TASK and
  // WEBSOCKET_TASK alike.
  const auto dispatcher = std::make_shared<avant::proto::Dispatcher>();
  avant::proto::add_echo_example(*dispatcher);
  const auto unknown = config.proto_close_unknown ? avant::proto::UnknownCommands::close
                                                  : avant::proto::UnknownCommands::ignore;
  avant::proto::StreamOptions stream_settings;
  stream_settings.limits.max_body = config.proto_max_frame_bytes;
  stream_settings.unknown = unknown;
  avant::proto::WebSocketOptions package_settings;
  package_settings.unknown = unknown;
  // How the server stops, once: on SIGINT/SIGTERM, or on a UDP safe stop naming this app_id.
  // Main loop thread (set below, once the servers exist).
  std::function<void(const std::string& why)> stop_all;
  // UDP (chapter 08): the original's other_udp_svr, on the `other` thread. Its socket is bound
  // here, before daemon() and before any thread starts: a port in use stops start-up.
  const auto udp_address =
      avant::net::SocketAddress::from_ip_port(config.other_udp_svr_ip, config.other_udp_svr_port);
  if (!udp_address.ok()) throw StartupError("'" + config.other_udp_svr_ip + "' is not an address");
  avant::udp::UdpOptions udp_options;
  udp_options.max_per_event = config.other_udp_svr_max_loop;
  avant::net::Socket udp_socket = avant::udp::bind_udp(udp_address.address, udp_options);
  const avant::net::SocketAddress udp_bound = udp_socket.local_address();
  // The safe stop answers on the `other` thread; the stop itself runs on the main loop.
  avant::udp::add_safe_stop(*dispatcher, config.app_id, [&loop, &stop_all] {
    loop.queue_in_loop([&stop_all] { stop_all("a UDP safe stop"); });
  });
  avant::udp::DatagramService udp_service(dispatcher);  // outlives the endpoint
  // IPC (chapter 09): the mesh of ipc.json, on the `other` thread, answering the echo example
  // (its own dispatcher: a UDP safe stop is not an IPC command). On when ipc.json exists or
  // main.ini names it; a file that is named and missing, or wrong, stops start-up.
  std::optional<avant::ipc::MeshOptions> ipc_options = mesh_options(config);
  const std::vector<avant::ipc::MeshEntry> ipc_peers =
      ipc_options ? ipc_options->mesh.entries : std::vector<avant::ipc::MeshEntry>{};
  const auto ipc_dispatcher = std::make_shared<avant::proto::Dispatcher>();
  avant::proto::add_echo_example(*ipc_dispatcher);
  std::unique_ptr<avant::ipc::IpcMesh> mesh;  // other thread
  // WebSocket. WEBSOCKET_TASK: each binary message is a ProtoPackage, dispatched (text is
  // echoed); the site's [websocket] path (HTTP_TASK) echoes every message, text as text and
  // binary as binary, for the browser page. Made before the servers and destroyed after them:
  // their handler reaches it. One endpoint for both ports: a broadcast would reach ws and wss
  // sessions alike.
  const auto ws = std::make_unique<avant::websocket::WebSocketServer>(
      workers, websocket_options(config),
      websocket_only
          ? avant::proto::websocket_handlers(dispatcher, package_settings)
          : avant::websocket::Handlers{
                .open = {},
                .message =
                    [](avant::websocket::Session& session, std::string_view payload,
                       avant::websocket::MessageType type) { (void)session.send(payload, type); },
                .close = {}});
  // The endpoint whose binary messages are ProtoPackages: the same as `ws` with WEBSOCKET_TASK,
  // its own for the WEBSOCKET_TASK listeners of an HTTP_TASK or STREAM_TASK server.
  std::unique_ptr<avant::websocket::WebSocketServer> own_package_ws;
  if (!websocket_only && listener_ws) {
    own_package_ws = std::make_unique<avant::websocket::WebSocketServer>(
        workers, websocket_options(config),
        avant::proto::websocket_handlers(dispatcher, package_settings));
  }
  avant::websocket::WebSocketServer* const package_ws =
      websocket_only ? ws.get() : own_package_ws.get();
  std::vector<std::unique_ptr<avant::http::HttpServer>> servers;
  // STREAM_TASK and the stream listeners: ProtoPackages in 8-byte-length frames (chapter 07).
  // The service is made before its servers and outlives them.
  avant::proto::StreamService stream_service(dispatcher, stream_settings);
  std::vector<std::unique_ptr<avant::thread::ThreadedTcpServer>> streams;
  // Signals arrive as events on the main loop, never as code inside a handler. Before any thread
  // starts, so that every thread inherits the blocked mask (reactor/signals.hpp).
  std::size_t running = 0;
  bool stopping = false;
  stop_all = [&](const std::string& why) {
    if (stopping) return;  // a signal after a safe stop, or the other way round
    stopping = true;
    log::info("avant", why + ": stopping; requests in flight finish first");
    if (mesh) mesh->stop();
    running = servers.size() + streams.size();
    for (auto& server : servers) {
      server->stop([&] {
        if (--running == 0) loop.quit();
      });
    }
    for (auto& stream : streams) {
      stream->stop([&] {
        if (--running == 0) loop.quit();
      });
    }
  };
  const avant::reactor::SignalWatcher signals(
      loop, {.stop = [&](int signo) { stop_all(signo == SIGINT ? "SIGINT" : "SIGTERM"); },
             .reload =
                 [] {
                   log::info("avant",
                             "SIGUSR1: nothing to reload yet (Lua arrives with chapter 10)");
                 }});
  const avant::http::Handler handler = [files, &ws, websocket_only, path = config.ws_path](
                                           avant::http::Request& request,
                                           avant::http::Responder responder) {
    if (websocket_only || request.path() == path) {
      ws->accept(request, std::move(responder));
    } else {
      (*files)(request, std::move(responder));
    }
  };
  const avant::http::Handler package_handler = [package_ws](avant::http::Request& request,
                                                            avant::http::Responder responder) {
    package_ws->accept(request, std::move(responder));
  };
  if (stream_only) {
    auto main_options = stream_options(config, config.port);
    if (config.use_ssl) main_options.tcp.filter = avant::tls::server_filter(tls);
    streams.push_back(std::make_unique<avant::thread::ThreadedTcpServer>(workers, main_options));
    if (config.https_port != 0) {
      auto tls_options = stream_options(config, config.https_port);
      tls_options.tcp.filter = avant::tls::server_filter(tls);
      streams.push_back(std::make_unique<avant::thread::ThreadedTcpServer>(workers, tls_options));
    }
    for (auto& stream : streams)
      stream->set_protocol(stream_service.factory());
  } else {
    auto main_options = http_options(config, config.port);
    if (config.use_ssl) main_options.server.tcp.filter = avant::tls::server_filter(tls);
    servers.push_back(std::make_unique<avant::http::HttpServer>(workers, main_options, handler));
    if (config.https_port != 0) {
      auto https = http_options(config, config.https_port);
      https.server.tcp.filter = avant::tls::server_filter(tls);
      servers.push_back(std::make_unique<avant::http::HttpServer>(workers, https, handler));
    }
  }
  // Connections reachable by id from any handler or thread (proto/directory.hpp): the servers
  // whose connections carry packages.
  std::vector<avant::proto::Directory::RouteId> routes;
  const auto stream_route = [&](const avant::thread::ThreadedTcpServer& server) {
    routes.push_back(dispatcher->directory().add(
        avant::proto::stream_route([&server](std::uint64_t id) { return server.find(id); })));
  };
  const auto package_route = [&](const avant::http::HttpServer& server) {
    routes.push_back(dispatcher->directory().add(avant::proto::websocket_route(
        *package_ws, [&server](std::uint64_t id) { return server.find(id); })));
  };
  for (const auto& stream : streams)
    stream_route(*stream);
  if (websocket_only) {
    for (const auto& server : servers)
      package_route(*server);
  }
  // [listener.NAME]: more ports on the same loops, serving packages (config.hpp).
  const std::size_t first_listener_stream = streams.size();
  const std::size_t first_listener_server = servers.size();
  for (const avant::app::Listener& l : config.listeners) {
    if (l.task_type == TaskType::stream) {
      auto options = stream_options(config, l.port, l.ip);
      if (l.use_ssl) options.tcp.filter = avant::tls::server_filter(tls);
      streams.push_back(std::make_unique<avant::thread::ThreadedTcpServer>(workers, options));
      streams.back()->set_protocol(stream_service.factory());
      stream_route(*streams.back());
    } else {
      auto options = http_options(config, l.port, l.ip);
      if (l.use_ssl) options.server.tcp.filter = avant::tls::server_filter(tls);
      servers.push_back(
          std::make_unique<avant::http::HttpServer>(workers, options, package_handler));
      package_route(*servers.back());
    }
  }

  // Into the background once the ports are bound (a port in use is still reported to the
  // caller) and before any thread starts. Keeps stdin/stdout/stderr: the log goes where stderr
  // points (a service manager is the better home for a server; docs/configuration.md).
  if (config.daemon && ::daemon(0, 1) != 0) {
    throw std::system_error(errno, std::generic_category(), "daemon");
  }

  workers.start();  // the loops first, then the listeners that hand them connections
  for (auto& server : servers)
    server->start();
  for (auto& stream : streams)
    stream->start();
  avant::thread::EventLoopThread other("other");
  avant::reactor::EventLoop& other_loop = other.start();
  std::unique_ptr<avant::udp::UdpEndpoint> udp;
  call_on(other_loop, [&] {
    udp = std::make_unique<avant::udp::UdpEndpoint>(other_loop, std::move(udp_socket), udp_options);
    udp_service.serve(*udp);
    udp->start();
    if (!ipc_options) return;
    try {
      mesh = std::make_unique<avant::ipc::IpcMesh>(other_loop, std::move(*ipc_options),
                                                   ipc_dispatcher);
      mesh->start();
    } catch (...) {
      udp.reset();  // on its own thread, before the error leaves serve()
      throw;
    }
  });
  if (stream_only) {
    std::printf(
        "avant: serving the protobuf stream (the echo example) on %s (%zu worker%s)\n",
        url(config.use_ssl ? "tls" : "tcp", streams[0]->listen_address(), config.ip).c_str(),
        config.worker_cnt, config.worker_cnt == 1 ? "" : "s");
    if (first_listener_stream > 1) {
      std::printf("avant: and over TLS on %s\n",
                  url("tls", streams[1]->listen_address(), config.ip).c_str());
    }
  } else if (websocket_only) {
    std::printf("avant: serving WebSocket (ProtoPackages: the echo example) on %s (%zu worker%s)\n",
                url(config.use_ssl ? "wss" : "ws", servers[0]->listen_address(), config.ip).c_str(),
                config.worker_cnt, config.worker_cnt == 1 ? "" : "s");
    if (first_listener_server > 1) {
      std::printf("avant: and over TLS on %s\n",
                  url("wss", servers[1]->listen_address(), config.ip).c_str());
    }
  } else {
    std::printf(
        "avant: serving %s on %s (%zu worker%s)\n", config.http_static_dir.c_str(),
        url(config.use_ssl ? "https" : "http", servers[0]->listen_address(), config.ip).c_str(),
        config.worker_cnt, config.worker_cnt == 1 ? "" : "s");
    if (first_listener_server > 1) {
      std::printf("avant: and over TLS on %s\n",
                  url("https", servers[1]->listen_address(), config.ip).c_str());
    }
    std::printf("avant: WebSocket on %s%s\n",
                url(config.use_ssl ? "wss" : "ws", servers[0]->listen_address(), config.ip).c_str(),
                config.ws_path.substr(1).c_str());
  }
  std::size_t next_stream = first_listener_stream;
  std::size_t next_server = first_listener_server;
  for (const avant::app::Listener& l : config.listeners) {
    const bool stream = l.task_type == TaskType::stream;
    const auto& address = stream ? streams[next_stream++]->listen_address()
                                 : servers[next_server++]->listen_address();
    const char* scheme = stream ? (l.use_ssl ? "tls" : "tcp") : (l.use_ssl ? "wss" : "ws");
    std::printf("avant: listener %s: ProtoPackages (the echo example) on %s\n", l.name.c_str(),
                url(scheme, address, l.ip.empty() ? config.ip : l.ip).c_str());
  }
  std::printf("avant: UDP: ProtoPackages (the echo example, the safe stop) on %s\n",
              url("udp", udp_bound, config.other_udp_svr_ip).c_str());
  if (mesh) {
    std::string peers;
    for (const auto& entry : ipc_peers) {
      if (entry.app_id == config.app_id) continue;
      peers += (peers.empty() ? "" : ", ") + entry.app_id;
    }
    std::printf("avant: IPC: app %s on %s (peers: %s)\n", config.app_id.c_str(),
                url("tcp", mesh->listen_address(), mesh->listen_address().ip()).c_str(),
                peers.empty() ? "none" : peers.c_str());
  } else {
    std::printf("avant: IPC off: no %s\n", config.ipc_json_path.c_str());
  }
  std::fflush(stdout);

  loop.run();
  call_on(other_loop, [&] {
    mesh.reset();
    udp.reset();
  });
  other.stop();
  for (const auto route : routes)
    dispatcher->directory().remove(route);
  std::uint64_t requests = 0;
  for (const auto& server : servers)
    requests += server->stats().requests;
  servers.clear();  // closes what is left, each connection on its own (still running) loop
  streams.clear();
  workers.stop();  // the pool last: every server that borrowed it is gone
  if (stream_only) {
    std::printf("avant: stopped; %llu packages answered\n",
                static_cast<unsigned long long>(stream_service.stats().packages));
  } else if (!config.listeners.empty()) {
    std::printf("avant: stopped; %llu requests and %llu stream packages answered\n",
                static_cast<unsigned long long>(requests),
                static_cast<unsigned long long>(stream_service.stats().packages));
  } else {
    std::printf("avant: stopped; %llu requests answered\n",
                static_cast<unsigned long long>(requests));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file = "main.ini";
  std::vector<std::string> overrides;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      file = argv[++i];
    } else if (arg == "--set" && i + 1 < argc) {
      overrides.emplace_back(argv[++i]);
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s [-c main.ini] [--set section.key=value ...] [--check]\n", argv[0]);
      return 0;
    } else {
      std::fprintf(stderr, "usage: %s [-c main.ini] [--set section.key=value ...] [--check]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    const Config config = avant::app::load_config(file, overrides);
    if (check) {
      avant::app::check_servable(config);
      std::fputs(avant::app::to_ini(config).c_str(), stdout);
      return 0;
    }
    return serve(config);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "avant: %s\n", e.what());
    return 2;
  } catch (const StartupError& e) {
    std::fprintf(stderr, "avant: %s: %s\n", file.c_str(), e.what());
    return 2;
  } catch (const avant::tls::TlsError& e) {
    std::fprintf(stderr, "avant: %s: %s\n", file.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant: %s\n", e.what());
    return 1;
  }
}
