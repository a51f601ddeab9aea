#!/usr/bin/env bash
# The pages in headless Chromium (browser-tests/): Debian's /usr/bin/chromium
# driven by playwright-core (pinned in browser-tests/package-lock.json),
# against the dev server binary on the memory store. Screenshots of every
# page the tests pass go to target/browser-screenshots/.
# Run by scripts/test.sh, which builds the dev server and installs chromium
# first (scripts/install-chromium.sh); run alone, it does both itself.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

[[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || bash scripts/install-chromium.sh

# playwright-core only (no browser download), exactly as locked.
bash scripts/node-modules.sh

cargo build --locked -q --workspace --bins --tests
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
rm -rf "$TARGET/browser-screenshots"
cd browser-tests
DEV_SERVER_BIN="$TARGET/debug/dev-server" CARGO_TARGET_DIR="$TARGET" \
    node --test --test-concurrency=1 --test-reporter=spec tests/
echo "screenshots: $(find "$TARGET/browser-screenshots" -name '*.png' | wc -l) in $TARGET/browser-screenshots"
