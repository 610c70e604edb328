#!/usr/bin/env bash
# The container image's health check: healthy (exit 0) while
# GET /readyz on switchyard's port answers 200. Bash's /dev/tcp does the
# request, so the image needs no HTTP client. SWITCHYARD_HEALTH_ADDR
# (HOST:PORT, default 127.0.0.1:8080) names another listen address.
set -euo pipefail
addr=${SWITCHYARD_HEALTH_ADDR:-127.0.0.1:8080}
exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}"
printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3
read -r -t 2 _ status _ <&3
[ "$status" = 200 ] || { echo "switchyard-healthcheck: GET /readyz answered ${status:-nothing}" >&2; exit 1; }
