#!/usr/bin/env bash
# The project's test command (README, CI): installs and starts everything the
# tests need, runs them all, and stops what it started - also on failure.
#
#   1. pinned Python tools into .tools/venv (moto, cfn-lint, SAM translator, actionlint,
#      cargo-lambda, schemathesis)
#   2. template.yaml and workflow checks (scripts/check-template.sh)
#   3. moto on a free loopback port (DynamoDB and its streams, SES v2, Secrets Manager,
#      EventBridge, SQS)
#   4. cargo test: unit tests, store contract on memory AND DynamoDB, e2e on memory,
#      moto tests (races, faults, round trips, stored items)
#   5. the e2e suite again, on DynamoDB + SES (TEST_STORE=dynamodb)
#   6. schemathesis: the dev server (memory) fuzzed against openapi.yaml
#   7. the walkthrough (scripts/walkthrough.sh) twice against one fresh dev server;
#      then passkeys end to end (scripts/passkeys_e2e.py, PyPI's soft-webauthn as
#      the authenticator) against a fresh dev server on memory, then on DynamoDB (moto);
#      then service tokens (scripts/service_tokens_e2e.py): PyJWT, jose and aws-jwt-verify
#      accept a fresh token and refuse another audience's, an expired, a tampered one and
#      one whose key left the JWKS, on memory and on DynamoDB
#   8. the real Lambda binaries under cargo lambda, fed every events/*.json; then
#      account events (scripts/events_e2e.py): the outbox items of a fresh dev server
#      on DynamoDB read from the table's stream on moto, fed to the real
#      events_forwarder binary (built by step 8's build), read back from an SQS queue
#      behind an EventBridge rule, a failed entry and a failed call retried as Lambda
#      retries, each event once after de-duplication
#   9. the pages and the dev mailbox in headless Chromium (Debian's, installed
#      in the background from the start when missing), driven by playwright-core
#  10. the arm64 build (login for aarch64 with cargo-lambda, built in the
#      background from step 6 on, in target/arm64) run under qemu-user
#      against moto (scripts/arm64.sh)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"

step() { printf '\n==== %s\n' "$*"; }

# Debian's chromium, for the browser tests at the end: installed while the
# Rust tests build and run (a no-op when it is there).
CHROMIUM_LOG="$(mktemp)"
bash scripts/install-chromium.sh >"$CHROMIUM_LOG" 2>&1 &
CHROMIUM_PID=$!

step "template and workflow checks"
bash scripts/check-template.sh

