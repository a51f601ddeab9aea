#!/usr/bin/env python3
"""Service tokens end to end (issue 26): verifiers no one here wrote - PyJWT with its
PyJWKClient here, jose and AWS's aws-jwt-verify in browser-tests/service-tokens/verify.mjs -
accept a fresh token from the dev server and its JWKS, and refuse one for another
audience, an expired one, a tampered one and one whose key has left the JWKS.

    python3 scripts/service_tokens_e2e.py [--store memory|dynamodb] [--dev-server BIN]

Starts the dev server itself (BIN, default target/debug/dev-server; build it first), four
times on one port (the issuer, PUBLIC_BASE_URL=http://127.0.0.1:PORT, stays the same),
with service keys A and B it makes (PKCS#8 PEMs, `cryptography`):
  1. SERVICE_KEY_PEM=A, TOKEN_AUDIENCES=orders,billing: discovery, JWKS, POST /api/token
     (bearer, cookie + CSRF, every refusal), the claims, a service token refused as a
     session and a session token refused by the verifiers; accept fresh, refuse the
     billing token (audience orders) and a tampered one;
  2. SERVICE_KEY_PEM=B alone, TOKEN_TTL_SECS=2, TOKEN_AUDIENCES=orders: A's token is
     refused (its kid left the JWKS); a 2-second token is minted; billing is refused;
  3. SERVICE_KEY_PEM=B, SERVICE_KEY_PREVIOUS_PEM=A: A's token is accepted again (a
     rotation); 3 s after minting, the 2-second token is refused as expired (no leeway);
  4. no key given: the dev server makes one (a new kid) and says so at start.
Every refusal must be for that reason (the verifier's own error). With --store dynamodb:
STORE=dynamodb CREATE_TABLE=1 on a fresh table of the moto at AWS_ENDPOINT_URL, mail
read back from moto. Needs PyJWT[crypto] (.tools/venv: `source scripts/tools.sh`),
node and browser-tests/node_modules (jose, aws-jwt-verify). Prints "ok N - ..." per
check; "not ok N - ..." and exit 1 at the first answer that differs from the contract.
"""

import argparse
import base64
import ctypes
import email
import email.policy
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERIFY_MJS = os.path.join(REPO, "browser-tests", "service-tokens", "verify.mjs")
PWD = "S3cure-Passw0rd!"
CLAIMS = {"iss", "sub", "aud", "exp", "iat", "jti", "username", "email_verified", "amr"}
CACHE = "public, max-age=300"
# What each verifier raises when it refuses for the reason a case names ("refuse": any).
PYJWT_REASONS = {
    "audience": jwt.InvalidAudienceError,
    "expired": jwt.ExpiredSignatureError,
    "signature": jwt.InvalidSignatureError,
    "unknown-key": jwt.PyJWKClientError,
    "refuse": Exception,
}


class Failed(Exception):
    pass


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key():
    """(PKCS#8 PEM, public JWK {kty, n, e}) of a fresh RSA-2048 key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    pub = key.public_key().public_numbers()
    as_b64u = lambda i: b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))  # noqa: E731
    return pem, {"kty": "RSA", "n": as_b64u(pub.n), "e": as_b64u(pub.e)}


def thumbprint(jwk: dict) -> str:
    """RFC 7638: base64url SHA-256 of the required members, sorted, no whitespace."""
    canon = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


def tamper(token: str) -> str:
    """One character of the payload changed (the case of a letter of the username), so
    it stays valid JSON: every verifier then refuses it for its signature."""
    h, p, s = token.split(".")
    payload = unb64u(p).decode()
    i = payload.index('"username":"') + len('"username":"')
    while not payload[i].isalpha():
        i += 1
    payload = payload[:i] + payload[i].swapcase() + payload[i + 1:]
    return "%s.%s.%s" % (h, b64u(payload.encode()), s)


def _die_with_parent():
    """The dev server ends with this script, however it ends (Linux: PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


class DevServer:
    def __init__(self, binary: str, port: int, store: str, work: str):
        self.binary, self.port, self.store, self.work = binary, port, store, work
        self.proc = None
        self.log = os.path.join(work, "dev-server.log")
        self.table = "service-tokens-e2e-%d-%d" % (port, int(time.time()))

    def env(self, settings: dict) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("STORE", "TABLE_NAME", "CREATE_TABLE", "OUTBOX_DIR")
               and not k.startswith(("TOKEN_", "SERVICE_KEY_"))}
        env.update(PORT=str(self.port), RUST_LOG="warn", OUTBOX_DIR=os.path.join(self.work, "outbox"),
                   PUBLIC_BASE_URL="http://127.0.0.1:%d" % self.port)
        if self.store == "dynamodb":
            env.update(STORE="dynamodb", CREATE_TABLE="1", TABLE_NAME=self.table)
        env.update(settings)
        return env

    def start(self, **settings):
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.binary], env=self.env(settings), cwd=self.work, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % self.port, timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        sys.exit("service_tokens_e2e: the dev server did not start:\n" + self.read_log())

    def refused_at_start(self, **settings) -> tuple:
        """(exit code, output) of a start that must fail (None: it still ran after 20 s)."""
        p = subprocess.run([self.binary], env=self.env(settings), cwd=self.work, capture_output=True,
                           text=True, timeout=20, preexec_fn=_die_with_parent)
        return p.returncode, p.stdout + p.stderr

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def read_log(self) -> str:
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""


