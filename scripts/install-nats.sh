#!/usr/bin/env bash
# Install nats-server from Debian's packages, once, for the tests that run
# the prediction log and feedback on NATS JetStream (internal/natstest).
#
# It is installed when it is missing and this is root with apt-get.
# Elsewhere, or when the install fails off CI, nothing is installed and
# those tests skip, saying why; on CI (CI=true) a failed install fails
# here, and a missing nats-server fails the tests. The tests find the
# server as $NATS_SERVER, else nats-server on the PATH.
set -uo pipefail

if [ -n "${NATS_SERVER:-}" ] || command -v nats-server >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "nats: installing nats-server from Debian's packages for the JetStream tests" >&2
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server >/dev/null; }; then
    exit 0
  fi
  if [ "${CI:-}" = true ]; then
    echo "nats: the install of nats-server failed" >&2
    exit 1
  fi
  echo "nats: the install failed; the JetStream tests will skip" >&2
  exit 0
fi
if [ "${CI:-}" = true ]; then
  echo "nats: nats-server is missing, and installing it needs root and apt-get" >&2
  exit 1
fi
echo "nats: not installed, and installing it needs root and apt-get; the JetStream tests will skip" >&2
