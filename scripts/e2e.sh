#!/usr/bin/env bash
# End-to-end tests of the local emulator (local/tests/e2e_*.rs): builds the six function binaries and the
# emulator, then runs the tests that start the real `local` binary on free ports and speak only HTTP to it
# (the API, the Step Functions endpoint, and DynamoDB's endpoint to read the data back).
#
#   scripts/e2e.sh            # build what is needed, run the end-to-end tests
#   scripts/e2e.sh --help
#
# The tests are #[ignore]d in a plain `cargo test` (they need the function binaries, which a plain
# `cargo test` does not build); this script builds them first and runs the tests with --include-ignored.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The whole workspace, not `-p <function>...`: cargo unifies features over the packages it is given, so
# building a subset would compile over a hundred dependencies again with other features, where after
# `cargo test --workspace` (as in scripts/test.sh) this finds everything built and only links. The same
# goes for the test run below: `--workspace --test ...` reuses the test binaries `cargo test --workspace` built.
echo "==> e2e: building the function binaries, the emulator and its test functions (target/debug): cargo build --workspace --bins --examples"
cargo build --workspace --bins --examples
echo "==> e2e: running the end-to-end tests"
cargo test --workspace --test e2e_orders --test e2e_concurrency -- --include-ignored
