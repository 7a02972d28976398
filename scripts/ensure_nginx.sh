#!/usr/bin/env bash
# tests/test_auth_behind_proxy.py puts Debian's nginx in front of a gateway, as the ingress of deploy/ is.
# Install it where it is missing (as root, or through sudo); a no-op otherwise.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "nginx is missing and this is not a Debian-like system: install nginx for tests/test_auth_behind_proxy.py" >&2
    exit 0 # that test then fails with this message; the rest of the suite still runs
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
