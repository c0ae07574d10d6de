#!/usr/bin/env bash
# Bulk throughput on loopback: direct vs HAProxy (TCP mode, one thread, splice-auto) vs the fedlink proxy, in
# alternating rounds of one run. Installs HAProxy from Debian when missing. Usage: benchmarks/haproxy-compare.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v haproxy >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq haproxy
fi
[ -f benchmarks/target/benchmarks.jar ] || mvn -B -q -ntp -DskipTests package -pl benchmarks -am
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sink=$(free_port); front=$(free_port)
cfg=$(mktemp); pidfile=$(mktemp)
cat > "$cfg" <<CFG
global
  nbthread 1
defaults
  mode tcp
  option splice-auto
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen bulk
  bind 127.0.0.1:$front
  server sink 127.0.0.1:$sink
CFG
haproxy -D -p "$pidfile" -f "$cfg"
trap 'kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$cfg" "$pidfile"' EXIT
java -cp benchmarks/target/benchmarks.jar io.fedlink.benchmarks.CopyVersusHaproxy "$sink" "$front" "${1:-3}"
