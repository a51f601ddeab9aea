#!/usr/bin/env bash
# The walkthrough (docs/WALKTHROUGH.md): an account's whole life with curl
# against a running dev server, every answer checked. Fresh names on each
# run and the newest mail from the dev mailbox (/dev/mail.json), so it can
# be run again and again on the same server (the test command runs it twice).
#
#   cargo run -p dev-server &          # in another terminal
#   bash scripts/walkthrough.sh        # or: bash scripts/walkthrough.sh http://127.0.0.1:3000
#
# Needs bash, curl and python3. Each mail-sending step counts against the
# client's budget (CLIENT_MAIL_LIMIT, 20 an hour per IP): a run uses 7.
set -euo pipefail

B="${1:-${BASE_URL:-http://127.0.0.1:3000}}"
B="${B%/}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
JAR="$WORK/jar"

RUN="$(date +%s)$RANDOM"
U="ada$RUN"                       # a username nobody has
EMAIL="$U@example.com"
NEW_EMAIL="$U.new@example.com"
PWD1='S3cure-Passw0rd!'
PWD2='An0ther-Passw0rd!'
PWD3='N3w-Passw0rd!x'

STATUS=""
BODY=""
STEP=0

# call METHOD PATH [curl arguments...]: sets STATUS and BODY.
call() {
    local method="$1" path="$2"
    shift 2
    local out
    out="$(curl -sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" "$B$path" "$@")" || {
        echo "walkthrough: cannot reach $B (is the dev server running? cargo run -p dev-server)" >&2
        exit 1
    }
    STATUS="$out"
    BODY="$(cat "$WORK/body")"
}

# expect STATUS MSG "what this step does": the answer must be exactly that.
expect() {
    local want_status="$1" want_msg="$2" what="$3" msg
    STEP=$((STEP + 1))
    msg="$(field msg)"
    if [[ "$STATUS" != "$want_status" || "$msg" != "$want_msg" ]]; then
        echo "not ok $STEP - $what: expected $want_status \"$want_msg\", got $STATUS $BODY" >&2
        if [[ "$STATUS" == "429" ]]; then
            echo "  (a limit of the server: restart the dev server, or see docs/CONFIGURATION.md)" >&2
        fi
        exit 1
    fi
    echo "ok $STEP - $what: $STATUS \"$msg\""
}

# field PATH: a value of BODY's JSON by a dotted path (data.token), "" if none.
field() {
    BODY_JSON="$BODY" python3 -c '
import json, os, sys
value = json.loads(os.environ["BODY_JSON"] or "null")
for key in sys.argv[1].split("."):
    if isinstance(value, list):
        value = value[int(key)] if key.isdigit() and int(key) < len(value) else None
    elif isinstance(value, dict):
        value = value.get(key)
    else:
        value = None
print("" if value is None else (json.dumps(value) if isinstance(value, (dict, list, bool)) else value))
' "$1"
}

# newest_link ADDRESS MARKER: the token of the newest link containing
# MARKER (/confirm_email/, /reset_password/) in mail sent to ADDRESS.
newest_link() {
    local answer
    answer="$(curl -sS "$B/dev/mail.json?to=$1")"
    MAIL_JSON="$answer" python3 -c '
import json, os, sys
mailbox = json.loads(os.environ["MAIL_JSON"])
if mailbox.get("store") != "memory":
    sys.exit("walkthrough: the dev server is not on the memory store: its mail goes to SES")
for mail in mailbox["mail"]:                      # newest first
    if not mail["sent"]:
        sys.exit("walkthrough: the newest mail to %s was not sent: %s" % (sys.argv[1], mail["reason"]))
    for link in mail["links"]:
        if sys.argv[2] in link:
            print(link.rsplit("/", 1)[1])
            sys.exit(0)
sys.exit("walkthrough: no %s link in mail to %s" % (sys.argv[2], sys.argv[1]))
' "$1" "$2"
}

# totp KEY: the current code of a base32 key (RFC 6238: HMAC-SHA1, 30 s,
# 6 digits), as an authenticator app shows it.
totp() {
    python3 -c '
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
offset = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7fffffff) % 10**6))
' "$1"
}

JSON=(-H 'content-type: application/json')

call GET /
expect 200 user_account "the service answers"

call POST /api/registration "${JSON[@]}" \
    -d "{\"username\":\"$U\",\"full_name\":\"Ada L.\",\"email\":\"$EMAIL\",\"phone\":null,\"contacts\":null,\"pwd\":\"$PWD1\"}"
expect 200 "Check your email..." "register $U"

# The link is in the dev mailbox ($B/dev/mail); the page it opens calls this.
TOKEN_IN_MAIL="$(newest_link "$EMAIL" /confirm_email/)"
call GET "/api/confirm_email/$TOKEN_IN_MAIL"
expect 200 "Your email has been confirmed." "confirm the address from the newest mail"

