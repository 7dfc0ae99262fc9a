#!/usr/bin/env bash
# examples/ipc/run-mesh.sh — three `avant` processes on this machine, one IPC mesh (chapter 09).
#
#   examples/ipc/run-mesh.sh [build folder]     (default build/default; Ctrl-C stops all three)
#
# examples/ipc/ipc.json names four members on 127.0.0.1: 0.0.0.1, 0.0.0.2 and 0.0.0.3 are avant
# processes on make run's configuration (their HTTP, UDP and stream ports moved to free ones, so
# that the three fit beside each other and beside `make run`), listening for IPC on 20031..20033.
# 0.0.0.0 (port 20030) is left for you: join the mesh and send each process three echo requests:
#
#   build/default/examples/ipc/avant-ipc-node --ipc examples/ipc/ipc.json --app 0.0.0.0 --send 3
#
# Each avant logs its peers up and down ([ipc] lines on standard error). Kill one (its pid is
# printed) and start the script's line for it again: the others dial it again with backoff.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build/default}
avant=$build/apps/avant
[[ -x "$avant" ]] || { echo "run-mesh: no $avant (build it: cmake --build --preset default)"; exit 1; }
"$root/scripts/example-cert.sh" >/dev/null  # the TLS listener's example certificate

pids=()
stop() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait
}
trap stop INT TERM EXIT
for id in 0.0.0.1 0.0.0.2 0.0.0.3; do
  "$avant" -c "$root/examples/main.ini" --set "server.app_id=$id" \
    --set "ipc.ipc_json_path=$root/examples/ipc/ipc.json" \
    --set server.port=0 --set server.https_port=0 --set server.other_udp_svr_port=0 \
    --set listener.proto.port=0 --set listener.proto-tls.port=0 --set listener.proto-ws.port=0 \
    --set server.worker_cnt=1 --set server.log_level=1 &
  pids+=($!)
  echo "run-mesh: avant $id: pid $!"
done
wait
