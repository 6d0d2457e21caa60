#!/usr/bin/env bash
# Deploy rehearsal: runs ./deploy.sh against moto (a local stand-in for CloudFormation, S3, IAM, Lambda,
# DynamoDB and Step Functions) on 127.0.0.1, then reads what it created back with the aws CLI and checks
# it against the template.
#
#   scripts/deploy-rehearsal.sh [--no-build] [--keep-server]
#
#   --no-build      deploy the zips already in target/lambda (deploy.sh --no-build)
#   --keep-server   leave moto running at the end and print how to reach it (for poking around)
#
# What it checks:
#   1. ./deploy.sh (building the arm64 zips) reaches CREATE_COMPLETE and prints the API URL and a curl
#      example for both routes;
#   2. every resource of the deployed template exists, and: the table's keys and billing mode; each role's trust principals and inline policies as the template wrote them (no '*'
#      action, resources resolved to ARNs); each function's runtime, handler, role, TABLE_NAME and code
#      (the uploaded zip is byte for byte the one cargo-lambda built, with an arm64 ELF inside, and the
#      stack's Architecture parameter is arm64); the state machine's role and definition (JSON, no
#      unresolved ${...}, every Lambda task names a deployed function); the REST API's two POST routes;
#   3. a second ./deploy.sh (another artifact bucket, so the functions' code location changes) reaches
#      UPDATE_COMPLETE;
#   4. ./deploy.sh --express, exactly as a user runs it (synth inside), creates a second stack whose
#      template has an EXPRESS state machine;
#   5. ./deploy.sh --destroy deletes both stacks, and the table (DeletionPolicy Retain) stays.
#
# moto's gaps are worked around HERE, never in deploy.sh:
#   - its CloudFormation skips AWS::ApiGateway::Stage, ::Account, ::Model and ::RequestValidator and keeps
#     them as holes that break DescribeStackResource(s) after an update; its
#     AWS::StepFunctions::StateMachine reads only DefinitionString (synth writes Definition +
#     DefinitionSubstitutions) and ignores StateMachineType; its AWS::Lambda::Function ignores
#     Architectures; its AWS::DynamoDB::Table ignores PointInTimeRecoverySpecification and SSESpecification. So for steps 1-3
#     the rehearsal synthesizes the template itself, rewrites the definition into the equivalent
#     DefinitionString (Fn::Sub of the same JSON with the same substitutions), removes the four skipped
#     resources and whatever refers to them, and hands the result to deploy.sh with --template (an option
#     for users too). The architecture is checked on the zip and the stack parameter; point-in-time
#     recovery, encryption, the stage, the validator and the model are left to cfn-lint/checkov and the emulator.
#   - `deploy` leaves the stack's Outputs empty: deploy.sh then derives the URL from the stack's ShopApi
#     resource and the stage, as it does for any stack without the output.
#   - an unchanged redeploy is an error in moto (CreateChangeSet: "No updates are to be performed")
#     where AWS makes an empty change set, and its Lambda::Permission cannot be updated (a new stage name
#     changes its SourceArn), so the second run changes the artifact bucket (the functions' code
#     location).
#   - a parameter `deploy` sends as UsePreviousValue marks every resource using it as modified, and moto
#     cannot update AWS::Logs::LogGroup: the rehearsal passes every parameter (--parameter) explicitly.
#   - IAM returns inline policy documents as a Python repr: the rehearsal parses that too.

# jq and JMESPath programs use $variables and backquotes of their own, in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export PATH="$repo_root/.tools/venv/bin:$PATH"

build_args=()
keep_server=false
while [ "$#" -gt 0 ]; do
    case "$1" in
        --no-build) build_args=(--no-build); shift ;;
        --keep-server) keep_server=true; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "deploy-rehearsal: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { printf -- '--> rehearsal: %s\n' "$*"; }
