#!/usr/bin/env bash
# Offline checks of the deployment files; runnable from any directory:
#   1. cfn-lint template.yaml        - any error or warning fails; with the
#      defaults (edge protection off) and with EdgeProtection=on in
#      us-east-1 (the stack's own web ACL) and elsewhere (a web ACL given),
#      and cfn-lint deploy/edge-waf.yaml
#   2. the SAM transform (aws-sam-translator), as CloudFormation would run it,
#      for the same parameter sets; each output is then rendered for them
#      (the Rules asserted, the Conditions applied) and checked: least
#      privilege, route settings naming real routes, what edge protection
#      adds or leaves out, the dashboard's JSON, the service tokens (the
#      Issuer output, the key pair's rotation schedule, no table for the
#      JWKS and discovery functions), the account events (the table's
#      stream, the forwarder's stream mapping as docs/INTEGRATION.md says,
#      its role scoped to that stream, that bus and its failure queue, no
#      managed policy but Lambda's basic execution role); plus one set the Rules must refuse
#      (edge protection outside us-east-1 without a web ACL)
#   3. the same cfn-lint and transform for each template snippet in
#      docs/INTEGRATION.md and docs/SERVICE_TOKENS.md (a team's own stacks
#      attaching our Lambda authorizer, or API Gateway's JWT authorizer
#      pointed at our issuer; or, after an <!-- events-template --> marker,
#      subscribing to the account events: a rule for source user_account
#      and known detail-types, each target with retries and a dead-letter
#      queue, and allowed to receive from that rule only)
#   4. actionlint on .github/workflows/*.yml (with shellcheck)
# Exits non-zero if any check fails. Needs no AWS account and no Docker.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
cd "$REPO"

failed=0

# Example values for the edge protection parameters (nothing is looked up).
EDGE_CERT_US_EAST_1="arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
EDGE_CERT_EU_WEST_1="arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
EDGE_WEB_ACL="arn:aws:wafv2:us-east-1:123456789012:global/webacl/user-account-edge/66666666-7777-8888-9999-000000000000"
# Edge protection on, in us-east-1: the stack creates its web ACL.
EDGE_ON_US_EAST_1=(EdgeProtection=on EdgeOriginDomainName=origin-api.example.com
    "EdgeOriginCertificateArn=$EDGE_CERT_US_EAST_1")
# Edge protection on elsewhere, with a web ACL from deploy/edge-waf.yaml, a
# Route 53 zone for the origin's record, a public alias and an alarm topic.
EDGE_ON_EU_WEST_1=(EdgeProtection=on EdgeOriginDomainName=origin-api.example.com
    "EdgeOriginCertificateArn=$EDGE_CERT_EU_WEST_1" "EdgeWebAclArn=$EDGE_WEB_ACL"
    EdgeOriginHostedZoneId=Z0123456789ABCDEFGHIJ EdgeAliasDomainName=api.example.com
    "EdgeAliasCertificateArn=$EDGE_CERT_US_EAST_1"
    AlarmTopicArn=arn:aws:sns:eu-west-1:123456789012:user-account-alarms)

# lint LABEL CFN-LINT-ARGS...: one cfn-lint run. Exit codes: 0 clean, 2
# errors, 4 warnings, 8 informational (bits OR-ed). Errors and warnings
# fail; informational findings are printed only when asked for, and are
# not enabled here.
lint() {
    local label="$1"
    shift
    if cfn-lint "$@"; then
        echo "cfn-lint ($label): no findings"
    else
        echo "cfn-lint ($label): findings above (exit $?)" >&2
        failed=1
    fi
}

echo "== cfn-lint $(cfn-lint --version 2>&1 | awk '{print $NF}') template.yaml, deploy/edge-waf.yaml"
# cfn-lint evaluates the Conditions itself; --parameters pins them to one set.
lint "template.yaml, defaults" -- template.yaml
lint "template.yaml, edge on, us-east-1" --regions us-east-1 \
    --parameters "${EDGE_ON_US_EAST_1[@]}" -- template.yaml
