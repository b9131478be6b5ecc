#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to for real: Chromium (browser tests),
# SpamAssassin (spam score of the demo mail), Postfix's smtp-sink/smtp-source (send
# benchmark), PostgreSQL (the multi-worker outbox), and npm plus a Java runtime for the
# Nu Html Checker that validates the mail HTML. Skips what is already there.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v spamassassin >/dev/null 2>&1 || need+=(spamassassin)
[ -x /usr/sbin/smtp-sink ] || need+=(postfix)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})." >&2
  echo "system-deps: the tests that need them will be skipped." >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Postfix must not run as a mail server here; only its test tools are used.
if command -v postfix >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || true; fi