check_failures=0
check() {
    # check DESCRIPTION COMMAND...: one assertion, reported either way; failures are counted.
    local description="$1"
    shift
    if "$@" >/dev/null; then
        printf '    ok   %s\n' "$description"
    else
        printf '    FAIL %s\n' "$description"
        check_failures=$((check_failures + 1))
    fi
}
die() { printf 'deploy-rehearsal: ERROR: %s\n' "$*" >&2; exit 1; }

for tool in moto_server aws jq python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/install-tools.sh"
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/deploy-rehearsal.XXXXXX")"
moto_pid=""
cleanup() {
    if [ -n "$moto_pid" ] && ! "$keep_server"; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

# --- moto on a free loopback port ----------------------------------------------------------------
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
say "starting moto_server on 127.0.0.1:$port (log: moto.log in $scratch)"
moto_server -H 127.0.0.1 -p "$port" >"$scratch/moto.log" 2>&1 &
moto_pid=$!

# Only the rehearsal's own settings: fake credentials, a fixed region, no profile or config of the user's.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID="testing" AWS_SECRET_ACCESS_KEY="testing"
export AWS_REGION="us-east-1" AWS_DEFAULT_REGION="us-east-1"
export AWS_CONFIG_FILE="$scratch/no-config" AWS_SHARED_CREDENTIALS_FILE="$scratch/no-credentials"
export AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE

for _ in $(seq 1 100); do
    if aws sts get-caller-identity >/dev/null 2>&1; then break; fi
    kill -0 "$moto_pid" 2>/dev/null || { cat "$scratch/moto.log" >&2; die "moto_server exited at start"; }
    sleep 0.2
done
aws sts get-caller-identity >/dev/null || die "moto_server did not answer on port $port"

stack="shop-rehearsal"
bucket="shop-rehearsal-artifacts"

run_deploy() {
    # run_deploy LOGNAME ARGS...: ./deploy.sh as a user runs it, its output shown and kept.
    local log="$scratch/$1.log"
    shift
    say "./deploy.sh $*"
    if ! ./deploy.sh "$@" 2>&1 | tee "$log"; then
        die "./deploy.sh $* failed (see above; moto's log: $(tail -n 20 "$scratch/moto.log"))"
    fi
}

stack_status() {
    aws cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text
}


# --- the template moto can deploy ----------------------------------------------------------------
mkdir -p .deploy
say "synthesizing the template and rewriting its state machine definitions for moto"
cargo run --quiet -p synth -- --out ".deploy/$stack.synth.yaml"
# One level below the root (.deploy/), like synth's own output, so the relative zip paths still hold.
moto_template=".deploy/$stack.moto.json"
python3 - ".deploy/$stack.synth.yaml" "$moto_template" <<'PY'
"""Rewrites synth's template into one moto 5.2 deploys and can read back after an update.

- Definition + DefinitionSubstitutions -> DefinitionString: {"Fn::Sub": [<the same JSON>, <the same map>]}.
- Resources of the types moto's CloudFormation skips are removed, with every property, list element,
  DependsOn entry and Output that refers to them: moto keeps a skipped resource as a hole in the stack,
  and after an update its DescribeStackResource(s) fail on that hole.
"""
import json
import re
import sys

import yaml

SKIPPED_BY_MOTO = {
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::Stage",
}
source, destination = sys.argv[1:3]
with open(source) as file:
    template = yaml.safe_load(file)
resources = template["Resources"]

rewritten = []
for logical_id, resource in resources.items():
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::StepFunctions::StateMachine" and "Definition" in properties:
        body = json.dumps(properties.pop("Definition"), separators=(",", ":"))
        substitutions = properties.pop("DefinitionSubstitutions", None)
        properties["DefinitionString"] = {"Fn::Sub": [body, substitutions]} if substitutions else body
        rewritten.append(logical_id)
if not rewritten:
    sys.exit("no AWS::StepFunctions::StateMachine with a Definition in " + source)

removed = {key for key, resource in resources.items() if resource["Type"] in SKIPPED_BY_MOTO}


def refers_to_removed(value):
    """True when this value is an intrinsic that points at a removed resource."""
    if isinstance(value, dict) and len(value) == 1:
        (name, argument), = value.items()
        if name == "Ref":
            return argument in removed
        if name == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else argument.split(".")[0]
            return target in removed
        if name == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            names = set(re.findall(r"\$\{([A-Za-z0-9]+)[.}]", text))
            explicit = set(argument[1]) if isinstance(argument, list) and len(argument) > 1 else set()
            return bool((names - explicit) & removed)
    return False


def prune(value):
    """The value without the parts that refer to removed resources (None: drop it whole)."""
    if refers_to_removed(value):
        return None
    if isinstance(value, dict):
        pruned = {}
        for key, item in value.items():
            kept = prune(item)
            if kept is None:
                if len(value) == 1 and key.startswith("Fn::"):
                    return None
                continue
            pruned[key] = kept
        return pruned
    if isinstance(value, list):
        return [kept for kept in (prune(item) for item in value) if kept is not None]
    return value


for key in removed:
    del resources[key]
for resource in resources.values():
    depends_on = resource.get("DependsOn")
    if isinstance(depends_on, str):
        depends_on = [depends_on]
    if depends_on is not None:
        depends_on = [name for name in depends_on if name not in removed]
        if depends_on:
            resource["DependsOn"] = depends_on
        else:
            del resource["DependsOn"]
    if "Properties" in resource:
        resource["Properties"] = prune(resource["Properties"])
template["Outputs"] = {
    key: output for key, output in template.get("Outputs", {}).items() if prune(output) == output
}
with open(destination, "w") as file:
    json.dump(template, file, indent=1, default=str)
print("    DefinitionString for: " + " ".join(rewritten))
print("    removed (moto skips them): " + " ".join(sorted(removed)))
PY

# moto marks every resource that uses a parameter sent as UsePreviousValue (what `aws cloudformation
# deploy` sends for a parameter it is not given) as modified, and fails to update AWS::Logs::LogGroup,
# leaving a hole in the stack: the rehearsal gives every parameter explicitly (--parameter, a deploy.sh
# option for users too), at the template's default.
parameter_args=()
while IFS= read -r assignment; do
    parameter_args+=(--parameter "$assignment")
done < <(jq -r '.Parameters | to_entries[] | select(.key != "Architecture" and .key != "StageName")
    | select(.value.Default != null) | "\(.key)=\(.value.Default)"' "$moto_template")

# --- 1. first deploy ------------------------------------------------------------------------------
run_deploy first --stack-name "$stack" --bucket "$bucket" --region us-east-1 --arch arm64 \
    --template "$moto_template" "${parameter_args[@]}" "${build_args[@]}"
say "checking the first deploy"
check "stack $stack is CREATE_COMPLETE" test "$(stack_status "$stack")" = CREATE_COMPLETE
check "deploy.sh printed the API URL" \
    grep -Eq '^API URL: https://[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com/prod/$' "$scratch/first.log"
check "deploy.sh printed a curl example for POST /create-store-item" \
    grep -Eq "curl -sS -X POST 'https://[^']+/prod/create-store-item'" "$scratch/first.log"
check "deploy.sh printed a curl example for POST /create-order" \
    grep -Eq "curl -sS -X POST 'https://[^']+/prod/create-order'" "$scratch/first.log"

# --- 2. read everything back -----------------------------------------------------------------------
# The template deploy.sh deployed (after package), as JSON, is the reference for every check.
python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout, default=str)' \
    ".deploy/$stack.packaged.yaml" >"$scratch/template.json"
aws cloudformation describe-stack-resources --stack-name "$stack" --output json >"$scratch/resources.json"

physical_id() {
    jq -r --arg id "$1" '.StackResources[] | select(.LogicalResourceId == $id) | .PhysicalResourceId' \
        "$scratch/resources.json"
}
logical_ids_of_type() {
    jq -r --arg type "$1" '.Resources | to_entries[] | select(.value.Type == $type) | .key' "$scratch/template.json"
}
# The logical id a {"Ref": X} or {"Fn::GetAtt": [X, ...]} on stdin points at.
referenced_id() {
    jq -r '.Ref // (.["Fn::GetAtt"] | if type == "array" then .[0] else split(".")[0] end)'
}
role_arn_of() {
    aws iam get-role --role-name "$(physical_id "$1")" --query Role.Arn --output text
}

unsupported_types="$(sed -n "s/.*Tried to parse \(AWS::[A-Za-z0-9:]*\) but it's not supported.*/\1/p" \
    "$scratch/moto.log" | sort -u)"
if [ -n "$unsupported_types" ]; then
    say "resource types moto's CloudFormation skips (not checked): $(echo "$unsupported_types" | tr '\n' ' ')"
fi
say "every other resource of the template exists in the stack"
while IFS=$'\t' read -r logical_id type; do
    if grep -qxF "$type" <<<"$unsupported_types"; then continue; fi
    check "$logical_id ($type) exists" test -n "$(physical_id "$logical_id")"
done < <(jq -r '.Resources | to_entries[] | [.key, .value.Type] | @tsv' "$scratch/template.json")

say "the table"
table_id="$(logical_ids_of_type AWS::DynamoDB::Table | head -n1)"
table_name="$(physical_id "$table_id")"
aws dynamodb describe-table --table-name "$table_name" --output json >"$scratch/table.json"
check "table $table_name has the key schema PK (HASH), SK (RANGE)" test \
    "$(jq -c '[.Table.KeySchema[] | [.AttributeName, .KeyType]] | sort' "$scratch/table.json")" = \
    '[["PK","HASH"],["SK","RANGE"]]'
check "table $table_name is on-demand (PAY_PER_REQUEST)" test \
    "$(jq -r '.Table.BillingModeSummary.BillingMode' "$scratch/table.json")" = PAY_PER_REQUEST

say "the roles and their inline policies"
# An inline policy document as JSON, whether IAM hands it back decoded (the CLI decodes AWS's
# URL-encoded documents), as a JSON string, or as a Python repr (moto).
policy_document_json() {
    python3 -c '
import ast, json, sys, urllib.parse
document = json.load(sys.stdin)["PolicyDocument"]
if isinstance(document, str):
    text = urllib.parse.unquote(document)
    try:
        document = json.loads(text)
    except ValueError:
        document = ast.literal_eval(text)
print(json.dumps(document))'
}
while IFS= read -r role_id; do
    role_name="$(physical_id "$role_id")"
    aws iam get-role --role-name "$role_name" --output json >"$scratch/role.json"
    check "role $role_id trusts the template's principals" test \
        "$(jq -c '[.Role.AssumeRolePolicyDocument.Statement[].Principal.Service] | flatten | sort' "$scratch/role.json")" = \
        "$(jq -c --arg id "$role_id" '[.Resources[$id].Properties.AssumeRolePolicyDocument.Statement[].Principal.Service] | flatten | sort' "$scratch/template.json")"
    expected_policies="$(jq -c --arg id "$role_id" '[.Resources[$id].Properties.Policies // [] | .[].PolicyName] | sort' "$scratch/template.json")"
    check "role $role_id has the inline policies $expected_policies" test \
        "$(aws iam list-role-policies --role-name "$role_name" --output json | jq -c '.PolicyNames | sort')" = "$expected_policies"
    while IFS= read -r policy_name; do
        document="$(aws iam get-role-policy --role-name "$role_name" --policy-name "$policy_name" --output json \
            | policy_document_json)"
        check "role $role_id policy $policy_name has the template's actions" test \
            "$(jq -c '[.Statement[] | [.Action] | flatten | sort]' <<<"$document")" = \
            "$(jq -c --arg id "$role_id" --arg p "$policy_name" '[.Resources[$id].Properties.Policies[] | select(.PolicyName == $p) | .PolicyDocument.Statement[] | [.Action] | flatten | sort]' "$scratch/template.json")"
        check "role $role_id policy $policy_name allows no '*' action" \
            jq -e '[.Statement[] | [.Action] | flatten | .[] | select(. == "*" or endswith(":*"))] | length == 0' <<<"$document"
        check "role $role_id policy $policy_name: every resource is a resolved ARN (or '*' where the template says)" \
            jq -e '[.Statement[] | [.Resource] | flatten | .[] | select((type != "string") or ((startswith("arn:") | not) and . != "*"))] | length == 0' <<<"$document"
    done < <(jq -r --arg id "$role_id" '.Resources[$id].Properties.Policies // [] | .[].PolicyName' "$scratch/template.json")
done < <(logical_ids_of_type AWS::IAM::Role)

say "the functions"
aws lambda list-functions --output json >"$scratch/functions.json"
check "the stack's Architecture parameter is arm64" test "$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Parameters[?ParameterKey=='Architecture'].ParameterValue | [0]" --output text)" = arm64
# Facts of a local zip: its SHA-256 as Lambda reports it (base64) and the ELF machine of its bootstrap.
zip_facts() {
    python3 -c '
import base64, hashlib, sys, zipfile
path = sys.argv[1]
digest = base64.b64encode(hashlib.sha256(open(path, "rb").read()).digest()).decode()
header = zipfile.ZipFile(path).read("bootstrap")[:20]
machine = {0xB7: "aarch64", 0x3E: "x86_64"}.get(int.from_bytes(header[18:20], "little"), "other")
print(digest, machine if header[:4] == b"\x7fELF" else "not-elf")' "$1"
}
function_count=0
while IFS= read -r function_id; do
    function_count=$((function_count + 1))
    function_name="$(physical_id "$function_id")"
    jq --arg name "$function_name" '.Functions[] | select(.FunctionName == $name)' \
        "$scratch/functions.json" >"$scratch/function.json"
    check "$function_id ($function_name) is deployed" test -s "$scratch/function.json"
    check "$function_id runs provided.al2023 with handler bootstrap" test \
        "$(jq -r '.Runtime + " " + .Handler' "$scratch/function.json")" = "provided.al2023 bootstrap"
    role_id="$(jq -c --arg id "$function_id" '.Resources[$id].Properties.Role' "$scratch/template.json" | referenced_id)"
    check "$function_id runs as its role $role_id" test "$(jq -r .Role "$scratch/function.json")" = "$(role_arn_of "$role_id")"
    check "$function_id has TABLE_NAME=$table_name" \
        test "$(jq -r '.Environment.Variables.TABLE_NAME' "$scratch/function.json")" = "$table_name"
    binary="$(jq -r --arg id "$function_id" '.Resources[$id].Metadata.BuildProperties.Binary // empty' "$scratch/template.json")"
    zip="target/lambda/$binary/bootstrap.zip"
    if [ -n "$binary" ] && [ -f "$zip" ]; then
        read -r zip_sha256 zip_machine < <(zip_facts "$zip")
        check "$function_id code is $zip, byte for byte" \
            test "$(jq -r .CodeSha256 "$scratch/function.json")" = "$zip_sha256"
        check "$zip holds an aarch64 (arm64) bootstrap" test "$zip_machine" = aarch64
    else
        check "$function_id names its binary in Metadata.BuildProperties.Binary, whose zip exists" false
    fi
