// avant-ceiling-http — the benchmark ceiling for HTTP: the least a correct HTTP/1.1 server does to
// answer every request with one fixed response.
//
//   avant-ceiling-http [--listen IP:PORT] [--threads N] [--body BYTES]
//
// bench/run measures nginx and Avant's HTTP server against this one with wrk in the same run, so
// their results are ratios to what plain C and the kernel manage on that machine. Like
// avant-ceiling-echo it is deliberately small: no timers, no logging beyond errors, no connection
// limit, and no routing: every request gets the same 200 (body "Hello, World!" or --body bytes of
// 'x'). There is no Date header: the response is fixed and prebuilt, wrk does not need one, and
// formatting a clock per second is work a ceiling should not pay for.
//
// Per connection the input is a stream of requests:
//
//   +-----------------------------------+---------------------+------------------+---
//   | head: request line, header lines, | body: Content-Length | next request ... |
//   | "\r\n\r\n"  (at most kMaxHead)    | bytes, skipped       |                  |
//   +-----------------------------------+---------------------+------------------+---
//
// A head is parsed only for what the answer depends on: a well-formed request line (METHOD SP
// TARGET SP HTTP/1.x), HEAD, the version (1.0 closes by default, 1.1 keeps alive), Connection
// (close / keep-alive) and Content-Length (body skipped, at most kMaxBody). Transfer-Encoding is
// refused with 501: a ceiling does not decode chunks. A malformed head gets 400, an oversized one
// 431; both close the connection.
//
// Per read (at most kReadChunk bytes) every complete request is answered, in order, in ONE
// sendmsg: an iovec per reply, each pointing at a prebuilt response, so nothing is copied unless
// the kernel does not take it all; the rest goes to the connection's output buffer, drained on
// EPOLLOUT. While more than kPauseAt bytes are queued the connection is neither read nor parsed,
// so a client that pipelines without reading cannot make the server buffer without bound.
//
// --threads N runs N workers, each with its own epoll and its own SO_REUSEPORT listener on the
// same port, so the kernel spreads connections and the workers share nothing. SIGINT/SIGTERM are
// taken by the main thread (sigwait), which stops the workers and exits 0.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
  kReadChunk = 64 * 1024,      // bytes per read(2)
  kMaxHead = 64 * 1024,        // a longer request head gets 431
  kMaxBody = 1024 * 1024,      // a longer Content-Length gets 400
  kPauseAt = 4 * 1024 * 1024,  // stop reading and parsing while this much output is queued
  kBatchLimit = 1024 * 1024,   // a batch of replies is sent before it grows past this
  kMaxIov = 1024,              // ... or past this many replies (Linux's IOV_MAX)
  kMaxBodyOption = 64 * 1024 * 1024,
  kMaxEvents = 256,
  kMaxThreads = 64,
};

// The replies, prebuilt in main and read-only afterwards. A HEAD reply is the prefix of its 200.
// HTTP/1.0 keep-alive gets an explicit "Connection: keep-alive": a 1.0 client assumes close
// otherwise. Every reply from kOkClose on closes the connection.
enum {
  kOk,
  kOkKeepAlive,
  kHead,
  kHeadKeepAlive,
  kOkClose,
  kHeadClose,
  kBadRequest,
  kHeaderTooLarge,
  kNotImplemented,
  kReplyCount
};
static struct iovec replies[kReplyCount];

#define ERROR_REPLY(status) \
  "HTTP/1.1 " status "\r\nServer: avant-ceiling\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

struct options {
  struct sockaddr_in addr;
  int threads;
  uint64_t body;
  bool body_set;
};

// A byte queue: data[head, tail) is pending, data[tail, cap) is free.
struct buf {
  char* data;
  size_t head, tail, cap;
};

