#!/usr/bin/env bash
# The browser tests (tests/browser) drive Debian's Chromium through Playwright; Playwright's own browser
# download is not used. Install it where it is missing (as root, or through sudo); a no-op otherwise.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is missing and this is not a Debian-like system: install chromium for tests/browser" >&2
    exit 0 # the browser tests then fail with that message; the rest of the suite still runs
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
