"""The service tokens' part of scripts/lambda_invoke.py: the key pair in a
Secrets Manager secret on moto (two versions, as after a rotation), the
JWKS and discovery documents, a token minted from a real session and
checked here with `cryptography` (its signature against the JWKS the jwks
function published, its claims), and the rotation of the key pair.

Each check takes `call(function, event) -> answer` (cargo lambda invoke),
and appends what failed to `failures`.
"""

import base64
import hashlib
import json
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The audiences TOKEN_AUDIENCES allows here; "billing" is not one of them.
AUDIENCE = "orders"
DOCUMENT_CACHE = "public, max-age=300"
# The kids the JWKS must publish, current first (setup_env fills it in).
KIDS = []


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_pem() -> str:
    """A new RSA-2048 key pair as a PKCS#8 PEM, what the secret holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def thumbprint(pem: str) -> str:
    """The RFC 7638 thumbprint of the key's public JWK: its kid."""
    numbers = serialization.load_pem_private_key(pem.encode(), None).public_key().public_numbers()
    length = lambda i: (i.bit_length() + 7) // 8  # noqa: E731
    jwk = {"e": b64url(numbers.e.to_bytes(length(numbers.e), "big")), "kty": "RSA",
           "n": b64url(numbers.n.to_bytes(length(numbers.n), "big"))}
    return b64url(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())


def setup_env(sm) -> dict:
    """The key pair's secret with a current and a previous version (two
    PEMs), and the settings of the token function."""
    previous, current = new_pem(), new_pem()
    arn = sm.create_secret(Name=f"service-key-{uuid.uuid4().hex[:12]}", SecretString=previous)["ARN"]
    sm.put_secret_value(SecretId=arn, SecretString=current)  # previous -> AWSPREVIOUS
    KIDS[:] = [thumbprint(current), thumbprint(previous)]
    return {"SERVICE_KEY_ARN": arn, "TOKEN_AUDIENCES": AUDIENCE, "TOKEN_TTL_SECS": "300"}


def report(failures: list, name: str, ok: bool, detail) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name:24} {detail if ok else ''}".rstrip())
    if not ok:
        failures.append(f"{name}: {detail}")


def document(call, event: dict, name: str, failures: list) -> dict:
    """A plain JSON document (no envelope), cacheable for five minutes."""
    resp = call(name, event)
    headers = resp.get("headers", {})
    body = json.loads(resp.get("body") or "null")
    ok = resp.get("statusCode") == 200 and headers.get("content-type") == "application/json" \
        and headers.get("cache-control") == DOCUMENT_CACHE and isinstance(body, dict) and "status" not in body
    report(failures, name, ok, f"200 {sorted(body)}" if ok else resp)
    return body if ok else {}


def check_documents(call, load, env: dict, failures: list) -> dict:
    """The discovery document names the issuer and the JWKS; the JWKS holds
    the current and the previous key (RSA, RS256, signing, kid = RFC 7638
    thumbprint). Returns the JWKS."""
    issuer = env["PUBLIC_BASE_URL"].rstrip("/")
    conf = document(call, load("openid_configuration"), "openid_configuration", failures)
    want = {"issuer": issuer, "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"]}
    report(failures, "openid_configuration (doc)", conf == want, conf if conf != want else "issuer, jwks_uri, RS256")

    jwks = document(call, load("jwks"), "jwks", failures)
    keys = jwks.get("keys") or []
    kids = [k.get("kid") for k in keys]
    ok = len(keys) == 2 and all(
        k.get("kty") == "RSA" and k.get("alg") == "RS256" and k.get("use") == "sig"
        and isinstance(k.get("n"), str) and len(unb64url(k["n"])) == 256 and k.get("e") == "AQAB"
        for k in keys) and kids == KIDS
    report(failures, "jwks (keys)", ok, "current and previous, RSA-2048, kid = thumbprint" if ok else jwks)
    return jwks