struct conn {
  struct conn *prev, *next;  // the worker's list, so shutdown can free every connection
  int fd;
  uint32_t events;  // the interest currently registered with epoll
  bool eof;         // the peer closed its side: finish sending, then close
  bool closing;     // a reply closes the connection: parse nothing more, drain, then linger
  bool lingering;   // our side is shut down: discard input until the peer's EOF
  bool paused;      // over kPauseAt queued with unparsed input in `in`: resume on EPOLLOUT
  uint64_t skip;    // body bytes still to discard; `pending` is answered once they are
  int pending;
  size_t searched;  // bytes of the partial head in `in` already searched for "\r\n\r\n"
  struct buf in;    // a partial head, or input parked while paused
  struct buf out;   // replies the kernel has not taken yet
};

// epoll_event.data.ptr is a struct conn*, except NULL for the listener and the worker itself for
// the stop eventfd.
struct worker {
  const struct options* opt;
  int listen_fd, epoll_fd;
  struct conn* conns;
  pthread_t thread;
  int count;                  // replies in the batch being built
  size_t bytes;               // and their total size
  struct iovec iov[kMaxIov];  // the batch
  char scratch[kReadChunk];   // every read lands here first; most bytes never leave it
};

static size_t buf_len(const struct buf* b) {
  return b->tail - b->head;
}

static bool buf_append(struct buf* b, const char* p, size_t n) {
  if (b->cap - b->tail < n) {
    size_t len = buf_len(b);
    if (b->cap < len + n) {  // grow, doubling, so a large backlog costs O(size) copies
      size_t cap = b->cap ? b->cap : kReadChunk;
      while (cap < len + n)
        cap *= 2;
      char* data = malloc(cap);
      if (!data) return false;
      if (len) memcpy(data, b->data + b->head, len);
      free(b->data);
      b->data = data;
      b->cap = cap;
    } else {
      memmove(b->data, b->data + b->head, len);
    }
    b->head = 0;
    b->tail = len;
  }
  memcpy(b->data + b->tail, p, n);
  b->tail += n;
  return true;
}

static void buf_consume(struct buf* b, size_t n) {
  b->head += n;
  if (b->head != b->tail) return;
  b->head = b->tail = 0;
  if (b->cap > kPauseAt) {  // a burst must not pin megabytes to an idle connection
    free(b->data);
    b->data = NULL;
    b->cap = 0;
  }
}

static void conn_close(struct worker* w, struct conn* c) {
  close(c->fd);  // also removes it from the epoll set: nobody else holds the descriptor
  if (c->prev)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c->in.data);
  free(c->out.data);
  free(c);
}

// Registers the interest the connection's state calls for. Returns false if it was closed.
static bool conn_update(struct worker* w, struct conn* c) {
  size_t queued = buf_len(&c->out);
  if (queued == 0 && c->eof) {
    conn_close(w, c);
    return false;
  }
  if (queued == 0 && c->closing && !c->lingering) {
    // Half-close, then read until the client's EOF: closing with unread input in the socket
    // would send a RST, which can destroy the reply before the client has read it.
    if (shutdown(c->fd, SHUT_WR) < 0) {
      conn_close(w, c);
      return false;
    }
    c->lingering = true;
  }
  bool reading = !c->eof && (c->lingering || (!c->closing && !c->paused && queued < kPauseAt));
  uint32_t want = (reading ? EPOLLIN : 0) | (queued ? EPOLLOUT : 0);
  if (want == c->events) return true;
  struct epoll_event ev = {.events = want, .data.ptr = c};
  if (epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
    perror("avant-ceiling-http: epoll_ctl");
    conn_close(w, c);
    return false;
  }
  c->events = want;
  return true;
}

// Sends the batch in one sendmsg (unless output is already queued) and queues what the kernel
// leaves. False: close.
static bool flush(struct worker* w, struct conn* c) {
  int count = w->count;
  size_t sent = 0;
  w->count = 0;
  w->bytes = 0;
  if (count && buf_len(&c->out) == 0) {
    struct msghdr msg = {.msg_iov = w->iov, .msg_iovlen = (size_t)count};
    ssize_t k = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    if (k < 0 && errno != EAGAIN && errno != EINTR) return false;  // EPIPE, ECONNRESET, ...
    if (k > 0) sent = (size_t)k;
  }
  for (int i = 0; i < count; i++) {
    size_t len = w->iov[i].iov_len;
    if (sent >= len) {
      sent -= len;
      continue;
    }
    if (!buf_append(&c->out, (const char*)w->iov[i].iov_base + sent, len - sent)) return false;
    sent = 0;
  }
  return true;
}

