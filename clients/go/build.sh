#!/usr/bin/env bash
# build.sh — builds the Go client, its tests and its example into OUTDIR, offline.
#
#   clients/go/build.sh OUTDIR
#
# Makes OUTDIR/example (the echo example) and OUTDIR/avant.test (the client package's tests, a
# `go test -c` binary). Nothing is downloaded: the Go messages are generated from
# proto/avant.proto by Debian's protoc and protoc-gen-go, and the protobuf runtime is Debian's
# source package golang-google-protobuf-dev in /usr/share/gocode, built in GOPATH mode
# (GO111MODULE=off) because module mode would want modules that Debian does not ship
# (clients/go/README.md says why). Everything written goes under OUTDIR: the GOPATH tree with the
# sources and the generated code, and the build cache (GOCACHE), so the build needs no writable
# home folder. Installed by scripts/install-deps.sh: golang-go golang-google-protobuf-dev
# protoc-gen-go protobuf-compiler.
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: clients/go/build.sh OUTDIR"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
gocode=/usr/share/gocode

for tool in go protoc protoc-gen-go; do
  command -v "$tool" >/dev/null 2>&1 || die "no $tool: run scripts/install-deps.sh"
done
[[ -d $gocode/src/google.golang.org/protobuf ]] ||
  die "no $gocode/src/google.golang.org/protobuf: run scripts/install-deps.sh"

# The GOPATH tree: the client package's import path is avantgo/avant, the generated messages'
# avantgo/avantpb, the example's avantgo/example. The sources are copied, not linked, so that a
# build is of the files as they were when it started.
tree=$out/gopath/src/avantgo
rm -rf "$tree"
mkdir -p "$tree/avant" "$tree/example" "$tree/avantpb"
cp "$here"/avant/*.go "$tree/avant/"
cp "$here"/example/*.go "$tree/example/"

# avant.proto has no go_package option (it is shared with the C++ build and the other clients):
# the M flag tells protoc-gen-go the file's Go import path and package name instead.
protoc -I "$root/proto" --go_out="$tree/avantpb" --go_opt=paths=source_relative \
  --go_opt="Mavant.proto=avantgo/avantpb;avantpb" "$root/proto/avant.proto"

# GOPATH mode, offline: no proxy, no module lookups, no toolchain switch (newer go commands), no
# settings from the user's `go env -w` file, no cgo (no C compiler needed; a static binary).
export GO111MODULE=off GOPATH="$out/gopath:$gocode" GOCACHE="$out/gocache" GOFLAGS= \
  GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local GOTELEMETRY=off GOENV=off CGO_ENABLED=0
go build -o "$out/example" avantgo/example
go test -c -o "$out/avant.test" avantgo/avant
echo "build.sh: built $out/example and $out/avant.test"
