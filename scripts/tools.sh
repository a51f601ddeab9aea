# shellcheck shell=bash
# Source this file (do not run it): `source scripts/tools.sh [deploy]`.
#
# Without an argument: makes the Python-packaged tools pinned in
# scripts/requirements-tools.txt (moto_server, cfn-lint, aws-sam-translator,
# actionlint, shellcheck, cargo-lambda, zig, schemathesis, fido2, pyotp, PyJWT) and,
# installed with --no-deps, in scripts/requirements-nodeps.txt (soft-webauthn)
# available by putting "$REPO/.tools/venv/bin" first on PATH. What the tests use.
#
# With `deploy`: only what `sam build` needs (scripts/requirements-deploy.txt:
# cargo-lambda and zig), in a venv of its own, "$REPO/.tools/deploy-venv".
#
# Any other argument is ignored: a script that sources this file without
# arguments passes on its own (`bash scripts/arm64.sh build`), and gets the
# test tools as before.
#
# The venv is created on first use and re-installed when a requirements
# file (or the python3 it was built with) changes.
# Returns non-zero, without exiting the caller's shell, on failure.

_tools_main() {
    local repo venv req nodeps stamp want have
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    if [[ "${1:-}" == deploy ]]; then
        venv="$repo/.tools/deploy-venv"
        req="$repo/scripts/requirements-deploy.txt"
        nodeps=""
    else
        venv="$repo/.tools/venv"
        req="$repo/scripts/requirements-tools.txt"
        nodeps="$repo/scripts/requirements-nodeps.txt"
    fi
    stamp="$venv/.requirements.sha256"

    command -v python3 >/dev/null 2>&1 || { echo "tools.sh: python3 not found" >&2; return 1; }
    want="$({ cat "$req" ${nodeps:+"$nodeps"}; python3 --version; } | sha256sum | cut -d' ' -f1)" || return 1
    have="$(cat "$stamp" 2>/dev/null || true)"

    mkdir -p "$repo/.tools" || return 1
    # Self-ignoring, so the venv can never be committed by accident.
    [[ -f "$repo/.tools/.gitignore" ]] || printf '*\n' >"$repo/.tools/.gitignore"

    if [[ ! -x "$venv/bin/python" || "$want" != "$have" ]]; then
        echo "tools.sh: installing tools into $venv ..." >&2
        rm -rf "$venv"
        python3 -m venv "$venv" || { echo "tools.sh: python3 -m venv failed" >&2; return 1; }
        if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --requirement "$req"; then
            echo "tools.sh: pip install -r $req failed" >&2
            return 1
        fi
        if [[ -n "$nodeps" ]] && ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-deps --requirement "$nodeps"; then
            echo "tools.sh: pip install --no-deps -r $nodeps failed" >&2
            return 1
        fi
        printf '%s\n' "$want" >"$stamp"
    fi

    case ":$PATH:" in
        *":$venv/bin:"*) ;;
        *) PATH="$venv/bin:$PATH" ;;
    esac
    export PATH
}

_tools_main "$@"
_tools_status=$?
unset -f _tools_main
if [[ $_tools_status -ne 0 ]]; then
    unset _tools_status
    # `return` when sourced (the intended use), `exit` if run as a script.
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
fi
unset _tools_status
