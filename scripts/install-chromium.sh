#!/usr/bin/env bash
# Installs Debian's chromium (the browser the browser tests drive through
# playwright-core) when /usr/bin/chromium is missing, unless CHROMIUM_PATH
# names another Chromium-based browser that is there (GitHub's Ubuntu runners:
# /usr/bin/google-chrome). Playwright's own browser download is not used.
# Needs root or sudo (apt-get). Run by scripts/test.sh in the background
# while the Rust tests build and run.
set -euo pipefail
BROWSER="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$BROWSER" ]]; then
    "$BROWSER" --version 2>/dev/null || true
    exit 0
fi
SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-chromium.sh: /usr/bin/chromium is missing and installing it needs root or sudo" >&2
        exit 1
    fi
fi
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version 2>/dev/null || true