done < <(logical_ids_of_type AWS::Lambda::Function)
check "the template has functions ($function_count)" test "$function_count" -gt 0

say "the state machine"
machine_id="$(logical_ids_of_type AWS::StepFunctions::StateMachine | head -n1)"
aws stepfunctions describe-state-machine --state-machine-arn "$(physical_id "$machine_id")" --output json \
    >"$scratch/machine.json"
check "state machine $machine_id has a JSON definition with a StartAt" \
    jq -e '.definition | fromjson | .StartAt | type == "string"' "$scratch/machine.json"
check "its definition has no unresolved \${...} substitution" \
    jq -e '.definition | test("\\$\\{") | not' "$scratch/machine.json"
# Every Lambda task (a direct function ARN, or lambda:invoke with a FunctionName) names a deployed function.
lambda_targets="$(jq -c '[.definition | fromjson | .. | objects | select(.Type? == "Task")
    | (.Parameters.FunctionName? // .Arguments.FunctionName? // .Resource)
    | select(type == "string" and (startswith("arn:aws:states:") | not))] | unique' "$scratch/machine.json")"
check "its Lambda tasks ($(jq length <<<"$lambda_targets") functions) all name deployed functions" \
    jq -e --argjson deployed "$(jq -c '[.Functions[].FunctionArn]' "$scratch/functions.json")" \
    'length > 0 and all(.[]; . as $t | $deployed | any(. == $t or ($t | startswith(. + ":"))))' <<<"$lambda_targets"
