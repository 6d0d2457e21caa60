#!/usr/bin/env bash
# Deploys the serverless shop to an AWS account: builds the Lambda zips, synthesizes the template,
# uploads the zips with `aws cloudformation package`, deploys the stack and prints the API's URL with
# ready-to-paste curl commands. `./deploy.sh --help` for the options; `--destroy` tears the stack down.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    cat <<'USAGE'
Usage: ./deploy.sh [options]
       ./deploy.sh --destroy [--stack-name NAME] [--region REGION]

Builds the Lambda functions (cargo lambda, zips), synthesizes the CloudFormation template (synth),
uploads the zips to an S3 artifact bucket (aws cloudformation package), deploys the stack
(aws cloudformation deploy) and prints the API URL with curl examples for both routes.

Options:
  --stack-name NAME     CloudFormation stack name (default: rust-shop)
  --region REGION       AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or `aws configure get region`)
  --bucket NAME         S3 bucket for the function zips (default: rust-shop-artifacts-<account>-<region>).
                        Created if missing (private: public access blocked, SSE-S3 encryption); deploy.sh
                        never deletes it.
  --arch arm64|x86_64   Instruction set of the functions (default: arm64); builds the zips for it and
                        passes it as the stack's Architecture parameter
  --stage NAME          API stage name, the first path segment of the URL (default: prod)
  --express             Express order workflow: POST /create-order answers with the order's outcome
                        (default: the Standard workflow, which answers at once with the execution)
  --parameter KEY=VALUE Set another stack parameter (repeatable), e.g. ReservedConcurrency=0 for an
                        account whose concurrency quota is 10, LogRetentionDays=30, ThrottlingRateLimit=20;
                        parameters not given keep their previous value (their default on a new stack)
  --template FILE       Deploy this template (its functions' Code as local zip paths relative to the file)
                        instead of running synth; --express is then ignored
  --no-build            Use the zips already in target/lambda instead of building them
  --destroy             Delete the stack and wait until it is gone (the table is retained by design, and
                        the artifact bucket is kept; the commands to delete them are printed)
  -h, --help            This help

Prerequisites: the AWS CLI with credentials (`aws sts get-caller-identity` must work), cargo (Rust via
rustup), and cargo-lambda with zig (`scripts/install-tools.sh` installs them under .tools/; deploy.sh
uses them from there).

Examples:
  ./deploy.sh --region eu-west-1
  ./deploy.sh --stack-name shop-dev --stage dev --arch x86_64 --express
  ./deploy.sh --destroy --stack-name shop-dev
USAGE
}

step_number=0
step() {
    step_number=$((step_number + 1))
    printf '==> deploy [%d] %s\n' "$step_number" "$*"
}
info() { printf '    %s\n' "$*"; }
die() { printf 'deploy.sh: ERROR: %s\n' "$*" >&2; exit 1; }

stack_name="rust-shop"
region=""
bucket=""
arch="arm64"
stage="prod"
express=false
template=""
build=true
destroy=false
extra_parameters=()

need_value() {
    [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"
}
while [ "$#" -gt 0 ]; do
    case "$1" in
        --stack-name) need_value "$1" "$#"; stack_name="$2"; shift 2 ;;
        --region) need_value "$1" "$#"; region="$2"; shift 2 ;;
        --bucket) need_value "$1" "$#"; bucket="$2"; shift 2 ;;
        --arch) need_value "$1" "$#"; arch="$2"; shift 2 ;;
        --stage) need_value "$1" "$#"; stage="$2"; shift 2 ;;
        --template) need_value "$1" "$#"; template="$2"; shift 2 ;;
        --parameter)
            need_value "$1" "$#"
            [[ "$2" =~ ^[A-Za-z0-9]+=.*$ ]] || die "--parameter wants KEY=VALUE, not '$2'"
            case "${2%%=*}" in
                Architecture|StageName) die "set ${2%%=*} with --arch / --stage, not --parameter" ;;
            esac
            extra_parameters+=("$2"); shift 2 ;;
        --express) express=true; shift ;;
        --no-build) build=false; shift ;;
        --destroy) destroy=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

case "$arch" in
    arm64|x86_64) ;;
    *) die "--arch must be arm64 or x86_64, not '$arch'" ;;
esac
[[ "$stack_name" =~ ^[A-Za-z][A-Za-z0-9-]{0,127}$ ]] \
    || die "--stack-name must start with a letter and hold only letters, digits and hyphens (max 128)"
