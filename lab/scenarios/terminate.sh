#!/bin/bash
# lab/scenarios/terminate.sh: lab test.  West and east establish the ESP tunnel "secret"
# (not routed), a ping proves it; then `whack --terminate --name secret` on west.  Within
# 10 s neither kernel may hold an SA of the connection (east must have honoured west's
# Delete) and neither may hold its policies; both plutos keep running.
#     lab/vm-run lab/scenarios/terminate.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)

counts() {   # "west: N SAs, M policies; east: ..."
    echo "west: $(xfrm_count west state) SAs, $(xfrm_count west policy) policies;" \
         "east: $(xfrm_count east state) SAs, $(xfrm_count east policy) policies"
}
terminated() {
    [ "$(xfrm_count west state)" = 0 ] && [ "$(xfrm_count east state)" = 0 ] &&
    [ "$(xfrm_count west policy)" = 0 ] && [ "$(xfrm_count east policy)" = 0 ]
}

begin terminate
start_plutos
add_connection
initiate

hr; echo "== the tunnel works"
on west ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || finish 1 "the tunnel did not carry a ping before --terminate"
read -r WP WB WN < <(xfrm_counters west esp)
read -r EP EB EN < <(xfrm_counters east esp)
echo "established: $(counts); ESP packets west $WP, east $EP"
[ "$WN" = 2 ] && [ "$EN" = 2 ] || finish 1 "expected 2 ESP SAs on each side before --terminate ($(counts))"
[ "$(xfrm_count west policy)" -gt 0 ] || finish 1 "west has no policies before --terminate"

hr; echo "== terminate on west"
whack west --terminate --name secret || fail "whack --terminate failed"
T=$(date +%s.%N)
if wait_until 10 terminated; then
    log "both kernels clean $(awk -v a="$T" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s after --terminate"
else
    echo "10 s after --terminate: $(counts)"
    [ "$(xfrm_count west state)" = 0 ] || fail "west's kernel still holds SAs 10 s after --terminate"
    [ "$(xfrm_count east state)" = 0 ] || fail "east's kernel still holds SAs 10 s after west's --terminate (Delete not honoured)"
    [ "$(xfrm_count west policy)" = 0 ] || fail "west's policies are still there 10 s after --terminate"
    [ "$(xfrm_count east policy)" = 0 ] || fail "east's policies are still there 10 s after west's --terminate"
fi
dump_xfrm west east
hr; show_status
for ns in west east; do
    p=PLUTO_PID_$ns
    kill -0 "${!p}" 2>/dev/null || fail "pluto in $ns died"
done
grep -qi 'delete' "$LABRUN/east/pluto.log" && echo "east's log:" && grep -i 'delete' "$LABRUN/east/pluto.log" | sed 's/^/   /'
verdict "after west's --terminate neither kernel has an SA or a policy of \"secret\" ($(counts))"