// Adds a reply to the batch, sending the batch first if it is full. False: close.
static bool add_reply(struct worker* w, struct conn* c, int reply) {
  size_t len = replies[reply].iov_len;
  if ((w->count == kMaxIov || (w->count && w->bytes + len > kBatchLimit)) && !flush(w, c))
    return false;
  w->iov[w->count++] = replies[reply];
  w->bytes += len;
  if (reply >= kOkClose) c->closing = true;
  return true;
}

// RFC 9110's tchar: the characters of a method or a header name.
static bool is_tchar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static const char* skip_tchars(const char* p, const char* end) {
  while (p < end && is_tchar(*p))
    p++;
  return p;
}

static bool is_ows(char ch) {
  return ch == ' ' || ch == '\t';
}

static bool name_is(const char* name, size_t len, const char* want) {
  return len == strlen(want) && !strncasecmp(name, want, len);
}

// Parses a head p[0, n) that ends with "\r\n\r\n" and returns the reply it gets; *length is its
// Content-Length. Header values are looked at only for the three headers that matter.
static int parse_head(const char* p, size_t n, uint64_t* length) {
  const char* end = p + n - 2;  // the empty line: every line before it ends with its own CRLF
  const char* eol = memchr(p, '\n', (size_t)(end - p));
  if (eol == p || eol[-1] != '\r') return kBadRequest;  // bare LF
  const char* method_end = skip_tchars(p, eol);
  if (method_end == p || *method_end != ' ') return kBadRequest;
  bool head = method_end - p == 4 && !memcmp(p, "HEAD", 4);
  const char* target = method_end + 1;
  const char* version = target;
  while (version < eol && (unsigned char)*version > ' ' && *version != 0x7f)
    version++;
  if (version == target || eol - 1 - version != 9 || memcmp(version, " HTTP/1.", 8) ||
      version[8] < '0' || version[8] > '9')
    return kBadRequest;
  bool close = false, keep_alive = false, http10 = version[8] == '0', has_length = false;
  *length = 0;
  for (const char* line = eol + 1; line < end; line = eol + 1) {
    eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == line || eol[-1] != '\r') return kBadRequest;
    const char* colon = skip_tchars(line, eol - 1);
    if (colon == line || *colon != ':') return kBadRequest;  // also a folded (indented) line
    const char* value = colon + 1;
    const char* value_end = eol - 1;
    while (value < value_end && is_ows(*value))
      value++;
    while (value_end > value && is_ows(value_end[-1]))
      value_end--;
    size_t name_len = (size_t)(colon - line);
    if (name_is(line, name_len, "connection")) {
      for (const char* token = value; token < value_end;) {  // a comma-separated list
        const char* comma = memchr(token, ',', (size_t)(value_end - token));
        const char* token_end = comma ? comma : value_end;
        while (token < token_end && is_ows(*token))
          token++;
        while (token_end > token && is_ows(token_end[-1]))
          token_end--;
        close |= name_is(token, (size_t)(token_end - token), "close");
        keep_alive |= name_is(token, (size_t)(token_end - token), "keep-alive");
        token = comma ? comma + 1 : value_end;
      }
    } else if (name_is(line, name_len, "content-length")) {
      uint64_t v = 0;
      if (value == value_end) return kBadRequest;
      for (const char* d = value; d < value_end; d++) {
        if (*d < '0' || *d > '9' || (v = v * 10 + (uint64_t)(*d - '0')) > kMaxBody)
          return kBadRequest;
      }
      if (has_length && v != *length) return kBadRequest;  // conflicting lengths: smuggling
      has_length = true;
      *length = v;
    } else if (name_is(line, name_len, "transfer-encoding")) {
      return kNotImplemented;
    }
  }
  if (close || (http10 && !keep_alive)) return head ? kHeadClose : kOkClose;
  if (http10) return head ? kHeadKeepAlive : kOkKeepAlive;
  return head ? kHead : kOk;
}