call POST /api/login -c "$JAR" "${JSON[@]}" -d "{\"username\":\"$U\",\"pwd\":\"$PWD1\",\"remember\":true}"
expect 200 success "sign in (remember me)"
TOKEN="$(field data.token)"
DEVICE="$(field data.device_token)"
[[ -n "$TOKEN" && -n "$DEVICE" ]] || { echo "not ok - login gave no token or device token: $BODY" >&2; exit 1; }
AUTH=(-H "Authorization: Bearer $TOKEN")

call GET /api/profile_settings "${AUTH[@]}"
expect 200 success "read the profile"
[[ "$(field data.username)" == "$U" ]] || { echo "not ok - profile of another user: $BODY" >&2; exit 1; }

call POST /api/profile_settings "${AUTH[@]}" "${JSON[@]}" -d '{"full_name":"Ada B.","phone":"+1 555 0100"}'
expect 200 success "edit the profile"

call GET /api/sessions "${AUTH[@]}"
expect 200 success "list the sessions"
[[ "$(field data.sessions.0.device)" == curl ]] || { echo "not ok - the session does not name curl: $BODY" >&2; exit 1; }

call POST /api/account_export "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD1\"}"
expect 200 success "export everything stored (the password again)"
EXPORTED="$(BODY_JSON="$BODY" python3 -c '
import json, os
print(" ".join(e["kind"] for e in json.loads(os.environ["BODY_JSON"])["data"]["security_events"]))')"
[[ "$EXPORTED" == "account_exported sign_in email_confirmed" ]] \
    || { echo "not ok - the export's security activity: $EXPORTED" >&2; exit 1; }

call GET /api/whoami "${AUTH[@]}"
expect 200 success "whoami: what another service asks"
[[ -n "$(field data.account_id)" ]] || { echo "not ok - whoami has no account_id: $BODY" >&2; exit 1; }

call POST /api/change_email "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD1\",\"new_email\":\"$NEW_EMAIL\"}"
expect 200 "Check your email..." "change the address (a revert link goes to the old one)"

TOKEN_IN_MAIL="$(newest_link "$NEW_EMAIL" /confirm_email/)"
call GET "/api/confirm_email/$TOKEN_IN_MAIL"
expect 200 "Your email has been confirmed." "confirm the new address"

call POST /api/change_password "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD1\",\"new_pwd\":\"$PWD2\"}"
expect 200 "Your password has been changed." "change the password"

CSRF="$(awk '$6 == "csrf_access_token" {print $7}' "$JAR")"
call GET /api/logout -b "$JAR" -H "X-CSRF-TOKEN: $CSRF"
expect 200 "user logout" "sign out with the cookies and the CSRF header"

call GET /api/profile_settings "${AUTH[@]}"
expect 401 "authentication required" "the signed-out session's token no longer works"

call POST /api/reset_password_request "${JSON[@]}" -d "{\"username\":\"$U\"}"
expect 200 "Check your email..." "ask for a password reset"

TOKEN_IN_MAIL="$(newest_link "$NEW_EMAIL" /reset_password/)"
call POST "/api/reset_password/$TOKEN_IN_MAIL" "${JSON[@]}" -d "{\"new_pwd\":\"$PWD3\"}"
expect 200 "Your password has been reset." "choose a new password with the emailed link"
DEVICE="$(field data.device_token)"   # every older device token is void now
[[ -n "$DEVICE" ]] || { echo "not ok - the reset gave no device token: $BODY" >&2; exit 1; }

# Five wrong passwords from a client without a device token lock the username...
for _ in 1 2 3 4 5; do
    call POST /api/login "${JSON[@]}" -d "{\"username\":\"$U\",\"pwd\":\"not-the-password\"}"
    expect 401 "wrong username or password" "a stranger's wrong password"
done
call POST /api/login "${JSON[@]}" -d "{\"username\":\"$U\",\"pwd\":\"$PWD3\"}"
expect 429 "too many failed login attempts, try again later." "the username is locked for clients without a device token"
[[ "$(grep -i '^retry-after:' "$WORK/headers" | tr -d '\r' | awk '{print $2}')" =~ ^[0-9]+$ ]] \
    || { echo "not ok - the 429 has no Retry-After" >&2; exit 1; }

# ... but not for this device, judged by its own failures only.
call POST /api/login "${JSON[@]}" -H "X-Device-Token: $DEVICE" -d "{\"username\":\"$U\",\"pwd\":\"$PWD3\"}"
expect 200 success "sign in with the device token, the lockout notwithstanding"
AUTH=(-H "Authorization: Bearer $(field data.token)")

call POST /api/logout_all "${AUTH[@]}"
expect 200 "user logout" "sign out everywhere"

call POST /api/login "${JSON[@]}" -H "X-Device-Token: $DEVICE" -d "{\"username\":\"$U\",\"pwd\":\"$PWD3\"}"
expect 200 success "sign in once more (with the device token)"
AUTH=(-H "Authorization: Bearer $(field data.token)")

