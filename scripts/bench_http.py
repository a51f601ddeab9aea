"""Warm latency per endpoint: the dev server (release build) over HTTP on
loopback, on the memory store or on DynamoDB + SES (moto), --requests
sequential requests per endpoint after a warm-up. Prints a JSON report.

Each endpoint is driven the way a client uses it; the endpoints that hash a
password (login, registration) are dominated by argon2id, which
bench_argon2 measures alone.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
import uuid

PASSWORD = "S3cure-Passw0rd!"


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, token=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, json.loads(payload) if payload else None


def pct(values, p):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def measure(client, n, make_request, expect):
    # Warm-up, then n timed requests.
    for _ in range(min(20, n)):
        method, path, body, token = make_request()
        client.call(method, path, body, token)
    times = []
    statuses = {}
    for _ in range(n):
        method, path, body, token = make_request()
        t = time.perf_counter()
        status, _ = client.call(method, path, body, token)
        times.append((time.perf_counter() - t) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "p50_ms": statistics.median(times), "p99_ms": pct(times, 99), "requests": n,
        "statuses": statuses, "expected_status": expect,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--requests", type=int, default=1000)
    args = ap.parse_args()
    c = Client(args.port)
    run = uuid.uuid4().hex[:6]

    def register(name):
        status, _ = c.call("POST", "/api/registration", {
            "username": name, "full_name": "Bench", "email": f"{name}@example.com",
            "phone": None, "contacts": None, "pwd": PASSWORD})
        assert status == 200, status

    user = f"bench{run}"
    register(user)
    _, body = c.call("POST", "/api/login", {"username": user, "pwd": PASSWORD})
    token = body["data"]["token"]
    counter = iter(range(10**9))
    n = args.requests
    report = {}
    cases = [
        ("GET /", lambda: ("GET", "/", None, None), 200),
        ("GET /api/profile_settings", lambda: ("GET", "/api/profile_settings", None, token), 200),
        ("GET /api/whoami", lambda: ("GET", "/api/whoami", None, token), 200),
        ("GET /api/sessions", lambda: ("GET", "/api/sessions", None, token), 200),
        # The export asks for the password (one argon2 verification) since
        # the takeover issue.
        ("POST /api/account_export", lambda: ("POST", "/api/account_export", {"pwd": PASSWORD}, token), 200),
        ("POST /api/profile_settings", lambda: ("POST", "/api/profile_settings",
                                                {"full_name": f"Bench {next(counter)}"}, token), 200),
        ("GET /account (page)", lambda: ("GET", "/account", None, None), 200),
        ("POST /api/login", lambda: ("POST", "/api/login", {"username": user, "pwd": PASSWORD}, None), 200),
        ("POST /api/login (unknown user)", lambda: ("POST", "/api/login",
                                                    {"username": f"ghost{next(counter)}", "pwd": PASSWORD}, None), 401),
        ("POST /api/registration", lambda: ("POST", "/api/registration", {
            "username": f"r{run}{next(counter)}", "full_name": "Bench",
            "email": f"r{run}{next(counter)}@example.com", "phone": None, "contacts": None,
            "pwd": PASSWORD}, None), 200),
    ]
    for name, make, expect in cases:
        if "GET /account" in name:
            # A page: not JSON.
            times = []
            for i in range(n + 20):
                t = time.perf_counter()
                c.conn.request("GET", "/account")
                c.conn.getresponse().read()
                if i >= 20:
                    times.append((time.perf_counter() - t) * 1000)
            report[name] = {"p50_ms": statistics.median(times), "p99_ms": pct(times, 99), "requests": n,
                            "statuses": {200: n}, "expected_status": 200}
        else:
            report[name] = measure(c, n, make, expect)
        r = report[name]
        print(f"{name:34} p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  {r['statuses']}", file=sys.stderr)
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
