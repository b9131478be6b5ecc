#!/usr/bin/env bash
# `make demo`: the whole pipeline on bundled sample data, offline, from a clean var/.
set -euo pipefail
cd "$(dirname "$0")/.."
rb() { .venv/bin/rundbrief --config config.toml "$@"; }

rm -rf var/rundbrief.db* var/outbox var/preview var/demo-feeds
echo "== rundbrief check"
rb check

echo "== demo feeds (dated relative to today) → var/demo-feeds/"
.venv/bin/python scripts/demo_feeds.py
echo "== rundbrief collect"
rb collect
echo "== rundbrief items"
rb items --limit 10
