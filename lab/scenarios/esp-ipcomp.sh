#!/bin/bash
# lab/scenarios/esp-ipcomp.sh: lab test.  An ESP tunnel with IPCOMP (`--encrypt
# --compress --tunnel`): the IPCOMP SA carries the tunnel, ESP is transport inside it.
# A ping of 1000 bytes of zeros (compressible) 10.1.0.1 -> 10.2.0.1 passes, the ESP
# counters grow on both sides, only ESP is on the wire, and `ip xfrm state` has the
# IPCOMP ("proto comp") states on both gateways.
#     lab/vm-run lab/scenarios/esp-ipcomp.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --compress --tunnel --pfs --psk)

begin esp-ipcomp
start_plutos
add_connection
initiate
show_status

hr; echo "== ping (1000 bytes of zeros) through the compressed tunnel"
read -r WP0 WB0 WN0 < <(xfrm_counters west esp)
read -r EP0 EB0 EN0 < <(xfrm_counters east esp)
read -r WCP0 WCB0 WCN0 < <(xfrm_counters west comp)
read -r ECP0 ECB0 ECN0 < <(xfrm_counters east comp)
wire_check ESP -c 5 -i 0.2 -W 2 -s 1000 -p 00 -I 10.1.0.1 10.2.0.1 \
    || fail "ping through the ESP+IPCOMP tunnel failed or non-ESP traffic on the wire"
read -r WP1 WB1 WN1 < <(xfrm_counters west esp)
read -r EP1 EB1 EN1 < <(xfrm_counters east esp)
read -r WCP1 WCB1 WCN1 < <(xfrm_counters west comp)
read -r ECP1 ECB1 ECN1 < <(xfrm_counters east comp)
dump_xfrm west east
hr
echo "counters before -> after the ping"
echo "  west: $WN1 ESP SAs, $WP0 packets/$WB0 bytes -> $WP1 packets/$WB1 bytes;" \
     "$WCN1 IPCOMP SAs, $WCP0 packets/$WCB0 bytes -> $WCP1 packets/$WCB1 bytes"
echo "  east: $EN1 ESP SAs, $EP0 packets/$EB0 bytes -> $EP1 packets/$EB1 bytes;" \
     "$ECN1 IPCOMP SAs, $ECP0 packets/$ECB0 bytes -> $ECP1 packets/$ECB1 bytes"
[ "$WP1" -gt "$WP0" ] || fail "ESP counters did not grow in west"
[ "$EP1" -gt "$EP0" ] || fail "ESP counters did not grow in east"
[ "$WCN1" -ge 1 ] || fail "west's kernel has no IPCOMP (proto comp) state"
[ "$ECN1" -ge 1 ] || fail "east's kernel has no IPCOMP (proto comp) state"
for ns in west east; do
    ip -n $ns xfrm state | grep -q 'comp deflate' || fail "$ns's IPCOMP state is not deflate"
    ip -n $ns xfrm policy | grep -q 'proto comp' || fail "$ns's policies do not ask for IPCOMP"
done
verdict "ESP+IPCOMP tunnel: 1000-byte ping through ESP (west $WP0->$WP1, east $EP0->$EP1 packets), comp states on both sides (IPCOMP packets west $WCP0->$WCP1, east $ECP0->$ECP1), only ESP on the wire"
