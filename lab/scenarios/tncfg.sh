#!/bin/bash
# lab/scenarios/tncfg.sh: lab test of `ipsec tncfg` on a kernel without KLIPS, where
# ipsecN is an XFRM interface.  No pluto runs.
# 1. Bad command lines (missing --physical, unknown device, virtual names eth0 / ipsecX,
#    two actions, unknown option, detach of a missing device) exit 1 with one line on
#    stderr, and the links of the namespace are the same before and after.
# 2. `tncfg --attach --virtual ipsec0 --physical w0` (e0 in east) makes ipsec0 an XFRM
#    interface on the veth with if_id 1 (`ip -d link show`); the listing prints
#    `ipsec0 -> w0 mtu=1500(1500) -> 1500`; a second attach is refused (busy).
# 3. Traffic routed into ipsec0 (route 10.2.0.0/24 dev ipsec0) with ESP SAs and policies
#    of if_id 1 (installed with ip xfrm: PF_KEY cannot set if_id) crosses encrypted: only
#    ESP on the wire, ESP counters grow on both ends, ipsec0 counts the packets.
# 4. --detach removes ipsec0; --clear removes every ipsecN XFRM interface and leaves an
#    XFRM interface of another name alone.
#     lab/vm-run lab/scenarios/tncfg.sh      (or LAB_PEERS=no lab/run-tests tncfg)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

key() { echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# tn NS ARGS...: `ipsec tncfg ARGS` in NS; stdout/stderr kept in $LABRUN/tn.{out,err},
# printed; the exit status in TN_RC
tn() {
    local ns=$1; shift
    show "[$ns]" "$IPSEC" tncfg "$@"
    ip netns exec "$ns" "$IPSEC" tncfg "$@" > "$LABRUN/tn.out" 2> "$LABRUN/tn.err"
    TN_RC=$?
    sed 's/^/    /' "$LABRUN/tn.out"
    sed 's/^/    (stderr) /' "$LABRUN/tn.err"
    echo "    (exit $TN_RC)"
}

# links NS: the names and kinds of NS's links, sorted (to compare before/after)
links() { ip -n "$1" -d -o link show | awk '{print $2, $0 ~ / xfrm / ? "xfrm" : ""}' | sort; }

# refused NS ARGS...: tncfg ARGS must exit 1 with exactly one line on stderr, nothing on
# stdout, and leave NS's links as they were
refused() {
    local ns=$1 before after; shift
    before=$(links "$ns")
    tn "$ns" "$@"
    after=$(links "$ns")
    [ "$TN_RC" = 1 ] || fail "tncfg $* exited $TN_RC, not 1"
    [ "$(wc -l < "$LABRUN/tn.err")" = 1 ] || fail "tncfg $*: not exactly one line on stderr"
    [ -s "$LABRUN/tn.out" ] && fail "tncfg $*: printed on stdout"
    [ "$before" = "$after" ] || fail "tncfg $*: the links changed"
}

begin tncfg
modprobe xfrm_interface || finish 1 "modprobe xfrm_interface failed"

# newlink_if_id0 NS: ask the kernel itself (iproute2 refuses if_id 0 before asking) to
# make an XFRM interface with if_id 0 on w0; prints the kernel's answer
newlink_if_id0() {
    ip netns exec "$1" python3 - <<'PY'
import socket, struct
def attr(t, v):
    a = struct.pack("=HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)
link = socket.if_nametoindex("w0")
data = attr(0x8002, attr(1, struct.pack("=I", link)) + attr(2, struct.pack("=I", 0)))
info = attr(0x8012, attr(1, b"xfrm\0") + data)
body = struct.pack("=BxHiII", 0, 0, 0, 0, 0) + attr(3, b"xchk\0") + info
msg = struct.pack("=IHHII", 16 + len(body), 16, 0x605, 1, 0) + body
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.setsockopt(270, 11, 1)
s.send(msg)
r = s.recv(65536)
err = -struct.unpack_from("=i", r, 16)[0]
tlv = r[20 + len(msg):] if struct.unpack_from("=H", r, 6)[0] & 0x200 else b""
text = tlv[4:].split(b"\0")[0].decode(errors="replace")
print("kernel answer to if_id 0: errno %d%s" % (err, " (%s)" % text if text else ""))
PY
}
hr; echo "== does this kernel ($(uname -r)) take if_id 0 for an XFRM interface?"
newlink_if_id0 west
if ip -n west link show xchk >/dev/null 2>&1; then
    echo "   -> yes"; ip -n west link del xchk
else
    echo "   -> no: that is why ipsecN gets if_id N+1"
fi

hr; echo "== bad input: exit 1, one line, links unchanged"
on west ip -d -o link show | sed 's/^/    /'
refused west --attach --virtual ipsec0
refused west --attach --virtual ipsec0 --physical nosuch0
refused west --attach --virtual eth0 --physical w0
refused west --attach --virtual ipsecX --physical w0
refused west --attach --detach --virtual ipsec0
refused west --attach --virtual ipsec0 --physical w0 --bogus
refused west --detach --virtual ipsec5
refused west --clear --virtual ipsec0

hr; echo "== attach ipsec0 in both gateways"
tn west --attach --virtual ipsec0 --physical w0
[ "$TN_RC" = 0 ] || finish 1 "tncfg --attach failed in west"
tn east --debug --attach --virtual ipsec0 --physical e0
[ "$TN_RC" = 0 ] || finish 1 "tncfg --attach failed in east"
for ns in west east; do
    dev=w0; [ $ns = east ] && dev=e0
    on $ns ip -d link show ipsec0 | tee "$LABRUN/link-$ns.txt"
    grep -q '^ *xfrm .*if_id 0x1\b' "$LABRUN/link-$ns.txt" || fail "$ns: ipsec0 is not an XFRM interface with if_id 0x1"
    grep -Eq "(dev $dev|@$dev)\b" "$LABRUN/link-$ns.txt" || fail "$ns: ipsec0 is not bound to $dev"
    grep -q '<.*UP' "$LABRUN/link-$ns.txt" || fail "$ns: ipsec0 is not up"
done

hr; echo "== listing (ipsec tncfg, no arguments)"
for ns in west east; do
    dev=w0; [ $ns = east ] && dev=e0
    tn $ns
    cp "$LABRUN/tn.out" "$LABRUN/listing-$ns.txt"
    [ "$TN_RC" = 0 ] || fail "$ns: listing exited $TN_RC"
    grep -Eqx "ipsec0 -> $dev mtu=1500\(1500\) -> 1500" "$LABRUN/tn.out" \
        || fail "$ns: listing line is not 'ipsec0 -> $dev mtu=1500(1500) -> 1500'"
    [ "$(wc -l < "$LABRUN/tn.out")" = 1 ] || fail "$ns: listing has not exactly one line"
done
refused west --attach --virtual ipsec0 --physical w0
grep -q 'already attached' "$LABRUN/tn.err" || fail "second attach: not the 'already attached' text"

hr; echo "== ESP SAs and policies with if_id 1, routes into ipsec0"
ke1=$(key 16); ke2=$(key 16); ka1=$(key 20); ka2=$(key 20)
W="src 192.0.2.1 dst 192.0.2.2 proto esp"
E="src 192.0.2.2 dst 192.0.2.1 proto esp"
for ns in west east; do
    on $ns ip xfrm state add $W spi 0x2001 reqid 1 mode tunnel \
        enc 'cbc(aes)' "$ke1" auth-trunc 'hmac(sha1)' "$ka1" 96 if_id 1 \
        || finish 1 "ip xfrm state add failed in $ns"
    on $ns ip xfrm state add $E spi 0x2002 reqid 2 mode tunnel \
        enc 'cbc(aes)' "$ke2" auth-trunc 'hmac(sha1)' "$ka2" 96 if_id 1 \
        || finish 1 "ip xfrm state add failed in $ns"
done
W="$W reqid 1 mode tunnel"; E="$E reqid 2 mode tunnel"
on west ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out tmpl $W if_id 1 || finish 1 "policy"
on west ip xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in  tmpl $E if_id 1 || finish 1 "policy"
on west ip xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd tmpl $E if_id 1 || finish 1 "policy"
on east ip xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir out tmpl $E if_id 1 || finish 1 "policy"
on east ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir in  tmpl $W if_id 1 || finish 1 "policy"
on east ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd tmpl $W if_id 1 || finish 1 "policy"
on west ip route replace 10.2.0.0/24 dev ipsec0 src 10.1.0.1 || finish 1 "route west"
on east ip route replace 10.1.0.0/24 dev ipsec0 src 10.2.0.1 || finish 1 "route east"

read -r WP0 _ _ < <(xfrm_counters west esp)
read -r EP0 _ _ < <(xfrm_counters east esp)
hr; echo "== ping 10.1.0.1 -> 10.2.0.1 through ipsec0"
wire_check ESP -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || fail "ping through ipsec0 failed or not only ESP on the wire"
read -r WP1 _ WN < <(xfrm_counters west esp)
read -r EP1 _ EN < <(xfrm_counters east esp)
echo "ESP counters before -> after: west $WP0 -> $WP1 packets ($WN SAs), east $EP0 -> $EP1 packets ($EN SAs)"
[ "$WP1" -gt "$WP0" ] || fail "ESP counters did not grow in west"
[ "$EP1" -gt "$EP0" ] || fail "ESP counters did not grow in east"
on west ip -s xfrm state
on west ip -s link show ipsec0
tx=$(ip -n west -s -j link show ipsec0 2>/dev/null | grep -o '"tx":{[^}]*' | grep -o '"packets":[0-9]*' | cut -d: -f2)
echo "ipsec0 in west sent ${tx:-?} packets"
[ "${tx:-0}" -ge 5 ] || fail "ipsec0 in west did not count the 5 pings"

hr; echo "== detach"
tn west --detach --virtual ipsec0
[ "$TN_RC" = 0 ] || fail "tncfg --detach exited $TN_RC"
ip -n west link show ipsec0 >/dev/null 2>&1 && fail "ipsec0 still exists in west after --detach"
tn west
[ -s "$LABRUN/tn.out" ] && fail "listing not empty after --detach"
refused west --detach --virtual ipsec0

hr; echo "== clear: every ipsecN XFRM interface goes, others stay"
tn west --attach --virtual ipsec1 --physical w0
tn west --attach --virtual ipsec2 --physical lan0
on west ip link add xfrm7 type xfrm dev w0 if_id 77
tn west
[ "$(wc -l < "$LABRUN/tn.out")" = 2 ] || fail "listing does not show ipsec1 and ipsec2"
cp "$LABRUN/tn.out" "$LABRUN/listing-west-2.txt"
tn west --clear
[ "$TN_RC" = 0 ] || fail "tncfg --clear exited $TN_RC"
for d in ipsec1 ipsec2; do
    ip -n west link show $d >/dev/null 2>&1 && fail "$d still exists after --clear"
done
ip -n west link show xfrm7 >/dev/null 2>&1 || fail "--clear deleted xfrm7, not an ipsecN"
tn west --clear
[ "$TN_RC" = 0 ] || fail "a second --clear (nothing to do) exited $TN_RC"

hr; echo "== the listings"
for f in listing-west listing-east listing-west-2; do echo "-- $f:"; cat "$LABRUN/$f.txt"; done
verdict "tncfg: ipsec0 as an XFRM interface on the veth, listed, ESP through it, detach, clear, bad input refused"
