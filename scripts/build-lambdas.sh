#!/usr/bin/env bash
# Builds every Lambda function under lambdas/ (each crate with a src/main.rs) with cargo-lambda, as
# zips for the provided.al2023 runtime: target/lambda/<function>/bootstrap.zip.
#
#   scripts/build-lambdas.sh [--arch arm64|x86_64] [--debug] [--function NAME]...
#
# cargo-lambda cross-compiles through zig (cargo-zigbuild): both come from .tools/venv
# (scripts/install-tools.sh). cargo-zigbuild finds zig as `zig` on PATH or as `python3 -m ziglang`;
# with .tools/venv/bin first on PATH, the venv's python3 has the ziglang package.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
    cat <<'USAGE'
Usage: scripts/build-lambdas.sh [--arch arm64|x86_64] [--debug] [--function NAME]...

Builds the Lambda functions under lambdas/ into target/lambda/<function>/bootstrap.zip.

Options:
  --arch arm64|x86_64   target architecture (default: arm64, Graviton, as the template's default)
  --debug               debug build instead of --release
  --function NAME       build only this function (repeatable; default: every function)
  -h, --help            this help
USAGE
}

die() { printf 'build-lambdas: ERROR: %s\n' "$*" >&2; exit 1; }

arch="arm64"
profile="--release"
selected=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --arch)
            [ "$#" -ge 2 ] || die "--arch needs a value (arm64 or x86_64)"
            arch="$2"; shift 2 ;;
        --arch=*) arch="${1#--arch=}"; shift ;;
        --debug) profile=""; shift ;;
        --function)
            [ "$#" -ge 2 ] || die "--function needs a name"
            selected+=("$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
case "$arch" in
    arm64) arch_flag="--arm64" ;;
    x86_64) arch_flag="--x86-64" ;;
    *) die "--arch must be arm64 or x86_64, not '$arch'" ;;
esac

export PATH="$repo_root/.tools/venv/bin:$PATH"
command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH: install Rust with rustup"
command -v cargo-lambda >/dev/null 2>&1 || die "cargo-lambda is missing: run scripts/install-tools.sh"
if ! command -v zig >/dev/null 2>&1 && ! python3 -m ziglang version >/dev/null 2>&1; then
    die "zig is missing (neither 'zig' nor 'python3 -m ziglang'): run scripts/install-tools.sh"
fi

cd "$repo_root"
functions=()
for main_rs in lambdas/*/src/main.rs; do
    crate_dir="${main_rs%/src/main.rs}"
    functions+=("${crate_dir#lambdas/}")
done
[ "${#functions[@]}" -gt 0 ] || die "no function crates (lambdas/*/src/main.rs) found"
if [ "${#selected[@]}" -gt 0 ]; then
    for name in "${selected[@]}"; do
        [ -f "lambdas/$name/src/main.rs" ] || die "no function '$name' (known: ${functions[*]})"
    done
    functions=("${selected[@]}")
fi

package_args=()
for name in "${functions[@]}"; do
    package_args+=(--package "$name")
done

printf '==> build-lambdas: cargo lambda build %s %s --output-format zip (%s)\n' \
    "${profile:-(debug)}" "$arch_flag" "${functions[*]}"
# One cargo invocation for all functions: the shared dependencies compile once.
# shellcheck disable=SC2086 # $profile is empty for a debug build
cargo lambda build $profile "$arch_flag" --output-format zip "${package_args[@]}" \
    || die "cargo lambda build failed (see above)"

for name in "${functions[@]}"; do
    zip_path="target/lambda/$name/bootstrap.zip"
    [ -s "$zip_path" ] || die "expected $zip_path after the build, it is missing"
    printf '    %s (%s bytes)\n' "$zip_path" "$(stat -c %s "$zip_path")"
done
