#!/usr/bin/env bash
# Runs the bench gate N times (default 10) on the unchanged tree (base = HEAD) and
# counts how often it cries wolf, separately for each method.
#
#   ci/false-alarms.sh [N] [METHOD…]     (methods: throughput instructions allocations peak-rss; default all four)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
methods=${*:-throughput instructions allocations peak-rss}
dir=target/gate/false-alarms
mkdir -p "$dir"
for method in $methods; do
    failures=0
    errors=0
    for i in $(seq 1 "$runs"); do
        cargo xtask bench-gate --base HEAD --method "$method" --out "$dir/$method-$i" >"$dir/$method-$i.log" 2>&1
        code=$?
        case $code in
            0) ;;
            1) failures=$((failures + 1)) ;;
            *) errors=$((errors + 1)); tail -3 "$dir/$method-$i.log" ;;
        esac
        echo "$method run $i/$runs: exit $code"
    done
    echo "$method: $failures of $runs runs failed on an unchanged tree ($errors errors)"
done