// Answers the complete requests at the start of p[0, n), the connection's unparsed input, in one
// batch. Returns how many bytes it consumed, or SIZE_MAX if the connection must close now.
static size_t answer(struct worker* w, struct conn* c, const char* p, size_t n) {
  size_t at = 0;
  size_t searched = c->searched;  // of a partial head kept in `in` from earlier reads
  c->searched = 0;
  c->paused = false;
  while (!c->closing) {
    if (c->skip) {
      size_t take = c->skip < n - at ? (size_t)c->skip : n - at;
      at += take;
      c->skip -= take;
      if (c->skip) break;
      if (!add_reply(w, c, c->pending)) return SIZE_MAX;
      continue;
    }
    if (buf_len(&c->out) >= kPauseAt) {  // a full batch was sent and the kernel is not keeping up
      c->paused = at < n;
      break;
    }
    while (n - at >= 2 && p[at] == '\r' && p[at + 1] == '\n')  // RFC 9112: ignore empty lines
      at += 2;
    size_t from = at + (searched > 3 ? searched - 3 : 0);  // "\r\n\r" may end the searched part
    searched = 0;
    const char* found = memmem(p + from, n - from, "\r\n\r\n", 4);
    size_t len = found ? (size_t)(found + 4 - (p + at)) : n - at;
    if (len > kMaxHead) {
      if (!add_reply(w, c, kHeaderTooLarge)) return SIZE_MAX;
      break;
    }
    if (!found) {
      c->searched = len;
      break;
    }
    uint64_t length;
    int reply = parse_head(p + at, len, &length);
    at += len;
    if (reply < kBadRequest && length > 0) {
      c->skip = length;
      c->pending = reply;
    } else if (!add_reply(w, c, reply)) {
      return SIZE_MAX;
    }
  }
  return w->count && !flush(w, c) ? SIZE_MAX : at;
}

// Answers what `in` holds plus p[0, n), parked in `in` only if a partial head is waiting for it.
// Returns false if the connection was closed.
static bool serve(struct worker* w, struct conn* c, const char* p, size_t n) {
  bool in_place = buf_len(&c->in) == 0;
  if (!in_place && n && !buf_append(&c->in, p, n)) goto close;
  if (!in_place) {
    p = c->in.data + c->in.head;
    n = buf_len(&c->in);
  }
  size_t used = answer(w, c, p, n);
  if (used == SIZE_MAX) goto close;
  if (c->closing)  // nothing after a closing reply is ever answered
    buf_consume(&c->in, buf_len(&c->in));
  else if (!in_place)
    buf_consume(&c->in, used);
  else if (used < n && !buf_append(&c->in, p + used, n - used))
    goto close;
  return conn_update(w, c);
close:
  conn_close(w, c);
  return false;
}

// Reads once and answers what it can. Returns false if the connection was closed.
static bool on_readable(struct worker* w, struct conn* c) {
  ssize_t got = read(c->fd, w->scratch, kReadChunk);
  if (got < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    conn_close(w, c);  // ECONNRESET and friends
    return false;
  }
  if (got == 0) {  // a partial request can never complete now: drop it, finish sending the rest
    c->eof = true;
    buf_consume(&c->in, buf_len(&c->in));
    return conn_update(w, c);
  }
  if (c->lingering) return true;  // discarded: the connection only waits for the client's EOF
  return serve(w, c, w->scratch, (size_t)got);
}

// Sends queued output, and resumes parsing once it is below kPauseAt. False if closed.
static bool on_writable(struct worker* w, struct conn* c) {
  ssize_t k = send(c->fd, c->out.data + c->out.head, buf_len(&c->out), MSG_NOSIGNAL);
  if (k < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    conn_close(w, c);  // EPIPE, ECONNRESET, ...
    return false;
  }
  buf_consume(&c->out, (size_t)k);
  if (c->paused && buf_len(&c->out) < kPauseAt) return serve(w, c, NULL, 0);
  return conn_update(w, c);  // may resume reading, or close after EOF
}

