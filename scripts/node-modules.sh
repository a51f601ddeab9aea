#!/usr/bin/env bash
# browser-tests/node_modules exactly as browser-tests/package-lock.json locks it
# (`npm ci`: playwright-core with no browser download, otpauth, jose,
# aws-jwt-verify), installed again only when the lock changed. Used by
# scripts/browser-tests.sh and by the service tokens step of scripts/test.sh.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
command -v node >/dev/null 2>&1 || { echo "node-modules.sh: node (>= 20) not found" >&2; exit 1; }
WANT="$(sha256sum browser-tests/package-lock.json | cut -d' ' -f1)"
if [[ "$(cat browser-tests/node_modules/.lock.sha256 2>/dev/null || true)" != "$WANT" ]]; then
    (cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)
    echo "$WANT" >browser-tests/node_modules/.lock.sha256
fi
