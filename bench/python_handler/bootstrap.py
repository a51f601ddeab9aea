"""The Python equivalent of a session-checking function, for scale in the
benchmarks: what a team writing this service in Python would see at a cold
start. boto3's DynamoDB client and the JWT key are built at init (as the
Rust functions do); each invocation checks an HS256 JWT and answers like
profile_settings would without its read. Polls the same Runtime API as the
Rust functions (AWS_LAMBDA_RUNTIME_API), with the standard library only.
"""

import base64
import hashlib
import hmac
import json
import os
import urllib.request

import boto3

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
DYNAMODB = boto3.client("dynamodb")
KEY = os.environ.get("JWT_SECRET", "bench-secret-bench-secret-bench-secret-00").encode()


def b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def verify(token: str):
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, b64(signature)):
            return None
        return json.loads(b64(payload))
    except ValueError:
        return None


def handle(event: dict) -> dict:
    auth = (event.get("headers") or {}).get("authorization", "")
    claims = verify(auth[7:]) if auth.startswith("Bearer ") else None
    status = 200 if claims else 401
    body = {"status": "OK" if claims else "ERR", "msg": "success" if claims else "authentication required"}
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


while True:
    with urllib.request.urlopen(f"{API}/next") as resp:
        request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(resp.read())
    answer = json.dumps(handle(event)).encode()
    urllib.request.urlopen(urllib.request.Request(f"{API}/{request_id}/response", data=answer, method="POST")).read()