static void on_acceptable(struct worker* w) {
  for (;;) {
    int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) perror("avant-ceiling-http: accept4");  // EMFILE: see README
      return;
    }
    int one = 1;  // a reply is one small write: never hold it back for Nagle
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn* c = calloc(1, sizeof *c);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (!c || epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
      free(c);
      close(fd);
      continue;
    }
    c->fd = fd;
    c->events = EPOLLIN;
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
  }
}

static void* worker_run(void* arg) {
  struct worker* w = arg;
  struct epoll_event events[kMaxEvents];
  for (bool stop = false; !stop;) {
    int n = epoll_wait(w->epoll_fd, events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("avant-ceiling-http: epoll_wait");
      exit(1);
    }
    // Each connection appears at most once per batch, so closing it here is safe.
    for (int i = 0; i < n; i++) {
      void* tag = events[i].data.ptr;
      uint32_t ev = events[i].events;
      if (tag == NULL) {
        on_acceptable(w);
      } else if (tag == w) {
        stop = true;
      } else if (ev & EPOLLERR) {
        conn_close(w, tag);
      } else {
        // Output first: draining it may be what lets reading resume. EPOLLHUP goes to whichever
        // handler is armed, and its read or send reports the end.
        struct conn* c = tag;
        bool alive = !(c->events & EPOLLOUT) || !(ev & (EPOLLOUT | EPOLLHUP)) || on_writable(w, c);
        if (alive && (c->events & EPOLLIN) && (ev & (EPOLLIN | EPOLLHUP))) on_readable(w, c);
      }
    }
  }
  while (w->conns)
    conn_close(w, w->conns);
  return NULL;
}

static int open_listener(const struct options* opt, struct sockaddr_in* addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;  // SO_REUSEPORT only to share among our workers: alone, a taken port must fail
  socklen_t len = sizeof *addr;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      (opt->threads > 1 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
      bind(fd, (struct sockaddr*)addr, sizeof *addr) < 0 || listen(fd, SOMAXCONN) < 0 ||
      getsockname(fd, (struct sockaddr*)addr, &len) < 0) {
    perror("avant-ceiling-http: listen");
    exit(1);
  }
  return fd;  // addr now holds the real port, which the next workers bind to
}

// Builds a 200 with `connection` ("" or a whole header line) into replies[full], and its head
// alone into replies[head].
static bool build_ok(int full, int head, const char* connection, const struct options* opt) {
  static const char kHello[] = "Hello, World!";
  size_t body = opt->body_set ? (size_t)opt->body : sizeof kHello - 1;
  char headers[256];
  int h = snprintf(headers, sizeof headers,
                   "HTTP/1.1 200 OK\r\nServer: avant-ceiling\r\nContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\n%s\r\n",
                   body, connection);
  char* data = malloc((size_t)h + body);
  if (!data) return false;
  memcpy(data, headers, (size_t)h);
  if (opt->body_set)
    memset(data + h, 'x', body);
  else
    memcpy(data + h, kHello, body);
  replies[full] = (struct iovec){.iov_base = data, .iov_len = (size_t)h + body};
  replies[head] = (struct iovec){.iov_base = data, .iov_len = (size_t)h};
  return true;
}

static void usage(FILE* to) {
  fputs(
      "usage: avant-ceiling-http [--listen IP:PORT] [--threads N] [--body BYTES]\n"
      "  defaults: 127.0.0.1:0 (ephemeral port), 1 thread, body \"Hello, World!\""
      " (--body: that many 'x', at most 64 MiB)\n",
      to);
}

static bool parse_u64(const char* s, uint64_t max, uint64_t* out) {
  char* end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || *s == '-' || v > max) return false;
  *out = v;
  return true;
}

static bool parse_listen(const char* s, struct sockaddr_in* addr) {
  char ip[INET_ADDRSTRLEN];
  const char* colon = strrchr(s, ':');
  uint64_t port;
  if (!colon || (size_t)(colon - s) >= sizeof ip || !parse_u64(colon + 1, 65535, &port))
    return false;
  memcpy(ip, s, (size_t)(colon - s));
  ip[colon - s] = '\0';
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, ip, &addr->sin_addr) == 1;
}

