#!/bin/bash
# lab/scenarios/ipv6.sh: lab test.  The four combinations of host family and client
# family, each a tunnel between west and east (PSK, ESP aes128-sha1), all up at once:
#     c44  10.1.0.0/24        === 192.0.2.1 ... 192.0.2.2         === 10.2.0.0/24
#     c66  2001:db8:a::/64    === 2001:db8:2::1 ... 2001:db8:2::2 === 2001:db8:b::/64   (--ipv6)
#     c46  10.1.1.0/24        === 2001:db8:2::1 ... 2001:db8:2::2 === 10.2.1.0/24       (--ipv6 --tunnelipv4)
#     c64  2001:db8:a:1::/64  === 192.0.2.1 ... 192.0.2.2         === 2001:db8:b:1::/64 (--tunnelipv6)
# Checks, per connection: west initiates, a ping between the clients crosses (the
# policies let nothing through in the clear), the kernel's SAs of the mixed ones have
# a selector of the clients' family (0.0.0.0/0 in an IPv6 SA, ::/0 in an IPv4 one) and
# counted the ping's packets, and whack --status names IPv6 SAs as esp.SPI@2001:db8:2::2.
# Then:
#   - ipsec eroute and ipsec spi list the IPv6 flows and SAs (esp0xSPI@2001:db8:2::2);
#   - h66, host to host in transport mode between the IPv6 hosts, routed (a TRAP) in
#     west: each pluto passes neighbour discovery (ICMPv6 135/136, in and out, priority
#     1) ahead of it, so with both neighbour caches flushed c66 still carries a ping
#     (west's neighbour advertisement to east falls under the TRAP); east initiates h66
#     and a ping between the hosts crosses in ESP transport mode;
#   - rw6, an IPv6 road warrior: namespace road (2001:db8:3::10, linked to east only,
#     no default route) dials into east's `--ipv6 --host %any` connection (secrets
#     `2001:db8:3::1 %any6`); east names the instance "rw6"[1] 2001:db8:3::10, the
#     road's route to 2001:db8:b::/64 comes from the default updown, and its ping
#     crosses in ESP; on the xfrm stack east (60 s SAs) rekeys the instance itself before
#     the road (--dontrekey) would let it expire, and the ping crosses again; after the
#     road's --shutdown its kernel holds no policy at all.
#     lab/vm-run lab/scenarios/ipv6.sh      (or lab/run-tests ipv6)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

# name|family options|west host|east host|west client|east client|west ping source|east address
CONNS=(
    "c44||192.0.2.1|192.0.2.2|10.1.0.0/24|10.2.0.0/24|10.1.0.1|10.2.0.1"
    "c66|--ipv6|2001:db8:2::1|2001:db8:2::2|2001:db8:a::/64|2001:db8:b::/64|2001:db8:a::1|2001:db8:b::1"
    "c46|--ipv6 --tunnelipv4|2001:db8:2::1|2001:db8:2::2|10.1.1.0/24|10.2.1.0/24|10.1.1.1|10.2.1.1"
    "c64|--tunnelipv6|192.0.2.1|192.0.2.2|2001:db8:a:1::/64|2001:db8:b:1::/64|2001:db8:a:1::1|2001:db8:b:1::1"
)

# the PSK for the hosts' IPv6 addresses too; east's for road warriors at 2001:db8:3::1,
# and the road's for east
secrets_for() {
    case $1 in
        road) echo '2001:db8:3::10 2001:db8:3::1 : PSK "one road, six"'; return ;;
        east) echo '2001:db8:3::1 %any6 : PSK "one road, six"' ;;
    esac
    echo "$PSK_LINE"
    echo '2001:db8:2::1 2001:db8:2::2 : PSK "a shared secret"'
}

