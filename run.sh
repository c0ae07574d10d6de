#!/usr/bin/env bash
# Runs fedlink in the caller's working directory, so relative paths (--ca-dir fate-ca, --routes sni.yaml) resolve
# where they were typed. Builds the CLI jars first when they are missing or older than the sources they are made of
# (the main sources and poms of the modules below; generated and test files do not count). `proxy` and `agent` run
# from fedlink-proxy-cli/target/fedlink-proxy.jar (the proxy's module, whose dependencies hold neither the Pulsar
# client nor the bundle), every other command from fedlink-cli/target/fedlink.jar. The build is quiet; its log is shown only if it fails. With no arguments it runs
# the star-network demo; any arguments go to `fedlink`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$root/fedlink-cli/target/fedlink.jar"
proxy_jar="$root/fedlink-proxy-cli/target/fedlink-proxy.jar"

stale() {
  [ -f "$jar" ] && [ -f "$proxy_jar" ] || return 0
  [ "$root/pom.xml" -nt "$jar" ] && return 0
  local m
  for m in "$root"/fedlink-*/; do # every library module the CLI may be made of (the *-it modules are tests only)
    case "$m" in *-it/) continue ;; esac
    if [ -n "$(find "${m}pom.xml" "${m}src/main" -newer "$jar" -print -quit 2>/dev/null)" ]; then
      return 0
    fi
  done
  return 1
}

if stale; then
  # One build at a time: a second run.sh started meanwhile (two proxies started at once after a pull) waits for the
  # first and then finds the jars fresh, instead of running Maven in the same tree and failing.
  mkdir -p "$root/fedlink-cli/target"
  exec 9>"$root/fedlink-cli/target/.build.lock"
  flock 9
  if stale; then
    echo "==> building fedlink (the first build downloads its Maven dependencies)" >&2
    log="$(mktemp)"
    if ! (cd "$root" && mvn -B -q -ntp -DskipTests package -pl fedlink-cli -am) >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      exit 1
    fi
    rm -f "$log"
    touch "$jar" "$proxy_jar" # Maven may keep an up-to-date jar's old time stamp
  fi
  exec 9>&-
fi
if [ $# -eq 0 ]; then set -- demo; fi
# The JVM settings of a long-running proxy or agent (they allocate little; these keep the resident size small):
# the serial collector, a small initial heap, native memory handed back to the system once a second (ignored by a
# JDK that lacks the option), and two malloc arenas instead of one per thread. FEDLINK_PROXY_JAVA_OPTS replaces them;
# JAVA_OPTS is added for every command.
opts=()
if [ "${1:-}" = proxy ] || [ "${1:-}" = agent ]; then
  export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
  # shellcheck disable=SC2206
  opts=(${FEDLINK_PROXY_JAVA_OPTS:--XX:+UseSerialGC -Xms8m -Xmx256m -XX:+IgnoreUnrecognizedVMOptions -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=1000})
  jar="$proxy_jar"
fi
# shellcheck disable=SC2206
exec java "${opts[@]}" ${JAVA_OPTS:-} -jar "$jar" "$@"
