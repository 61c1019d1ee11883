#!/bin/bash
# lab/scenarios/transport.sh: lab test.  Host-to-host ESP in transport mode: the
# connection has no --client and no --tunnel (192.0.2.1 <-> 192.0.2.2, --encrypt).  A
# ping 192.0.2.1 -> 192.0.2.2 passes, the ESP counters grow on both hosts, only ESP goes
# over the wire, and the kernel's SAs and policies are transport mode for the two hosts.
# The connection is not routed; transport-routed.sh runs this with --route.
#     lab/vm-run lab/scenarios/transport.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --to --host 192.0.2.2 --encrypt --pfs --psk)
ROUTE=${TRANSPORT_ROUTE:-}          # --route: transport-routed.sh

begin "transport${ROUTE:+-routed}"
start_plutos
add_connection $ROUTE
if [ -n "$ROUTE" ]; then
    hr; on west ip xfrm policy
    # With --route the TRAP covers everything between the two hosts, pluto's own IKE
    # datagrams (UDP 500) included, unless pluto exempts its IKE sockets (Openswan sets a
    # per-socket bypass policy on them).  Initiate without waiting, so that a caught Main
    # Mode fails in 30 s instead of after all its retransmissions.
    hr; echo "== initiate from west"
    # (its exit status is that of the last line, "104 ... STATE_MAIN_I1: initiate", as in Openswan)
    whack west --asynchronous --initiate --name secret
    established() { grep -q 'IPsec SA established' "$LABRUN/west/pluto.log"; }
    if ! wait_until 30 established; then
        tail -n 8 "$LABRUN/west/pluto.log"; dump_xfrm west east
        if ip -n west xfrm state | grep -q 'proto udp sport 500 dport 500'; then
            finish 1 "no IPsec SA after 30 s: west's own IKE packets (udp 500 -> 192.0.2.2) were caught by the connection's TRAP policy (larval SA 'sel ... proto udp sport 500 dport 500' in west's kernel; no bypass policy on pluto's IKE socket)"
        fi
        finish 1 "no IPsec SA 30 s after --initiate"
    fi
    grep 'SA established' "$LABRUN/west/pluto.log"
else
    initiate
fi
show_status

hr; echo "== ping between the hosts"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 192.0.2.1 192.0.2.2
for ns in west east; do
    n=$(ip -n $ns xfrm state | grep -c 'proto esp .* mode transport')
    [ "$n" = 2 ] || fail "$ns: $n of its ESP SAs are transport mode (expected 2)"
    ip -n $ns xfrm state | grep -q 'mode tunnel' && fail "$ns has a tunnel-mode SA"
    ip -n $ns xfrm policy | grep -q 'mode tunnel' && fail "$ns has a tunnel-mode policy"
    ip -n $ns xfrm policy | grep -q '^src 192.0.2.[12]/32 dst 192.0.2.[12]/32' \
        || fail "$ns has no host-to-host policy 192.0.2.x/32"
done
verdict "host-to-host ESP transport mode: ping 192.0.2.2 through ESP (west $WP0->$WP1, east $EP0->$EP1 packets), only ESP on the wire"