machine_role_id="$(jq -c --arg id "$machine_id" '.Resources[$id].Properties.RoleArn' "$scratch/template.json" | referenced_id)"
check "it runs as its role $machine_role_id" test "$(jq -r .roleArn "$scratch/machine.json")" = "$(role_arn_of "$machine_role_id")"

say "the REST API"
rest_api_id="$(physical_id "$(logical_ids_of_type AWS::ApiGateway::RestApi | head -n1)")"
aws apigateway get-resources --rest-api-id "$rest_api_id" --output json >"$scratch/api.json"
for route in /create-store-item /create-order; do
    check "the API has POST $route" \
        jq -e --arg p "$route" 'any(.items[]; .path == $p and (.resourceMethods // {} | has("POST")))' "$scratch/api.json"
done

# --- 3. second deploy (an update) ----------------------------------------------------------------------
run_deploy second --stack-name "$stack" --bucket "$bucket-2" --region us-east-1 --arch arm64 \
    --template "$moto_template" "${parameter_args[@]}" --no-build
check "stack $stack is UPDATE_COMPLETE after the second deploy" test "$(stack_status "$stack")" = UPDATE_COMPLETE
check "the second deploy printed the URL again" grep -Eq '^API URL: https://.*/prod/$' "$scratch/second.log"


