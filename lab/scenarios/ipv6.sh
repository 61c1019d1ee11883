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

# the PSK for the hosts' IPv6 addresses too
secrets_for() { echo "$PSK_LINE"; echo '2001:db8:2::1 2001:db8:2::2 : PSK "a shared secret"'; }

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

# sa_counted HOST SELECTOR: whether west's kernel holds an SA with endpoint HOST, the
# traffic selector SELECTOR ("src 0.0.0.0/0 dst 0.0.0.0/0") and packets counted
sa_counted() {
    ip -n west -s xfrm state | awk -v host="$1" -v sel="$2" '
        /^src / { ours = ($2 == host || $4 == host); sel_ok = 0 }
        ours && index($0, "sel " sel) { sel_ok = 1 }
        ours && sel_ok && /^[ \t]+[0-9]+\(bytes\), [0-9]+\(packets\)/ {
            split($2, p, "("); if (p[1] + 0 > 0) found = 1 }
        END { exit !found }'
}

begin ipv6
v6_topology || finish 1 "could not give the topology IPv6"
start_plutos

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
sa_counted 2001:db8:2::2 "src 0.0.0.0/0 dst 0.0.0.0/0" \
    || fail "c46: no IPv6 SA with an IPv4 selector that counted the ping"
sa_counted 192.0.2.2 "src ::/0 dst ::/0" \
    || fail "c64: no IPv4 SA with an IPv6 selector that counted the ping"
on west ip xfrm policy | grep -A 3 -E '^src (10\.1\.1|2001:db8:a:1::)' | grep -E '^src|tmpl' 

hr; echo "== whack --status (west), the IPsec SAs"
whack west --status | grep -E '^000 #[0-9]+: "c[46]{2}"' | grep -E 'esp\.' | tee "$LABRUN/sas.txt"
grep -q 'esp\.[0-9a-f]*@2001:db8:2::2' "$LABRUN/sas.txt" || fail "no SA named esp.SPI@2001:db8:2::2 in --status"
grep -q '"c64".*esp\.[0-9a-f]*@192\.0\.2\.2' "$LABRUN/sas.txt" || fail "no c64 SA named esp.SPI@192.0.2.2 in --status"
verdict "the four host/client family combinations carried their pings in ESP"
