#!/usr/bin/env bash
# The real function binaries under `cargo lambda watch`, fed events/*.json
# against moto. Run by scripts/test.sh (which starts moto and sets AWS_*).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
cd "$REPO"
# Build every binary first so no invocation waits for a compiler.
cargo build --locked -p index -p login -p registration -p reset_password_request \
    -p profile_settings -p confirm_email -p reset_password -p logout -p pages -p whoami -p authorizer \
    -p rotation -p mfa_status -p totp_setup -p totp_confirm -p recovery_codes -p mfa_disable -p login_mfa \
    -p passkey_register_start -p passkey_register_finish -p passkeys -p passkey_remove \
    -p passkey_login_start -p passkey_login_finish -p token -p jwks -p openid_configuration \
    -p security_events -p events_forwarder
python3 scripts/lambda_invoke.py
