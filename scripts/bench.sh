#!/usr/bin/env bash
# The benchmark command (docs/PERFORMANCE.md). Builds what it needs (release profile),
# measures, and rewrites BENCHMARKS.md with the machine, the date, the commit
# and how each figure was taken. Not part of the test command: numbers are
# not pass/fail.
#
#   bash scripts/bench.sh            # incremental release build
#   bash scripts/bench.sh --clean    # also time a release build of every function from scratch
#
# Measures (see BENCHMARKS.md for the method of each):
#   - every function's cold start under a minimal Runtime API, with the
#     hello-world floor and a Python equivalent in the same run; package
#     sizes; peak RSS after 1000 warm invocations (scripts/bench_lambda.py)
#   - warm latency per endpoint over HTTP, memory store and moto
#     (scripts/bench_http.py against the release dev server)
#   - argon2id alone and the profile_settings handler's CPU (criterion,
#     bench/micro)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
CLEAN=0
[[ "${1:-}" == "--clean" ]] && CLEAN=1

WORK="$(mktemp -d)"
# Each step's results stay here (a later step's failure loses nothing).
RESULTS="$REPO/target/bench-results"
mkdir -p "$RESULTS"
MOTO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 scripts/moto_server.py 127.0.0.1 "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
    kill "$MOTO_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$MOTO_PORT/moto-api/data.json" >/dev/null 2>&1 && break
    sleep 0.1
done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_EC2_METADATA_DISABLED=true

# The functions: every crate under functions/ (what `cargo lambda build`
# and `sam build` compile), built together as the deploy workflow does,
# without the dev server's or the tests' features.
mapfile -t FUNCTIONS < <(find functions -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
PKGS=()
for f in "${FUNCTIONS[@]}" hello-world; do PKGS+=(-p "$f"); done
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
if [[ $CLEAN -eq 1 ]]; then
    rm -rf "$TARGET/release"
fi
echo "== release build of ${#FUNCTIONS[@]} functions and the hello-world floor"
START=$(date +%s)
cargo build --release --locked "${PKGS[@]}"
BUILD_SECS=$(( $(date +%s) - START ))
echo "build: ${BUILD_SECS}s (clean: $CLEAN)"
# The last clean build's time, with its commit, for the runs that build
# incrementally.
CLEAN_RECORD="$TARGET/bench-clean-build.txt"
if [[ $CLEAN -eq 1 ]]; then
    echo "$BUILD_SECS $(git rev-parse --short HEAD) $(date -u +%F)" >"$CLEAN_RECORD"
fi
CLEAN_BUILD="$(cat "$CLEAN_RECORD" 2>/dev/null || echo "")"

echo "== cold starts, sizes, peak RSS"
FUNCS_CSV="$(IFS=,; echo "${FUNCTIONS[*]}")"
python3 scripts/bench_lambda.py --bin-dir "$TARGET/release" --functions "$FUNCS_CSV" \
    --hello "$TARGET/release/hello-world" --python "$(python3 -c 'import sys; print(sys.executable)')" \
    --starts "${BENCH_STARTS:-20}" --warm "${BENCH_WARM:-1000}" >"$RESULTS/lambda.json"

echo "== warm latency over HTTP (release dev server)"
cargo build --release --locked -p dev-server
http_run() {
    local name="$1"; shift
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    env "$@" PORT="$port" OUTBOX_DIR="$WORK/outbox-$name" IP_LIMITS=off RUST_LOG=warn \
        JWT_SECRET=bench-secret-bench-secret-bench-secret-00 \
        "$TARGET/release/dev-server" >"$WORK/server-$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
    python3 scripts/bench_http.py --port "$port" --requests "${BENCH_REQUESTS:-1000}" >"$RESULTS/http-$name.json"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
http_run memory STORE=memory
python3 -c "import boto3; boto3.client('sesv2').create_email_identity(EmailIdentity='bench.example')"
http_run moto STORE=dynamodb TABLE_NAME="bench-http-$$" CREATE_TABLE=1 MAIL_FROM=noreply@bench.example

echo "== criterion: argon2id alone, the profile_settings handler"
cargo bench --locked -p micro --bench micro -- --noplot 2>&1 | tee "$RESULTS/criterion.txt" | grep -E "time:|^[a-z]" || true

python3 scripts/bench_report.py --lambda "$RESULTS/lambda.json" --http-memory "$RESULTS/http-memory.json" \
    --http-moto "$RESULTS/http-moto.json" --criterion "$TARGET/criterion" \
    --build-secs "$BUILD_SECS" --clean "$CLEAN" --clean-build "$CLEAN_BUILD" --starts "${BENCH_STARTS:-20}" \
    --functions "${#FUNCTIONS[@]}" >BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
echo "BENCHMARKS.md rewritten"
