// avant-ceiling-udp — the UDP benchmark ceiling: the least a correct datagram echo server does.
//
//   avant-ceiling-udp [--listen IP:PORT] [--batch N]
//
// bench/run udp measures Avant's UDP endpoint against this one in the same run. One thread, one
// socket in a level-triggered epoll: on readiness it reads up to N datagrams with one
// recvmmsg(2), sends each back to its sender with one sendmmsg(2) (the same buffers, the same
// addresses), and goes on until the socket is empty. --batch 1 uses recvfrom and sendto, one
// datagram per system call. When the socket's send buffer is full the rest of a batch is
// dropped: UDP may lose datagrams, and the load client counts what does not come back. Nothing
// else: no cap per readiness event, no queue, no statistics. SIGINT/SIGTERM (a signalfd in the
// same epoll) stop it with status 0.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { kMaxBatch = 64, kMaxDatagram = 65536 };

static void usage(const char* self) {
  fprintf(stderr, "usage: %s [--listen IP:PORT] [--batch N (1..%d)]\n", self, kMaxBatch);
  exit(2);
}

static int parse_address(const char* text, struct sockaddr_in* addr) {
  char ip[64];
  const char* colon = strrchr(text, ':');
  if (!colon || (size_t)(colon - text) >= sizeof ip) return -1;
  memcpy(ip, text, (size_t)(colon - text));
  ip[colon - text] = '\0';
  char* end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) return -1;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, ip, &addr->sin_addr) == 1 ? 0 : -1;
}

// Reads and echoes batches until the socket is empty.
static void serve(int fd, int batch, char (*buffers)[kMaxDatagram], struct mmsghdr* msgs,
                  struct iovec* iovs, struct sockaddr_in* from) {
  for (;;) {
    if (batch == 1) {
      socklen_t len = sizeof from[0];
      ssize_t n =
          recvfrom(fd, buffers[0], kMaxDatagram, MSG_DONTWAIT, (struct sockaddr*)&from[0], &len);
      if (n < 0) return;  // EAGAIN (or an error a datagram socket may report): done for now
      (void)sendto(fd, buffers[0], (size_t)n, MSG_DONTWAIT, (struct sockaddr*)&from[0], len);
      continue;
    }
    for (int i = 0; i < batch; i++) {
      iovs[i].iov_base = buffers[i];
      iovs[i].iov_len = kMaxDatagram;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
    if (got <= 0) return;
    for (int i = 0; i < got; i++)
      iovs[i].iov_len = msgs[i].msg_len;  // send back what came, to whom it came from
    (void)sendmmsg(fd, msgs, (unsigned)got, MSG_DONTWAIT);
    if (got < batch) return;
  }
}

int main(int argc, char** argv) {
  struct sockaddr_in addr;
  parse_address("127.0.0.1:0", &addr);
  int batch = 16;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
      if (parse_address(argv[++i], &addr) != 0) usage(argv[0]);
    } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = atoi(argv[++i]);
      if (batch < 1 || batch > kMaxBatch) usage(argv[0]);
    } else {
      usage(argv[0]);
    }
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, NULL);
  int sig_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  socklen_t len = sizeof addr;
  if (sig_fd < 0 || fd < 0 || bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 ||
      getsockname(fd, (struct sockaddr*)&addr, &len) != 0) {
    perror("avant-ceiling-udp: setup");
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event sock_ev = {.events = EPOLLIN, .data.fd = fd};
  struct epoll_event sig_ev = {.events = EPOLLIN, .data.fd = sig_fd};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &sock_ev) != 0 ||
      epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &sig_ev) != 0) {
    perror("avant-ceiling-udp: epoll");
    return 1;
  }
  char(*buffers)[kMaxDatagram] = malloc((size_t)batch * sizeof *buffers);
  struct mmsghdr msgs[kMaxBatch];
  struct iovec iovs[kMaxBatch];
  struct sockaddr_in from[kMaxBatch];
  if (!buffers) return 1;

  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
  printf("avant-ceiling-udp: listening on %s:%u (batch %d)\n", ip, ntohs(addr.sin_port), batch);
  fflush(stdout);

  for (;;) {
    struct epoll_event events[2];
    int n = epoll_wait(ep, events, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      perror("avant-ceiling-udp: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      if (events[i].data.fd == sig_fd) {
        free(buffers);
        close(fd);
        close(sig_fd);
        close(ep);
        return 0;
      }
      serve(fd, batch, buffers, msgs, iovs, from);
    }
  }
}
