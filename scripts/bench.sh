#!/usr/bin/env bash
# HTTP benchmarks of the dev server (release build, in-memory store, IP limits
# off) with wrk. Results go in BENCHMARKS.md by hand, with the machine noted.
#
#   bash scripts/bench.sh [path/to/release/dev-server]
#
# Needs wrk (Debian: apt-get install wrk). Builds the release binary when no
# path is given. Not part of the test command: numbers are not pass/fail.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
BIN="${1:-}"
if [[ -z "$BIN" ]]; then
    cargo build --release --locked -p dev-server
    BIN=target/release/dev-server
fi
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
OUT="$(mktemp -d)"
B="http://127.0.0.1:$PORT"
PORT=$PORT OUTBOX_DIR="$OUT/outbox" IP_LIMITS=off RUST_LOG=warn \
    JWT_SECRET=bench-secret-bench-secret-bench-secret-00 "$BIN" >"$OUT/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 1 100); do curl -fs "$B/" >/dev/null 2>&1 && break; sleep 0.1; done

curl -fs -X POST "$B/api/registration" -H 'content-type: application/json' \
    -d '{"username":"bench","full_name":"Bench","email":"bench@example.com","phone":null,"contacts":null,"pwd":"S3cure-Passw0rd!"}' >/dev/null
TOKEN="$(curl -fs -X POST "$B/api/login" -H 'content-type: application/json' \
    -d '{"username":"bench","pwd":"S3cure-Passw0rd!"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')"

cat >"$OUT/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"bench","pwd":"S3cure-Passw0rd!"}'
LUA
cat >"$OUT/wrong.lua" <<'LUA'
-- A new unknown username each time, so the lockout never short-cuts the check.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
    local body = string.format('{"username":"ghost%d","pwd":"S3cure-Passw0rd!"}', math.random(1, 1000000000))
    return wrk.format(nil, nil, nil, body)
end
LUA

run() {
    local name="$1"; shift
    echo "== $name"
    wrk --latency -t2 -c"$CONNS" -d10s "$@" | grep -E 'Requests/sec|Latency |50%|99%|Non-2xx'
}
CONNS=32 run "GET / (routing, envelope)" "$B/"
CONNS=32 run "GET /api/profile_settings (JWT verify + session lookup)" -H "Authorization: Bearer $TOKEN" "$B/api/profile_settings"
CONNS=4 run "POST /api/login, right password (argon2id verify + session write)" -s "$OUT/login.lua" "$B/api/login"
CONNS=4 run "POST /api/login, unknown user (dummy argon2id verify)" -s "$OUT/wrong.lua" "$B/api/login"