class Run:
    def __init__(self, base: str, moto: str | None, work: str):
        self.base, self.moto, self.work = base, moto, work
        self.step = 0
        self.what = ""
        self.store = None
        self.ses_ready = False

    # ---- HTTP -------------------------------------------------------------------------
    def call(self, method: str, path: str, body=None, token: str | None = None, headers=None):
        """(status, JSON body or {"_raw": text}, headers) of one request."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw, hdrs = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, raw, hdrs = e.code, e.read(), e.headers
        except (urllib.error.URLError, OSError) as e:
            sys.exit("service_tokens_e2e: cannot reach %s: %s" % (self.base, e))
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = {"_raw": raw.decode("utf-8", "replace")}
        return status, parsed if parsed is not None else {}, hdrs

    def expect(self, status: int, msg: str, what: str, answer) -> dict:
        """The answer must be exactly STATUS and MSG (the envelope); returns its data."""
        got_status, body, _ = answer
        self.step += 1
        self.what = what
        got_msg = body.get("msg") if isinstance(body, dict) else None
        if got_status != status or got_msg != msg:
            self.fail('expected %d "%s", got %d %s' % (status, msg, got_status, json.dumps(body)))
        self.ok('%d "%s"' % (got_status, got_msg))
        return body.get("data") or {}

    def plain(self, what: str, answer) -> dict:
        """A 200 with a plain JSON document (no envelope) and the contract's Cache-Control."""
        status, body, hdrs = answer
        self.step += 1
        self.what = what
        self.check(status == 200 and isinstance(body, dict) and "_raw" not in body,
                   "expected 200 and a JSON object, got %d %s" % (status, json.dumps(body)))
        self.check((hdrs.get("content-type") or "").startswith("application/json"),
                   "Content-Type: %s" % hdrs.get("content-type"))
        self.check(hdrs.get("cache-control") == CACHE,
                   'Cache-Control: expected "%s", got %s' % (CACHE, hdrs.get("cache-control")))
        self.ok("200, %s" % CACHE)
        return body

    def ok(self, detail: str):
        print("ok %d - %s: %s" % (self.step, self.what, detail))
        sys.stdout.flush()

    def check(self, cond, detail: str):
        if not cond:
            self.fail(detail)

    def fail(self, detail: str):
        print("not ok %d - %s: %s" % (self.step, self.what, detail), file=sys.stderr)
        raise Failed()

    # ---- accounts (mail from /dev/mail.json on memory, from moto on DynamoDB) ---------
    def account(self, user: str) -> dict:
        """A registered, confirmed, signed-in account: its login answer's data and cookies."""
        addr = "%s@example.com" % user
        self.ensure_ses_identity()
        self.expect(200, "Check your email...", "register %s" % user, self.call("POST", "/api/registration", {
            "username": user, "full_name": "Sam Service", "email": addr, "phone": None,
            "contacts": None, "pwd": PWD}))
        link = self.newest_token(addr, "/confirm_email/")
        self.expect(200, "Your email has been confirmed.", "confirm %s from the newest mail" % user,
                    self.call("GET", "/api/confirm_email/" + link))
        d = self.login(user, "sign in %s with the password" % user)
        d["account_id"] = self.expect(200, "success", "whoami: %s's account id" % user,
                                      self.call("GET", "/api/whoami", token=d["token"])).get("account_id")
        self.check(d["account_id"], "no account_id")
        return d

    def login(self, user: str, what: str) -> dict:
        status, body, hdrs = answer = self.call("POST", "/api/login", {"username": user, "pwd": PWD})
        d = self.expect(200, "success", what, answer)
        self.check(d.get("token") and d.get("csrf_token"), "no token or csrf_token: %s" % d)
        cookies = {}
        for c in hdrs.get_all("set-cookie") or []:
            name, _, rest = c.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        self.check(cookies.get("access_token_cookie") and cookies.get("csrf_access_token"),
                   "no session cookies: %s" % list(cookies))
        d["username"] = user
        d["cookie"] = "access_token_cookie=%s; csrf_access_token=%s" % (
            cookies["access_token_cookie"], cookies["csrf_access_token"])
        return d

    def newest_token(self, address: str, marker: str) -> str:
        deadline = time.time() + 10
        while True:
            for links in self._mails(address):  # newest first
                for link in links:
                    if marker in link:
                        return link.rstrip("/").rsplit("/", 1)[1]
            if time.time() > deadline:
                self.fail("no %s link in mail to %s" % (marker, address))
            time.sleep(0.2)

    def _mail_store(self) -> str:
        if self.store is None:
            q = urllib.parse.urlencode({"to": "nobody@example.com"})
            with urllib.request.urlopen("%s/dev/mail.json?%s" % (self.base, q), timeout=30) as r:
                self.store = json.load(r)["store"]
        return self.store

    def _mails(self, address: str) -> list:
        if self._mail_store() == "memory":
            q = urllib.parse.urlencode({"to": address})
            with urllib.request.urlopen("%s/dev/mail.json?%s" % (self.base, q), timeout=30) as r:
                mailbox = json.load(r)
            for mail in mailbox["mail"]:
                if not mail["sent"]:
                    self.fail("the newest mail to %s was not sent: %s" % (address, mail["reason"]))
            return [mail["links"] for mail in mailbox["mail"]]
        if not self.moto:
            sys.exit("service_tokens_e2e: STORE=dynamodb needs AWS_ENDPOINT_URL (moto) to read the mail")
        with urllib.request.urlopen(self.moto + "/_test/ses/raw-messages", timeout=30) as r:
            messages = json.load(r)
        out = []
        for m in reversed(messages):  # in the order sent: newest last
            msg = email.message_from_string(m["raw_data"], policy=email.policy.default)
            if address.lower() not in str(msg.get("To", "")).lower():
                continue
            text = "".join(part.get_content() for part in msg.walk()
                           if part.get_content_type() == "text/plain")
            out.append(re.findall(r"https?://\S+", text))
        return out

    def ensure_ses_identity(self):
        """On DynamoDB + moto: SES sends only from a verified identity."""
        if self.ses_ready or self._mail_store() == "memory" or not self.moto:
            return
        import boto3  # moto's dependency, in .tools/venv

        domain = os.environ.get("MAIL_FROM", "noreply@example.com").rsplit("@", 1)[1].strip(" >")
        ses = boto3.client("sesv2", endpoint_url=self.moto, region_name=os.environ.get("AWS_REGION", "us-east-1"))
        try:
            ses.create_email_identity(EmailIdentity=domain)
        except ses.exceptions.AlreadyExistsException:
            pass
        self.ses_ready = True

    # ---- the verifiers ---------------------------------------------------------------------
    def discovery(self) -> dict:
        doc = self.plain("GET /.well-known/openid-configuration",
                         self.call("GET", "/.well-known/openid-configuration"))
        want = {"issuer": self.base, "jwks_uri": self.base + "/.well-known/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"]}
        self.check(doc == want, "the discovery document: expected %s, got %s" % (want, doc))
        return doc

    def jwks(self, want: list, what: str) -> list:
        """The JWKS must publish exactly the public keys WANT (current first; None: any
        key), each with its RFC 7638 thumbprint as kid; returns the kids."""
        doc = self.plain("GET /.well-known/jwks.json (%s)" % what, self.call("GET", "/.well-known/jwks.json"))
        keys = doc.get("keys")
        self.check(set(doc) == {"keys"} and isinstance(keys, list), "not {\"keys\": [...]}: %s" % doc)
        self.check(len(keys) == len(want), "expected %d keys, got %d: %s" % (len(want), len(keys), keys))
        for got, pub in zip(keys, want):
            self.check(set(got) == {"kty", "n", "e", "alg", "use", "kid"},
                       "a JWK's members are not kty, n, e, alg, use, kid: %s" % sorted(got))
            self.check(got["kty"] == "RSA" and got["alg"] == "RS256" and got["use"] == "sig",
                       "kty / alg / use: %s" % got)
            self.check(pub is None or (got["n"], got["e"]) == (pub["n"], pub["e"]),
                       "not the public key of the PEM given, in that order (current first): %s" % got)
            self.check(got["kid"] == thumbprint(got),
                       "kid %s is not the RFC 7638 thumbprint %s" % (got["kid"], thumbprint(got)))
        self.check(len(unb64u(keys[0]["n"])) * 8 == 2048, "not a 2048-bit modulus")
        return [k["kid"] for k in keys]

    def verify_py(self, cases: list, audience: str = "orders"):
        """PyJWT: discovery -> jwks_uri -> PyJWKClient, RS256 only, no leeway."""
        conf = json.load(urllib.request.urlopen(self.base + "/.well-known/openid-configuration", timeout=30))
        for name, token, want in cases:
            self.step += 1
            self.what = "PyJWT %s: %s" % (jwt.__version__, name)
            client = PyJWKClient(conf["jwks_uri"], cache_keys=False)  # a fresh JWKS per case
            try:
                key = client.get_signing_key_from_jwt(token)
                claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=conf["issuer"],
                                    options={"require": ["exp", "iat", "iss", "aud", "sub"]})
            except Exception as e:  # noqa: BLE001 - which one is the point
                if want == "accept":
                    self.fail("refused: %s: %s" % (type(e).__name__, e))
                if not isinstance(e, PYJWT_REASONS[want]):
                    self.fail("refused, but not for %s: %s: %s" % (want, type(e).__name__, e))
                self.ok("refused (%s): %s" % (type(e).__name__, e))
                continue
            if want != "accept":
                self.fail("accepted, expected a refusal (%s): %s" % (want, claims))
            self.ok("accepted, sub %s" % claims["sub"])

    def verify_node(self, cases: list, audience: str = "orders"):
        """jose (createRemoteJWKSet) and aws-jwt-verify (custom fetcher), in node."""
        path = os.path.join(self.work, "cases.json")
        with open(path, "w") as f:
            json.dump({"audience": audience,
                       "cases": [{"name": n, "token": t, "expect": w} for n, t, w in cases]}, f)
        p = subprocess.run(["node", VERIFY_MJS, self.base, path], capture_output=True, text=True, timeout=60)
        for line in p.stdout.splitlines():
            self.step += 1
            print("ok %d - %s" % (self.step, line.removeprefix("ok - ")) if line.startswith("ok - ") else line)
        if p.returncode != 0:
            self.step += 1
            self.what = "node verify.mjs"
            self.fail("exit %d:\n%s" % (p.returncode, p.stderr.strip()))
        sys.stdout.flush()


