#!/bin/bash
# lab/scenarios/ipsecn.sh: lab test.  pluto with an `ipsecN` interface, as KLIPS users had
# them: `ipsec tncfg --attach --virtual ipsec0 --physical w0` (e0 in east) makes ipsec0 an
# XFRM interface (if_id 1) on the device holding the gateway's address.  Then:
#   - whack --status shows the connection's interface as ipsec0;
#   - XFRM: the negotiated SAs and policies carry if_id 1, updown routes the peer's client
#     through ipsec0 (`ip route`: 10.2.0.0/24 dev ipsec0), the ping crosses as ESP only,
#     and the ESP counters and ipsec0's own packet counters grow; after --terminate the
#     SAs, policies and the route are gone;
#   - PF_KEY (--use-pfkey) cannot give SAs an if_id: west's install is refused with a
#     line saying so (east has no ipsec0 then), and nothing is left in west's kernel.
# The ipsecN interfaces are cleared at the end (even on failure).
#     lab/vm-run lab/scenarios/ipsecn.sh      (or lab/run-tests ipsecn)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)
on_finish() {
    local ns
    for ns in west east; do
        ip netns list 2>/dev/null | grep -qw "$ns" && ip netns exec "$ns" "$IPSEC" tncfg --clear
    done
}
# link_packets NS DEV: "TX RX" packets of DEV in NS
link_packets() {
    ip -n "$1" -s -j link show "$2" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print(s["tx"]["packets"], s["rx"]["packets"])'
}

begin ipsecn
modprobe xfrm_interface || finish 1 "modprobe xfrm_interface failed"
hr; echo "== ipsec0 on the gateways' devices"
on west "$IPSEC" tncfg --attach --virtual ipsec0 --physical w0 || finish 1 "tncfg --attach failed in west"
# With PF_KEY only west gets ipsec0: its install is refused at once (a responder
# refusing would leave west to its retransmissions).
if [ "$LAB_STACK" != pfkey ]; then
    on east "$IPSEC" tncfg --attach --virtual ipsec0 --physical e0 || finish 1 "tncfg --attach failed in east"
fi
on west ip -d link show ipsec0 | grep -q 'if_id 0x1' || finish 1 "ipsec0 has no if_id 1 in west"

start_plutos
add_connection
whack west --status | grep '"secret":   policy' | tee "$LABRUN/policy-line"
grep -q 'interface: ipsec0;' "$LABRUN/policy-line" || fail "--status does not name ipsec0 as the interface"

if [ "$LAB_STACK" = pfkey ]; then
    hr; echo "== initiate from west: PF_KEY cannot set an if_id"
    whack west --initiate --name secret > "$LABRUN/initiate.out" 2>&1; rc=$?
    cat "$LABRUN/initiate.out"
    [ "$rc" != 0 ] || fail "whack --initiate succeeded although PF_KEY cannot set an if_id"
    grep -q 'PF_KEY cannot bind SAs and policies to an XFRM interface' "$LABRUN/initiate.out" \
        "$LABRUN/west/pluto.log" "$LABRUN/east/pluto.log" || fail "no line says PF_KEY cannot set the if_id"
    wait_until 10 xfrm_empty west || { dump_xfrm west; fail "west keeps SAs or policies after the refusal"; }
    verdict "PF_KEY refused to bind the SAs to ipsec0, clearly, and left nothing behind"
fi

initiate
hr; on west ip route show 10.2.0.0/24
on west ip route show 10.2.0.0/24 | grep -q 'dev ipsec0' || fail "updown did not route 10.2.0.0/24 through ipsec0 in west"
on east ip route show 10.1.0.0/24 | grep -q 'dev ipsec0' || fail "updown did not route 10.1.0.0/24 through ipsec0 in east"
for ns in west east; do
    n=$(ip -n $ns xfrm state | grep -c 'if_id 0x1')
    [ "$n" = 2 ] || fail "$ns: $n SAs with if_id 1 (expected 2)"
    n=$(ip -n $ns xfrm policy | grep -c 'if_id 0x1')
    [ "$n" -ge 3 ] || fail "$ns: $n policies with if_id 1 (expected out, in and fwd)"
done

hr; echo "== ping through ipsec0"
read -r WTX0 WRX0 < <(link_packets west ipsec0)
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
read -r WTX1 WRX1 < <(link_packets west ipsec0)
echo "  west ipsec0: tx $WTX0 -> $WTX1, rx $WRX0 -> $WRX1 packets"
[ "$WTX1" -ge $((WTX0 + 5)) ] || fail "ipsec0 did not send the pings in west"
[ "$WRX1" -ge $((WRX0 + 5)) ] || fail "ipsec0 did not receive the replies in west"

hr; echo "== terminate"
whack west --terminate --name secret
wait_until 10 xfrm_empty west east || { dump_xfrm west east; fail "SAs or policies left after --terminate"; }
on west ip route show 10.2.0.0/24 | grep -q 'dev ipsec0' && fail "the route through ipsec0 stayed after --terminate"
verdict "SAs and policies with if_id 1, routed through ipsec0; ESP west $WP0->$WP1, ipsec0 tx $WTX0->$WTX1"
