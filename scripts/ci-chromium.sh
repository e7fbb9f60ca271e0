#!/usr/bin/env bash
# CI's browser for the console tests (test/integration/console-*.test.ts, through playwright-core): Debian's
# chromium, installed with apt-get only when missing; seconds when it is there already.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