def check_tokens(call, load, session_token: str, account_id: str, jwks: dict, env: dict,
                 failures: list) -> None:
    """A token for the allowed audience from the live session: RS256, signed
    by the previous key while the current is under two hours old, verified
    here against the JWKS, with the contract's
    claims; another audience or none is refused; the service token is no
    session."""
    def token_request(body):
        event = load("token")
        event["headers"]["authorization"] = f"Bearer {session_token}"
        event["body"] = json.dumps(body)
        resp = call("token", event)
        return resp.get("statusCode"), json.loads(resp.get("body") or "{}")

    status, answer = token_request({"audience": AUDIENCE})
    data = answer.get("data") or {}
    ok = status == 200 and answer.get("msg") == "success" and data.get("token_type") == "Bearer" \
        and data.get("expires_in") == 300 and isinstance(data.get("access_token"), str)
    report(failures, "token (signed in)", ok, "200 access_token, Bearer, 300 s" if ok else (status, answer))
    if not ok:
        return
    jwt = data["access_token"]
    head, payload, sig = jwt.split(".")
    header, claims = json.loads(unb64url(head)), json.loads(unb64url(payload))
    current_kid = KIDS[0]
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    verified = False
    if header.get("alg") == "RS256" and key is not None:
        public = rsa.RSAPublicNumbers(int.from_bytes(unb64url(key["e"]), "big"),
                                      int.from_bytes(unb64url(key["n"]), "big")).public_key()
        try:
            public.verify(unb64url(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
            verified = True
        except Exception:  # noqa: BLE001 - any failure is a refusal
            verified = False
    # The secret was rotated a moment ago: a new key is published two hours
    # before it signs (API Gateway may hold a JWKS that long), so the
    # previous key signs for now.
    signing_kid = KIDS[1] if len(KIDS) > 1 else current_kid
    ok = verified and header.get("kid") == signing_kid
    report(failures, "token (RS256, JWKS)", ok,
           "signed by the previous key (the current one is under two hours old)" if ok else header)
    now = int(time.time())
    ok = claims.get("iss") == env["PUBLIC_BASE_URL"].rstrip("/") and claims.get("aud") == AUDIENCE \
        and claims.get("sub") == account_id and claims.get("username") == "Admin" \
        and claims.get("email_verified") is False and claims.get("amr") == ["pwd"] \
        and isinstance(claims.get("jti"), str) and claims["jti"] \
        and abs(claims.get("iat", 0) - now) < 120 and claims.get("exp", 0) - claims.get("iat", 0) == 300
    report(failures, "token (claims)", ok, "iss, sub, aud, exp, amr [pwd]" if ok else claims)

    for name, body, want in [
        ("token (other audience)", {"audience": "billing"}, (400, "audience is not allowed.")),
        ("token (no audience)", {}, (400, "audience is required.")),
    ]:
        status, answer = token_request(body)
        got = (status, answer.get("msg"))
        report(failures, name, got == want, f"{got[0]} {got[1]!r}" if got == want else got)

    # A service token is never a session.
    event = load("whoami")
    event["headers"]["authorization"] = f"Bearer {jwt}"
    resp = call("whoami", event)
    got = (resp.get("statusCode"), json.loads(resp.get("body") or "{}").get("msg"))
    want = (401, "authentication required")
    report(failures, "whoami (service token)", got == want, f"{got[0]} {got[1]!r}" if got == want else got)


def check_rotation(call_raw, load, sm, arn: str, failures: list) -> None:
    """Secrets Manager's four steps on the key pair's secret: the new current
    version is a new RSA-2048 PKCS#8 PEM, the old one previous."""
    before = sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    event = load("rotation")
    event["SecretId"] = arn
    event["ClientRequestToken"] = str(uuid.uuid4())
    steps_ok = True
    for step in ["createSecret", "setSecret", "testSecret", "finishSecret"]:
        event["Step"] = step
        out = call_raw("rotation", event)
        if out.returncode != 0:
            steps_ok = False
            failures.append(f"rotation (service key) {step}: {out.stdout} {out.stderr}")
    after = sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    previous = sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")
    try:
        pem = after["SecretString"]
        key = serialization.load_pem_private_key(pem.encode(), None)
        is_key = pem.startswith("-----BEGIN PRIVATE KEY-----") and isinstance(key, rsa.RSAPrivateKey) \
            and key.key_size == 2048
    except Exception:  # noqa: BLE001 - not a key
        is_key = False
    ok = steps_ok and is_key and after["VersionId"] == event["ClientRequestToken"] \
        and after["SecretString"] != before["SecretString"] \
        and previous["SecretString"] == before["SecretString"]
    report(failures, "rotation (service key)", ok,
           "a new RSA-2048 PEM current, the old one previous" if ok else "not rotated to a new key pair")
