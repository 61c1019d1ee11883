#!/bin/bash
# bench/startup.sh: rswan's start-up time and idle footprint, natively: BENCH_STARTS (5)
# times, `ipsec pluto --noklips` started in a fresh namespace until `whack --status`
# answers on its control socket.  Prints one line:
#   startup ms_mean=.. ms_min=.. ms_max=.. rss_kb=..   (RSS: pluto's, once it answers)
# Needs root, IPSEC.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BENCH_DIR=${BENCH_DIR:-/tmp/rswan-bench}
d=$BENCH_DIR/startup; rm -rf "$d"; mkdir -p "$d"
NS=rsbench-s
ip netns del "$NS" 2>/dev/null; ip netns add "$NS" || exit 1
trap 'ip netns del "$NS" 2>/dev/null' EXIT
: > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
for i in $(seq "${BENCH_STARTS:-5}"); do
    rm -f "$d/pluto.ctl" "$d/pluto.pid"
    t0=$(now)
    ip netns exec "$NS" "$IPSEC" pluto --nofork --stderrlog --noklips --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" > "$d/pluto.out" 2> "$d/pluto.log" &
    pid=$!
    for j in $(seq 2000); do
        "$IPSEC" whack --ctlbase "$d/pluto" --status > /dev/null 2>&1 && break
        sleep 0.005
    done
    t1=$(now)
    rss=$(rss_kb "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null
    echo "$t0 $t1 $rss"
done | awk '{ ms = 1000 * ($2 - $1); s += ms; if (!n || ms < lo) lo = ms; if (ms > hi) hi = ms; r += $3; n++ }
    END { printf "startup ms_mean=%.1f ms_min=%.1f ms_max=%.1f rss_kb=%d\n", s / n, lo, hi, r / n }'