# --- 4. the Express variant, deployed as a user does (synth inside deploy.sh) ------------------------------
run_deploy express --stack-name "$stack-express" --bucket "$bucket" --region us-east-1 --express --no-build
check "stack $stack-express is CREATE_COMPLETE" test "$(stack_status "$stack-express")" = CREATE_COMPLETE
check "stack $stack-express was given an EXPRESS state machine" jq -e \
    '.TemplateBody | (if type == "string" then . else tojson end) | test("StateMachineType\"?: *\"?EXPRESS")' \
    <<<"$(aws cloudformation get-template --stack-name "$stack-express" --output json)"

# --- 5. teardown -------------------------------------------------------------------------------------------
for name in "$stack" "$stack-express"; do
    run_deploy "destroy-$name" --destroy --stack-name "$name" --region us-east-1
    check "stack $name is gone after --destroy" test -z "$(aws cloudformation describe-stacks --stack-name "$name" \
        --query 'Stacks[?StackStatus!=`DELETE_COMPLETE`].StackName' --output text 2>/dev/null)"
done
check "table $table_name is retained after --destroy (DeletionPolicy Retain)" \
    aws dynamodb describe-table --table-name "$table_name"

if "$keep_server"; then
    say "moto keeps running (pid $moto_pid): export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1"
    moto_pid=""
fi
if [ "$check_failures" -gt 0 ]; then
    die "$check_failures check(s) failed (see FAIL above)"
fi
say "all checks passed"