# Two-factor sign-in: a key, a code of it (computed here, in place of an
# authenticator app), then recovery codes for when the phone is gone.
call POST /api/mfa/totp/setup "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD3\"}"
expect 200 "Add the key to your authenticator app, then confirm with a code." "start two-factor sign-in: a key and its QR code"
KEY="$(field data.secret)"
call POST /api/mfa/totp/confirm "${AUTH[@]}" "${JSON[@]}" -d "{\"code\":\"$(totp "$KEY")\"}"
expect 200 "Two-factor sign-in is on." "confirm with a code of the key: 10 recovery codes, shown once"
RC1="$(field data.recovery_codes.0)"
RC2="$(field data.recovery_codes.1)"
call POST /api/login "${JSON[@]}" -H "X-Device-Token: $DEVICE" -d "{\"username\":\"$U\",\"pwd\":\"$PWD3\"}"
expect 401 "second factor required" "the password alone no longer signs in: an mfa_token"
MFA="$(field data.mfa_token)"
call POST /api/login/mfa "${JSON[@]}" -H "X-Device-Token: $DEVICE" -d "{\"mfa_token\":\"$MFA\",\"code\":\"$RC1\"}"
expect 200 success "sign in with a recovery code in place of a TOTP code"
AUTH=(-H "Authorization: Bearer $(field data.token)")
call POST /api/mfa/disable "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD3\",\"code\":\"$RC1\"}"
expect 401 "wrong code" "a recovery code works once"
call POST /api/mfa/disable "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD3\",\"code\":\"$RC2\"}"
expect 200 "Two-factor sign-in is off." "turn two-factor sign-in off (the password and a code)"

# The security activity of the run so far, newest first, in pages of 10 (the
# first page's cursor asks for the second): a sign-in from a new device (the
# first login sent no device token), the later ones with the device token,
# and every change; not the stranger's wrong passwords (no device token).
WANT="mfa_disabled sign_in mfa_enabled sign_in session_ended sign_in password_reset sign_out"
WANT+=" password_changed email_confirmed email_change_requested account_exported sign_in(new)"
WANT+=" email_confirmed"
KINDS=""
CURSOR=""
for page in 1 2; do
    call GET "/api/security_events?limit=10${CURSOR:+&cursor=$CURSOR}" "${AUTH[@]}"
    expect 200 success "the security activity, page $page"
    KINDS+="$(BODY_JSON="$BODY" python3 -c '
import json, os
events = json.loads(os.environ["BODY_JSON"])["data"]["events"]
for e in events:
    if (e["ip"], e["device"]) != ("127.0.0.1", "curl"):
        print("(from %s, %s)" % (e["ip"], e["device"]), end=" ")
    if ("new_device" in e) != (e["kind"] == "sign_in"):
        print("(new_device: %s)" % e.get("new_device", "missing"), end=" ")
    print(e["kind"] + ("(new)" if e.get("new_device") else ""), end=" ")
')"
    CURSOR="$(field data.cursor)"
done
[[ -z "$CURSOR" ]] || { echo "not ok - the second page has a cursor: $BODY" >&2; exit 1; }
STEP=$((STEP + 1))
if [[ "${KINDS% }" != "$WANT" ]]; then
    echo "not ok $STEP - the security activity: expected \"$WANT\", got \"${KINDS% }\"" >&2
    exit 1
fi
echo "ok $STEP - the security activity of the run, newest first: $WANT"

call POST /api/delete_account "${AUTH[@]}" "${JSON[@]}" -d "{\"pwd\":\"$PWD3\"}"
expect 200 "Your account has been deleted." "delete the account"

call POST /api/login "${JSON[@]}" -d "{\"username\":\"$U\",\"pwd\":\"$PWD3\"}"
expect 401 "wrong username or password" "the account is gone"

# The mail of the run, newest first, as the dev mailbox lists it.
STEP=$((STEP + 1))
SUBJECTS="$(curl -sS "$B/dev/mail.json?to=$NEW_EMAIL" | python3 -c '
import json, sys
print("; ".join(m["subject"] for m in json.load(sys.stdin)["mail"] if m["sent"]))')"
WANT="Your account was deleted; Two-factor sign-in was turned off; Two-factor sign-in was turned on; Your password was changed; Reset your password; Your password was changed; Confirm your new email address"
if [[ "$SUBJECTS" != "$WANT" ]]; then
    echo "not ok $STEP - the mail to $NEW_EMAIL: expected \"$WANT\", got \"$SUBJECTS\"" >&2
    exit 1
fi
echo "ok $STEP - the dev mailbox holds the mail of the run: $SUBJECTS"
# The first address: its link, the new-sign-in mail of the first login (no
# device token; every later one came with it; NEW_SIGNIN_MAIL is on by
# default), and the notice of the change.
STEP=$((STEP + 1))
SUBJECTS="$(curl -sS "$B/dev/mail.json?to=$EMAIL" | python3 -c '
import json, sys
print("; ".join(m["subject"] for m in json.load(sys.stdin)["mail"] if m["sent"]))')"
WANT="Your email address is being changed; New sign-in to your account; Confirm your email address"
if [[ "$SUBJECTS" != "$WANT" ]]; then
    echo "not ok $STEP - the mail to $EMAIL: expected \"$WANT\", got \"$SUBJECTS\"" >&2
    exit 1
fi
echo "ok $STEP - the first address got one new-sign-in mail: $SUBJECTS"

echo "walkthrough: all $STEP steps answered as documented ($U)"
