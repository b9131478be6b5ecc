#!/usr/bin/env bash
# `make demo`: the whole pipeline on bundled sample data, offline, from a clean var/.
set -euo pipefail
cd "$(dirname "$0")/.."
rb() { .venv/bin/rundbrief --config config.toml "$@"; }

rm -rf var/rundbrief.db* var/outbox var/preview var/demo-feeds
echo "== rundbrief check"
rb check
