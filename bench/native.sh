#!/bin/bash
# bench/native.sh RESULTS: the native responder benchmark (network namespaces on this
# host, nothing installed in the kernel): BENCH_ROUNDS rounds (default 5), in each a burst
# of BENCH_N (default 1000) negotiations against every responder in turn, in the same
# order each round (drift on a shared machine hits all alike):
#   rswan-h0   rswan's pluto --noklips --nhelpers 0 (all in one thread)
#   rswan-h2   rswan's pluto --noklips --nhelpers 2
#   charon     strongSwan 5.9.8's charon, the load-tester's responder with its fake kernel
# Every burst gets a freshly started responder; a burst that did not establish all is
# followed by what the logs complain about.  Appends one line per burst to RESULTS:
#   native RESPONDER ROUND n=... ok=... wall=... (bench/lib.sh bench_burst)
# Needs root, IPSEC, CHARON_PREFIX.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
RESULTS=$1
ROUNDS=${BENCH_ROUNDS:-5}; N=${BENCH_N:-1000}
RESPONDERS=${BENCH_NATIVE_RESPONDERS:-rswan-h0 rswan-h2 charon}
BENCH_DIR=${BENCH_DIR:-/tmp/rswan-bench}
W=$BENCH_DIR/native
trap 'stop_responder; topo_down' EXIT
trap 'exit 130' INT TERM

topo_up || { echo "bench/native: cannot build the topology" >&2; exit 1; }
for ((r = 1; r <= ROUNDS; r++)); do
    for resp in $RESPONDERS; do
        rm -rf "$W/$resp"; mkdir -p "$W/$resp"
        case $resp in
            rswan-h*) start_rswan "$W/$resp" --noklips --nhelpers "${resp#rswan-h}" ;;
            charon)   start_charon "$W/$resp" fake ;;
            *) echo "bench/native: unknown responder $resp" >&2; exit 2 ;;
        esac || { echo "bench/native: $resp did not start" >&2; stop_responder; continue; }
        line=$(bench_burst "$W/$resp/burst" "$N")
        stop_responder
        echo "native $resp $r $line" | tee -a "$RESULTS"
        case $line in *" ok=$N "*) ;; *)
            echo "bench/native: $resp round $r: not all established (logs in $W/$resp):"
            burst_failures "$W/$resp/burst" "$W/$resp" ;;
        esac
    done
done
