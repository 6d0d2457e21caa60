#!/usr/bin/env bash
# End-to-end throughput of the local emulator (the figures of BENCHMARKS.md, "local emulator"): builds the
# emulator, the load tool and the six functions, then for each template and each client count starts the
# emulator on free ports, runs local/examples/load.rs against it and stops it.
#
#   scripts/bench-local.sh                       # release builds, 200 orders, 1 4 16 clients, both templates
#   PROFILE=debug scripts/bench-local.sh         # debug builds
#   ORDERS=400 CLIENTS="1 8" scripts/bench-local.sh
#   scripts/bench-local.sh --help
#
# A benchmark, not a test: it asserts nothing about speed. Run it on an otherwise idle machine.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
if [ $# -gt 0 ]; then
    echo "bench-local.sh: no arguments are taken (use PROFILE, ORDERS, CLIENTS; see --help)" >&2
    exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

profile="${PROFILE:-release}"
orders="${ORDERS:-200}"
clients_list="${CLIENTS:-1 4 16}"
case "$profile" in
    release) profile_flag=(--release) ;;
    debug) profile_flag=() ;;
    *) echo "bench-local.sh: PROFILE must be release or debug, not '$profile'" >&2; exit 2 ;;
esac
bin_dir="target/$profile"

functions=(create-store-item is-item-in-stock update-item-stock create-order confirm-order cancel-order)
package_flags=(-p local)
for function in "${functions[@]}"; do
    package_flags+=(-p "$function")
done
echo "==> bench-local: building ($profile): cargo build ${profile_flag[*]} --bins --examples ${package_flags[*]}"
cargo build "${profile_flag[@]}" --bins --examples "${package_flags[@]}"

work_dir="$(mktemp -d)"
emulator_pid=""
cleanup() {
    if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
        kill -INT "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
    rm -rf "$work_dir"
}
trap cleanup EXIT

# Starts the emulator on free ports and sets api_url and states_url from its banner.
start_emulator() {
    local template="$1"
    "$bin_dir/local" --template "$template" --functions-dir "$bin_dir" --port 0 --log warn \
        >"$work_dir/banner" 2>"$work_dir/log" &
    emulator_pid=$!
    api_url=""
    states_url=""
    for _ in $(seq 1 300); do
        api_url="$(sed -n 's|^API Gateway *\(http://[0-9.:]*\).*|\1|p' "$work_dir/banner")"
        states_url="$(sed -n 's|^Step Functions *\(http://[0-9.:]*\).*|\1|p' "$work_dir/banner")"
        if [ -n "$api_url" ] && [ -n "$states_url" ]; then
            return 0
        fi
        if ! kill -0 "$emulator_pid" 2>/dev/null; then
            echo "bench-local.sh: the emulator did not start:" >&2
            cat "$work_dir/log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "bench-local.sh: no banner from the emulator after 30 s" >&2
    exit 1
}

stop_emulator() {
    kill -INT "$emulator_pid"
    wait "$emulator_pid" || true
    emulator_pid=""
}

echo "==> bench-local: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $orders orders per run"
for template in templates/template.yaml templates/template-express.yaml; do
    express_flag=()
    if [ "$template" = templates/template-express.yaml ]; then
        express_flag=(--express)
    fi
    for clients in $clients_list; do
        start_emulator "$template"
        echo "==> bench-local: $template, $clients clients"
        "$bin_dir/examples/load" --api "$api_url" --states "$states_url" \
            --orders "$orders" --clients "$clients" "${express_flag[@]}"
        stop_emulator
    done
done
