#!/usr/bin/env python3
"""A passkey sign-in's server time beside a password sign-in's (BENCHMARKS.md).

Against a running dev server (a release build, memory store, IP_LIMITS=off,
PUBLIC_BASE_URL=http://localhost:PORT): registers and confirms one account,
adds a passkey (PyPI's soft-webauthn, through scripts/softpk.py), then times
N password sign-ins (POST /api/login: argon2id verify) and N passkey sign-ins
(POST /api/passkey_login/finish: one signature verified; the start request,
which only makes a challenge, is not timed) over loopback, and prints p50/p90.

    cargo build --release -p dev-server
    PORT=3997 STORE=memory IP_LIMITS=off PUBLIC_BASE_URL=http://localhost:3997 target/release/dev-server &
    .tools/venv/bin/python3 scripts/bench_passkey.py http://localhost:3997 [N]
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import passkeys_e2e as e2e  # noqa: E402
from softpk import SoftPasskey  # noqa: E402


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:3997"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    r = e2e.Run(base, e2e.default_origin(base), None)
    user = "bench%d" % int(time.time())
    addr = user + "@example.com"
    r.expect(200, "Check your email...", "register", r.call("POST", "/api/registration", {
        "username": user, "full_name": "Bench", "email": addr, "pwd": e2e.PWD}))
    r.expect(200, "Your email has been confirmed.", "confirm",
             r.call("GET", "/api/confirm_email/" + r.newest_token(addr, "/confirm_email/")))
    token = r.expect(200, "success", "sign in", r.call(
        "POST", "/api/login", {"username": user, "pwd": e2e.PWD}))["token"]
    start = r.expect(200, "success", "passkey options", r.call(
        "POST", "/api/passkeys/register/start", {"pwd": e2e.PWD}, token))
    key = SoftPasskey()
    r.expect(200, "Your passkey has been added.", "add a passkey", r.call(
        "POST", "/api/passkeys/register/finish",
        {"ceremony": start["ceremony"], "credential": key.create(start["publicKey"], r.origin)}, token))

    def timed(method, path, body):
        t0 = time.perf_counter()
        status, answer = r.call(method, path, body)
        elapsed = (time.perf_counter() - t0) * 1000
        if status != 200:
            sys.exit("bench_passkey: %s answered %d %s" % (path, status, answer))
        return elapsed

    password, passkey = [], []
    for _ in range(n):
        password.append(timed("POST", "/api/login", {"username": user, "pwd": e2e.PWD}))
        s = r.call("POST", "/api/passkey_login/start", {})[1]["data"]
        credential = key.get(s["publicKey"], r.origin)
        passkey.append(timed("POST", "/api/passkey_login/finish",
                             {"ceremony": s["ceremony"], "credential": credential}))

    def row(name, xs):
        xs = sorted(xs)
        p90 = xs[int(len(xs) * 0.9) - 1]
        print("%-44s p50 %7.2f ms  p90 %7.2f ms  (n=%d)" % (name, statistics.median(xs), p90, len(xs)))

    row("POST /api/login (password: argon2id)", password)
    row("POST /api/passkey_login/finish (passkey)", passkey)


if __name__ == "__main__":
    main()
