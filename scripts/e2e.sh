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

functions=(create-store-item is-item-in-stock update-item-stock create-order confirm-order cancel-order)
package_flags=()
for function in "${functions[@]}"; do
    package_flags+=(-p "$function")
done

echo "==> e2e: building the function binaries (target/debug): cargo build ${package_flags[*]}"
cargo build "${package_flags[@]}"
echo "==> e2e: building the emulator and its test functions: cargo build -p local --bins --examples"
cargo build -p local --bins --examples
echo "==> e2e: running the end-to-end tests"
cargo test -p local --test e2e_orders --test e2e_concurrency -- --include-ignored
