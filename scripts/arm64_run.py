"""Runs the arm64 login binary (cargo lambda build --arm64) under qemu-user
against moto, through a Runtime API of its own (the benchmark harness's):
a login event answered as the contract says, and one that reaches DynamoDB
(a wrong login: the user and its failure run are read, the attempt is
counted, and the run's item is then found in the table).

Usage: python3 scripts/arm64_run.py BOOTSTRAP QEMU_LIBRARY_ROOT
(AWS_ENDPOINT_URL and the test credentials in the environment.)
"""

import json
import os
import struct
import subprocess
import sys
import threading
import uuid

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_lambda import Handler, Runtime, Server, lambda_env  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EM_AARCH64 = 183


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        raise SystemExit(f"{path} is not an ELF file")
    # e_machine: 2 bytes at offset 18, little-endian for EI_DATA == 1.
    return struct.unpack("<H", head[18:20])[0], head[4]


def main():
    bootstrap, sysroot = sys.argv[1], sys.argv[2]
    machine, elf_class = elf_machine(bootstrap)
    if machine != EM_AARCH64 or elf_class != 2:
        raise SystemExit(f"{bootstrap}: e_machine {machine}, class {elf_class}: not a 64-bit aarch64 ELF")
    print(f"ok   {bootstrap}: ELF 64-bit, aarch64 (e_machine {machine})")

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    table = f"arm64-{uuid.uuid4().hex[:8]}"
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region)
    jwt = sm.create_secret(Name=f"arm64-jwt-{uuid.uuid4().hex[:8]}", SecretString=uuid.uuid4().hex * 2)
    device = sm.create_secret(Name=f"arm64-device-{uuid.uuid4().hex[:8]}", SecretString=uuid.uuid4().hex * 2)

    with open(os.path.join(REPO, "events", "login.json")) as f:
        login = json.load(f)
    wrong = json.loads(json.dumps(login))
    wrong["body"] = json.dumps({"username": "arm64-nobody", "pwd": "Wr0ng-Passw0rd!"})
    bad = json.loads(json.dumps(login))
    bad["body"] = json.dumps({"username": "arm64-nobody"})
    events = [bad, wrong]

    runtime = Runtime(events)
    handler = type("Arm64Handler", (Handler,), {"runtime": runtime})
    server = Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = lambda_env(f"127.0.0.1:{server.server_address[1]}", "login-arm64", {
        "TABLE_NAME": table,
        "JWT_SECRET_ARN": jwt["ARN"],
        "DEVICE_SECRET_ARN": device["ARN"],
        "PUBLIC_BASE_URL": "https://api.example.com",
        # login mails a sign-in from a new device (SES on moto): its sender.
        "MAIL_FROM": "user_account <noreply@example.com>",
        "AWS_REGION": region,
        # The aarch64 glibc of the sysroot, whole: the host's ld.so.cache
        # may name another build's libraries (libc6:arm64 on Debian), and
        # a loader of one build with a libc of another hangs.
        "LD_LIBRARY_PATH": os.path.join(sysroot, "lib"),
    })
    proc = subprocess.Popen(["qemu-aarch64", "-L", sysroot, bootstrap], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        answered = runtime.wait_for(len(events), timeout=240)
    finally:
        runtime.closed.set()
        proc.kill()
        output = proc.communicate()[0].decode(errors="replace")
        server.shutdown()
        server.server_close()
    if not answered or runtime.errors:
        raise SystemExit(f"the arm64 login answered {len(runtime.responses)} of {len(events)} events,"
                         f" {len(runtime.errors)} errors; output:\n{output[-3000:]}")
    failures = []
    for (_, body), (status, msg) in zip(runtime.responses,
                                        [(400, "pwd is required."), (401, "wrong username or password")]):
        resp = json.loads(body)
        got = (resp.get("statusCode"), json.loads(resp.get("body") or "{}").get("msg"))
        ok = got == (status, msg)
        print(f"{'ok  ' if ok else 'FAIL'} login (arm64, qemu)     {got[0]} {got[1]!r}")
        if not ok:
            failures.append(f"expected {(status, msg)}, got {resp}")
    # The wrong login reached DynamoDB: its attempt is counted in the table.
    run = ddb.get_item(TableName=table, Key={"pk": {"S": "RATE#login#arm64-nobody"}, "sk": {"S": "FAILS"}},
                       ConsistentRead=True).get("Item")
    reached = run is not None and run.get("n", {}).get("N") == "1"
    print(f"{'ok  ' if reached else 'FAIL'} login (arm64, qemu)     the attempt is counted in DynamoDB")
    if not reached:
        failures.append(f"no failure run in the table: {run}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        print(output[-3000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