# v6_topology: ipv6_topology, and the second client subnets of c46 and c64 with routes
v6_topology() {
    ipv6_topology || return 1
    ip -n west addr add 2001:db8:a:1::1/64 dev lan0 nodad && ip -n west addr add 10.1.1.1/24 dev lan0 \
        && ip -n east addr add 2001:db8:b:1::1/64 dev lan0 nodad && ip -n east addr add 10.2.1.1/24 dev lan0 \
        || return 1
    ip -n west route add 2001:db8:b:1::/64 via 2001:db8:2::2 src 2001:db8:a:1::1 \
        && ip -n west route add 10.2.1.0/24 via 192.0.2.2 src 10.1.1.1 || return 1
    ip -n east route add 2001:db8:a:1::/64 via 2001:db8:2::1 src 2001:db8:b:1::1 \
        && ip -n east route add 10.1.1.0/24 via 192.0.2.1 src 10.2.1.1 || return 1
}

# road_netns: the road warrior's namespace "road", 2001:db8:3::10 on a link to east's
# 2001:db8:3::1 (e6), with no route beyond that link
road_netns() {
    ip netns add road || return 1
    ip link add r0 netns road type veth peer name e6 netns east || return 1
    ip netns exec road sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
        net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.r0.disable_ipv6=0 || return 1
    ip netns exec east sysctl -qw net.ipv6.conf.e6.disable_ipv6=0 || return 1
    ip -n road addr add 2001:db8:3::10/64 dev r0 nodad && ip -n east addr add 2001:db8:3::1/64 dev e6 nodad \
        && ip -n road link set lo up && ip -n road link set r0 up && ip -n east link set e6 up
}
on_finish() { ip netns del road 2>/dev/null; true; }

# sa_counted NS HOST SELECTOR: whether NS's kernel holds an SA with endpoint HOST, the
# selector SELECTOR ("src 0.0.0.0/0 dst 0.0.0.0/0", or "mode transport") and packets counted
sa_counted() {
    ip -n "$1" -s xfrm state | awk -v host="$2" -v sel="$3" '
        /^src / { ours = ($2 == host || $4 == host); sel_ok = 0 }
        ours && index($0, sel) { sel_ok = 1 }
        ours && sel_ok && /^[ \t]+[0-9]+\(bytes\), [0-9]+\(packets\)/ {
            split($2, p, "("); if (p[1] + 0 > 0) found = 1 }
        END { exit !found }'
}

begin ipv6
v6_topology || finish 1 "could not give the topology IPv6"
road_netns || finish 1 "could not make the road warrior's namespace"
start_plutos
# The road's pluto is stopped by this scenario (finish stops west's and east's).
plutos=("${PLUTOS[@]}")
start_pluto road || finish 1 "pluto did not start in road"
PLUTOS=("${plutos[@]}")

hr; echo "== the four connections, on both gateways"
for c in "${CONNS[@]}"; do
    IFS='|' read -r name fam wh eh wc ec _ _ <<< "$c"
    # shellcheck disable=SC2086 # $fam is zero, one or two options
    for ns in west east; do
        whack $ns --name "$name" $fam --host "$wh" --client "$wc" --to --host "$eh" --client "$ec" \
            --encrypt --tunnel --psk --esp aes128-sha1 || finish 1 "whack could not add $name in $ns"
    done
done
for ns in west east; do
    whack $ns --listen > "$LABRUN/$ns/listen.txt" || finish 1 "whack --listen failed in $ns"
done
grep -E 'adding interface.*2001:db8' "$LABRUN/east/listen.txt" || fail "east's pluto listens on no IPv6 address"

for c in "${CONNS[@]}"; do
    IFS='|' read -r name fam wh eh wc ec src dst <<< "$c"
    hr; echo "== $name: $wc === $wh ... $eh === $ec"
    whack west --initiate --name "$name" || { fail "$name did not come up"; continue; }
    # East installs its outbound SA when QI2 arrives, after west's whack returned.
    up() { grep -q "\"$name\" #[0-9]*: STATE_QUICK_R2" "$LABRUN/east/pluto.log"; }
    wait_until 10 up || fail "east did not establish $name"
    ping_cmd=(ping -c 2 -W 3 -I "$src" "$dst")
    [[ $dst == *:* ]] && ping_cmd=(ping -6 -c 2 -W 3 -I "$src" "$dst")
    on west "${ping_cmd[@]}" > /dev/null || fail "$name: no ping from $src to $dst"
