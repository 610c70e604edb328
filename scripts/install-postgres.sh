#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages, once, for the tracking suite's
# PostgreSQL run (internal/pgtest starts a throwaway cluster with its
# initdb and pg_ctl, found under /usr/lib/postgresql/*/bin).
#
# Installed only when missing and this is root with apt-get. Elsewhere, or
# when the install fails off CI, nothing is installed and the PostgreSQL
# tests skip, saying why; on CI (CI=true) a failed install fails here.
set -euo pipefail

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "postgres: not installed, and installing it needs root and apt-get; the PostgreSQL tests will skip" >&2
  [ "${CI:-}" != true ] || exit 1
  exit 0
fi
echo "postgres: installing it from Debian's packages for the tracking suite's PostgreSQL run" >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }; then
  [ "${CI:-}" != true ] || { echo "postgres: the install failed" >&2; exit 1; }
  echo "postgres: the install failed; the PostgreSQL tests will skip" >&2
fi
