#!/bin/sh
# shaped_loopback.sh PROGRAM [ARGS...] — runs PROGRAM in a network namespace of its own (and a
# user namespace, so no privilege is needed where user namespaces are allowed) whose loopback is
# slowed to 80 kbit/s by a token bucket (tc's tbf). A UDP sender's socket buffer then fills, which
# the loopback never lets happen on its own: it hands each datagram to the receiver within the
# sender's call. Chapter 08's send-queue test runs under it.
set -eu
exec unshare --user --map-root-user --net sh -c '
  ip link set lo up &&
  tc qdisc add dev lo root tbf rate 80kbit burst 1600 latency 5s &&
  exec "$0" "$@"' "$@"
