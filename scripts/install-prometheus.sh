#!/usr/bin/env bash
# promtool, for the deploy package's tests of the Prometheus configuration
# and alert rules, from Debian's prometheus package, once: installed when
# it is missing and this is root with apt-get (the package's service is
# not started). Elsewhere, or when the install fails off CI, nothing is
# installed and those tests skip, saying why; on CI (CI=true) a failed
# install fails here and a missing promtool fails the tests.
set -euo pipefail

command -v promtool >/dev/null && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "promtool: not installed, and installing it needs root and apt-get; the deploy package's promtool tests will skip" >&2
  [ "${CI:-}" != true ] || exit 1
  exit 0
fi
echo "promtool: installing Debian's prometheus package for the deploy package's tests" >&2
# policy-rc.d's exit status 101 keeps the package's service from starting.
policy=/usr/sbin/policy-rc.d
restore=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && restore=1
fi
ok=0
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || ok=$?
[ -z "$restore" ] || rm -f "$policy"
if [ "$ok" != 0 ]; then
  [ "${CI:-}" = true ] && { echo "promtool: the install failed" >&2; exit 1; }
  echo "promtool: the install failed; the deploy package's promtool tests will skip" >&2
fi
exit 0
