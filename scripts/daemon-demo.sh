#!/usr/bin/env bash
# The daemon on the demo data with a schedule of minutes instead of days, so a newcomer
# sees it work within a minute: collect, compose, auto-approve and send the newsletter,
# then send a press release at its send time 40 seconds later, under a Sperrfrist an
# hour after that (journalists get it before they may publish). Stop it with Ctrl-C.
#
# Everything lives in var/daemon-demo/ (its own database, Maildir and config), so it
# does not touch what `make demo` made. Nothing leaves the machine (maildir transport).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=var/daemon-demo
rm -rf "$DIR"
mkdir -p "$DIR"

# The demo config with paths moved into $DIR and a short [schedule] (replaces the
# section at the end of config.toml).
.venv/bin/python - "$DIR/config.toml" <<'PY'
import re, sys
from pathlib import Path

text = Path("config.toml").read_text(encoding="utf-8")
text = text.replace('"sqlite:///var/rundbrief.db"', '"sqlite:///rundbrief.db"')
text = text.replace('"var/outbox"', '"outbox"')
text = text.replace('"var/demo-feeds/', '"../demo-feeds/')
text = re.sub(r"(?ms)^\[schedule\].*?(?=^\[|\Z)", "", text)
text += """
[schedule]
collect_every_minutes = 1
compose_newsletter = "* * * * *"   # every minute: this week's draft at once
send_newsletter = "* * * * *"      # due at once ...
auto_approve = true                # ... and nobody has to approve it
misfire_grace_seconds = 60
max_send_delay_minutes = 120
"""
Path(sys.argv[1]).write_text(text, encoding="utf-8")
PY

rb() { .venv/bin/rundbrief --config "$DIR/config.toml" "$@"; }
export RUNDBRIEF_SECRET="${RUNDBRIEF_SECRET:-demo-only-secret-do-not-use-in-production}"

echo "== demo feeds and subscribers into $DIR/rundbrief.db"
.venv/bin/python scripts/demo_feeds.py >/dev/null
rb collect >/dev/null || true
rb subscribers import subscribers/members.csv --list members >/dev/null
rb subscribers import subscribers/press.csv --list press >/dev/null

press_item="$(rb items --kind press_release --json | .venv/bin/python -c 'import json, sys; items = json.load(sys.stdin); print(items[0]["id"] if items else "")')"
if [ -n "$press_item" ]; then
  send_at="$(.venv/bin/python -c 'from datetime import datetime, timedelta; print((datetime.now().astimezone() + timedelta(seconds=40)).isoformat(timespec="seconds"))')"
  embargo="$(.venv/bin/python -c 'from datetime import datetime, timedelta; print((datetime.now().astimezone() + timedelta(hours=1, seconds=40)).isoformat(timespec="seconds"))')"
  press="$(rb compose press "$press_item" --send-at "$send_at" --embargo "$embargo" --json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["mailing"])')"
  rb approve "$press" --by demo >/dev/null
  echo "== press release $press approved: sent at $send_at, under embargo until $embargo"
fi

echo "== rundbrief jobs"
rb jobs
cat <<MSG
== rundbrief run  (Ctrl-C stops it cleanly)
Watch in another terminal:
  .venv/bin/rundbrief --config $DIR/config.toml status
  ls $DIR/outbox/new | wc -l        # the newsletter, then the press release, arrive here
MSG
exec .venv/bin/rundbrief --config "$DIR/config.toml" -v run
