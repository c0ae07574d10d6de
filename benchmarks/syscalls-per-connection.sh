#!/usr/bin/env bash
# The cost of a new TLS connection through the proxy: proxy CPU ms per 1000 connections (alternating rounds) and
# system calls per connection by name (strace -c -f), for one or more proxy jars and, when installed, HAProxy.
# Usage: benchmarks/syscalls-per-connection.sh [connections] [rounds] [concurrency] [label=proxy.jar ...]
# (default: the project's fedlink-proxy-cli/target/fedlink-proxy.jar). The access log is off, as for the C peers.
# COST_JAVA_OPTS=-Dcost.trace=true writes each traced call (strace -tt) instead of the counts, for a few connections.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v strace >/dev/null 2>&1 || { echo "strace is needed (apt-get install strace)" >&2; exit 2; }
[ -f benchmarks/target/benchmarks.jar ] || mvn -B -q -ntp -o -DskipTests package -pl benchmarks -am
n=${1:-1000}; rounds=${2:-5}; conc=${3:-4}; shift $(( $# < 3 ? $# : 3 ))
jars=("$@"); [ ${#jars[@]} -gt 0 ] || jars=("fedlink=fedlink-proxy-cli/target/fedlink-proxy.jar")
specs=()
for j in "${jars[@]}"; do
  specs+=("${j%%=*}=java -Dorg.slf4j.simpleLogger.log.io.fedlink.sni.access=off -jar ${j#*=} proxy --listen {listen} --routes {routes} --max-tunnels 20000 --max-handshakes 20000")
done
if command -v haproxy >/dev/null 2>&1; then specs+=("haproxy=haproxy -db -f {haproxy}"); fi
java ${COST_JAVA_OPTS:-} -cp benchmarks/target/benchmarks.jar io.fedlink.benchmarks.ConnectionCost "$n" "$rounds" "$conc" "${specs[@]}"
