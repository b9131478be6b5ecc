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

echo "== rundbrief subscribers import (sample members and press contacts)"
rb subscribers import subscribers/members.csv --list members
rb subscribers import subscribers/press.csv --list press
rb subscribers count

echo "== rundbrief users add (a demo admin, editor and approver)"
# Demo passwords: set these variables to choose your own.
DEMO_ADMIN_PASSWORD="${DEMO_ADMIN_PASSWORD:-demo-admin-passwort}"
DEMO_EDITOR_PASSWORD="${DEMO_EDITOR_PASSWORD:-demo-redaktion-passwort}"
DEMO_APPROVER_PASSWORD="${DEMO_APPROVER_PASSWORD:-demo-freigabe-passwort}"
admin=admin@junge-buergermeister.example
printf '%s\n' "$DEMO_ADMIN_PASSWORD" | rb users add "$admin" --role admin --name "Demo-Admin" --password-stdin
printf '%s\n' "$DEMO_EDITOR_PASSWORD" | rb --as "$admin" users add redaktion@junge-buergermeister.example \
  --role editor --name "Demo-Redaktion" --password-stdin
printf '%s\n' "$DEMO_APPROVER_PASSWORD" | rb --as "$admin" users add freigabe@junge-buergermeister.example \
  --role approver --name "Demo-Freigabe" --password-stdin
rb --as "$admin" users list
editor=redaktion@junge-buergermeister.example
approver=freigabe@junge-buergermeister.example

# The links in every mail are signed; the demo uses a throwaway secret unless one is set.
export RUNDBRIEF_SECRET="${RUNDBRIEF_SECRET:-demo-only-secret-do-not-use-in-production}"
echo "== rundbrief --as $editor compose newsletter"
rb --as "$editor" compose newsletter
newsletter="$(rb mailings --kind newsletter --status draft --json | .venv/bin/python -c 'import json, sys; m = json.load(sys.stdin)["mailings"]; print(m[0]["id"] if m else "")')"
if [ -n "$newsletter" ]; then
  echo "== rundbrief mailing show $newsletter"
  rb mailing show "$newsletter"
  echo "== rundbrief --as $editor approve $newsletter (an editor may not approve)"
  if rb --as "$editor" approve "$newsletter"; then echo "an editor approved: the role table is broken" >&2; exit 1; fi
  echo "== rundbrief --as $approver approve $newsletter"
  rb --as "$approver" approve "$newsletter"
  echo "== rundbrief preview $newsletter → var/preview/"
  rb preview "$newsletter" --out var/preview
fi

# Send: the approved newsletter goes to the sample members through the maildir transport
# ([delivery] transport = "maildir" in config.toml): one file per message, nothing leaves.
if [ -n "$newsletter" ]; then
  echo "== rundbrief --as $approver send $newsletter"
  rb --as "$approver" send "$newsletter"
  echo "== rundbrief mailing show $newsletter (deliveries)"
  rb mailing show "$newsletter" | grep -A3 '^Deliveries' || true
  count="$(find var/outbox/new -type f | wc -l)"
  echo "The newsletter is in the demo Maildir: $count messages in var/outbox/new/"
  echo "  read one:  less \"\$(ls -d var/outbox/new/* | head -1)\"   or: mutt -f var/outbox"
  echo "== rundbrief --as $editor mailing log $newsletter (the distribution record, first recipients)"
  rb --as "$editor" mailing log "$newsletter" | sed -n 1,7p
  rb --as "$editor" mailing log "$newsletter" --csv > var/versandprotokoll.csv
  echo "  the whole record as CSV: var/versandprotokoll.csv"
  echo "== rundbrief audit --mailing $newsletter (who did what)"
  rb audit --mailing "$newsletter"
fi

