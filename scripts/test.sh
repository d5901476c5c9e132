#!/usr/bin/env bash
# Sets up everything the test suite needs, then runs it: the unit and integration
# tests of every crate, against SQLite files, the PostgreSQL and MariaDB servers on
# 127.0.0.1, SSE and HTTP servers on loopback, and a real MediaWiki on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
cargo test --workspace --all-features --locked "$@"
