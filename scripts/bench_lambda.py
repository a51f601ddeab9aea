"""Cold starts, package sizes and peak memory of the Lambda functions, under
a minimal Lambda Runtime API served by this script (the same protocol the
Lambda service speaks to a `provided.al2023` bootstrap).

For each function (release binaries in --bin-dir) and for the floors (a bare
lambda_runtime hello-world built with the same profile, and the Python
equivalent in bench/python_handler):
  - init: from exec to the first `GET /runtime/invocation/next`;
  - first response: from exec to the `POST .../response` of the first event;
    median and p90 of --starts cold starts;
  - the binary's size (stripped by the release profile) and zipped (deflate 9,
    as `sam build` packages it);
  - peak RSS (VmHWM) after --warm invocations of its event in one process.

Needs moto and the AWS_* variables pointing at it (scripts/bench.sh does
both): functions that read the JWT key (or the service tokens' key pair)
read it from Secrets Manager, so their cold start includes that round trip,
as in AWS. Prints a JSON report.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "/2018-06-01/runtime/invocation"


class Runtime:
    """One function process's view of the Runtime API: hands out events,
    records when the process first polls and when it answers."""

    def __init__(self, events):
        self.events = list(events)
        self.lock = threading.Condition()
        self.first_poll = None
        self.responses = []
        self.errors = []
        self.served = 0
        self.closed = threading.Event()

    def next_event(self):
        with self.lock:
            if self.first_poll is None:
                self.first_poll = time.perf_counter()
            if self.served >= len(self.events):
                return None
            event = self.events[self.served]
            self.served += 1
            return event

    def respond(self, body, error=False):
        with self.lock:
            (self.errors if error else self.responses).append((time.perf_counter(), body))
            self.lock.notify_all()

    def wait_for(self, n, timeout):
        deadline = time.time() + timeout
        with self.lock:
            while len(self.responses) + len(self.errors) < n:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    runtime = None  # set per run (a subclass per process)

    def log_message(self, *args):
        pass

    def _send(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != f"{PREFIX}/next":
            return self._send(404)
        event = self.runtime.next_event()
        if event is None:
            # No more events: the process waits until it is killed.
            self.runtime.closed.wait(3600)
            self.close_connection = True
            return
        body = json.dumps(event).encode()
        self._send(200, body, {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": str(uuid.uuid4()),
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 10_000),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
        })

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.endswith("/response"):
            self.runtime.respond(body)
        else:
            self.runtime.respond(body, error=True)
        self._send(202, b"{}", {"Content-Type": "application/json"})


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A killed function process drops its connection: expected here.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


# What Lambda's environment holds besides the function's own variables:
# credentials, region, and here the endpoint of moto. Nothing else of this
# machine's environment reaches the function (a CI image's AWS_CA_BUNDLE, for
# one, would make the SDK parse a system bundle Lambda never sets).
PASSED = ("PATH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
          "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED")


def lambda_env(api, name, extra):
    env = {k: v for k, v in os.environ.items() if k in PASSED}
    env.update({
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
    })
    env.update(extra)
    return env


def one_run(cmd, name, extra, events, wait_responses):
    # A Runtime API of its own for each process: a killed process's last
    # `GET /next`, still on its way, must not take the next process's event.
    runtime = Runtime(events)
    handler = type("RunHandler", (Handler,), {"runtime": runtime})
    server = Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = lambda_env(f"127.0.0.1:{server.server_address[1]}", name, extra)
    try:
        return measure(runtime, cmd, env, wait_responses)
    finally:
        runtime.closed.set()
        server.shutdown()
        server.server_close()


def measure(runtime, cmd, env, wait_responses):
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    ok = False
    # 120 s, and half a second more per event (login's argon2id, and every
    # DynamoDB call a round trip to moto).
    for _ in range(int((120 + 0.5 * wait_responses) * 10)):
        if runtime.wait_for(wait_responses, timeout=0.1):
            ok = True
            break
        if proc.poll() is not None:
            break
    rss_kib = None
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss_kib = int(line.split()[1])
    except OSError:
        pass
    proc.kill()
    proc.wait()
    if not ok or runtime.first_poll is None:
        log.seek(0)
        output = log.read().decode(errors="replace")[-3000:]
        raise RuntimeError(f"{cmd[0]}: no answer ({len(runtime.responses)} of {wait_responses},"
                           f" exit {proc.returncode}); output: {output}")
    log.close()
    first = (runtime.responses or runtime.errors)[0]
    return {
        "init_ms": (runtime.first_poll - start) * 1000,
        "first_response_ms": (first[0] - start) * 1000,
        "rss_kib": rss_kib,
        "first_body": first[1].decode(errors="replace"),
        "errors": len(runtime.errors),
    }


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def zipped_size(path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(path, "bootstrap")
    return buf.tell()


def setup_aws():
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    table = f"bench-{uuid.uuid4().hex[:8]}"
    ddb = boto3.client("dynamodb", endpoint_url=endpoint)
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    boto3.client("sesv2", endpoint_url=endpoint).create_email_identity(EmailIdentity="example.com")
    secret = boto3.client("secretsmanager", endpoint_url=endpoint).create_secret(
        Name=f"bench-{uuid.uuid4().hex[:8]}", SecretString="bench-secret-bench-secret-bench-secret-00")
    device_secret = boto3.client("secretsmanager", endpoint_url=endpoint).create_secret(
        Name=f"bench-device-{uuid.uuid4().hex[:8]}", SecretString="bench-device-secret-bench-device-secret-0")
    mfa_secret = boto3.client("secretsmanager", endpoint_url=endpoint).create_secret(
        Name=f"bench-mfa-{uuid.uuid4().hex[:8]}", SecretString="bench-mfa-secret-bench-mfa-secret-bench-0")
    # The service tokens' key pair, a PEM as the rotation makes it: token and
    # jwks read it at cold start, as in AWS.
    service_key = boto3.client("secretsmanager", endpoint_url=endpoint).create_secret(
        Name=f"bench-service-{uuid.uuid4().hex[:8]}", SecretString=service_key_pem())
    return {
        "TABLE_NAME": table,
        "MAIL_FROM": "user_account <noreply@example.com>",
        "PUBLIC_BASE_URL": "https://api.example.com",
        "JWT_SECRET_ARN": secret["ARN"],
        # The device-token key: a secret of its own that does not rotate.
        "DEVICE_SECRET_ARN": device_secret["ARN"],
        # The key of the second factors: a secret of its own, never rotated.
        "MFA_SECRET_ARN": mfa_secret["ARN"],
        # The passkeys' relying party, as the dev server's (no secret).
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGINS": "http://localhost:3000",
        "SERVICE_KEY_ARN": service_key["ARN"],
        "TOKEN_AUDIENCES": "orders",
        "IP_LIMITS": "off",
    }


def service_key_pem():
    """A new RSA-2048 key pair as a PKCS#8 PEM (cryptography is in the
    tools' venv, which scripts/bench.sh puts first on PATH)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def event_for(function):
    name = "authorizer.forged" if function == "authorizer" else function
    with open(os.path.join(REPO, "events", f"{name}.json")) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--functions", required=True, help="comma-separated")
    ap.add_argument("--hello", required=True, help="the hello-world binary")
    ap.add_argument("--python", required=True, help="python3 with boto3, for the Python floor")
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--warm", type=int, default=1000)
    args = ap.parse_args()

    aws = setup_aws()
    hello_event = {"hello": "world"}
    subjects = [("hello-world (floor)", [args.hello], {}, hello_event, "floor")]
    subjects.append(("python (boto3 + JWT check)",
                     [args.python, os.path.join(REPO, "bench", "python_handler", "bootstrap.py")],
                     {}, event_for("profile_settings"), "python"))
    for f in args.functions.split(","):
        subjects.append((f, [os.path.join(args.bin_dir, f)], aws, event_for(f), "function"))
    # The Secrets Manager allowance of the goal: the same function, its key
    # from JWT_SECRET instead (no round trip at init).
    if "whoami" in args.functions.split(","):
        local_key = {k: v for k, v in aws.items() if k != "JWT_SECRET_ARN"}
        local_key["JWT_SECRET"] = "bench-secret-bench-secret-bench-secret-00"
        subjects.append(("whoami (key from JWT_SECRET)", [os.path.join(args.bin_dir, "whoami")],
                         local_key, event_for("whoami"), "reference"))

    report = []
    # Interleave the starts of all subjects, so that a slower stretch of
    # the machine falls on all of them alike.
    runs = {name: [] for name, *_ in subjects}
    def attempt(name, cmd, extra, events, n):
        # A start that got no answer (moto, one Python process, can stall a
        # cold start's Secrets Manager read past the SDK's timeout) is tried
        # again once, and counted.
        try:
            return one_run(cmd, name, extra, events, n)
        except RuntimeError as err:
            print(f"retrying {name}: {err}"[:600], file=sys.stderr)
            retries[name] = retries.get(name, 0) + 1
            return one_run(cmd, name, extra, events, n)

    retries = {}
    for _ in range(args.starts):
        for name, cmd, extra, event, _kind in subjects:
            runs[name].append(attempt(name, cmd, extra, [event], 1))
    for name, cmd, extra, event, kind in subjects:
        warm = attempt(name, cmd, extra, [event] * args.warm, args.warm)
        init = [r["init_ms"] for r in runs[name]]
        first = [r["first_response_ms"] for r in runs[name]]
        entry = {
            "name": name, "kind": kind,
            "init_ms_median": statistics.median(init), "init_ms_p90": pct(init, 90),
            "first_response_ms_median": statistics.median(first), "first_response_ms_p90": pct(first, 90),
            "peak_rss_kib": warm["rss_kib"], "warm_invocations": args.warm,
            "answer": runs[name][0]["first_body"][:160],
            "retried_starts": retries.get(name, 0),
        }
        if kind in ("floor", "function"):
            entry["size_bytes"] = os.path.getsize(cmd[0])
            entry["zipped_bytes"] = zipped_size(cmd[0])
        report.append(entry)
        print(f"{name:28} init {entry['init_ms_median']:.2f} ms  first {entry['first_response_ms_median']:.2f} ms"
              f"  rss {entry['peak_rss_kib']} KiB", file=sys.stderr)
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
