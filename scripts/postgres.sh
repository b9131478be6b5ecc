#!/usr/bin/env bash
# Starts the local PostgreSQL cluster (if installed) with a test database and prints its
# SQLAlchemy URL; prints nothing when PostgreSQL is not available (those tests skip).
set -uo pipefail
command -v pg_ctlcluster >/dev/null 2>&1 || exit 0
[ "$(id -u)" -eq 0 ] || exit 0
version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
[ -n "$version" ] || exit 0
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  pg_createcluster "$version" main >/dev/null 2>&1 || exit 0
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
su postgres -c "psql -qAtc \"select 1 from pg_roles where rolname='rundbrief'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role rundbrief login password 'rundbrief'\"" >/dev/null
su postgres -c "psql -qAtc \"select 1 from pg_database where datname='rundbrief_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O rundbrief rundbrief_test" >/dev/null
echo "postgresql+psycopg://rundbrief:rundbrief@127.0.0.1:5432/rundbrief_test"
