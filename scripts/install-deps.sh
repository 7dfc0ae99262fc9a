#!/usr/bin/env bash
# install-deps.sh — the ONE list of Debian packages Avant needs (the dependency rule:
# docs/architecture.md, "Dependencies").
#
# Used by the README's commands (`make run`, `make test`), by .ci/run and by the devcontainer's
# Dockerfile. Idempotent and fast when everything is present: it asks dpkg first and calls apt only
# for what is missing. Runs as root, or through sudo when it is not root.
#
#   scripts/install-deps.sh                Debian packages, then the project-local npm packages
#   scripts/install-deps.sh --system-only  Debian packages only (the devcontainer image build)
#   scripts/install-deps.sh --check        only report what is missing (exit 1 if anything is)
#   scripts/install-deps.sh --list         print the Debian package list, one per line
#
# npm packages (test peers and tools such as @devcontainers/cli) are pinned by the committed
# package-lock.json and installed into ./node_modules with `npm ci`, never globally.
set -euo pipefail

# One package per line, grouped by what needs it. Keep this the only list in the repository.
packages=(
  # toolchain and build speed
  build-essential cmake ninja-build ccache pkg-config git
  # tests (GoogleTest, GoogleMock) and micro-benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # libraries of later chapters: TLS, protobuf, Lua, compression, the HTTP parser's C sources
  libssl-dev libprotobuf-dev protobuf-compiler liblua5.4-dev zlib1g-dev node-llhttp
  # chapter 09's ipc.json (header-only JSON library)
  nlohmann-json3-dev
  # fuzzing (libFuzzer) and the formatter / linter checked in CI
  clang libclang-rt-14-dev clang-format clang-tidy
  # real test peers
  curl openssl python3 python3-websockets
  # the browser page's test: Debian's Chromium, driven by playwright-core (npm) without a download
  chromium
  # load tools for bench/ (callgrind counts instructions)
  wrk nginx valgrind
  # the chapters' experiments: nc clients, system-call traces, socket tables; chapter 08's
  # send-queue test: unshare (util-linux) and tc (iproute2) shape a private loopback
  netcat-openbsd strace iproute2 xxd util-linux
  # chapter 07's Go client: built offline from Debian's Go sources (clients/go/build.sh)
  golang-go golang-google-protobuf-dev protoc-gen-go
)

# Node.js and npm run the project-local test peers (npm `ws`, `playwright-core`). A machine that
# already has a `node` and an `npm` (for example from another Debian-format repository) keeps them:
# installing Debian's npm next to those would conflict.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

die() { echo "install-deps: $*" >&2; exit 1; }

mode=${1:-all}
case "$mode" in
  --list) printf '%s\n' "${packages[@]}"; exit 0 ;;
  --check | --system-only | all) ;;
  *) die "unknown option '$mode' (use --system-only, --check or --list)" ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The project-local npm packages: reinstalled only when package-lock.json changed since the last
# install (its hash is kept in node_modules/.avant-lock.sha256).
npm_packages() {
  [[ -f "$root/package-lock.json" ]] || return 0
  local want have=""
  want=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
  [[ -f "$root/node_modules/.avant-lock.sha256" ]] && have=$(cat "$root/node_modules/.avant-lock.sha256")
  if [[ "$want" == "$have" ]]; then
    echo "install-deps: npm packages up to date"
    return 0
  fi
  if [[ "$mode" == --check ]]; then
    echo "install-deps: npm packages missing or stale (package-lock.json changed)"
    return 1
  fi
  echo "install-deps: npm ci (project-local, from package-lock.json)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) ||
    die "npm ci failed (no access to the npm registry?)"
  echo "$want" >"$root/node_modules/.avant-lock.sha256"
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} Debian packages present"
  [[ "$mode" == --system-only ]] || npm_packages
  exit $?
fi
if [[ "$mode" == --check ]]; then
  echo "install-deps: missing: ${missing[*]}"
  exit 1
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run as root, or install: ${missing[*]}"
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q ||
  die "apt-get update failed (no network to the Debian mirror?)"
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
  die "apt-get install failed for: ${missing[*]}"
[[ "$mode" == --system-only ]] || npm_packages
echo "install-deps: done"
