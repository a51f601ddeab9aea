#!/usr/bin/env bash
# Fuzzes the dev server (memory store, IP_LIMITS=off) against openapi.yaml
# with schemathesis: every check, bounded examples per operation, the
# authenticated operations with a registered user's bearer token.
# Run by scripts/test.sh after the Rust tests (the dev server is built then).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
cd "$REPO"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
WORK="$(mktemp -d)"
# The dev server binary as `cargo test --workspace` built it (the same
# features: nothing is compiled again).
cargo build --locked -q --workspace --bins --tests
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
# TOKEN_AUDIENCES: the audience openapi.yaml's example names (a token for
# it is 200, any other 400); the service key is the dev server's own.
PORT="$PORT" OUTBOX_DIR="$WORK/outbox" IP_LIMITS=off STORE=memory TOKEN_AUDIENCES=orders \
    JWT_SECRET="schemathesis-secret-of-at-least-32-bytes" \
    "$TARGET/debug/dev-server" >"$WORK/server.log" 2>&1 &
SERVER=$!
stop() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 200); do
    curl -fsS "$BASE/" >/dev/null 2>&1 && break
    sleep 0.1
done

register() {
    curl -fsS -X POST "$BASE/api/registration" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"full_name\":\"Fuzz\",\"email\":\"$1@example.com\",\"phone\":null,\"contacts\":null,\"pwd\":\"S3cure-Passw0rd!\"}" >/dev/null
}
login() {
    curl -fsS -X POST "$BASE/api/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"pwd\":\"S3cure-Passw0rd!\",\"remember\":true}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])'
}
# fuzzer: one session for most operations, one for logout (GET and POST,
# which end their own). Operations that end sessions or check the password
# (the 5th wrong one in a row ends the session) get users of their own.
register fuzzer
register fuzzer_all
register fuzzer_pwd
register fuzzer_end
register fuzzer_export
register fuzzer_mfa
register fuzzer_passkey
ST_TOKEN="$(login fuzzer)"
ST_LOGOUT_TOKEN="$(login fuzzer)"
ST_LOGOUT_ALL_TOKEN="$(login fuzzer_all)"
ST_PASSWORD_TOKEN="$(login fuzzer_pwd)"
ST_END_TOKEN="$(login fuzzer_end)"
ST_EXPORT_TOKEN="$(login fuzzer_export)"
ST_MFA_TOKEN="$(login fuzzer_mfa)"
ST_PASSKEY_TOKEN="$(login fuzzer_passkey)"
export ST_TOKEN ST_LOGOUT_TOKEN ST_LOGOUT_ALL_TOKEN ST_PASSWORD_TOKEN ST_END_TOKEN ST_EXPORT_TOKEN \
    ST_MFA_TOKEN ST_PASSKEY_TOKEN

export HYPOTHESIS_STORAGE_DIRECTORY="$WORK/hypothesis"
st --config-file scripts/schemathesis.toml run openapi.yaml \
    --url "$BASE" --checks all --workers 1
