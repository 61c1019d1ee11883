#!/bin/bash
# lab/scenarios/klips-script.sh: lab test.  A manual-keying script written for KLIPS runs
# unchanged on NETKEY/XFRM: on each gateway both SAs with `ipsec spi`, ONE
# `ipsec eroute --add` for the outbound flow, nothing else (no --addin: KLIPS accepted
# the decapsulated traffic of a tunnel SA without an inbound eroute).  Linux drops
# tunnel-decapsulated packets that match no inbound policy (XfrmInNoPols), so
# `eroute --add` also installs the mirrored in/fwd policies with an optional template
# (see README).  Checks: the ping crosses as ESP only, the ESP counters grow, the
# kernel's XfrmInNoPols stays 0, `ipsec eroute` lists only the outbound eroute, and
# `eroute --del` takes the mirrored policies away too.
#     lab/vm-run lab/scenarios/klips-script.sh      (or lab/run-tests klips-script)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

key() { echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
ipsec() { local ns=$1; shift; on "$ns" "$IPSEC" "$@"; }
in_no_pols() { ip netns exec "$1" awk '$1 == "XfrmInNoPols" {print $2}' /proc/net/xfrm_stat; }

begin klips-script
EK1=$(key 24); EK2=$(key 24); AK1=$(key 20); AK2=$(key 20)
hr; echo "== the script, on both gateways"
for ns in west east; do
    ipsec $ns spi --esp 3des-sha1-96 --said esp.1001@192.0.2.2 --src 192.0.2.1 \
        --enckey "$EK1" --authkey "$AK1" || fail "spi west->east refused in $ns"
    ipsec $ns spi --esp 3des-sha1-96 --said esp.1002@192.0.2.1 --src 192.0.2.2 \
        --enckey "$EK2" --authkey "$AK2" || fail "spi east->west refused in $ns"
done
ipsec west eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said tun0x1001@192.0.2.2 \
    || fail "eroute --add refused in west"
ipsec east eroute --add --eraf inet --src 10.2.0.0/24 --dst 10.1.0.0/24 --said tun0x1002@192.0.2.1 \
    || fail "eroute --add refused in east"
hr; on west ip xfrm policy

hr; echo "== ping"
NOPOLS0=$(( $(in_no_pols west) + $(in_no_pols east) ))
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
NOPOLS1=$(( $(in_no_pols west) + $(in_no_pols east) ))
echo "XfrmInNoPols (west + east): $NOPOLS0 -> $NOPOLS1"
[ "$NOPOLS1" = "$NOPOLS0" ] || fail "the kernel dropped decapsulated packets for want of an inbound policy"

hr; echo "== the listing shows the script's eroute only"
for ns in west east; do
    out=$(ip netns exec $ns "$IPSEC" eroute); echo "[$ns] $out"
    [ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] || fail "ipsec eroute in $ns lists $(printf '%s\n' "$out" | grep -c .) eroutes, want 1"
done

hr; echo "== eroute --del takes the mirrored policies too"
ipsec west eroute --del --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 || fail "eroute --del refused"
n=$(xfrm_count west policy)
echo "   west: $n policies left"
[ "$n" = 0 ] || { on west ip xfrm policy; fail "eroute --del left $n policies in west"; }
ipsec west spi --clear; ipsec east spi --clear; ipsec east eroute --clear
wait_until 5 xfrm_empty west east || fail "the kernels are not empty after --clear"
verdict "a KLIPS-style script (spi x2, eroute --add x1 per side) passed traffic: ESP west $WP0->$WP1, east $EP0->$EP1, XfrmInNoPols unchanged"
