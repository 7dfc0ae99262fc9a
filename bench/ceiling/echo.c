// avant-ceiling-echo — the benchmark ceiling: the least a correct epoll echo server has to do.
//
//   avant-ceiling-echo [--listen IP:PORT] [--mode raw|framed] [--threads N] [--max-frame BYTES]
//
// bench/run measures Avant's echo server against this one in the same run, so Avant's result is a
// ratio to what plain C and the kernel manage on that machine. It is deliberately small: no
// timers, no logging beyond errors, no connection limit.
//
// raw mode echoes every byte it reads. framed mode speaks Avant's stream frame:
//
//   +-------------------------------+---------------------------+
//   | length N (uint64, big-endian) | N bytes of payload        |
//   +-------------------------------+---------------------------+
//   0                               8                       8 + N
//
// and echoes only complete frames (header and payload, unchanged), keeping a partial frame
// buffered until the rest arrives. A header announcing N > --max-frame closes the connection.
//
// Per read (at most kReadChunk bytes) every complete frame goes out in ONE send: the batch is
// sent straight from the read buffer when nothing is queued, and only what the kernel did not
// take is copied into the connection's output buffer, which is then drained on EPOLLOUT. While
// more than kPauseAt bytes are queued the connection is not read, so a client that does not read
// its echo cannot make the server buffer without bound.
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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  kReadChunk = 64 * 1024,           // bytes per read(2)
  kPauseAt = 4 * 1024 * 1024,       // stop reading a connection while this much output is queued
  kOutputLimit = 64 * 1024 * 1024,  // queued output beyond this closes the connection
  kMaxEvents = 256,
  kMaxThreads = 64,
};

struct options {
  struct sockaddr_in addr;
  bool framed;
  int threads;
  uint64_t max_frame;
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
  struct buf in;    // a partial frame (framed mode only)
  struct buf out;   // echo the kernel has not taken yet
};

// epoll_event.data.ptr is a struct conn*, except NULL for the listener and the worker itself for
// the stop eventfd.
struct worker {
  const struct options* opt;
  int listen_fd, epoll_fd;
  struct conn* conns;
  pthread_t thread;
  char scratch[kReadChunk];  // every read lands here first; most bytes never leave it
};

static size_t buf_len(const struct buf* b) {
  return b->tail - b->head;
}

