#!/usr/bin/env bash
# Install the servers the engine tests start on 127.0.0.1 (each test session starts and
# stops its own, by pid):
#   - PostgreSQL 15 from Debian (initdb/pg_ctl run as the `postgres` user);
#   - Java for Spark (pyspark itself, SeaweedFS's `weed` and moto come from PyPI with
#     the `test` extra).
# Idempotent and non-interactive; it does nothing slow when all is already present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if ! command -v java >/dev/null 2>&1; then
    need+=(openjdk-17-jre-headless)
fi
if [ "${#need[@]}" -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