step "starting moto"
MOTO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MOTO_LOG="$(mktemp)"
python3 scripts/moto_server.py 127.0.0.1 "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
ARM64_PID=""
ARM64_LOG="$(mktemp)"
WALK_PID=""
WALK_DIR="$(mktemp -d)"
cleanup() {
    if [[ -n "$WALK_PID" ]]; then kill "$WALK_PID" 2>/dev/null || true; fi
    rm -rf "$WALK_DIR"
    # Its own process group (setsid): cargo, zig and rustc go with it.
    if [[ -n "$ARM64_PID" ]]; then kill -- -"$ARM64_PID" 2>/dev/null || true; fi
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    wait "$CHROMIUM_PID" 2>/dev/null || true
    rm -f "$MOTO_LOG" "$CHROMIUM_LOG" "$ARM64_LOG"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$MOTO_PORT/moto-api/data.json" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
        cat "$MOTO_LOG" >&2
        echo "moto did not start" >&2
        exit 1
    fi
    sleep 0.1
done
echo "moto on http://127.0.0.1:$MOTO_PORT"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_EC2_METADATA_DISABLED=true
export REQUIRE_MOTO=1

step "cargo test (memory, contract on memory and DynamoDB, moto tests)"
cargo test --workspace --locked

step "end-to-end suite on DynamoDB + SES (moto)"
# A fresh moto: the tables the previous step made are no use to this one.
curl -fsS -X POST "http://127.0.0.1:$MOTO_PORT/moto-api/reset" >/dev/null
TEST_STORE=dynamodb cargo test --locked -p tests --test suite --test logs -- api:: logs_

# The arm64 build: in the background while the steps below, which compile
# little, run (a target directory of its own, so neither waits for the other).
# Not before: the suite on DynamoDB is the step a slow moto hurts most (the
# SDK's attempts time out after 2 s), and its two flaky failures seen came
# with this release build beside it on two cores.
step "the arm64 build starts in the background (scripts/arm64.sh build)"
setsid bash scripts/arm64.sh build >"$ARM64_LOG" 2>&1 &
ARM64_PID=$!

step "schemathesis: the dev server fuzzed against openapi.yaml"
bash scripts/schemathesis.sh

step "the walkthrough, twice against one fresh dev server (scripts/walkthrough.sh)"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# dev_server VAR=VALUE...: a fresh dev server on $WALK_PORT with those
# settings (and the AWS ones exported above), its log in $WALK_DIR/log; sets
# WALK_PID. stop_dev_server stops it.
dev_server() {
    (cd "$WALK_DIR" && exec env -u STORE PORT="$WALK_PORT" RUST_LOG=warn "$@" \
        "$TARGET_DIR/debug/dev-server" >"$WALK_DIR/log" 2>&1) &
    WALK_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$WALK_PORT/" >/dev/null 2>&1 && return 0
        kill -0 "$WALK_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WALK_DIR/log" >&2
    echo "the dev server did not start" >&2
    exit 1
}
stop_dev_server() {
    kill "$WALK_PID"
    wait "$WALK_PID" 2>/dev/null || true
    WALK_PID=""
}
server_log() { echo "the dev server's log:" >&2; cat "$WALK_DIR/log" >&2; exit 1; }
WALK_PORT="$(free_port)"
dev_server OUTBOX_DIR="$WALK_DIR/outbox"
walk() { bash scripts/walkthrough.sh "http://127.0.0.1:$WALK_PORT" || server_log; }
walk
walk | tail -1
stop_dev_server

step "passkeys end to end (scripts/passkeys_e2e.py, soft-webauthn): memory, then DynamoDB"
# Passkeys need RP ID localhost (browsers refuse an IP address) and the origin
# http://localhost:PORT, which the script sends; the requests go to 127.0.0.1.
# On memory the public base URL says so; on DynamoDB the defaults (a base URL
# on 127.0.0.1) must derive the same, as the contract says.
WALK_PORT="$(free_port)"
dev_server OUTBOX_DIR="$WALK_DIR/outbox-pk" PUBLIC_BASE_URL="http://localhost:$WALK_PORT"
python3 scripts/passkeys_e2e.py "http://127.0.0.1:$WALK_PORT" || server_log
stop_dev_server
WALK_PORT="$(free_port)"
dev_server STORE=dynamodb CREATE_TABLE=1 TABLE_NAME="passkeys-e2e-$WALK_PORT"
python3 scripts/passkeys_e2e.py "http://127.0.0.1:$WALK_PORT" >"$WALK_DIR/passkeys.out" \
    || { cat "$WALK_DIR/passkeys.out"; server_log; }
tail -1 "$WALK_DIR/passkeys.out"
stop_dev_server

step "service tokens end to end (scripts/service_tokens_e2e.py: PyJWT, jose, aws-jwt-verify): memory, then DynamoDB"
# The script starts the dev server itself, four times on one port (PUBLIC_BASE_URL
# http://127.0.0.1:PORT, TOKEN_AUDIENCES orders,billing): keys it makes, a rotation,
# 2-second tokens. Its node verifiers need browser-tests/node_modules.
bash scripts/node-modules.sh
python3 scripts/service_tokens_e2e.py --dev-server "$TARGET_DIR/debug/dev-server"
python3 scripts/service_tokens_e2e.py --dev-server "$TARGET_DIR/debug/dev-server" --store dynamodb \
    >"$WALK_DIR/service-tokens.out" || { cat "$WALK_DIR/service-tokens.out"; exit 1; }
tail -1 "$WALK_DIR/service-tokens.out"

if [[ -f scripts/lambda-invoke.sh ]]; then
    step "real Lambda binaries under cargo lambda, every events/*.json"
    bash scripts/lambda-invoke.sh
fi

step "account events end to end (scripts/events_e2e.py): the table's stream through the real events_forwarder to EventBridge and SQS on moto"
# The script starts the dev server itself (STORE=dynamodb, a fresh table with its
# stream, NEW_SIGNIN_MAIL=false) and the forwarder under a Lambda Runtime API of its
# own; a proxy of its own stands between the forwarder and EventBridge to fail an entry
# mid-batch, then a whole call (AWS_ENDPOINT_URL_EVENTBRIDGE).
# The forwarder binary is one lambda-invoke.sh built.
python3 scripts/events_e2e.py --dev-server "$TARGET_DIR/debug/dev-server" \
    --forwarder "$TARGET_DIR/debug/events_forwarder" >"$WALK_DIR/events.out" \
    || { cat "$WALK_DIR/events.out"; exit 1; }
tail -1 "$WALK_DIR/events.out"

step "the pages in headless Chromium (playwright-core)"
if ! wait "$CHROMIUM_PID"; then
    cat "$CHROMIUM_LOG" >&2
    echo "installing chromium failed" >&2
    exit 1
fi
cat "$CHROMIUM_LOG"
bash scripts/browser-tests.sh

step "the arm64 login under qemu-user against moto (scripts/arm64.sh)"
if ! wait "$ARM64_PID"; then
    ARM64_PID=""
    cat "$ARM64_LOG" >&2
    echo "the arm64 build failed" >&2
    exit 1
fi
ARM64_PID=""
grep -E '^arm64.sh:' "$ARM64_LOG" || true
bash scripts/arm64.sh run

step "all tests passed"