static bool buf_append(struct buf* b, const char* p, size_t n) {
  if (b->cap - b->tail < n) {
    size_t len = buf_len(b);
    if (b->cap < len + n) {  // grow, doubling, so a large partial frame costs O(size) copies
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

static uint64_t load_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | (unsigned char)p[i];
  return v;
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
  if (c->eof && queued == 0) {
    conn_close(w, c);
    return false;
  }
  uint32_t want = (!c->eof && queued < kPauseAt ? EPOLLIN : 0) | (queued ? EPOLLOUT : 0);
  if (want == c->events) return true;
  struct epoll_event ev = {.events = want, .data.ptr = c};
  if (epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
    perror("avant-ceiling-echo: epoll_ctl");
    conn_close(w, c);
    return false;
  }
  c->events = want;
  return true;
}

// Sends one batch: straight from p if nothing is queued, the rest is queued. False: close.
static bool send_batch(struct conn* c, const char* p, size_t n) {
  if (buf_len(&c->out) == 0) {
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno != EAGAIN && errno != EINTR) return false;  // EPIPE, ECONNRESET, ...
    if (k > 0) {
      p += k;
      n -= (size_t)k;
    }
  }
  if (n == 0) return true;
  if (buf_len(&c->out) + n > kOutputLimit) {
    fprintf(stderr, "avant-ceiling-echo: fd %d: over %d bytes of unsent echo, closing\n", c->fd,
            kOutputLimit);
    return false;
  }
  return buf_append(&c->out, p, n);
}

// Length of the complete frames at the start of p[0, n); SIZE_MAX if a header is over the limit.
static size_t complete_frames(const char* p, size_t n, uint64_t max_frame) {
  size_t at = 0;
  while (n - at >= 8) {
    uint64_t len = load_be64(p + at);
    if (len > max_frame) {
      fprintf(stderr, "avant-ceiling-echo: frame of %llu bytes over --max-frame %llu, closing\n",
              (unsigned long long)len, (unsigned long long)max_frame);
      return SIZE_MAX;
    }
    if (n - at - 8 < len) break;
    at += 8 + (size_t)len;
  }
  return at;
}

// Reads once and echoes what it can. Returns false if the connection was closed.
static bool on_readable(struct worker* w, struct conn* c) {
  ssize_t got = read(c->fd, w->scratch, kReadChunk);
  if (got < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    conn_close(w, c);  // ECONNRESET and friends
    return false;
  }
  if (got == 0) {  // a partial frame can never complete now: drop it, finish sending the rest
    c->eof = true;
    buf_consume(&c->in, buf_len(&c->in));
    return conn_update(w, c);
  }
  // Work on the scratch bytes in place unless a partial frame is waiting for them.
  bool in_place = buf_len(&c->in) == 0;
  if (!in_place && !buf_append(&c->in, w->scratch, (size_t)got)) goto close;
  const char* p = in_place ? w->scratch : c->in.data + c->in.head;
  size_t n = in_place ? (size_t)got : buf_len(&c->in);
  size_t ready = w->opt->framed ? complete_frames(p, n, w->opt->max_frame) : n;
  if (ready == SIZE_MAX || (ready > 0 && !send_batch(c, p, ready))) goto close;
  if (!in_place)
    buf_consume(&c->in, ready);  // what is left is the start of a frame
  else if (n > ready && !buf_append(&c->in, p + ready, n - ready))
    goto close;
  return conn_update(w, c);
close:
  conn_close(w, c);
  return false;
}

// Sends queued output. Returns false if the connection was closed.
static bool on_writable(struct worker* w, struct conn* c) {
  ssize_t k = send(c->fd, c->out.data + c->out.head, buf_len(&c->out), MSG_NOSIGNAL);
  if (k < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    conn_close(w, c);  // EPIPE, ECONNRESET, ...
    return false;
  }
  buf_consume(&c->out, (size_t)k);
  return conn_update(w, c);  // may resume reading, or close after EOF
}

static void on_acceptable(struct worker* w) {
  for (;;) {
    int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) perror("avant-ceiling-echo: accept4");  // EMFILE: see README
      return;
    }
    int one = 1;  // echoes are small and latency-bound: never hold one back for Nagle
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
      perror("avant-ceiling-echo: epoll_wait");
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
    perror("avant-ceiling-echo: listen");
    exit(1);
  }
  return fd;  // addr now holds the real port, which the next workers bind to
}

static void usage(FILE* to) {
  fputs(
      "usage: avant-ceiling-echo [--listen IP:PORT] [--mode raw|framed] [--threads N]"
      " [--max-frame BYTES]\n  defaults: 127.0.0.1:0 (ephemeral port), raw, 1 thread,"
      " 16777216 (16 MiB, at most 64 MiB)\n",
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
  opt->max_frame = 16 * 1024 * 1024;
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
    } else if (!strcmp(name, "--mode")) {
      ok = ok && (!strcmp(value, "raw") || !strcmp(value, "framed"));
      opt->framed = ok && !strcmp(value, "framed");
    } else if (!strcmp(name, "--threads")) {
      ok = ok && parse_u64(value, kMaxThreads, &n) && n > 0;
      opt->threads = (int)n;
    } else if (!strcmp(name, "--max-frame")) {
      ok = ok && parse_u64(value, kOutputLimit, &opt->max_frame);
    } else {
      fprintf(stderr, "avant-ceiling-echo: unknown option %s\n", name);
      usage(stderr);
      exit(2);
    }
    if (!ok) {
      fprintf(stderr, "avant-ceiling-echo: bad or missing value for %s\n", name);
      usage(stderr);
      exit(2);
    }
  }
}

int main(int argc, char** argv) {
  struct options opt = {0};
  parse_options(argc, argv, &opt);

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
    perror("avant-ceiling-echo: setup");
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
      perror("avant-ceiling-echo: epoll");
      return 1;
    }
  }

  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
  printf("avant-ceiling-echo: listening on %s:%u (mode %s, %d thread%s)\n", ip,
         ntohs(addr.sin_port), opt.framed ? "framed" : "raw", opt.threads,
         opt.threads == 1 ? "" : "s");
  fflush(stdout);

  for (int i = 0; i < opt.threads; i++) {
    int err = pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
    if (err) {
      fprintf(stderr, "avant-ceiling-echo: pthread_create: %s\n", strerror(err));
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
  return 0;
}
