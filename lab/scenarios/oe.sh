#!/bin/bash
# lab/scenarios/oe.sh: lab test.  Opportunistic Encryption between two rswan gateways
# that know nothing of each other: each has only a `--host %opportunistic` template over
# its client net, routed (a %trap for the whole peer range), with --failpass.  Every key
# and gateway is in DNS: a dnsmasq in each namespace serves the same records
#     1.2.0.192.in-addr.arpa  TXT "X-IPsec-Server(10)=192.0.2.1 <west's key>"
#     2.2.0.192.in-addr.arpa  TXT "X-IPsec-Server(10)=192.0.2.2 <east's key>"
#     1.0.1.10.in-addr.arpa   TXT "X-IPsec-Server(10)=192.0.2.1"   (west speaks for 10.1.0.1)
#     1.0.2.10.in-addr.arpa   TXT "X-IPsec-Server(10)=192.0.2.2"   (east speaks for 10.2.0.1)
# West pings 10.2.0.1 from 10.1.0.1: the kernel's ACQUIRE makes west look up 10.2.0.1's
# gateway, negotiate with it (keys from DNS at MR3/MI3, east checks that west speaks for
# 10.1.0.1), and the ping then crosses in ESP.  10.3.0.7 (behind east, no record): the
# failure shunt lets it pass in the clear.  `whack --oppohere/--oppothere` starts the same
# for 10.1.0.1 -> 10.2.0.9 (no record either).
#     lab/vm-run lab/scenarios/oe.sh      (or lab/run-tests oe)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

