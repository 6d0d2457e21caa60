#!/usr/bin/env bash
# THE test command: everything CI checks, in order, stopping at the first failure.
#
#   scripts/test.sh
#
# Installs the project-local tools (scripts/install-tools.sh), then: formatting, clippy, the workspace's
# tests, the committed template against synth's output, cfn-lint (Standard and Express templates),
# checkov, asl-validator, the Lambda zips (arm64 only: one architecture's release build is enough for
# CI; x86_64 builds the same code with `scripts/build-lambdas.sh --arch x86_64`), shellcheck on every
# shell script, the deploy rehearsal against moto, and the local emulator's end-to-end tests.
# Each step prints a progress line and its duration; the last line is "N passed, M failed".
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

export PATH="$repo_root/.tools/venv/bin:$repo_root/.tools/node/bin:${CARGO_HOME:-${HOME:-/root}/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tools that ask questions must not wait for a terminal that CI does not have.
exec </dev/null

scratch="$(mktemp -d "${TMPDIR:-/tmp}/shop-test.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

passed=0
failed=0
skipped=0
total_start=$(date +%s.%N)
step_names=()
step_times=()
current_step=""
step_start=""

elapsed_since() {
    awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - start }'
}

finish() {
    local status=$?
    if [ "$status" -ne 0 ] && [ -n "$current_step" ]; then
        failed=$((failed + 1))
        printf '\n!!! test.sh: FAILED at step "%s" after %s s (exit status %d): see the output above.\n' \
            "$current_step" "$(elapsed_since "$step_start")" "$status"
    fi
    if [ "${#step_names[@]}" -gt 0 ]; then
        printf '\n==> test.sh: step durations\n'
        local i
        for i in "${!step_names[@]}"; do
            printf '    %8s s  %s\n' "${step_times[$i]}" "${step_names[$i]}"
        done
    fi
    printf '    total %s s\n' "$(elapsed_since "$total_start")"
    rm -rf "$scratch"
    if [ "$skipped" -gt 0 ]; then
        printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
    else
        printf '%d passed, %d failed\n' "$passed" "$failed"
    fi
    exit "$status"
}
trap finish EXIT

# run_step NAME COMMAND...: runs one step, timing it; a failure stops the script (set -e + trap).
run_step() {
    current_step="$1"
    shift
    step_start=$(date +%s.%N)
    printf '\n==> [%d] %s\n' "$((passed + skipped + 1))" "$current_step"
    "$@"
    local took
    took="$(elapsed_since "$step_start")"
    printf '<== ok: %s (%s s)\n' "$current_step" "$took"
    step_names+=("$current_step")
    step_times+=("$took")
    passed=$((passed + 1))
    current_step=""
}

skip_step() {
    printf '\n==> [%d] %s\n<== SKIPPED: %s\n' "$((passed + skipped + 1))" "$1" "$2"
    step_names+=("$1 (skipped)")
    step_times+=("0.0")
    skipped=$((skipped + 1))
}

# --- the steps -----------------------------------------------------------------------------------

synth_matches_committed_templates() {
    # The CLI's output (cargo test checks the library's): both committed templates must be current.
    local variant flags committed
    for variant in standard express; do
        flags=()
        committed=templates/template.yaml
        if [ "$variant" = express ]; then
            flags=(--express)
            committed=templates/template-express.yaml
        fi
        cargo run --quiet -p synth -- "${flags[@]}" --out "$scratch/$variant.yaml"
        if ! diff -u "$committed" "$scratch/$variant.yaml"; then
            echo "$committed is stale: regenerate it with 'cargo run -p synth -- ${flags[*]} --out $committed'" >&2
            return 1
        fi
        echo "$committed matches synth ${flags[*]}"
        # JSON for asl-validator (scripts/check-asl.sh reads the Definition out of a JSON template).
        cargo run --quiet -p synth -- "${flags[@]}" --format json --out "$scratch/$variant.json"
    done
}

cfn_lint_both_templates() {
    # cfn-lint exits non-zero on any error or warning (informational findings are not failures).
    local template
    for template in templates/template.yaml templates/template-express.yaml; do
        cfn-lint --format parseable -- "$template"
        echo "cfn-lint $template: 0 errors, 0 warnings"
    done
}

check_state_machine_definitions() {
    # The definitions synth embeds in both templates, plus the asl crate's corpus of valid definitions.
    scripts/check-asl.sh "$scratch/standard.json" "$scratch/express.json"
    if compgen -G "asl/tests/valid/*.json" >/dev/null; then
        scripts/check-asl.sh
    fi
}

checkov_templates() {
    # Hard-fails on any failed check; skipped checks carry their reason in the resource's Metadata.
    checkov --quiet --compact --framework cloudformation --skip-download --output cli \
        --file templates/template.yaml --file templates/template-express.yaml
}

shellcheck_all_scripts() {
    local scripts=() file
    while IFS= read -r file; do
        case "$file" in
            *.sh) scripts+=("$file") ;;
            *) if head -n1 "$file" 2>/dev/null | grep -Eq '^#!.*\b(ba)?sh\b'; then scripts+=("$file"); fi ;;
        esac
    done < <(git ls-files --cached --others --exclude-standard -- '*.sh' .ci scripts deploy.sh | sort -u)
    [ "${#scripts[@]}" -gt 0 ] || { echo "no shell scripts found" >&2; return 1; }
    shellcheck --external-sources "${scripts[@]}"
    printf 'shellcheck clean: %s\n' "${scripts[*]}"
}

run_step "install tools (scripts/install-tools.sh)" scripts/install-tools.sh
run_step "cargo fmt --check" cargo fmt --all --check
run_step "cargo clippy --workspace --all-targets -- -D warnings" \
    cargo clippy --workspace --all-targets -- -D warnings
run_step "cargo test --workspace" cargo test --workspace
run_step "synth output matches templates/template.yaml and template-express.yaml" \
    synth_matches_committed_templates
run_step "cfn-lint (templates/template.yaml, templates/template-express.yaml)" cfn_lint_both_templates
run_step "checkov (both templates)" checkov_templates
if [ -x scripts/check-asl.sh ]; then
    run_step "asl-validator on the state machine definitions (scripts/check-asl.sh)" \
        check_state_machine_definitions
else
    skip_step "asl-validator (scripts/check-asl.sh)" "scripts/check-asl.sh does not exist yet"
fi
# CI builds the zips for ONE architecture, arm64 (the template's default), cross-compiled through zig,
# with the release profile's opt-level but without its thin LTO and single codegen unit: those make every
# crate (the AWS SDK above all) compile on one core and every binary re-optimize at link time, which took
# over half an hour of this 2-core machine. deploy.sh ships the full [profile.release] of Cargo.toml.
ci_release_profile() {
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 "$@"
}
run_step "Lambda zips: cargo lambda build --release --arm64 (CI builds arm64 only, see above)" \
    ci_release_profile scripts/build-lambdas.sh --arch arm64
run_step "shellcheck on every shell script" shellcheck_all_scripts
run_step "deploy rehearsal against moto (scripts/deploy-rehearsal.sh)" \
    ci_release_profile scripts/deploy-rehearsal.sh
# The local emulator's end-to-end tests (owned by the local emulator's part; see local/README.md).
if [ -x scripts/e2e.sh ]; then
    run_step "local emulator end-to-end tests (scripts/e2e.sh)" scripts/e2e.sh
else
    skip_step "local emulator end-to-end tests (scripts/e2e.sh)" "scripts/e2e.sh does not exist yet"
fi
