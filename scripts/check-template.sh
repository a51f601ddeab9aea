#!/usr/bin/env bash
# Offline checks of the deployment files; runnable from any directory:
#   1. cfn-lint template.yaml        - any error or warning fails
#   2. the SAM transform (aws-sam-translator), as CloudFormation would run it
#   3. the same two for each template snippet in docs/INTEGRATION.md (a
#      team's own stacks attaching our authorizer)
#   4. actionlint on .github/workflows/*.yml (with shellcheck)
# Exits non-zero if any check fails. Needs no AWS account and no Docker.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
cd "$REPO"

failed=0

echo "== cfn-lint $(cfn-lint --version 2>&1 | awk '{print $NF}') template.yaml"
# Exit codes: 0 clean, 2 errors, 4 warnings, 8 informational (bits OR-ed).
# Errors and warnings fail; informational findings are printed only when
# asked for, and are not enabled here.
if cfn-lint -- template.yaml; then
    echo "cfn-lint: no findings"
else
    echo "cfn-lint: findings above (exit $?)" >&2
    failed=1
fi

# The SAM transform as CloudFormation runs it, offline: transform FILE [--ours]
transform() {
    python3 - "$@" <<'PY'
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class StubManagedPolicyLoader:
    """The real loader asks IAM for the managed-policy map; the template uses none."""

    def load(self):
        return {}


with open(sys.argv[1], encoding="utf-8") as f:
    template = yaml_parse(f.read())
# Our own template's rules (Rust functions built by cargo-lambda, no secret
# in an environment variable); a team's stack in the docs needs only to
# transform and to grant nothing on '*'.
ours = len(sys.argv) > 2 and sys.argv[2] == "--ours"

# `sam build` / `sam package` replace the local CodeUri with the uploaded
# artifact; the translator accepts only the latter.
problems = []
for name, res in template.get("Resources", {}).items():
    if res.get("Type") != "AWS::Serverless::Function":
        continue
    props = res.setdefault("Properties", {})
    if "InlineCode" not in props:
        props["CodeUri"] = f"s3://example-artifacts/{name}.zip"
    if not ours:
        continue
    meta = res.get("Metadata", {})
    if meta.get("BuildMethod") != "rust-cargolambda" or not meta.get("BuildProperties", {}).get("Binary"):
        problems.append(f"{name}: Metadata needs BuildMethod rust-cargolambda and BuildProperties.Binary")
    env = props.get("Environment", {}).get("Variables", {})
    if "{{resolve:" in json.dumps(env):
        problems.append(f"{name}: a dynamic reference in the environment would expose its value")

try:
    out = transform(template, {}, StubManagedPolicyLoader())
except InvalidDocumentException as e:
    for cause in e.causes:
        print(f"  {cause.message}", file=sys.stderr)
    sys.exit(f"SAM transform failed: {e.message}")
except Exception as e:  # any other failure of the translator fails the check
    sys.exit(f"SAM transform failed: {type(e).__name__}: {e}")

# Least privilege: no wildcard resource in the inline policies we wrote.
for name, res in out["Resources"].items():
    if res["Type"] != "AWS::IAM::Role":
        continue
    for policy in res["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            resources = st.get("Resource", [])
            if not isinstance(resources, list):
                resources = [resources]
            if "*" in resources:
                problems.append(f"{name}: statement {st.get('Sid', '?')} grants on '*'")

# The integration snippets must attach our authorizer the way it answers:
# a request authorizer, payload 2.0, simple responses, our exported ARN;
# declared through SAM (an OpenAPI security scheme) or as an
# AWS::ApiGatewayV2::Authorizer.
if len(sys.argv) > 2 and sys.argv[2] == "--integration":
    schemes = [
        scheme.get("x-amazon-apigateway-authorizer", {})
        for res in out["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Api"
        for scheme in res["Properties"].get("Body", {}).get("components", {}).get("securitySchemes", {}).values()
    ] + [
        {
            "type": res["Properties"].get("AuthorizerType", "").lower(),
            "authorizerPayloadFormatVersion": res["Properties"].get("AuthorizerPayloadFormatVersion"),
            "enableSimpleResponses": res["Properties"].get("EnableSimpleResponses"),
            "authorizerUri": res["Properties"].get("AuthorizerUri"),
        }
        for res in out["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Authorizer"
    ]
    ok = [
        a for a in schemes
        if a.get("type") == "request"
        and a.get("authorizerPayloadFormatVersion") == "2.0"
        and a.get("enableSimpleResponses") is True
        and "AuthorizerFunctionArn" in json.dumps(a.get("authorizerUri"))
    ]
    if not ok:
        problems.append(f"no request authorizer (2.0, simple responses, our ARN) in {schemes}")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit("SAM transform: template checks failed")

by_type = {}
for res in out["Resources"].values():
    by_type[res["Type"]] = by_type.get(res["Type"], 0) + 1
print(f"SAM transform: OK, {len(out['Resources'])} CloudFormation resources generated")
for t in sorted(by_type):
    print(f"  {by_type[t]:3d} {t}")
PY
}

echo "== SAM transform (aws-sam-translator)"
if ! transform template.yaml --ours; then
    failed=1
fi

echo "== docs/INTEGRATION.md: its template snippets (cfn-lint, SAM transform)"
SNIPPETS="$(mktemp -d)"
trap 'rm -rf "$SNIPPETS"' EXIT
# The first yaml block after each <!-- integration-template --> marker, one
# file each: snippet-1.yaml, snippet-2.yaml, ...
awk -v dir="$SNIPPETS" '
     /<!-- integration-template -->/ {armed=1; n++; next}
     armed && /^```yaml$/ {inside=1; armed=0; next}
     inside && /^```$/ {inside=0; next}
     inside {print > (dir "/snippet-" n ".yaml")}' docs/INTEGRATION.md
shopt -s nullglob
snippets=("$SNIPPETS"/snippet-*.yaml)
shopt -u nullglob
markers="$(grep -c '<!-- integration-template -->' docs/INTEGRATION.md || true)"
if [[ ${#snippets[@]} -eq 0 || ${#snippets[@]} -ne $markers ]]; then
    echo "docs/INTEGRATION.md: $markers marker(s), ${#snippets[@]} yaml block(s) after them" >&2
    failed=1
fi
for snippet in "${snippets[@]}"; do
    name="$(basename "$snippet" .yaml)"
    if cfn-lint -- "$snippet" && transform "$snippet" --integration; then
        echo "docs/INTEGRATION.md $name: passes cfn-lint and the SAM transform"
    else
        echo "docs/INTEGRATION.md $name: fails (above)" >&2
        failed=1
    fi
done

echo "== actionlint $(actionlint -version 2>/dev/null | head -n1)"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
shopt -u nullglob
if [[ ${#workflows[@]} -eq 0 ]]; then
    echo "actionlint: no workflow files found" >&2
    failed=1
elif actionlint -shellcheck "$(command -v shellcheck || true)" "${workflows[@]}"; then
    echo "actionlint: no findings in ${#workflows[@]} workflow file(s)"
else
    echo "actionlint: findings above" >&2
    failed=1
fi

if [[ $failed -ne 0 ]]; then
    echo "check-template: FAILED" >&2
    exit 1
fi
echo "check-template: all checks passed"
