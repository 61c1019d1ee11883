#!/bin/bash
# lab/scenarios/ah.sh: lab test.  An AH-only tunnel (`--authenticate`, no --encrypt)
# 10.1.0.0/24 <-> 10.2.0.0/24: the ping 10.1.0.1 -> 10.2.0.1 passes, the AH counters of
# `ip -s xfrm state` grow on both gateways, the kernel holds AH SAs (and no ESP SA), and
# only AH goes over the wire (tcpdump shows "AH(spi=...)" with the inner ICMP in clear).
#     lab/vm-run lab/scenarios/ah.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --authenticate --tunnel --pfs --psk)

begin ah
start_plutos
add_connection
initiate
show_status

hr; echo "== ping through the AH tunnel"
read -r WP0 WB0 WN0 < <(xfrm_counters west ah)
read -r EP0 EB0 EN0 < <(xfrm_counters east ah)
wire_check AH -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || fail "ping through the AH tunnel failed or non-AH traffic on the wire"
read -r WP1 WB1 WN1 < <(xfrm_counters west ah)
read -r EP1 EB1 EN1 < <(xfrm_counters east ah)
dump_xfrm west east
hr
echo "AH counters before -> after the ping"
echo "  west: $WN1 AH SAs, $WP0 packets/$WB0 bytes -> $WP1 packets/$WB1 bytes"
echo "  east: $EN1 AH SAs, $EP0 packets/$EB0 bytes -> $EP1 packets/$EB1 bytes"
[ "$WN1" = 2 ] && [ "$EN1" = 2 ] || fail "expected 2 AH SAs on each side (west $WN1, east $EN1)"
for ns in west east; do
    read -r _ _ n < <(xfrm_counters $ns esp)
    [ "$n" = 0 ] || fail "$ns has $n ESP SAs in an AH-only connection"
done
[ "$WP1" -gt "$WP0" ] || fail "AH counters did not grow in west"
[ "$EP1" -gt "$EP0" ] || fail "AH counters did not grow in east"
verdict "AH tunnel: ping through AH (west $WP0->$WP1, east $EP0->$EP1 packets), only AH on the wire"
