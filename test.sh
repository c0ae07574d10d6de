#!/usr/bin/env bash
# The whole fedlink test suite: unit tests (Surefire) and socket/process tests (Failsafe, *IT).
# Installs the Debian tools the tests run against when they are missing (idempotent), then runs Maven.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl    >/dev/null 2>&1 || need+=(curl)
command -v etcd    >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v haproxy  >/dev/null 2>&1 || need+=(haproxy)
command -v strace   >/dev/null 2>&1 || need+=(strace)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Some tests hold 1,000 sockets open at once (half-requests against the HTTP servers): use the hard file limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec mvn -B -ntp verify "$@"
