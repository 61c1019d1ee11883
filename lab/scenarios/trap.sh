#!/bin/bash
# lab/scenarios/trap.sh: lab test.  `--route` on west installs a TRAP; nobody runs
# --initiate.  The first pings hit the TRAP, the kernel sends pluto an ACQUIRE, pluto
# negotiates, and later pings cross in ESP.  After --terminate the TRAP comes back
# (traffic would negotiate again) and the kernel holds no SA at all: the kernel's
# larval ACQUIRE state has the connection's reqid, so the negotiated outbound SA
# replaced it.
#     lab/vm-run lab/scenarios/trap.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)

begin trap
start_plutos
add_connection
whack west --route --name secret || finish 1 "whack --route failed in west"
hr; on west ip xfrm policy
on west ip xfrm policy | grep -q "dir out" || finish 1 "no outbound TRAP policy after --route"

hr; echo "== traffic from westnet to eastnet starts the negotiation"
read -r WP0 WB0 WN0 < <(xfrm_counters west esp)
on west ping -c 20 -i 0.5 -W 1 -I 10.1.0.1 10.2.0.1 > "$LABRUN/ping.txt" 2>&1
cat "$LABRUN/ping.txt"
RECV=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LABRUN/ping.txt")
read -r WP1 WB1 WN1 < <(xfrm_counters west esp)
read -r EP1 EB1 EN1 < <(xfrm_counters east esp)
show_status
grep -q "initiate on demand" "$LABRUN/west/pluto.log" || fail "pluto did not react to the kernel's ACQUIRE"
[ "${RECV:-0}" -gt 0 ] || fail "no ping answered once the tunnel was up"
[ "$WP1" -gt "$WP0" ] || fail "ESP counters did not grow in west"
[ "$EP1" -gt 0 ] || fail "ESP counters did not grow in east"

hr; echo "== the TRAP stays after --terminate"
whack west --terminate --name secret || fail "whack --terminate failed"
sleep 1
on west ip xfrm state
on west ip xfrm policy | grep -q "dir out" || fail "the TRAP policy was not restored after --terminate"
[ "$(xfrm_count west state)" = 0 ] || fail "SAs left in west after --terminate (a larval ACQUIRE state?)"
verdict "traffic caught by --route's TRAP started the negotiation (${RECV:-0} of 20 pings answered, ESP $WP0->$WP1 packets in west); TRAP restored and no SA left after --terminate"
