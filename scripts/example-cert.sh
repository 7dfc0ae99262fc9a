#!/usr/bin/env bash
# example-cert.sh — makes the EXAMPLE certificate and key that examples/main.ini names, once.
#
#   scripts/example-cert.sh [DIR]     (default examples/tls)
#
# A self-signed EC P-256 certificate for localhost and 127.0.0.1, valid 10 years: for trying
# HTTPS on this machine (`curl --cacert examples/tls/example-cert.pem https://localhost:20443/`),
# never for anything else. The files are not committed (.gitignore); delete them to get new ones.
set -euo pipefail
dir=${1:-"$(cd "$(dirname "$0")/.." && pwd)/examples/tls"}
cert="$dir/example-cert.pem"
key="$dir/example-key.pem"
if [[ -s $cert && -s $key ]]; then
  exit 0
fi
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=localhost/O=Avant example (not for production)" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$key" -out "$cert" 2>/dev/null
chmod 600 "$key"
echo "example-cert.sh: made an EXAMPLE certificate for localhost in $dir (not for production)"