done

hr; echo "== the kernel's SAs (west)"
on west ip -s xfrm state | grep -E '^src|proto esp|sel |bytes\), ' 
sa_counted west 2001:db8:2::2 "sel src 0.0.0.0/0 dst 0.0.0.0/0" \
    || fail "c46: no IPv6 SA with an IPv4 selector that counted the ping"
sa_counted west 192.0.2.2 "sel src ::/0 dst ::/0" \
    || fail "c64: no IPv4 SA with an IPv6 selector that counted the ping"
on west ip xfrm policy | grep -A 3 -E '^src (10\.1\.1|2001:db8:a:1::)' | grep -E '^src|tmpl' 

hr; echo "== whack --status (west), the IPsec SAs"
whack west --status | grep -E '^000 #[0-9]+: "c[46]{2}"' | grep -E 'esp\.' | tee "$LABRUN/sas.txt"
grep -q 'esp\.[0-9a-f]*@2001:db8:2::2' "$LABRUN/sas.txt" || fail "no SA named esp.SPI@2001:db8:2::2 in --status"
grep -q '"c64".*esp\.[0-9a-f]*@192\.0\.2\.2' "$LABRUN/sas.txt" || fail "no c64 SA named esp.SPI@192.0.2.2 in --status"
hr; echo "== ipsec eroute and ipsec spi (west): IPv6 flows and SAIDs"
on west "$IPSEC" eroute | tee "$LABRUN/eroute.txt"
grep -qE '^[0-9]+ +2001:db8:a::/64 +-> +2001:db8:b::/64 +=> +esp0x[0-9a-f]+@2001:db8:2::2' "$LABRUN/eroute.txt" \
    || fail "ipsec eroute lists no IPv6 flow with its IPv6 SAID"
on west "$IPSEC" spi | grep -E '^esp0x[0-9a-f]+@2001:db8:2::[12] ' | tee "$LABRUN/spi.txt" | cut -c 1-110
[ "$(grep -c . "$LABRUN/spi.txt")" -ge 4 ] || fail "ipsec spi lists fewer than the 4 ESP SAs of c66 and c46"

hr; echo "== neighbour discovery passes ahead of every policy (west)"
on west ip xfrm policy | grep -A 1 -E 'proto ipv6-icmp type 13[56] '
n=$(ip -n west xfrm policy | grep -A 1 -E 'proto ipv6-icmp type 13[56] ' | grep -cE 'dir (in|out) priority 1 ')
[ "$n" = 4 ] || fail "west holds $n neighbour discovery policies at priority 1, not 4"

hr; echo "== h66: host to host between the IPv6 hosts (transport mode), a TRAP in west"
for ns in west east; do
    whack $ns --name h66 --ipv6 --host 2001:db8:2::1 --to --host 2001:db8:2::2 \
        --encrypt --psk --esp aes128-sha1 || finish 1 "whack could not add h66 in $ns"
done
whack west --route --name h66 || fail "whack --route h66 failed"
on west ip xfrm policy | grep -A 1 -E '^src 2001:db8:2::1/128 dst 2001:db8:2::2/128'
ip -n west -6 neigh flush dev w0; ip -n east -6 neigh flush dev e0
on east ping -6 -c 2 -W 3 -I 2001:db8:b::1 2001:db8:a::1 > /dev/null \
    || fail "c66 carried no ping once west's TRAP covered the hosts: neighbour discovery was caught"
