#!/bin/bash
# bench/vm.sh RESULTS: the lab-VM part of `make bench` (real SAs in the lab kernel under
# qemu TCG): lab/setup (kernel, strongSwan and libreswan, as for make interop), then ONE
# VM running bench/vm-guest.sh; its "vm ..." lines are appended to RESULTS.  The VM run
# is bounded by BENCH_VM_TIMEOUT seconds (default 2400).  Output of the guest goes to
# $BENCH_DIR/vm.log and is shown.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RESULTS=$1
BENCH_DIR=${BENCH_DIR:-/tmp/rswan-bench}
mkdir -p "$BENCH_DIR"
"$REPO/lab/setup" > "$BENCH_DIR/lab-setup.log" 2>&1 \
    || { tail -n 20 "$BENCH_DIR/lab-setup.log"; echo "bench/vm: lab/setup failed" >&2; exit 1; }
envs=()
for v in BENCH_VM_ROUNDS BENCH_VM_N BENCH_VM_RESPONDERS BURST_LIMIT; do
    [ -n "${!v:-}" ] && envs+=(-e "$v=${!v}")
done
"$REPO/lab/vm-run" -t "${BENCH_VM_TIMEOUT:-2400}" "${envs[@]}" "$HERE/vm-guest.sh" 2>&1 \
    | tee "$BENCH_DIR/vm.log"
rc=${PIPESTATUS[0]}
grep -a '^vm ' "$BENCH_DIR/vm.log" >> "$RESULTS"
exit "$rc"