[[ "$stage" =~ ^[A-Za-z0-9_]{1,128}$ ]] || die "--stage must be 1 to 128 letters, digits or underscores"
if [ -n "$template" ]; then
    [ -f "$template" ] || die "--template $template: no such file"
    template="$(cd "$(dirname "$template")" && pwd)/$(basename "$template")"
fi

# Tools installed by scripts/install-tools.sh come first (their python3 has the ziglang package that
# cargo-lambda's zig comes from); anything else on PATH works too.
if [ -d "$repo_root/.tools/venv/bin" ]; then
    PATH="$repo_root/.tools/venv/bin:$PATH"
fi

step "checking prerequisites"
missing=0
if ! command -v aws >/dev/null 2>&1; then
    printf 'deploy.sh: missing: the AWS CLI (aws). Install it (https://aws.amazon.com/cli/, or pip install awscli).\n' >&2
    missing=1
fi
if ! "$destroy"; then
    if [ -z "$template" ] && ! command -v cargo >/dev/null 2>&1; then
        printf 'deploy.sh: missing: cargo (Rust). Install it with rustup (https://rustup.rs).\n' >&2
        missing=1
    fi
    if "$build"; then
        if ! command -v cargo-lambda >/dev/null 2>&1; then
            printf 'deploy.sh: missing: cargo-lambda. Run scripts/install-tools.sh (or pip install cargo-lambda).\n' >&2
            missing=1
        fi
        if ! command -v zig >/dev/null 2>&1 && ! python3 -m ziglang version >/dev/null 2>&1; then
            printf 'deploy.sh: missing: zig (cargo-lambda cross-compiles with it). Run scripts/install-tools.sh.\n' >&2
            missing=1
        fi
    fi
fi
[ "$missing" -eq 0 ] || die "install the missing prerequisites above, then run ./deploy.sh again"

if [ -z "$region" ]; then
    region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
fi
[ -n "$region" ] || die "no AWS region: pass --region REGION (or set AWS_REGION, or run aws configure)"
export AWS_REGION="$region" AWS_DEFAULT_REGION="$region"

if ! identity="$(aws sts get-caller-identity --query Account --output text 2>&1)"; then
    printf '%s\n' "$identity" >&2
    die "no usable AWS credentials: 'aws sts get-caller-identity' failed (configure them with 'aws configure', AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
fi
account_id="$identity"
info "aws $(aws --version 2>&1 | cut -d' ' -f1), account $account_id, region $region, stack $stack_name"

stack_status() {
    aws cloudformation describe-stacks --stack-name "$stack_name" \
        --query 'Stacks[0].StackStatus' --output text 2>/dev/null || true
}

if "$destroy"; then
    step "deleting stack $stack_name"
    status="$(stack_status)"
    if [ -z "$status" ]; then
        info "stack $stack_name does not exist in $region: nothing to delete"
        exit 0
    fi
    table="$(aws cloudformation describe-stack-resource --stack-name "$stack_name" \
        --logical-resource-id StoreTable --query 'StackResourceDetail.PhysicalResourceId' \
        --output text 2>/dev/null || true)"
    aws cloudformation delete-stack --stack-name "$stack_name"
    step "waiting for the deletion to complete"
    aws cloudformation wait stack-delete-complete --stack-name "$stack_name" \
        || die "the deletion of $stack_name did not complete: see 'aws cloudformation describe-stack-events --stack-name $stack_name'"
    info "stack $stack_name deleted"
    if [ -n "$table" ] && [ "$table" != "None" ]; then
        info "the DynamoDB table is retained on purpose (it holds the shop's data); to delete it too:"
        info "  aws dynamodb delete-table --region $region --table-name $table"
    fi
    info "the artifact bucket is kept; to delete it and the zips in it (the default bucket, or the --bucket you deployed with):"
    info "  aws s3 rb --region $region --force s3://${bucket:-rust-shop-artifacts-$account_id-$region}"
    exit 0
fi

bucket="${bucket:-rust-shop-artifacts-$account_id-$region}"
work_dir="$repo_root/.deploy"
mkdir -p "$work_dir"

if "$build"; then
    step "building the Lambda zips ($arch, release)"
    "$repo_root/scripts/build-lambdas.sh" --arch "$arch"
else
    step "using the zips already in target/lambda (--no-build)"
fi

