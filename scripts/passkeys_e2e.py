#!/usr/bin/env python3
"""Passkeys end to end (issue 25) against a running dev server, with a software
authenticator no one here wrote: PyPI's soft-webauthn, through scripts/softpk.py.

    python3 scripts/passkeys_e2e.py http://127.0.0.1:3000 [--origin http://localhost:3000]

Needs fido2, soft-webauthn and pyotp (in .tools/venv: `source scripts/tools.sh`). The
server must take RP ID `localhost` and the origin sent, by default http://localhost:
<BASE's port> (the dev server's default for an IP base URL; browsers refuse an IP as
RP ID). Fresh usernames each run; mail is read from BASE/dev/mail.json on the memory
store, from moto's /_test/ses/raw-messages on STORE=dynamodb (AWS_ENDPOINT_URL). A run
sends about 16 mails from one IP (CLIENT_MAIL_LIMIT is 20 an hour): once per fresh
server, or with IP_LIMITS=off. scripts/test.sh runs it on memory and on DynamoDB.
After a passkey is added, a passkey sign-in (and one as the second factor) and a
removal, the account's security activity (issue 27, GET /api/security_events) must
show it as the newest event, after those before it.
Prints "ok N - ..." per checked answer; "not ok N - ..." and exit 1 at the first
answer that differs from the contract (docs/PASSKEYS.md).
"""

import argparse
import email
import email.policy
import ipaddress
import json
import os
import random
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pyotp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from softpk import AT, UP, SoftPasskey, unb64u  # noqa: E402

PWD = "S3cure-Passw0rd!"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class Failed(Exception):
    pass