lint "template.yaml, edge on, eu-west-1, web ACL given" --regions eu-west-1 \
    --parameters "${EDGE_ON_EU_WEST_1[@]}" -- template.yaml
lint "deploy/edge-waf.yaml" --regions us-east-1 -- deploy/edge-waf.yaml

# The SAM transform as CloudFormation runs it, offline:
#   transform FILE [--ours | --integration | --events] [--region REGION] [--param KEY=VALUE]...
#       [--expect-rule RULE]
# --param and --region are the stack's parameter values and region (defaults:
# the template's defaults, us-east-1). With --ours the output is then rendered
# for them (Rules asserted, Conditions applied, Fn::If chosen) and checked;
# --expect-rule RULE: the Rules must refuse these values with RULE.
transform() {
    python3 - "$@" <<'PY'
import argparse
import copy
import json
import os
import re
import sys

parser = argparse.ArgumentParser()
parser.add_argument("file")
parser.add_argument("--ours", action="store_true")
parser.add_argument("--integration", action="store_true")
parser.add_argument("--events", action="store_true")
parser.add_argument("--region", default="us-east-1")
parser.add_argument("--param", action="append", default=[])
parser.add_argument("--expect-rule")
args = parser.parse_args()
# The translator fills in AWS::Region from the SDK's region.
os.environ["AWS_DEFAULT_REGION"] = args.region

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class StubManagedPolicyLoader:
    """The real loader asks IAM for the managed-policy map; the template uses none."""

    def load(self):
        return {}


with open(args.file, encoding="utf-8") as f:
    template = yaml_parse(f.read())
# Our own template's rules (Rust functions built by cargo-lambda, no secret
# in an environment variable); a team's stack in the docs needs only to
# transform and to grant nothing on '*'.
ours = args.ours
given = dict(p.split("=", 1) for p in args.param)
unknown = set(given) - set(template.get("Parameters", {}))
if unknown:
    sys.exit(f"--param names no parameter of {args.file}: {sorted(unknown)}")

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
    out = transform(copy.deepcopy(template), given, StubManagedPolicyLoader())
except InvalidDocumentException as e:
    for cause in e.causes:
        print(f"  {cause.message}", file=sys.stderr)
    sys.exit(f"SAM transform failed: {e.message}")
except Exception as e:  # any other failure of the translator fails the check
    sys.exit(f"SAM transform failed: {type(e).__name__}: {e}")


# ---- rendering for one set of parameter values: what CloudFormation would
# deploy (Rules, Conditions, Fn::If; other intrinsics are left as they are).
NO_VALUE = object()
values = {"AWS::Region": args.region, "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
          "AWS::StackName": "user-account-check", "AWS::URLSuffix": "amazonaws.com"}
for name, param in out.get("Parameters", {}).items():
    value = str(given.get(name, param.get("Default", "")))
    values[name] = value.split(",") if param.get("Type") == "CommaDelimitedList" else value
conditions = {}


def evaluate(node):
    """A condition's or a rule's value."""
    if isinstance(node, list):
        return [evaluate(n) for n in node]
    if not isinstance(node, dict):
        return node
    (fn, arg), = node.items()
    if fn == "Ref":
        return values[arg]
    if fn == "Condition":
        return condition(arg)
    if fn == "Fn::Equals":
        a, b = (evaluate(x) for x in arg)
        return (a if isinstance(a, list) else str(a)) == (b if isinstance(b, list) else str(b))
    if fn == "Fn::Not":
        return not evaluate(arg[0])
    if fn == "Fn::And":
        return all(evaluate(x) for x in arg)
    if fn == "Fn::Or":
        return any(evaluate(x) for x in arg)
    if fn == "Fn::Join":
        return arg[0].join(str(x) for x in evaluate(arg[1]))
    sys.exit(f"cannot evaluate {fn} in a condition or rule")


def condition(name):
    if name not in conditions:
        conditions[name] = bool(evaluate(out["Conditions"][name]))
    return conditions[name]


def render(node):
    """The node with each Fn::If chosen and AWS::NoValue dropped."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            cond, yes, no = node["Fn::If"]
            return render(yes if condition(cond) else no)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        kept = {k: render(v) for k, v in node.items()}
        return {k: v for k, v in kept.items() if v is not NO_VALUE}
    if isinstance(node, list):
        return [v for v in (render(n) for n in node) if v is not NO_VALUE]
    return node


refused = [
    f"{name}: {assertion.get('AssertDescription', '').strip()}"
    for name, rule in out.get("Rules", {}).items()
    if "RuleCondition" not in rule or evaluate(rule["RuleCondition"])
    for assertion in rule["Assertions"]
    if not evaluate(assertion["Assert"])
]
if args.expect_rule:
    if any(r.startswith(args.expect_rule + ":") for r in refused):
        print(f"SAM transform: OK, and the Rules refuse these values as expected ({args.expect_rule})")
        sys.exit(0)
    sys.exit(f"the Rules accept values that {args.expect_rule} should refuse (refused: {refused})")
if refused:
    sys.exit("the Rules refuse these values:\n  " + "\n  ".join(refused))

resources = {
    name: render(res)
    for name, res in out["Resources"].items()
    if "Condition" not in res or condition(res["Condition"])
}
outputs = {name: render(o) for name, o in out.get("Outputs", {}).items()
           if "Condition" not in o or condition(o["Condition"])}


def grants_on_star(res):
    for policy in res["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            resources_ = st.get("Resource", [])
            if "*" in (resources_ if isinstance(resources_, list) else [resources_]):
                yield st.get("Sid", "?")


# Least privilege: no wildcard resource in the inline policies we wrote.
for name, res in resources.items():
    if res["Type"] == "AWS::IAM::Role":
        for sid in grants_on_star(res):
            problems.append(f"{name}: statement {sid} grants on '*'")

if ours:
    by_type = lambda t: {n: r for n, r in resources.items() if r["Type"] == t}  # noqa: E731
    api = resources["HttpApi"]["Properties"]
    stage = next(iter(by_type("AWS::ApiGatewayV2::Stage").values()))["Properties"]

    # Every route key of the stage's RouteSettings is a route of the API
    # (else: "Unable to find Route by key" at deploy time).
    routes = {
        "$default" if path == "$default" else
        f"{'ANY' if m == 'x-amazon-apigateway-any-method' else m.upper()} {path}"
        for path, methods in api["Body"]["paths"].items()
        for m in methods
    }
    for key in stage.get("RouteSettings", {}):
        if key not in routes:
            problems.append(f"HttpApi RouteSettings: {key!r} is no route of the API")

    edge = values.get("EdgeProtection") == "on"
    functions = by_type("AWS::Lambda::Function")
    roles = by_type("AWS::IAM::Role")

    def env(fn):
        return functions[fn]["Properties"].get("Environment", {}).get("Variables", {})

    def reads_edge_secret(fn):
        role = functions[fn]["Properties"]["Role"]["Fn::GetAtt"][0]
        return any(
            st.get("Resource") == {"Ref": "EdgeOriginSecret"}
            and st.get("Action") == "secretsmanager:GetSecretValue"
            for policy in roles[role]["Properties"].get("Policies", [])
            for st in policy["PolicyDocument"]["Statement"]
        )

    endpoint = [s.get("x-amazon-apigateway-endpoint-configuration", {}).get("disableExecuteApiEndpoint")
                for s in api["Body"].get("servers", [])]
    if endpoint != [edge]:
        problems.append(f"HttpApi: disableExecuteApiEndpoint is {endpoint}, expected [{edge}]")
    keyed = [fn for fn in functions if "EDGE_ORIGIN_SECRET_ARN" in env(fn)]
    if "LoginFunction" not in keyed:
        problems.append("LoginFunction: no EDGE_ORIGIN_SECRET_ARN")
    for fn in functions:
        value = env(fn).get("EDGE_ORIGIN_SECRET_ARN")
        if edge and fn in keyed and value != {"Ref": "EdgeOriginSecret"}:
            problems.append(f"{fn}: EDGE_ORIGIN_SECRET_ARN is {value!r}, not the secret's ARN")
        if not edge and fn in keyed and value != "":
            problems.append(f"{fn}: EDGE_ORIGIN_SECRET_ARN is {value!r} with edge protection off")
        # The secret only for the functions that read it, only when it exists.
        if reads_edge_secret(fn) != (edge and fn in keyed):
            problems.append(f"{fn}: secretsmanager:GetSecretValue on EdgeOriginSecret should be "
                            f"{'granted' if edge and fn in keyed else 'absent'}")
        # The links' base: PublicBaseUrl if set; else behind CloudFront its
        # public name (the alias, or the distribution's), never the origin's.
        base = env(fn).get("PUBLIC_BASE_URL")
        if values["PublicBaseUrl"] != "":
            wanted = {"Ref": "PublicBaseUrl"}
        elif edge and values["EdgeAliasDomainName"] != "":
            wanted = {"Fn::Sub": "https://${EdgeAliasDomainName}"}
        elif edge:
            wanted = {"Fn::Sub": "https://${EdgeDistribution.DomainName}"}
        else:
            wanted = ""
        if base != wanted:
            problems.append(f"{fn}: PUBLIC_BASE_URL is {base!r}, expected {wanted!r}")

    edge_types = {"AWS::CloudFront::Distribution", "AWS::WAFv2::WebACL", "AWS::ApiGatewayV2::DomainName",
                  "AWS::ApiGatewayV2::ApiMapping", "AWS::Route53::RecordSet"}
    if not edge:
        extra = [n for n, r in resources.items() if r["Type"] in edge_types or n.startswith("Edge")]
        if extra or any(o.startswith("Edge") for o in outputs):
            problems.append(f"edge protection off, yet {extra} {list(outputs)}")
    else:
        dist = resources["EdgeDistribution"]["Properties"]["DistributionConfig"]
        origin, = dist["Origins"]
        behavior = dist["DefaultCacheBehavior"]
        headers = {h["HeaderName"]: h["HeaderValue"] for h in origin.get("OriginCustomHeaders", [])}
        if "{{resolve:secretsmanager:" not in json.dumps(headers.get("X-Origin-Verify")):
            problems.append("EdgeDistribution: no X-Origin-Verify header from the secret")
        if origin["DomainName"] != {"Ref": "EdgeOriginDomainName"} \
                or origin["CustomOriginConfig"]["OriginProtocolPolicy"] != "https-only":
            problems.append("EdgeDistribution: the origin is not the API's custom domain over HTTPS")
        if len(set(behavior["AllowedMethods"])) != 7:
            problems.append("EdgeDistribution: not every method is allowed")
        orp = resources["EdgeOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
        wanted = {"CloudFront-Viewer-Address", "X-CSRF-TOKEN", "X-Device-Token"}
        if not wanted <= set(orp["HeadersConfig"].get("Headers", [])) \
                or orp["CookiesConfig"]["CookieBehavior"] != "all" \
                or orp["QueryStringsConfig"]["QueryStringBehavior"] != "all":
            problems.append("EdgeOriginRequestPolicy: not every header, cookie and query string the API reads")
        cache = resources["EdgeCachePolicy"]["Properties"]["CachePolicyConfig"]
        if cache["DefaultTTL"] != 0 or "Authorization" not in json.dumps(cache):
            problems.append("EdgeCachePolicy: caches, or does not forward Authorization")
        own_acl = values["EdgeWebAclArn"] == ""
        if ("EdgeWebAcl" in resources) != own_acl or dist.get("WebACLId") != (
                {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]} if own_acl else {"Ref": "EdgeWebAclArn"}):
            problems.append(f"EdgeDistribution: WebACLId {dist.get('WebACLId')} (own web ACL: {own_acl})")
        if ("EdgeOriginRecord" in resources) != (values["EdgeOriginHostedZoneId"] != ""):
            problems.append("EdgeOriginRecord: present without a hosted zone, or missing with one")
        if "EdgeUrl" not in outputs:
            problems.append("no EdgeUrl output")

    # The service tokens: the Issuer output is the tokens' iss, which the
    # functions derive from PUBLIC_BASE_URL (the execute-api URL when it is
    # empty); the key pair's rotation schedule is always there (it puts the
    # first key pair in the secret); the JWKS and discovery functions touch
    # no table.
    issuer = outputs.get("Issuer", {}).get("Value")
    if values["PublicBaseUrl"] != "":
        wanted_issuer = {"Ref": "PublicBaseUrl"}
    elif edge and values["EdgeAliasDomainName"] != "":
        wanted_issuer = {"Fn::Sub": "https://${EdgeAliasDomainName}"}
    elif edge:
        wanted_issuer = {"Fn::Sub": "https://${EdgeDistribution.DomainName}"}
    else:
        wanted_issuer = {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    if issuer != wanted_issuer:
        problems.append(f"Issuer output is {issuer!r}, expected {wanted_issuer!r}")
    if outputs.get("Issuer", {}).get("Export") != {"Name": {"Fn::Sub": "${AWS::StackName}-Issuer"}}:
        problems.append("Issuer output: not exported as <stack>-Issuer")
    schedules = [r["Properties"] for r in by_type("AWS::SecretsManager::RotationSchedule").values()]
    if {"Ref": "ServiceKey"} not in [sch.get("SecretId") for sch in schedules]:
        problems.append("ServiceKey: no rotation schedule (it would never hold a key pair)")
    for fn in ("JwksFunction", "OpenidConfigurationFunction"):
        role = functions[fn]["Properties"]["Role"]["Fn::GetAtt"][0]
        if "dynamodb:" in json.dumps(roles[role]["Properties"].get("Policies", [])):
            problems.append(f"{fn}: a DynamoDB permission, which it never uses")

    # The account events: the table's stream of new images; one stream
    # mapping to the forwarder, with the retries, failure destination and
    # filter docs/INTEGRATION.md describes; the forwarder's role scoped to
    # that stream, that bus (our source only) and the failure queue, and
    # nobody else granted any of it. No role gets a managed policy but
    # Lambda's basic execution role (SAM's DynamoDB event source would add
    # AWSLambdaDynamoDBExecutionRole: the stream actions on '*').
    if resources["Table"]["Properties"].get("StreamSpecification") != {"StreamViewType": "NEW_IMAGE"}:
        problems.append("Table: StreamSpecification is not {StreamViewType: NEW_IMAGE}")
    forwarder_role = functions["EventsForwarderFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    stream_arn = {"Fn::GetAtt": ["Table", "StreamArn"]}
    failure_queue = {"Fn::GetAtt": ["EventsFailureQueue", "Arn"]}
    mappings = by_type("AWS::Lambda::EventSourceMapping")
    wanted_mapping = {
        "FunctionName": {"Ref": "EventsForwarderFunction"},
        "EventSourceArn": stream_arn,
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 100,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 10,
        "MaximumRecordAgeInSeconds": 86400,
        "DestinationConfig": {"OnFailure": {"Destination": failure_queue}},
    }
    wanted_filter = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "OUTBOX#"}]}}}}
    if len(mappings) != 1:
        problems.append(f"expected one event source mapping (the forwarder's), found {sorted(mappings)}")
    for mname, mapping in mappings.items():
        props = mapping["Properties"]
        for key, want in wanted_mapping.items():
            if props.get(key) != want:
                problems.append(f"{mname}: {key} is {props.get(key)!r}, expected {want!r}")
        try:
            patterns = [json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])]
        except (KeyError, TypeError, ValueError) as e:
            patterns = [f"unreadable: {e}"]
        if patterns != [wanted_filter]:
            problems.append(f"{mname}: filters {patterns}, expected [{wanted_filter}]")
    queue = resources.get("EventsFailureQueue", {}).get("Properties", {})
    if queue.get("SqsManagedSseEnabled") is not True or queue.get("MessageRetentionPeriod") != 1209600:
        problems.append("EventsFailureQueue: not encrypted (SqsManagedSseEnabled) or not kept 14 days")
    if env("EventsForwarderFunction").get("EVENT_BUS_NAME") != {"Ref": "EventBusName"}:
        problems.append("EventsForwarderFunction: EVENT_BUS_NAME is not the EventBusName parameter")
    bus_arn = {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"}
    stream_actions = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                      "dynamodb:ListStreams"}
    granted_to_forwarder = set()
    for rname, role in roles.items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            if not str(arn).endswith(":policy/service-role/AWSLambdaBasicExecutionRole"):
                problems.append(f"{rname}: managed policy {arn}")
        for policy in role["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                acts = st.get("Action", [])
                acts = set(acts if isinstance(acts, list) else [acts])
                sid = st.get("Sid", "?")
                if any(a.startswith("events:") for a in acts):
                    if rname != forwarder_role or acts != {"events:PutEvents"} or st.get("Resource") != bus_arn \
                            or st.get("Condition") != {"StringEquals": {"events:source": "user_account"}}:
                        problems.append(f"{rname} {sid}: EventBridge actions other than the forwarder's"
                                        " PutEvents on the EventBusName bus for source user_account")
                    else:
                        granted_to_forwarder.add("put")
                if acts & stream_actions:
                    if rname != forwarder_role or not acts <= stream_actions or st.get("Resource") != stream_arn:
                        problems.append(f"{rname} {sid}: stream actions beyond the forwarder's on the table's stream")
                    else:
                        granted_to_forwarder.add("stream")
                if any(a.startswith("sqs:") for a in acts):
                    if rname != forwarder_role or acts != {"sqs:SendMessage"} or st.get("Resource") != failure_queue:
                        problems.append(f"{rname} {sid}: SQS actions beyond the forwarder's SendMessage to its"
                                        " failure queue")
                    else:
                        granted_to_forwarder.add("queue")
                if rname == forwarder_role and st.get("Resource") == {"Fn::GetAtt": ["Table", "Arn"]}:
                    problems.append(f"{rname} {sid}: the forwarder reads the stream only, not the table")
    if granted_to_forwarder != {"put", "stream", "queue"}:
        problems.append(f"EventsForwarderFunction: granted only {sorted(granted_to_forwarder)} of"
                        " PutEvents, the stream and the failure queue")

    # The dashboard's body is JSON once Fn::Sub has filled it in.
    for name, res in by_type("AWS::CloudWatch::Dashboard").items():
        body = res["Properties"]["DashboardBody"]["Fn::Sub"]
        try:
            json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
        except ValueError as e:
            problems.append(f"{name}: DashboardBody is not JSON: {e}")

    # deploy/edge-waf.yaml makes the same web ACL rules as EdgeWebAcl.
    with open("deploy/edge-waf.yaml", encoding="utf-8") as f:
        standalone = yaml_parse(f.read())
    same = ("Scope", "DefaultAction", "CustomResponseBodies", "Rules")
    theirs = standalone["Resources"]["EdgeWebAcl"]["Properties"]
    mine = template["Resources"]["EdgeWebAcl"]["Properties"]
    for key in same:
        if theirs.get(key) != mine.get(key):
            problems.append(f"deploy/edge-waf.yaml: its web ACL's {key} differs from template.yaml's EdgeWebAcl")

# The integration snippets must attach our authorizer the way it answers:
# a request authorizer, payload 2.0, simple responses, our exported ARN;
# or API Gateway's JWT authorizer on the Authorization header, with an
# issuer and at least one audience (a service token's aud); declared
# through SAM (an OpenAPI security scheme) or as an
# AWS::ApiGatewayV2::Authorizer.
if args.integration:
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
            "identitySource": res["Properties"].get("IdentitySource"),
            "jwtConfiguration": {k.lower(): v for k, v in res["Properties"].get("JwtConfiguration", {}).items()},
        }
        for res in out["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Authorizer"
    ]

    def ours_request(a):
        return (a.get("type") == "request"
                and a.get("authorizerPayloadFormatVersion") == "2.0"
                and a.get("enableSimpleResponses") is True
                and "AuthorizerFunctionArn" in json.dumps(a.get("authorizerUri")))

    def jwt_on_our_tokens(a):
        jwt = a.get("jwtConfiguration") or {}
        source = a.get("identitySource")
        return (a.get("type") == "jwt"
                and source in ("$request.header.Authorization", ["$request.header.Authorization"])
                and bool(jwt.get("issuer"))
                and isinstance(jwt.get("audience"), list) and len(jwt["audience"]) > 0)

    ok = [a for a in schemes if ours_request(a) or jwt_on_our_tokens(a)]
    if not ok:
        problems.append("no request authorizer (2.0, simple responses, our ARN) and no JWT authorizer"
                        f" (Authorization header, issuer, audience) in {schemes}")

# A team's subscription to the account events: every rule matches our
# source (and only detail-types we send) on a bus the snippet names; every
# target, and its dead-letter queue, is a queue or function of the stack
# that receives from that rule only (a queue policy or a Lambda permission
# with the rule's ARN as aws:SourceArn), with a retry policy.
DETAIL_TYPES = {"UserRegistered", "EmailConfirmed", "PasswordChanged", "PasswordReset", "EmailChanged",
                "EmailRestored", "MfaEnabled", "MfaDisabled", "PasskeyAdded", "PasskeyRemoved",
                "AccountDeleted"}
if args.events:
    def of_type(t):
        return {n: r for n, r in resources.items() if r["Type"] == t}

    def actions_of(st):
        acts = st.get("Action", [])
        return acts if isinstance(acts, list) else [acts]

    def resource_list(value):
        return value if isinstance(value, list) else [value]

    def receives_from(target_arn, rule_arn):
        ref = target_arn.get("Fn::GetAtt", [None])[0] if isinstance(target_arn, dict) else None
        kind = resources.get(ref, {}).get("Type")
        if kind == "AWS::SQS::Queue":
            return any(
                {"Ref": ref} in resource_list(qp["Properties"].get("Queues", []))
                and st.get("Effect") == "Allow"
                and st.get("Principal") == {"Service": "events.amazonaws.com"}
                and "sqs:SendMessage" in actions_of(st)
                and target_arn in resource_list(st.get("Resource"))
                and rule_arn in st.get("Condition", {}).get("ArnEquals", {}).values()
                for qp in of_type("AWS::SQS::QueuePolicy").values()
                for st in qp["Properties"]["PolicyDocument"]["Statement"]
            )
        if kind == "AWS::Lambda::Function":
            return any(
                perm["Properties"].get("Principal") == "events.amazonaws.com"
                and perm["Properties"].get("SourceArn") == rule_arn
                and perm["Properties"].get("FunctionName") in ({"Ref": ref}, target_arn)
                for perm in of_type("AWS::Lambda::Permission").values()
            )
        return False

    rules = of_type("AWS::Events::Rule")
    if not rules:
        problems.append("no AWS::Events::Rule")
    for name, rule in rules.items():
        props = rule["Properties"]
        pattern = props.get("EventPattern", {})
        rule_arn = {"Fn::GetAtt": [name, "Arn"]}
        if pattern.get("source") != ["user_account"]:
            problems.append(f"{name}: the pattern's source is {pattern.get('source')!r}, not ['user_account']")
        unknown = set(pattern.get("detail-type", [])) - DETAIL_TYPES
        if unknown:
            problems.append(f"{name}: detail-types user_account never sends: {sorted(unknown)}")
        if "EventBusName" not in props:
            problems.append(f"{name}: no EventBusName (the bus user_account puts its events on)")
        if not props.get("Targets"):
            problems.append(f"{name}: no target")
        for target in props.get("Targets", []):
            tid = target.get("Id", "?")
            if "RetryPolicy" not in target or "Arn" not in target.get("DeadLetterConfig", {}):
                problems.append(f"{name} {tid}: no RetryPolicy or no DeadLetterConfig")
            for arn in (target["Arn"], target.get("DeadLetterConfig", {}).get("Arn")):
                if arn is not None and not receives_from(arn, rule_arn):
                    problems.append(f"{name} {tid}: {arn} is no queue or function of the stack that"
                                    " receives from this rule (a queue policy or a Lambda permission"
                                    " with the rule's ARN)")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit("SAM transform: template checks failed")

counts = {}
for res in resources.values():
    counts[res["Type"]] = counts.get(res["Type"], 0) + 1
print(f"SAM transform: OK, {len(out['Resources'])} CloudFormation resources generated, "
      f"{len(resources)} deployed with these values")
for t in sorted(counts):
    print(f"  {counts[t]:3d} {t}")
PY
}

# ours LABEL [TRANSFORM-OPTIONS...] [-- KEY=VALUE...]: one transform of
# template.yaml, rendered and checked for those parameter values.
ours() {
    local label="$1" args=() p
    shift
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        args+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    for p in "$@"; do
        args+=(--param "$p")
    done
    echo "-- $label"
    if ! transform template.yaml --ours "${args[@]}"; then
        failed=1
    fi
}

echo "== SAM transform (aws-sam-translator), rendered and checked for each set of values"
ours "template.yaml, defaults (edge protection off)"
ours "template.yaml, edge on, us-east-1 (the stack's own web ACL)" --region us-east-1 \
    -- "${EDGE_ON_US_EAST_1[@]}"
ours "template.yaml, edge on, eu-west-1 (web ACL given, Route 53 record, alias, alarm topic)" \
    --region eu-west-1 -- "${EDGE_ON_EU_WEST_1[@]}"
ours "template.yaml, key rotation every 90 days, a public base URL" \
    -- JwtRotationDays=90 PublicBaseUrl=https://example.com/auth TokenAudiences=orders,billing
ours "template.yaml, edge on, eu-west-1 without a web ACL: refused by the Rules" \
    --region eu-west-1 --expect-rule EdgeWebAclOnlyInUsEast1 \
    -- EdgeProtection=on EdgeOriginDomainName=origin-api.example.com \
    "EdgeOriginCertificateArn=$EDGE_CERT_EU_WEST_1"

SNIPPETS="$(mktemp -d)"
trap 'rm -rf "$SNIPPETS"' EXIT
for doc in docs/INTEGRATION.md docs/SERVICE_TOKENS.md; do
    echo "== $doc: its template snippets (cfn-lint, SAM transform)"
    dir="$SNIPPETS/$(basename "$doc" .md)"
    mkdir -p "$dir"
    # The first yaml block after each <!-- integration-template --> marker,
    # one file each: snippet-1.yaml, snippet-2.yaml, ...; after each
    # <!-- events-template --> marker: events-1.yaml, events-2.yaml, ...
    awk -v dir="$dir" '
         /<!-- integration-template -->/ {armed=1; kind="snippet"; n++; next}
         /<!-- events-template -->/ {armed=1; kind="events"; e++; next}
         armed && /^```yaml$/ {inside=1; armed=0; file=dir "/" kind "-" (kind == "events" ? e : n) ".yaml"; next}
         inside && /^```$/ {inside=0; next}
         inside {print > file}' "$doc"
    shopt -s nullglob
    snippets=("$dir"/snippet-*.yaml)
    events=("$dir"/events-*.yaml)
    shopt -u nullglob
    markers="$(grep -c '<!-- integration-template -->' "$doc" || true)"
    if [[ ${#snippets[@]} -eq 0 || ${#snippets[@]} -ne $markers ]]; then
        echo "$doc: $markers marker(s), ${#snippets[@]} yaml block(s) after them" >&2
        failed=1
    fi
    # The account events' snippets are in INTEGRATION.md ("Account events").
    markers="$(grep -c '<!-- events-template -->' "$doc" || true)"
    if [[ ${#events[@]} -ne $markers || ($doc == docs/INTEGRATION.md && $markers -eq 0) ]]; then
        echo "$doc: $markers events marker(s), ${#events[@]} yaml block(s) after them" >&2
        failed=1
    fi
    for snippet in "${snippets[@]}" "${events[@]}"; do
        name="$(basename "$snippet" .yaml)"
        kind=--integration
        [[ $name == events-* ]] && kind=--events
        if cfn-lint -- "$snippet" && transform "$snippet" "$kind"; then
            echo "$doc $name: passes cfn-lint and the SAM transform"
        else
            echo "$doc $name: fails (above)" >&2
            failed=1
        fi
    done
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