DNSMASQ_PIDS=()
on_finish() {
    [ ${#DNSMASQ_PIDS[@]} -gt 0 ] && kill "${DNSMASQ_PIDS[@]}" 2>/dev/null
    rm -rf /etc/netns/west /etc/netns/east; true
}

# secrets_for NS: a fresh 2048-bit key of NS, as an ipsec.secrets RSA entry for its address
secrets_for() {
    local me=192.0.2.1; [ "$1" = east ] && me=192.0.2.2
    echo "$me: RSA {"
    "$IPSEC" rsasigkey --hostname "$1" 2048 2>/dev/null || return 1
    echo "	}"
}

# txt_parts TEXT: dnsmasq's --txt-record value (comma-separated strings of at most 200)
txt_parts() { printf '%s' "$1" | fold -w 200 | paste -sd, -; }

begin oe
for ns in west east; do
    mkdir -p /etc/netns/$ns
    echo "nameserver 127.0.0.1" > /etc/netns/$ns/resolv.conf
done
# A host behind east that no record names.
ip -n east addr add 10.3.0.7/24 dev lan0
ip -n west route add 10.3.0.0/24 via 192.0.2.2 src 10.1.0.1
start_plutos

WKEY=$("$IPSEC" showhostkey --file "$LABRUN/west/ipsec.secrets" --key) || finish 1 "showhostkey failed in west"
EKEY=$("$IPSEC" showhostkey --file "$LABRUN/east/ipsec.secrets" --key) || finish 1 "showhostkey failed in east"
hr; echo "== the name servers (one in each namespace, the same records)"
for ns in west east; do
    ip netns exec $ns dnsmasq --keep-in-foreground --user=root --no-resolv --no-hosts \
        --bind-interfaces --listen-address=127.0.0.1 --pid-file="$LABRUN/dnsmasq-$ns.pid" \
        --local=/in-addr.arpa/ \
        --log-queries --log-facility="$LABRUN/dnsmasq-$ns.log" \
        --txt-record="1.2.0.192.in-addr.arpa,$(txt_parts "X-IPsec-Server(10)=192.0.2.1 ${WKEY#0s}")" \
        --txt-record="2.2.0.192.in-addr.arpa,$(txt_parts "X-IPsec-Server(10)=192.0.2.2 ${EKEY#0s}")" \
        --txt-record="1.0.1.10.in-addr.arpa,X-IPsec-Server(10)=192.0.2.1" \
        --txt-record="1.0.2.10.in-addr.arpa,X-IPsec-Server(10)=192.0.2.2" &
    DNSMASQ_PIDS+=($!); PIDS+=($!)
done
for ns in west east; do
    wait_until 10 grep -q "started" "$LABRUN/dnsmasq-$ns.log" || finish 1 "dnsmasq did not start in $ns"
done

hr; echo "== the opportunistic templates, routed"
whack west --name oe --host 192.0.2.1 --client 10.1.0.0/24 --nexthop 192.0.2.2 \
    --to --host %opportunistic --rsasig --encrypt --tunnel --pfs --failpass || finish 1 "whack failed in west"
whack east --name oe --host 192.0.2.2 --client 10.2.0.0/24 --nexthop 192.0.2.1 \
    --to --host %opportunistic --rsasig --encrypt --tunnel --pfs --failpass || finish 1 "whack failed in east"
for ns in west east; do
    whack $ns --listen >/dev/null || finish 1 "whack --listen failed in $ns"
    whack $ns --route --name oe || finish 1 "whack --route failed in $ns"
done
ip -n west xfrm policy list | grep -A2 "^src 10.1.0.0/24 dst 0.0.0.0/0" \
    || fail "west has no %trap for 10.1.0.0/24 -> 0.0.0.0/0"

hr; echo "== west pings 10.2.0.1: the kernel holds the first packets while pluto looks and negotiates"
on west ping -c 3 -i 0.5 -W 1 -I 10.1.0.1 10.2.0.1
wait_until 30 grep -q 'STATE_QUICK_I2' "$LABRUN/west/pluto.log" || fail "west did not negotiate with 10.2.0.1's gateway"
grep -E "initiate on demand|is behind|DNS|STATE_QUICK_I2" "$LABRUN/west/pluto.log"
grep -E "DNS|asking|clients are|STATE_QUICK_R2" "$LABRUN/east/pluto.log"
grep -q "10.2.0.1 is behind 192.0.2.2 (DNS 1.0.2.10.in-addr.arpa): negotiating with it" \
    "$LABRUN/west/pluto.log" || fail "west did not find 10.2.0.1's gateway in DNS"
grep -q "DNS gave 1 RSA public key(s) for '192.0.2.2'" "$LABRUN/west/pluto.log" \
    || fail "west did not take east's key from DNS"
grep -q "DNS gave 1 RSA public key(s) for '192.0.2.1'" "$LABRUN/east/pluto.log" \
    || fail "east did not take west's key from DNS"
grep -q "DNS (1.0.1.10.in-addr.arpa) names 192.0.2.1 as the gateway of 10.1.0.1" \
    "$LABRUN/east/pluto.log" || fail "east did not check that west speaks for 10.1.0.1"

hr; echo "== the ping through the opportunistic tunnel"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
whack west --status | grep -E '"oe' | head -20

hr; echo "== 10.3.0.7 has no record: the failure shunt lets it pass"
on west ping -c 4 -i 0.5 -W 1 -I 10.1.0.1 10.3.0.7
wait_until 10 grep -q "failure shunt %pass installed for 10.1.0.1 -> 10.3.0.7" "$LABRUN/west/pluto.log" \
    || fail "west installed no failure shunt for 10.3.0.7"
grep -E "10.3.0.7" "$LABRUN/west/pluto.log"
on west ping -c 2 -i 0.2 -W 1 -I 10.1.0.1 10.3.0.7 || fail "10.3.0.7 is not reachable in the clear"
pol=$(ip -n west xfrm policy list | awk '/^src /{ p = /^src 10.1.0.1\/32 dst 10.3.0.7\/32 / } p')
echo "$pol"
[ -n "$pol" ] && ! echo "$pol" | grep -q tmpl || fail "no policy without SAs (%pass) for 10.1.0.1 -> 10.3.0.7"

hr; echo "== whack --oppohere 10.1.0.1 --oppothere 10.2.0.9"
whack west --oppohere 10.1.0.1 --oppothere 10.2.0.9
wait_until 10 grep -q "failure shunt %pass installed for 10.1.0.1 -> 10.2.0.9" "$LABRUN/west/pluto.log" \
    || fail "--oppohere/--oppothere did not look 10.2.0.9 up"
out=$(whack west --oppohere 10.9.0.1 --oppothere 10.2.0.9 2>&1); echo "$out"
echo "$out" | grep -q "no routed opportunistic connection covers 10.9.0.1 -> 10.2.0.9" \
    || fail "--oppohere outside every template was not refused"

hr; echo "== unrouting the template takes its instances and shunts"
whack west --unroute --name oe
wait_until 5 sh -c "[ \$(ip -n west xfrm policy list | grep -c '10.3.0.7/32') = 0 ]" \
    || fail "the failure shunt stayed after --unroute"
hr; echo "== a failure shunt again, then --shutdown: nothing is left in the kernel"
whack west --route --name oe >/dev/null
whack west --oppohere 10.1.0.1 --oppothere 10.2.0.9 >/dev/null
wait_until 10 sh -c "ip -n west xfrm policy list | grep -q '10.2.0.9/32'" || fail "no failure shunt for 10.2.0.9 the second time"
whack west --shutdown >/dev/null
wait_until 10 sh -c "[ \$(ip -n west xfrm policy list | grep -c '^src 10') = 0 ]" \
    || { ip -n west xfrm policy list; fail "policies left in west after --shutdown"; }
verdict "opportunistic: west found 10.2.0.1's gateway and both keys in DNS, the ping crossed in ESP (west $WP0->$WP1, east $EP0->$EP1 packets); 10.3.0.7 passed by the failure shunt"
