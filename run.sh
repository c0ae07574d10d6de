#!/usr/bin/env bash
# Runs fedlink. Builds the CLI jar first when it is missing or older than the sources.
# With no arguments it runs the star-network demo; any arguments are passed to the `fedlink` command.
set -euo pipefail
cd "$(dirname "$0")"
jar=fedlink-cli/target/fedlink.jar
if [ ! -f "$jar" ] || [ -n "$(find . -path ./fedlink-cli/target -prune -o \( -name '*.java' -o -name pom.xml \) -newer "$jar" -print -quit)" ]; then
  echo "==> building fedlink (first run downloads dependencies)" >&2
  mvn -B -q -ntp -DskipTests package -pl fedlink-cli -am >&2
fi
if [ $# -eq 0 ]; then set -- demo; fi
exec java -jar "$jar" "$@"
