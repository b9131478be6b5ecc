"""Write the demo feeds: demo/feeds/*.xml with their dates set relative to today.

The templates say ``{{rfc822:N}}`` (RSS) or ``{{iso:N}}`` (Atom) for "N days before
today, 10:00 in Berlin", so the demo's items are always recent enough for the backfill
window and the weekly newsletter, whenever the demo runs.

    python scripts/demo_feeds.py [--out var/demo-feeds] [--today 2026-06-19]
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "demo" / "feeds"
PLACEHOLDER = re.compile(r"\{\{(rfc822|iso):(\d+)\}\}")
NOTE = re.compile(r"<!-- Demo template:.*?-->\n?", re.DOTALL)
ZONE = ZoneInfo("Europe/Berlin")


def render(text: str, today: date) -> str:
    def fill(match: re.Match[str]) -> str:
        day = today - timedelta(days=int(match.group(2)))
        moment = datetime.combine(day, time(10, 0), tzinfo=ZONE)
        if match.group(1) == "rfc822":
            return format_datetime(moment)
        return moment.isoformat()

    return PLACEHOLDER.sub(fill, NOTE.sub("", text))


def write_feeds(out: Path, today: date, templates: Path = TEMPLATES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for template in sorted(templates.glob("*.xml")):
        target = out / template.name
        target.write_text(render(template.read_text(encoding="utf-8"), today), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "demo-feeds")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    today = args.today or datetime.now(ZONE).date()
    for path in write_feeds(args.out, today):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