# A press release under a Sperrfrist: it goes out now, so journalists can prepare, and
# says in subject and text that it may be published only from tomorrow 10:00 on.
press_item="$(rb items --kind press_release --json | .venv/bin/python -c 'import json, sys; items = json.load(sys.stdin); print(items[0]["id"] if items else "")')"
if [ -n "$press_item" ]; then
  embargo="$(.venv/bin/python -c 'from datetime import date, timedelta; print((date.today() + timedelta(days=1)).isoformat() + "T10:00")')"
  echo "== rundbrief --as $editor compose press $press_item --embargo $embargo"
  rb --as "$editor" compose press "$press_item" --embargo "$embargo"
  press="$(rb mailings --kind press --status draft --json | .venv/bin/python -c 'import json, sys; m = json.load(sys.stdin)["mailings"]; print(m[0]["id"] if m else "")')"

  # The release's press kit: a PDF and a photo.
  # Linked in the mail (before the embargo each link opens for its recipient only) and,
  # being small ([press] attach_below_bytes), attached as well.
  rm -rf var/press-files
  echo "== rundbrief --as $editor press files add $press (a PDF and a photo with credit and licence)"
  rb --as "$editor" press files add "$press" demo/press-kit/Pressemappe-Investitionsprogramm.pdf \
    --licence "Frei zur Berichterstattung"
  rb --as "$editor" press files add "$press" demo/press-kit/Rathaus.jpg \
    --credit "Netzwerk Junge Bürgermeister*innen" --licence "CC BY 4.0" \
    --alt "Das Rathaus einer Mitgliedsgemeinde"
  rb press files list "$press"

  rb --as "$approver" approve "$press"
  echo "== rundbrief --as $approver send $press (before its embargo; the archive waits for it)"
  rb --as "$approver" send "$press"
  rb mailing show "$press" | grep -E '^(Subject|Embargo)' || true

  # A correction to exactly those who got the release.
  cat > var/berichtigung.md <<'TEXT'
Im zweiten Absatz muss es richtig heißen: Das Netzwerk vertritt **über 1.000** junge Bürgermeisterinnen und Bürgermeister. Wir bitten, den Fehler zu entschuldigen.
TEXT
  echo "== rundbrief --as $editor compose followup $press --kind correction (Berichtigung)"
  correction="$(rb --as "$editor" compose followup "$press" --kind correction \
    --text-file var/berichtigung.md --json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["mailing"])')"
  echo "== rundbrief --as $approver approve $correction (a second person, as for every release)"
  rb --as "$approver" approve "$correction"
  echo "== rundbrief --as $approver send $correction (threaded under each journalist's copy)"
  rb --as "$approver" send "$correction"
  rb --as "$editor" mailing log "$press" | sed -n 1,4p
fi

# A segment saved by name (as on the web app's page "Segmente").
# Counted before it is saved, then listed next to those of [segments] in config.toml;
# `compose press ITEM --segment ost_politik` would use it like one of the file.
echo "== rundbrief segments count (before saving: whom would it reach?)"
rb segments count 'beat in ["Kommunalpolitik", "Landespolitik"] and region in ["Berlin", "Brandenburg"]'
echo "== rundbrief --as $editor segments save ost_politik …"
rb --as "$editor" segments save ost_politik \
  'beat in ["Kommunalpolitik", "Landespolitik"] and region in ["Berlin", "Brandenburg"]'
rb segments list

echo
echo "== Where to look"
echo "  collected items:  .venv/bin/rundbrief items        (store: var/rundbrief.db)"
echo "  the newsletter:   var/preview/preview.html in a browser, preview.txt, preview.eml in a mail program"
echo "  what was sent:    var/outbox/new/ (one file per recipient, a Maildir)"
echo "  web app:          RUNDBRIEF_SECRET=$RUNDBRIEF_SECRET .venv/bin/rundbrief serve"
echo "                    then http://127.0.0.1:8000/editor/ (the start page: mailings, lists, feeds),"
echo "                    http://127.0.0.1:8000/editor/mailings (the drafts and sent mailings),"
echo "                    http://127.0.0.1:8000/signup (the public sign-up forms) and http://127.0.0.1:8000/archive"
echo "  log in as editor:   $editor / $DEMO_EDITOR_PASSWORD   (compose, edit, test copies)"
echo "  log in as approver: $approver / $DEMO_APPROVER_PASSWORD   (also approve, schedule, send)"
echo "  log in as admin:    $admin / $DEMO_ADMIN_PASSWORD   (also accounts, erasing)"
echo "  API token:          .venv/bin/rundbrief --as $editor users token $editor   (docs/api.md)"
