"""Drives the real Lambda binaries under `cargo lambda watch` with every
events/*.json, against moto (DynamoDB, SES v2 and Secrets Manager), and
checks each answer against the contract.

Needs moto running and the AWS_* variables pointing at it (scripts/test.sh
does both). Proves each main.rs: environment configuration, clients built at
cold start, the JWT secret read from Secrets Manager (login signs with it,
profile_settings and logout verify with it), the device-token key read
from its own secret (login signs device tokens with it), and the key of the
second factors from its own (totp_setup seals a new TOTP key with it),
the passkey settings (the creation options name the configured RP ID), and
the service tokens' key pair from its own (token signs with it, jwks
publishes it: scripts/lambda_invoke_service.py).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import boto3

import lambda_invoke_service as service

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONS = [
    "index", "login", "registration", "reset_password_request",
    "profile_settings", "confirm_email", "reset_password", "logout",
    "update_profile", "change_password", "change_email", "revert_email",
    "resend_confirmation", "sessions", "end_session", "logout_all",
    "delete_account", "account_export", "pages", "whoami", "authorizer", "rotation",
    "mfa_status", "totp_setup", "totp_confirm", "recovery_codes", "mfa_disable", "login_mfa",
    "passkey_register_start", "passkey_register_finish", "passkeys", "passkey_remove",
    "passkey_login_start", "passkey_login_finish", "token", "jwks", "openid_configuration",
    "security_events", "events_forwarder",
]
# The page routes, all served by the pages function: (event, status, content type).
PAGE_EVENTS = [
    ("pages", 200, "text/html; charset=utf-8"),
    ("pages.confirm_email", 200, "text/html; charset=utf-8"),
    ("pages.revert_email", 200, "text/html; charset=utf-8"),
    ("pages.reset_password", 200, "text/html; charset=utf-8"),
    ("pages.asset", 200, "text/javascript; charset=utf-8"),
    ("pages.missing_asset", 404, "application/json"),
]
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# The session functions: their events carry a made-up token (401); run again
# below with the token login issues.
SIGNED_IN = [
    "update_profile", "change_password", "change_email", "resend_confirmation",
    "sessions", "end_session", "logout_all", "delete_account", "account_export", "whoami",
    "mfa_status", "totp_setup", "totp_confirm", "recovery_codes", "mfa_disable",
    "passkey_register_start", "passkey_register_finish", "passkeys", "passkey_remove", "token",
    "security_events",
]
# The issuer totp_setup names in the otpauth URI (the template's MfaIssuer).
MFA_ISSUER = "Example"
# The passkeys' relying party (the template's WebAuthnRpId, WebAuthnOrigins):
# the dev server's form, http://localhost:PORT (browsers refuse an IP address).
WEBAUTHN_RP_ID = "localhost"
WEBAUTHN_ORIGINS = "http://localhost:3000"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def setup() -> dict:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    table = f"lambda-{uuid.uuid4().hex[:12]}"
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    ddb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    boto3.client("sesv2", endpoint_url=endpoint, region_name=region).create_email_identity(EmailIdentity="example.com")
    secret = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region).create_secret(
        Name=f"jwt-{uuid.uuid4().hex[:12]}", SecretString=uuid.uuid4().hex + uuid.uuid4().hex
    )
    device_secret = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region).create_secret(
        Name=f"device-{uuid.uuid4().hex[:12]}", SecretString=uuid.uuid4().hex + uuid.uuid4().hex
    )
    mfa_secret = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region).create_secret(
        Name=f"mfa-{uuid.uuid4().hex[:12]}", SecretString=uuid.uuid4().hex + uuid.uuid4().hex
    )
    # The service tokens' key pair (two versions) and TOKEN_AUDIENCES=orders.
    tokens = service.setup_env(boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region))
    return {
        **tokens,
        "TABLE_NAME": table,
        "MAIL_FROM": "user_account <noreply@example.com>",
        "PUBLIC_BASE_URL": "https://api.example.com",
        "JWT_SECRET_ARN": secret["ARN"],
        # The device-token key: a secret of its own that does not rotate.
        "DEVICE_SECRET_ARN": device_secret["ARN"],
        # The key of the second factors: a secret of its own, never rotated.
        "MFA_SECRET_ARN": mfa_secret["ARN"],
        "MFA_ISSUER": MFA_ISSUER,
        "WEBAUTHN_RP_ID": WEBAUTHN_RP_ID,
        "WEBAUTHN_ORIGINS": WEBAUTHN_ORIGINS,
    }


def invoke_raw(port: int, function: str, event: dict) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(event, f)
        path = f.name
    try:
        return subprocess.run(
            ["cargo", "lambda", "invoke", "--invoke-port", str(port), "--output-format", "json",
             "--data-file", path, function],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )
    finally:
        os.unlink(path)


def invoke(port: int, function: str, event: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(event, f)
        path = f.name
    try:
        out = subprocess.run(
            ["cargo", "lambda", "invoke", "--invoke-port", str(port), "--output-format", "json",
             "--data-file", path, function],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise AssertionError(f"{function}: cargo lambda invoke failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout)


def load(function: str) -> dict:
    with open(os.path.join(REPO, "events", f"{function}.json")) as f:
        return json.load(f)


def main() -> int:
    env = dict(os.environ)
    env.update(setup())
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--invoke-port", str(port), "--ignore-changes", "--locked"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    failures = []
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if watch.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"cargo lambda watch exited:\n{log.read()}")
                time.sleep(0.2)

        def check(function: str, event: dict, status: int, msg: str, name=None) -> dict:
            name = name or function
            resp = invoke(port, function, event)
            body = json.loads(resp.get("body") or "{}")
            got = (resp.get("statusCode"), body.get("msg"))
            ok = got == (status, msg) and resp.get("headers", {}).get("content-type") == "application/json"
            print(f"{'ok  ' if ok else 'FAIL'} {name:24} {got[0]} {got[1]!r}")
            if not ok:
                failures.append(f"{name}: expected {(status, msg)}, got {resp}")
            return resp

        # In order: the registration event creates the user that login and reset name.
        check("index", load("index"), 200, "user_account")
        check("registration", load("registration"), 200, "Check your email...")
        login = check("login", load("login"), 200, "success")
        check("reset_password_request", load("reset_password_request"), 200, "Check your email...")
        check("profile_settings", load("profile_settings"), 401, "authentication required")
        check("confirm_email", load("confirm_email"), 400, "user not found.")
        check("reset_password", load("reset_password"), 400, "user not found")
        check("logout", load("logout"), 401, "authentication required")
        check("logout", load("logout.post"), 401, "authentication required", "logout.post")
        check("revert_email", load("revert_email"), 400, "user not found.")
        # The second step of a sign-in, with an mfa_token no sign-in issued.
        check("login_mfa", load("login_mfa"), 401, "sign in again")
        # A passkey sign-in: a ceremony needs no session (its request options
        # and id); an answer to a ceremony no one issued is refused.
        started = json.loads(check("passkey_login_start", load("passkey_login_start"), 200,
                                   "success").get("body") or "{}").get("data") or {}
        if not (isinstance(started.get("ceremony"), str) and started["ceremony"]
                and isinstance((started.get("publicKey") or {}).get("challenge"), str)
                and started["publicKey"]["challenge"]):
            failures.append(f"passkey_login_start: no ceremony and challenge in {started}")
        check("passkey_login_finish", load("passkey_login_finish"), 401, "sign in again")
        for function in SIGNED_IN:
            check(function, load(function), 401, "authentication required")

        def check_authorizer(name: str, event: dict, authorized: bool, username=None, account_id=None):
            resp = invoke(port, "authorizer", event)
            # The registration event's address is never confirmed here.
            want = {"isAuthorized": True, "context": {
                "account_id": account_id, "username": username, "email_verified": False,
            }} if authorized else {"isAuthorized": False}
            ok = resp == want
            print(f"{'ok  ' if ok else 'FAIL'} {name:24} {resp}")
            if not ok:
                failures.append(f"{name}: expected {want}, got {resp}")

        # The authorizer: a token signed with a key that was never current,
        # and the events' placeholder tokens, are denied.
        check_authorizer("authorizer.forged", load("authorizer.forged"), False)
        check_authorizer("authorizer", load("authorizer"), False)
        check_authorizer("authorizer.cookie", load("authorizer.cookie"), False)

        # The pages: HTML with the pages' policy, their files, a 404 envelope.
        for name, status, ctype in PAGE_EVENTS:
            resp = invoke(port, "pages", load(name))
            headers = resp.get("headers", {})
            ok = resp.get("statusCode") == status and headers.get("content-type") == ctype
            if ctype.startswith("text/html"):
                ok = ok and headers.get("content-security-policy") == PAGE_CSP \
                    and headers.get("referrer-policy") == "no-referrer" \
                    and headers.get("cache-control") == "no-store" \
                    and "<main" in (resp.get("body") or "")
            print(f"{'ok  ' if ok else 'FAIL'} {name:24} {resp.get('statusCode')} {headers.get('content-type')}")
            if not ok:
                failures.append(f"{name}: expected {status} {ctype}, got {resp}")

        # The discovery document and the JWKS: plain JSON, cacheable, no session.
        call = lambda function, event: invoke(port, function, event)  # noqa: E731
        jwks = service.check_documents(call, load, env, failures)

        # API Gateway's $default route (no route matched) is served by index.
        fallback = load("index")
        fallback["routeKey"] = fallback["requestContext"]["routeKey"] = "$default"
        fallback["rawPath"] = fallback["requestContext"]["http"]["path"] = "/nope"
        check("index", fallback, 404, "not found")

        # A browser's CORS preflight: API Gateway routes it to $default too;
        # it must get a 2xx (API Gateway adds the CORS headers to it).
        resp = invoke(port, "index", load("index.preflight"))
        ok = resp.get("statusCode") == 204 and resp.get("headers", {}).get("allow") == "POST, OPTIONS"
        print(f"{'ok  ' if ok else 'FAIL'} {'index (preflight)':24} {resp.get('statusCode')}")
        if not ok:
            failures.append(f"index preflight: expected 204 with Allow, got {resp}")

        # The same events with the token login just issued: the secret from
        # Secrets Manager signs in one binary and verifies in the others.
        token = json.loads(login["body"])["data"]["token"]
        cookies = login.get("cookies") or []
        if not any(c.startswith("access_token_cookie=") and "Max-Age=2592000" in c for c in cookies):
            failures.append(f"login: no persistent access cookie in {cookies}")
        # The device token, signed with the key from its own secret: in the
        # answer and in its cookie (the API's paths only, one year).
        device_token = json.loads(login["body"])["data"].get("device_token")
        if not isinstance(device_token, str) or not any(
            c.startswith(f"device_token={device_token};") and "HttpOnly" in c
            and "Path=/api" in c and "Max-Age=31536000" in c
            for c in cookies
        ):
            failures.append(f"login: no device token in {login}")
        # The account's id, as whoami names it (random, never reused).
        me = load("whoami")
        me["headers"]["authorization"] = f"Bearer {token}"
        account_id = json.loads(check("whoami", me, 200, "success")["body"])["data"].get("account_id")
        if not (isinstance(account_id, str) and len(account_id) >= 20):
            failures.append(f"whoami: no account_id, got {account_id!r}")
        # The authorizer allows the live session, by bearer token or cookie,
        # and names the same account.
        bearer = load("authorizer")
        bearer["headers"]["authorization"] = f"Bearer {token}"
        check_authorizer("authorizer (signed in)", bearer, True, "Admin", account_id)
        cookie = load("authorizer.cookie")
        cookie["cookies"][0] = f"access_token_cookie={token}"
        check_authorizer("authorizer.cookie (signed in)", cookie, True, "Admin", account_id)
        # A service token from this session, verified against the JWKS.
        service.check_tokens(call, load, token, account_id, jwks, env, failures)
        # The password events carry a password that is not the user's: each
        # is one wrong password of this session (the fifth would end it), and
        # so is each wrong code. With the user's password (the event's other
        # fields kept): a TOTP key is set up, not confirmed (the event's code
        # is not one of it), so two-factor sign-in stays off.
        login_pwd = json.loads(load("login")["body"])["pwd"]
        setup_answer = None
        creation = None
        for function, status, msg, pwd in [
            ("whoami", 200, "success", None),
            ("profile_settings", 200, "success", None),
            ("mfa_status", 200, "success", None),
            ("update_profile", 200, "success", None),
            ("sessions", 200, "success", None),
            ("security_events", 200, "success", None),
            ("totp_setup", 200, "Add the key to your authenticator app, then confirm with a code.", login_pwd),
            ("totp_confirm", 401, "wrong code", None),
            ("recovery_codes", 400, "two-factor sign-in is off.", login_pwd),
            ("mfa_disable", 400, "two-factor sign-in is off.", login_pwd),
            ("passkeys", 200, "success", None),
            ("passkey_register_start", 200, "success", login_pwd),
            ("passkey_register_finish", 400, "start again.", None),
            ("passkey_remove", 404, "passkey not found", login_pwd),
            ("account_export", 401, "wrong password", None),
            ("account_export", 200, "success", login_pwd),
            ("end_session", 404, "session not found", None),
            ("resend_confirmation", 200, "Check your email...", None),
            ("change_password", 401, "wrong password", None),
            ("change_email", 401, "wrong password", None),
            ("delete_account", 401, "wrong password", None),
            ("logout_all", 200, "user logout", None),
            ("profile_settings", 401, "authentication required", None),
            ("whoami", 401, "authentication required", None),
        ]:
            event = load(function)
            event["headers"]["authorization"] = f"Bearer {token}"
            if pwd is not None:
                body = json.loads(event.get("body") or "{}")
                body["pwd"] = pwd
                if function == "passkey_remove":
                    body["id"] = "nope"          # no passkey of this account
                event["body"] = json.dumps(body)
            resp = check(function, event, status, msg)
            if function == "totp_setup":
                setup_answer = json.loads(resp.get("body") or "{}").get("data") or {}
            if function == "passkeys":
                listed = json.loads(resp.get("body") or "{}").get("data")
                if listed != {"passkeys": []}:
                    failures.append(f"passkeys: expected data {{'passkeys': []}}, got {listed}")
            if function == "passkey_register_start":
                creation = json.loads(resp.get("body") or "{}").get("data") or {}
        # The new key: base32, in an otpauth URI naming the configured
        # issuer, and its QR code as an SVG document.
        totp_key = (setup_answer or {}).get("secret")
        uri = (setup_answer or {}).get("otpauth_uri") or ""
        if not (isinstance(totp_key, str) and len(totp_key) == 32
                and uri.startswith(f"otpauth://totp/{MFA_ISSUER}:") and f"issuer={MFA_ISSUER}" in uri
                and f"secret={totp_key}" in uri
                and "<svg" in str((setup_answer or {}).get("qr_svg", ""))
                and str((setup_answer or {}).get("qr_svg", "")).rstrip().endswith("</svg>")):
            failures.append(f"totp_setup: not the contract's key, URI and QR code: {setup_answer}")
        # The creation options name the configured relying party.
        rp = ((creation or {}).get("publicKey") or {}).get("rp") or {}
        if not (isinstance((creation or {}).get("ceremony"), str) and rp.get("id") == WEBAUTHN_RP_ID):
            failures.append(f"passkey_register_start: RP ID not {WEBAUTHN_RP_ID!r}: {creation}")
        # After the logout, the authorizer refuses the same token.
        logged_out = load("authorizer.logged_out")
        logged_out["headers"]["authorization"] = f"Bearer {token}"
        check_authorizer("authorizer.logged_out", logged_out, False)
        # An outage is not a denial: with its table gone, the authorizer's
        # invocation fails (API Gateway answers 500 and caches nothing)
        # instead of answering isAuthorized: false. Last: the table goes.
        boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"],
                     region_name=env.get("AWS_REGION", "us-east-1")).delete_table(
            TableName=env["TABLE_NAME"])
        outage = invoke_raw(port, "authorizer", bearer)
        failed = outage.returncode != 0 and "isAuthorized" not in outage.stdout
        print(f"{'ok  ' if failed else 'FAIL'} {'authorizer (outage)':24} "
              f"{'invocation failed' if failed else outage.stdout.strip()}")
        if not failed:
            failures.append(f"authorizer (outage): expected a failed invocation, got {outage.stdout}")
        # The events forwarder: two outbox inserts of the table's stream, put
        # on the default bus (moto's), none reported failed.
        forwarded = invoke(port, "events_forwarder", load("events_forwarder"))
        ok = forwarded == {"batchItemFailures": []}
        print(f"{'ok  ' if ok else 'FAIL'} {'events_forwarder':24} {forwarded}")
        if not ok:
            failures.append(f"events_forwarder: expected no failures, got {forwarded}")
        # The scheduled rotation of the signing key: Secrets Manager's four
        # steps on the JWT secret, as it invokes the function.
        sm = boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"],
                          region_name=env.get("AWS_REGION", "us-east-1"))
        secret = env["JWT_SECRET_ARN"]
        before = sm.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")
        rotation = load("rotation")
        rotation["SecretId"] = secret
        rotation["ClientRequestToken"] = str(uuid.uuid4())
        rotated = True
        for step in ["createSecret", "setSecret", "testSecret", "finishSecret"]:
            rotation["Step"] = step
            out = invoke_raw(port, "rotation", rotation)
            if out.returncode != 0:
                rotated = False
                failures.append(f"rotation {step}: {out.stdout} {out.stderr}")
        after = sm.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")
        previous = sm.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")
        rotated = rotated and after["VersionId"] == rotation["ClientRequestToken"] \
            and after["SecretString"] != before["SecretString"] and len(after["SecretString"]) >= 32 \
            and previous["SecretString"] == before["SecretString"]
        print(f"{'ok  ' if rotated else 'FAIL'} {'rotation (four steps)':24} "
              f"{'new key current, old one previous' if rotated else 'not rotated'}")
        if not rotated:
            failures.append("rotation: the secret was not rotated as Secrets Manager's protocol says")
        # The same four steps on the service tokens' key pair: a new PEM.
        service.check_rotation(lambda function, event: invoke_raw(port, function, event), load, sm,
                               env["SERVICE_KEY_ARN"], failures)
    finally:
        watch.terminate()
        try:
            watch.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watch.kill()
    if failures:
        log.seek(0)
        print(log.read()[-5000:], file=sys.stderr)
        print("\n".join(failures), file=sys.stderr)
        return 1
    print(f"all {len(FUNCTIONS)} functions answered every event as the contract says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