class Run:
    def __init__(self, base: str, origin: str, moto: str | None):
        self.base = base.rstrip("/")
        self.origin = origin
        self.moto = moto
        self.step = 0
        self.what = ""
        self.store = None
        self.ses_ready = False

    # ---- HTTP --------------------------------------------------------------------
    def call(self, method: str, path: str, body=None, token: str | None = None):
        """(status, envelope) of one request; the envelope is {} when not JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            sys.exit("passkeys_e2e: cannot reach %s (is the dev server running?): %s" % (self.base, e))
        try:
            return status, json.loads(raw or b"null") or {}
        except ValueError:
            return status, {"_raw": raw.decode("utf-8", "replace")}

    def expect(self, status: int, msg: str, what: str, answer) -> dict:
        """The answer must be exactly STATUS and MSG; returns its data ({} if none)."""
        got_status, body = answer
        self.step += 1
        self.what = what
        got_msg = body.get("msg") if isinstance(body, dict) else None
        if got_status != status or got_msg != msg:
            self.fail('expected %d "%s", got %d %s' % (status, msg, got_status, json.dumps(body)))
        print('ok %d - %s: %d "%s"' % (self.step, what, got_status, got_msg))
        sys.stdout.flush()
        return body.get("data") or {}

    def check(self, cond, detail: str):
        """A further check of the last answer (its fields)."""
        if not cond:
            self.fail(detail)

    def fail(self, detail: str):
        print("not ok %d - %s: %s" % (self.step, self.what, detail), file=sys.stderr)
        raise Failed()

    # ---- mail ----------------------------------------------------------------------
    def newest_token(self, address: str, marker: str) -> str:
        """The token of the newest link containing MARKER in mail to ADDRESS."""
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
        """The links of each mail to ADDRESS, newest mail first."""
        if self._mail_store() == "memory":
            q = urllib.parse.urlencode({"to": address})
            with urllib.request.urlopen("%s/dev/mail.json?%s" % (self.base, q), timeout=30) as r:
                mailbox = json.load(r)
            out = []
            for mail in mailbox["mail"]:  # newest first
                if not mail["sent"]:
                    self.fail("the newest mail to %s was not sent: %s" % (address, mail["reason"]))
                out.append(mail["links"])
            return out
        if not self.moto:
            sys.exit("passkeys_e2e: the dev server is on DynamoDB: its mail goes to SES; "
                     "set AWS_ENDPOINT_URL to the moto it uses (scripts/moto_server.py)")
        with urllib.request.urlopen(self.moto + "/_test/ses/raw-messages", timeout=30) as r:
            messages = json.load(r)
        out = []
        for m in reversed(messages):  # in the order sent: newest last
            msg = email.message_from_string(m["raw_data"], policy=email.policy.default)
            if address.lower() not in str(msg.get("To", "")).lower():
                continue
            text = ""
            for part in msg.walk():
                if part.get_content_type() == "text/plain":
                    text += part.get_content()
            out.append(re.findall(r"https?://\S+", text))
        return out

    def ensure_ses_identity(self):
        """On DynamoDB + moto: SES sends only from a verified identity."""
        if self.ses_ready or self._mail_store() == "memory" or not self.moto:
            return
        sender = os.environ.get("MAIL_FROM", "noreply@example.com")
        domain = sender.rsplit("@", 1)[1].strip(" >")
        import boto3  # moto's dependency, in .tools/venv

        ses = boto3.client("sesv2", endpoint_url=self.moto,
                           region_name=os.environ.get("AWS_REGION", "us-east-1"))
        try:
            ses.create_email_identity(EmailIdentity=domain)
        except ses.exceptions.AlreadyExistsException:
            pass
        self.ses_ready = True


class Totp:
    """Codes of a TOTP key (pyotp), each of a later step than the last one used: the
    API takes a code once, and one step of skew either way."""

    def __init__(self, secret: str):
        self.totp = pyotp.TOTP(secret)
        self.last = -1

    def code(self) -> str:
        while True:
            now = int(time.time()) // 30
            for step in (now, now + 1):
                if step > self.last:
                    self.last = step
                    return self.totp.at(step * 30)
            time.sleep(1)


def default_origin(base: str) -> str:
    u = urllib.parse.urlsplit(base)
    host = u.hostname or "localhost"
    try:
        ipaddress.ip_address(host)
        host = "localhost"
    except ValueError:
        pass
    port = "" if u.port is None else ":%d" % u.port
    return "%s://%s%s" % (u.scheme, host, port)


def main(r: Run) -> str:
    run = "%d%04d" % (int(time.time()), random.randrange(10000))
    O = r.origin
    EVIL = "https://evil.example"

    r.expect(200, "user_account", "the service answers", r.call("GET", "/"))

    # ---- two confirmed accounts ------------------------------------------------------
    def account(user: str, full_name: str) -> tuple:
        addr = "%s@example.com" % user
        r.ensure_ses_identity()
        r.expect(200, "Check your email...", "register %s" % user, r.call("POST", "/api/registration", {
            "username": user, "full_name": full_name, "email": addr, "phone": None,
            "contacts": None, "pwd": PWD}))
        token = r.newest_token(addr, "/confirm_email/")
        r.expect(200, "Your email has been confirmed.", "confirm %s from the newest mail" % user,
                 r.call("GET", "/api/confirm_email/" + token))
        return addr, login_ok(user, "sign in %s with the password" % user)

    def login_ok(user: str, what: str) -> str:
        d = r.expect(200, "success", what, r.call("POST", "/api/login", {"username": user, "pwd": PWD}))
        r.check(d.get("token") and d.get("device_token"), "no token or device token: %s" % d)
        return d["token"]

    def signed_in_as(token: str, user: str):
        d = r.expect(200, "success", "the new session reads the profile",
                     r.call("GET", "/api/profile_settings", token=token))
        r.check(d.get("username") == user, "the profile of another user: %s" % d)

    def is_login_success(d: dict):
        r.check(all(d.get(k) for k in ("token", "device_token", "csrf_token")),
                "not a login success answer (token, device_token, csrf_token): %s" % d)

    def reg_start(token: str, what: str, code: str | None = None) -> dict:
        body = {"pwd": PWD} if code is None else {"pwd": PWD, "code": code}
        d = r.expect(200, "success", what, r.call("POST", "/api/passkeys/register/start", body, token))
        r.check(d.get("ceremony") and isinstance(d.get("publicKey"), dict),
                "no ceremony or publicKey: %s" % d)
        return d

    def reg_finish(token, ceremony, credential, name=None):
        body = {"ceremony": ceremony, "credential": credential}
        if name is not None:
            body["name"] = name
        return r.call("POST", "/api/passkeys/register/finish", body, token)

    def listed(token: str, what: str) -> list:
        d = r.expect(200, "success", what, r.call("GET", "/api/passkeys", token=token))
        r.check(isinstance(d.get("passkeys"), list), "no passkeys list: %s" % d)
        return d["passkeys"]

    def login_start(what="start a passkey sign-in") -> dict:
        d = r.expect(200, "success", what, r.call("POST", "/api/passkey_login/start", {}))
        r.check(d.get("ceremony") and isinstance(d.get("publicKey"), dict),
                "no ceremony or publicKey: %s" % d)
        return d

    def login_finish(ceremony, credential):
        return r.call("POST", "/api/passkey_login/finish", {"ceremony": ceremony, "credential": credential})

    def passkey_sign_in(key, what, **tamper):
        """A whole passkey sign-in: start, the authenticator, finish; (status, body)."""
        s = login_start("start a passkey sign-in (%s)" % what)
        return login_finish(s["ceremony"], key.get(s["publicKey"], tamper.pop("origin", O), **tamper))

    def activity(token: str, what: str, kinds: list) -> list:
        """The account's security activity (issue 27): its newest events are KINDS, in
        that order (newest first); a sign_in among them came without a device token."""
        d = r.expect(200, "success", what, r.call("GET", "/api/security_events?limit=5", token=token))
        events = d.get("events")
        r.check(isinstance(events, list) and len(events) >= len(kinds) and "cursor" in d,
                "no events list of at least %d, or no cursor: %s" % (len(kinds), d))
        newest = events[:len(kinds)]
        r.check([e.get("kind") for e in newest] == kinds,
                "the newest kinds are not %s: %s" % (kinds, [e.get("kind") for e in events]))
        r.check(all(RFC3339.match(e.get("at") or "") and e.get("ip") for e in newest),
                "an event without at (RFC 3339) or ip: %s" % newest)
        r.check(all(e.get("new_device") is True for e in newest if e["kind"] == "sign_in"),
                "a sign_in without new_device true (this script sends no device token): %s" % newest)
        return events

    ua, ub = "pka%s" % run, "pkb%s" % run
    _, ta = account(ua, "Ada Passkey")

    # ---- add a passkey -----------------------------------------------------------------
    r.check(listed(ta, "no passkeys yet") == [], "a new account lists passkeys")
    r.expect(401, "authentication required", "adding a passkey needs a session",
             r.call("POST", "/api/passkeys/register/start", {"pwd": PWD}))
    s = reg_start(ta, "start adding a passkey (the password again)")
    pk = s["publicKey"]
    sel = pk.get("authenticatorSelection") or {}
    algs = [p.get("alg") for p in pk.get("pubKeyCredParams", [])]
    user_id = unb64u(pk.get("user", {}).get("id", ""))
    r.check(pk.get("rp", {}).get("id") == "localhost", "rp.id is not localhost: %s" % pk.get("rp"))
    r.check(pk.get("user", {}).get("name") == ua and pk["user"].get("displayName") == "Ada Passkey",
            "user.name / displayName: %s" % pk.get("user"))
    r.check(len(user_id) == 16 and ua.encode() not in user_id,
            "user.id is not an opaque 16-byte handle: %s" % pk.get("user"))
    r.check(sel.get("residentKey") == "required" and sel.get("userVerification") == "required",
            "authenticatorSelection: %s" % sel)
    r.check(pk.get("attestation", "none") == "none", "attestation: %s" % pk.get("attestation"))
    r.check(-7 in algs and -8 in algs, "pubKeyCredParams without ES256 and EdDSA: %s" % algs)
    r.check(not pk.get("excludeCredentials"), "excludeCredentials: %s" % pk.get("excludeCredentials"))
    r.check(pk.get("challenge"), "no challenge")
    ka = SoftPasskey()
    cred = ka.create(pk, O)
    d = r.expect(200, "Your passkey has been added.", "soft-webauthn creates it (UV set); register/finish",
                 reg_finish(ta, s["ceremony"], cred, "  Laptop  "))
    p = d.get("passkey") or {}
    r.check(p.get("id") == ka.id and p.get("name") == "Laptop", "id / trimmed name: %s" % p)
    r.check(RFC3339.match(p.get("created_at") or "") and p.get("last_used_at") is None,
            "created_at / last_used_at: %s" % p)
    activity(ta, "the activity lists passkey_added", ["passkey_added", "sign_in", "email_confirmed"])
    r.expect(400, "start again.", "the same ceremony again", reg_finish(ta, s["ceremony"], cred))
    got = listed(ta, "list the passkeys")
    r.check([x.get("id") for x in got] == [ka.id] and got[0].get("name") == "Laptop"
            and got[0].get("last_used_at") is None, "the list: %s" % got)

    # Refused at registration (each with its own ceremony): nothing is stored.
    s = reg_start(ta, "start adding another passkey")
    r.check([c.get("id") for c in s["publicKey"].get("excludeCredentials") or []] == [ka.id],
            "excludeCredentials is not the account's passkey: %s" % s["publicKey"].get("excludeCredentials"))
    r.expect(400, "passkey not accepted.", "registration: UV not set",
             reg_finish(ta, s["ceremony"], SoftPasskey().create(s["publicKey"], O, flags=UP | AT)))
    s = reg_start(ta, "start adding another passkey")
    r.expect(400, "passkey not accepted.", "registration: wrong origin",
             reg_finish(ta, s["ceremony"], SoftPasskey().create(s["publicKey"], EVIL)))
    s = reg_start(ta, "start adding another passkey")
    r.expect(400, "passkey not accepted.", "registration: wrong RP ID",
             reg_finish(ta, s["ceremony"], SoftPasskey().create(s["publicKey"], O, rp_id="evil.example")))
    r.check(len(listed(ta, "still one passkey")) == 1, "a refused passkey was stored")

    # ---- sign in with it ---------------------------------------------------------------
    s = login_start()
    rq = s["publicKey"]
    r.check(not rq.get("allowCredentials") and rq.get("userVerification") == "required"
            and rq.get("rpId", "localhost") == "localhost" and rq.get("challenge"),
            "request options (allowCredentials empty, UV required, rpId localhost): %s" % rq)
    cred = ka.get(rq, O)
    d = r.expect(200, "success", "soft-webauthn signs (UV set); passkey_login/finish",
                 login_finish(s["ceremony"], cred))
    is_login_success(d)
    signed_in_as(d["token"], ua)
    activity(d["token"], "the activity lists the passkey sign_in (a new device)",
             ["sign_in", "passkey_added", "sign_in", "email_confirmed"])
    r.expect(401, "sign in again", "a replayed ceremony (the same finish twice)",
             login_finish(s["ceremony"], cred))
    r.expect(401, "sign in again", "an unknown ceremony", login_finish("no-such-ceremony", ka.get(rq, O)))
    got = listed(ta, "list the passkeys after the sign-in")
    r.check(RFC3339.match(got[0].get("last_used_at") or ""), "last_used_at not set: %s" % got)

    # ---- refused at sign-in ------------------------------------------------------------
    NA = "passkey not accepted"
    r.expect(401, NA, "wrong origin", passkey_sign_in(ka, "wrong origin", origin=EVIL))
    r.expect(401, NA, "wrong RP ID", passkey_sign_in(ka, "wrong RP ID", rp_id="evil.example"))
    r.expect(401, NA, "UV not set", passkey_sign_in(ka, "UV not set", flags=UP))
    r.expect(401, NA, "a broken signature", passkey_sign_in(ka, "broken signature", sign_ok=False))
    d = r.expect(200, "success", "the refusals did not spoil the passkey: it signs in",
                 passkey_sign_in(ka, "good, counter %d" % (ka.dev.sign_count + 1)))
    is_login_success(d)
    stored = ka.dev.sign_count
    r.expect(401, NA, "a counter that went back (%d after %d)" % (stored - 2, stored),
             passkey_sign_in(ka, "counter back", counter=stored - 2))

    # ---- another account's credential, a removed one ---------------------------------------
    _, tb = account(ub, "Bob Passkey")
    s = reg_start(tb, "%s starts adding a passkey" % ub)
    kb = SoftPasskey()
    r.expect(200, "Your passkey has been added.", "%s adds a passkey" % ub,
             reg_finish(tb, s["ceremony"], kb.create(s["publicKey"], O)))
    r.check(kb.user_handle != ka.user_handle, "both accounts have the same user handle")
    login_ok(ub, "a passkey alone does not turn on two-factor: the password signs %s in" % ub)
    r.expect(401, NA, "%s's key with %s's user handle" % (ua, ub),
             passkey_sign_in(ka, "A's key, B's handle", user_handle=kb.user_handle))
    r.expect(401, NA, "%s's key with %s's user handle" % (ub, ua),
             passkey_sign_in(kb, "B's key, A's handle", user_handle=ka.user_handle))
    d = r.expect(200, "success", "%s signs in with the passkey" % ub, passkey_sign_in(kb, "B"))
    signed_in_as(d["token"], ub)
    r.expect(404, "passkey not found", "%s cannot remove %s's passkey" % (ub, ua),
             r.call("POST", "/api/passkeys/remove", {"id": ka.id, "pwd": PWD}, tb))
    r.expect(200, "Your passkey has been removed.", "%s removes the passkey" % ub,
             r.call("POST", "/api/passkeys/remove", {"id": kb.id, "pwd": PWD}, tb))
    # Newest first: the removal, the passkey sign-in, the password one, the passkey
    # added, the first sign-in (the refused handles and the other's id recorded nothing).
    activity(tb, "%s's activity lists passkey_removed" % ub,
             ["passkey_removed", "sign_in", "sign_in", "passkey_added", "sign_in"])
    r.check(listed(tb, "%s has no passkey" % ub) == [], "still listed")
    r.expect(401, NA, "a removed credential", passkey_sign_in(kb, "removed"))

    # ---- with two-factor sign-in (TOTP) on -----------------------------------------------
    d = r.expect(200, "Add the key to your authenticator app, then confirm with a code.",
                 "%s starts two-factor sign-in" % ua, r.call("POST", "/api/mfa/totp/setup", {"pwd": PWD}, ta))
    totp = Totp(d["secret"])
    r.expect(200, "Two-factor sign-in is on.", "confirm with a code (pyotp)",
             r.call("POST", "/api/mfa/totp/confirm", {"code": totp.code()}, ta))
    r.expect(400, "code is required.", "adding a passkey with TOTP on needs a code",
             r.call("POST", "/api/passkeys/register/start", {"pwd": PWD}, ta))
    s = reg_start(ta, "start adding a second passkey (password and code)", totp.code())
    r.check([c.get("id") for c in s["publicKey"].get("excludeCredentials") or []] == [ka.id],
            "excludeCredentials: %s" % s["publicKey"].get("excludeCredentials"))
    ka2 = SoftPasskey()
    d = r.expect(200, "Your passkey has been added.", "add it without a name",
                 reg_finish(ta, s["ceremony"], ka2.create(s["publicKey"], O)))
    r.check((d.get("passkey") or {}).get("name") == "Passkey", "default name: %s" % d)
    got = listed(ta, "two passkeys")
    # Newest first, by the second added (two added within one second: either order).
    same_second = len(got) == 2 and got[0].get("created_at") == got[1].get("created_at")
    r.check([x.get("id") for x in got] == [ka2.id, ka.id]
            or (same_second and sorted(x.get("id") for x in got) == sorted([ka.id, ka2.id])),
            "not newest first: %s" % got)

    def second_factor(what: str) -> dict:
        d = r.expect(401, "second factor required", what,
                     r.call("POST", "/api/login", {"username": ua, "pwd": PWD}))
        r.check(d.get("methods") == ["totp", "recovery_code", "passkey"], "methods: %s" % d.get("methods"))
        pkd = d.get("passkey") or {}
        rq = pkd.get("publicKey") or {}
        allowed = sorted(c.get("id") for c in rq.get("allowCredentials") or [])
        r.check(d.get("mfa_token") and pkd.get("ceremony"), "no mfa_token or passkey.ceremony: %s" % d)
        r.check(allowed == sorted([ka.id, ka2.id]) and rq.get("userVerification") == "required",
                "data.passkey request options: %s" % rq)
        return d

    d = second_factor("the password alone: second factor required, with passkey request options")
    r.expect(401, "sign in again", "a second-factor ceremony at passkey_login/finish (another kind)",
             login_finish(d["passkey"]["ceremony"], ka.get(d["passkey"]["publicKey"], O)))
    d = second_factor("the password again: second factor required")
    d = r.expect(200, "success", "login/mfa with the passkey as the second factor",
                 r.call("POST", "/api/login/mfa", {"mfa_token": d["mfa_token"], "ceremony": d["passkey"]["ceremony"],
                                                   "credential": ka.get(d["passkey"]["publicKey"], O)}))
    is_login_success(d)
    signed_in_as(d["token"], ua)
    # The second step signs in, not the password before it (nor the refused ceremony);
    # before: the second passkey, TOTP on, the two passkey sign-ins.
    activity(d["token"], "the activity lists the second factor's sign_in",
             ["sign_in", "passkey_added", "mfa_enabled", "sign_in", "sign_in"])
    d = r.expect(200, "success", "a passkey sign-in with TOTP on (no code)", passkey_sign_in(ka2, "TOTP on"))
    is_login_success(d)
    signed_in_as(d["token"], ua)

    # ---- the export lists them; a revert and a deletion remove them ---------------------
    uc = "pkc%s" % run
    addr_c, tc = account(uc, "Cy Passkey")
    r.expect(200, "Check your email...", "%s's address is changed (by an intruder, say)" % uc,
             r.call("POST", "/api/change_email", {"pwd": PWD, "new_email": "new-" + addr_c}, tc))
    revert = r.newest_token(addr_c, "/revert_email/")
    kc = SoftPasskey()
    s = reg_start(tc, "passkey options after the change")
    r.expect(200, "Your passkey has been added.", "a passkey added after the change",
             reg_finish(tc, s["ceremony"], kc.create(s["publicKey"], O)))
    d = r.expect(200, "success", "the export", r.call("POST", "/api/account_export", {"pwd": PWD}, tc))
    exported = d.get("passkeys") or []
    r.check([p.get("id") for p in exported] == [kc.id]
            and all(set(p) == {"id", "name", "created_at", "last_used_at"} for p in exported),
            "the export's passkeys (no key material): %s" % exported)
    r.expect(200, "Your email has been restored.", "the owner's revert link",
             r.call("GET", "/api/revert_email/" + revert))
    r.expect(401, "passkey not accepted", "the passkey added since the change is gone",
             passkey_sign_in(kc, "added since a reverted change"))
    kb2 = SoftPasskey()
    s = reg_start(tb, "%s's passkey options" % ub)
    r.expect(200, "Your passkey has been added.", "%s adds a passkey" % ub,
             reg_finish(tb, s["ceremony"], kb2.create(s["publicKey"], O)))
    r.expect(200, "Your account has been deleted.", "%s deletes the account" % ub,
             r.call("POST", "/api/delete_account", {"pwd": PWD}, tb))
    r.expect(401, "passkey not accepted", "a deleted account's passkey signs nobody in",
             passkey_sign_in(kb2, "of a deleted account"))
    return "%s, %s, %s" % (ua, ub, uc)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", nargs="?", default=os.environ.get("BASE_URL", "http://127.0.0.1:3000"))
    ap.add_argument("--origin", help="the WebAuthn origin (default: BASE with host localhost)")
    args = ap.parse_args()
    r = Run(args.base, args.origin or default_origin(args.base),
            (os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/") or None)
    started = time.time()
    try:
        users = main(r)
    except Failed:
        sys.exit(1)
    print("passkeys_e2e: all %d steps answered as the contract says (%s; origin %s, %.1f s)"
          % (r.step, users, r.origin, time.time() - started))