def main(r: Run, server: DevServer, tag: str) -> str:
    (pem_a, pub_a), (pem_b, pub_b) = new_key(), new_key()
    ORDERS_BILLING = "orders,billing"

    # ---- settings refused at start ---------------------------------------------------------
    r.step += 1
    r.what = "TOKEN_TTL_SECS=3601 is refused at start"
    code, out = server.refused_at_start(TOKEN_TTL_SECS="3601", SERVICE_KEY_PEM=pem_a)
    r.check(code not in (0, None) and "TOKEN_TTL_SECS: at most 3600 (1 hour)" in out,
            "exit %s, output: %s" % (code, out.strip()[-500:]))
    r.ok("exit %d, %s" % (code, next(l for l in out.splitlines() if "TOKEN_TTL_SECS" in l).strip()))

    # ---- 1. key A --------------------------------------------------------------------------------
    server.start(SERVICE_KEY_PEM=pem_a, TOKEN_AUDIENCES=ORDERS_BILLING)
    r.expect(200, "user_account", "key A: the service answers", r.call("GET", "/"))
    r.discovery()
    [kid_a] = r.jwks([pub_a], "key A")
    user = "svc%s" % tag
    s1 = r.account(user)
    r.expect(401, "authentication required", "POST /api/token without a session",
             r.call("POST", "/api/token", {"audience": "orders"}))
    r.expect(400, "audience is required.", "POST /api/token {}", r.call("POST", "/api/token", {}, s1["token"]))
    r.expect(400, "audience is not allowed.", "an audience not on TOKEN_AUDIENCES (payroll)",
             r.call("POST", "/api/token", {"audience": "payroll"}, s1["token"]))

    def mint(session: dict, audience: str, what: str, ttl: int = 300, **how) -> str:
        d = r.expect(200, "success", what, r.call("POST", "/api/token", {"audience": audience}, **how))
        r.check(set(d) == {"access_token", "token_type", "expires_in"},
                "data is not {access_token, token_type, expires_in}: %s" % d)
        r.check(d["token_type"] == "Bearer" and d["expires_in"] == ttl,
                'token_type "Bearer", expires_in %d: %s' % (ttl, {k: d[k] for k in ("token_type", "expires_in")}))
        token = d["access_token"]
        header = jwt.get_unverified_header(token)
        r.check(header.get("alg") == "RS256" and header.get("kid"), "the header: %s" % header)
        claims = jwt.decode(token, options={"verify_signature": False})
        r.check(set(claims) == CLAIMS, "the claims are not %s: %s" % (sorted(CLAIMS), sorted(claims)))
        r.check(claims["iss"] == r.base and claims["aud"] == audience and claims["username"] == session["username"],
                "iss / aud / username: %s" % claims)
        r.check(claims["exp"] - claims["iat"] == ttl and abs(claims["iat"] - time.time()) < 60,
                "exp - iat is not %d, or iat is not now: %s" % (ttl, claims))
        r.check(claims["email_verified"] is True and claims["amr"] == ["pwd"],
                "email_verified true, amr [\"pwd\"]: %s" % claims)
        r.check(isinstance(claims["jti"], str) and len(claims["jti"]) >= 16, "jti: %s" % claims["jti"])
        r.check(claims["sub"] == session["account_id"], "sub %s is not the account id %s"
                % (claims["sub"], session["account_id"]))
        return token

    fresh = mint(s1, "orders", "a token for orders (bearer)", token=s1["token"])
    r.check(jwt.get_unverified_header(fresh)["kid"] == kid_a, "the token's kid is not the JWKS's")
    billing = mint(s1, "billing", "a token for billing", token=s1["token"])
    r.expect(401, "missing or invalid CSRF token", "with the session cookie but no CSRF header",
             r.call("POST", "/api/token", {"audience": "orders"}, headers={"cookie": s1["cookie"]}))
    by_cookie = mint(s1, "orders", "a token for orders (cookie + CSRF header)",
                     headers={"cookie": s1["cookie"], "x-csrf-token": s1["csrf_token"]})
    s2 = r.login(user, "sign in again (another session)")
    s2["account_id"] = s1["account_id"]
    again = mint(s2, "orders", "a token from the other session: the same sub", token=s2["token"])
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in (fresh, billing, by_cookie, again)}
    r.check(len(jtis) == 4, "a jti repeated: %s" % jtis)
    r.expect(401, "authentication required", "a service token as a session (whoami)",
             r.call("GET", "/api/whoami", token=fresh))
    r.expect(401, "authentication required", "a service token as a session (POST /api/token)",
             r.call("POST", "/api/token", {"audience": "orders"}, token=fresh))
    r.expect(200, "user logout", "sign out the first session", r.call("POST", "/api/logout", token=s1["token"]))
    r.expect(401, "authentication required", "POST /api/token on the ended session",
             r.call("POST", "/api/token", {"audience": "orders"}, token=s1["token"]))
    r.check(jwt.get_unverified_header(s2["token"]).get("alg") == "HS256", "the session token is not HS256")
    cases = [("a fresh token", fresh, "accept"),
             ("a token for billing (audience orders)", billing, "audience"),
             ("a tampered token (one payload character)", tamper(fresh), "signature"),
             ("a session token", s2["token"], "refuse")]
    r.verify_py(cases)
    r.verify_node(cases)
    server.stop()

    # ---- 2. key B alone, 2-second tokens ---------------------------------------------------
    server.start(SERVICE_KEY_PEM=pem_b, TOKEN_TTL_SECS="2", TOKEN_AUDIENCES="orders")
    [kid_b] = r.jwks([pub_b], "key B alone")
    r.check(kid_b != kid_a, "A and B have the same kid")
    cases = [("key A's token, A no longer in the JWKS", fresh, "unknown-key")]
    r.verify_py(cases)
    r.verify_node(cases)
    user2 = "svc%sb" % tag
    t = r.account(user2)
    r.expect(400, "audience is not allowed.", "billing, not on TOKEN_AUDIENCES=orders",
             r.call("POST", "/api/token", {"audience": "billing"}, t["token"]))
    short = mint(t, "orders", "a 2-second token (TOKEN_TTL_SECS=2)", ttl=2, token=t["token"])
    expired_at = jwt.decode(short, options={"verify_signature": False})["exp"]
    server.stop()

    # ---- 3. key B, previous A --------------------------------------------------------------
    server.start(SERVICE_KEY_PEM=pem_b, SERVICE_KEY_PREVIOUS_PEM=pem_a, TOKEN_AUDIENCES=ORDERS_BILLING)
    r.jwks([pub_b, pub_a], "key B, previous A")
    time.sleep(max(0.0, expired_at + 1 - time.time()))  # a whole second past exp (3 s after iat)
    cases = [("key A's token after the rotation (A is the previous key)", fresh, "accept"),
             ("the 2-second token, 3 s later", short, "expired"),
             ("the billing token (audience orders)", billing, "audience")]
    r.verify_py(cases)
    r.verify_node(cases)
    server.stop()

    # ---- no key given: the dev server makes one and says so -------------------------------
    server.start(TOKEN_AUDIENCES=ORDERS_BILLING)
    [kid_new] = r.jwks([None], "no SERVICE_KEY_PEM: a key of its own")
    r.step += 1
    r.what = "no SERVICE_KEY_PEM: a note at start"
    r.check(kid_new not in (kid_a, kid_b), "the JWKS has A or B")
    note = [line for line in server.read_log().splitlines() if "SERVICE_KEY_PEM" in line]
    r.check(note, "no line of the log names SERVICE_KEY_PEM:\n" + server.read_log())
    r.ok(note[0])
    server.stop()
    return "%s, %s" % (user, user2)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", choices=["memory", "dynamodb"], default="memory")
    ap.add_argument("--dev-server", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target"), "debug", "dev-server"))
    ap.add_argument("--port", type=int, default=0, help="default: a free one")
    args = ap.parse_args()
    if not os.access(args.dev_server, os.X_OK):
        sys.exit("service_tokens_e2e: no dev server at %s (cargo build -p dev-server)" % args.dev_server)
    moto = (os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/") or None
    if args.store == "dynamodb" and not moto:
        sys.exit("service_tokens_e2e: --store dynamodb needs AWS_ENDPOINT_URL (scripts/moto_server.py)")
    # SIGTERM ends the run through the finally below, which stops the dev server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    port = args.port or free_port()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="service-tokens-") as work:
        server = DevServer(os.path.abspath(args.dev_server), port, args.store, work)
        r = Run("http://127.0.0.1:%d" % port, moto, work)
        try:
            users = main(r, server, "%d%04d" % (int(time.time()), os.getpid() % 10000))
        except Failed:
            print("the dev server's log:\n" + server.read_log(), file=sys.stderr)
            sys.exit(1)
        finally:
            server.stop()
    print("service_tokens_e2e: all %d checks answered as the contract says (%s store, %s; %.1f s)"
          % (r.step, args.store, users, time.time() - started))