if [ -n "$template" ]; then
    step "using the template $template (--template)"
    template_file="$template"
else
    workflow="standard"
    synth_flags=()
    if "$express"; then
        workflow="express"
        synth_flags+=(--express)
    fi
    # One level below the repository root, so the template's default zip paths (../target/lambda/...)
    # point at cargo-lambda's output.
    template_file="$work_dir/$stack_name.template.yaml"
    step "synthesizing the template ($workflow workflow) into ${template_file#"$repo_root"/}"
    (cd "$repo_root" && cargo run --quiet -p synth -- "${synth_flags[@]}" --out "$template_file") \
        || die "synth failed (see above)"
fi

step "artifact bucket s3://$bucket"
if aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    info "exists"
else
    info "creating it"
    if [ "$region" = "us-east-1" ]; then
        aws s3api create-bucket --bucket "$bucket" >/dev/null
    else
        aws s3api create-bucket --bucket "$bucket" \
            --create-bucket-configuration "LocationConstraint=$region" >/dev/null
    fi
    aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
        BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
    aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
        '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
fi

packaged_file="$work_dir/$stack_name.packaged.yaml"
step "uploading the zips and rewriting the code locations (aws cloudformation package)"
# The CLI draws an upload progress bar on stderr (megabytes of it in a log); keep it for a failure.
if ! aws cloudformation package --template-file "$template_file" --s3-bucket "$bucket" \
    --s3-prefix "$stack_name" --output-template-file "$packaged_file" >/dev/null 2>"$work_dir/package.log"; then
    tr '\r' '\n' <"$work_dir/package.log" | grep -v '^Uploading to' >&2 || true
    die "aws cloudformation package failed (see above)"
fi
info "uploaded $(grep -o 'Uploading to [^ ]*' "$work_dir/package.log" | sort -u | wc -l) new zip(s) to s3://$bucket/$stack_name/"
info "packaged template: ${packaged_file#"$repo_root"/}"

previous_status="$(stack_status)"
step "deploying stack $stack_name (aws cloudformation deploy, ${previous_status:-new stack})"
aws cloudformation deploy --template-file "$packaged_file" --stack-name "$stack_name" \
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
    --parameter-overrides "Architecture=$arch" "StageName=$stage" "${extra_parameters[@]}" \
    || die "aws cloudformation deploy failed: see 'aws cloudformation describe-stack-events --stack-name $stack_name --region $region'"
status="$(stack_status)"
info "stack status: ${status:-unknown}"
case "$status" in
    CREATE_COMPLETE|UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE) ;;
    *) die "stack $stack_name ended in state '${status:-unknown}'" ;;
esac
[ "$status" != "UPDATE_ROLLBACK_COMPLETE" ] || die "the update of $stack_name was rolled back"

step "reading the stack's outputs"
output() {
    aws cloudformation describe-stacks --stack-name "$stack_name" \
        --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text 2>/dev/null || true
}
api_url="$(output ApiUrl)"
if [ -z "$api_url" ] || [ "$api_url" = "None" ]; then
    # The URL is a function of the REST API's id, the region and the stage; read the id off the stack's
    # resources when the stack reports no output (a stack deployed from an older template, say).
    rest_api_id="$(aws cloudformation describe-stack-resource --stack-name "$stack_name" \
        --logical-resource-id ShopApi --query 'StackResourceDetail.PhysicalResourceId' \
        --output text 2>/dev/null || true)"
    [ -n "$rest_api_id" ] && [ "$rest_api_id" != "None" ] \
        || die "the stack reports neither an ApiUrl output nor a ShopApi resource"
    api_url="https://$rest_api_id.execute-api.$region.amazonaws.com/$stage/"
    info "the stack reports no ApiUrl output: URL derived from its ShopApi resource ($rest_api_id)"
fi
api_url="${api_url%/}/"

cat <<DONE

Deployed stack $stack_name in $region.
API URL: $api_url

Add a product (answers 2xx, or 400 with a JSON error naming the problem):
  curl -sS -X POST '${api_url}create-store-item' -H 'Content-Type: application/json' \\
    -d '{"itemId": "apple", "quantity": 10}'

Order it (a JSON array of lines):
  curl -sS -X POST '${api_url}create-order' -H 'Content-Type: application/json' \\
    -d '[{"itemId": "apple", "quantity": 2}]'

Tear down: ./deploy.sh --destroy --stack-name $stack_name --region $region
DONE