static void parse_options(int argc, char** argv, struct options* opt) {
  opt->addr.sin_family = AF_INET;
  opt->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  opt->threads = 1;
  for (int i = 1; i < argc; i += 2) {
    const char* name = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t n = 0;
    bool ok = value != NULL;
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(name, "--listen")) {
      ok = ok && parse_listen(value, &opt->addr);
    } else if (!strcmp(name, "--threads")) {
      ok = ok && parse_u64(value, kMaxThreads, &n) && n > 0;
      opt->threads = (int)n;
    } else if (!strcmp(name, "--body")) {
      ok = ok && parse_u64(value, kMaxBodyOption, &opt->body);
      opt->body_set = true;
    } else {
      fprintf(stderr, "avant-ceiling-http: unknown option %s\n", name);
      usage(stderr);
      exit(2);
    }
    if (!ok) {
      fprintf(stderr, "avant-ceiling-http: bad or missing value for %s\n", name);
      usage(stderr);
      exit(2);
    }
  }
}

int main(int argc, char** argv) {
  struct options opt = {0};
  parse_options(argc, argv, &opt);
  if (!build_ok(kOk, kHead, "", &opt) ||
      !build_ok(kOkKeepAlive, kHeadKeepAlive, "Connection: keep-alive\r\n", &opt) ||
      !build_ok(kOkClose, kHeadClose, "Connection: close\r\n", &opt)) {
    perror("avant-ceiling-http: malloc");
    return 1;
  }
  static const char* const kErrors[] = {ERROR_REPLY("400 Bad Request"),
                                        ERROR_REPLY("431 Request Header Fields Too Large"),
                                        ERROR_REPLY("501 Not Implemented")};
  for (int i = 0; i < 3; i++)
    replies[kBadRequest + i] =
        (struct iovec){.iov_base = (void*)kErrors[i], .iov_len = strlen(kErrors[i])};

  // Block the stop signals before any thread exists, so only sigwait below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);  // MSG_NOSIGNAL covers send; this covers anything else

  // One eventfd, never read: once written it stays readable in every worker's (level) epoll.
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  struct worker* workers = calloc((size_t)opt.threads, sizeof *workers);
  if (stop_fd < 0 || !workers) {
    perror("avant-ceiling-http: setup");
    return 1;
  }
  struct sockaddr_in addr = opt.addr;
  for (int i = 0; i < opt.threads; i++) {
    struct worker* w = &workers[i];
    w->opt = &opt;
    w->listen_fd = open_listener(&opt, &addr);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event listen_ev = {.events = EPOLLIN, .data.ptr = NULL};
    struct epoll_event stop_ev = {.events = EPOLLIN, .data.ptr = w};
    if (w->epoll_fd < 0 || epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->listen_fd, &listen_ev) < 0 ||
        epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, stop_fd, &stop_ev) < 0) {
      perror("avant-ceiling-http: epoll");
      return 1;
    }
  }

  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
  printf("avant-ceiling-http: listening on %s:%u (mode http, %d thread%s)\n", ip,
         ntohs(addr.sin_port), opt.threads, opt.threads == 1 ? "" : "s");
  fflush(stdout);

  for (int i = 0; i < opt.threads; i++) {
    int err = pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
    if (err) {
      fprintf(stderr, "avant-ceiling-http: pthread_create: %s\n", strerror(err));
      return 1;
    }
  }

  int sig;
  sigwait(&stop_signals, &sig);
  uint64_t one = 1;
  if (write(stop_fd, &one, sizeof one) != sizeof one) return 1;
  for (int i = 0; i < opt.threads; i++) {
    pthread_join(workers[i].thread, NULL);
    close(workers[i].listen_fd);
    close(workers[i].epoll_fd);
  }
  close(stop_fd);
  free(workers);
  free(replies[kOk].iov_base);
  free(replies[kOkKeepAlive].iov_base);
  free(replies[kOkClose].iov_base);
  return 0;
}