echo "east's neighbour entry for west: $(ip -n east -6 neigh show 2001:db8:2::1 dev e0)"
whack east --initiate --name h66 || fail "h66 did not come up"
on west ping -6 -c 2 -W 3 -I 2001:db8:2::1 2001:db8:2::2 > /dev/null || fail "h66: no ping between the hosts"
on west ip -s xfrm state | grep -A 2 -E '^src 2001:db8:2::1 dst 2001:db8:2::2' | grep -A 1 'mode transport'
sa_counted west 2001:db8:2::2 "mode transport" || fail "h66: no transport-mode SA counted the ping"

hr; echo "== rw6: an IPv6 road warrior dials into east's %any connection"
# East's IPsec SAs live 60 s with a 20 s margin; the road never rekeys (--dontrekey).
whack east --name rw6 --ipv6 --host 2001:db8:3::1 --client 2001:db8:b::/64 --nexthop %direct --to --host %any \
    --encrypt --tunnel --psk --esp aes128-sha1 --ipseclifetime 60 --rekeymargin 20 --rekeyfuzz 0 \
    || finish 1 "whack could not add rw6 in east"
whack road --name rw6 --ipv6 --host 2001:db8:3::10 --to --host 2001:db8:3::1 --client 2001:db8:b::/64 \
    --encrypt --tunnel --psk --esp aes128-sha1 --dontrekey || finish 1 "whack could not add rw6 in road"
whack road --listen > /dev/null || finish 1 "whack --listen failed in road"
grep -E 'adding interface' "$LABRUN/east/listen.txt" | grep -E '2001:db8:3::1|fe80' 
grep -q 'adding interface.*fe80' "$LABRUN/east/listen.txt" && fail "east's pluto listens on a link-local address"
whack road --initiate --name rw6 || fail "rw6 did not come up"
# The updown runs once the SA is up, beside whack's return.
road_route() { ip -n road -6 route show 2001:db8:b::/64 | grep -q 'dev r0'; }
wait_until 10 road_route || fail "the updown gave the road no route to 2001:db8:b::/64"
echo "road's route: $(ip -n road -6 route show 2001:db8:b::/64)"
on road ping -6 -c 2 -W 3 -I 2001:db8:3::10 2001:db8:b::1 > /dev/null || fail "rw6: no ping from the road"
sa_counted road 2001:db8:3::1 "sel src ::/0 dst ::/0" || fail "rw6: the road's SAs counted no ping"
whack east --status | grep -E '"rw6"\[[0-9]+\]' | tee "$LABRUN/rw6.txt"
grep -q '"rw6"\[1\] 2001:db8:3::10' "$LABRUN/rw6.txt" || fail "east named no instance \"rw6\"[1] 2001:db8:3::10"
if [ "$LAB_STACK" = xfrm ]; then    # the engine's rule; once is enough
    hr; echo "== east rekeys the road's IPsec SA itself, at half its margin (the road does not)"
    rekeyed() { grep -q '"rw6"\[1\] 2001:db8:3::10 #[0-9]*: STATE_QUICK_I2' "$LABRUN/east/pluto.log"; }
    wait_until 75 rekeyed || fail "east did not rekey the road's IPsec SA"
    grep -E '"rw6"\[1\] 2001:db8:3::10 #[0-9]*: (STATE_QUICK_I|.*replac|.*rekey)' "$LABRUN/east/pluto.log" | tail -n 3
    on road ping -6 -c 2 -W 3 -I 2001:db8:3::10 2001:db8:b::1 > /dev/null \
        || fail "rw6: no ping from the road over east's new SA"
fi
whack road --shutdown
wait_until 10 eval '! kill -0 "$PLUTO_PID_road" 2>/dev/null' || fail "the road's pluto did not exit"
left=$(ip -n road xfrm policy list | grep -c '^src ')
[ "$left" = 0 ] || { on road ip xfrm policy; fail "the road's kernel holds $left policies after --shutdown"; }
ip -n road -6 route show 2001:db8:b::/64 | grep -q . && fail "the road's route outlived its SA"
verdict "the four host/client family combinations, a v6 transport tunnel under a TRAP and a v6 road warrior carried their pings in ESP"
