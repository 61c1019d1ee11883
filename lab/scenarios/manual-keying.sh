#!/bin/bash
# lab/scenarios/manual-keying.sh: lab test of `ipsec spi` and `ipsec eroute` on NETKEY,
# no pluto.  For ESP 3DES-SHA1 and AES-SHA1 in turn, both gateways are keyed by hand:
#   * `ipsec spi --esp` adds the two tunnel-mode SAs on each side (west->east, east->west;
#     one side uses --said, the other --af/--edst/--spi/--proto);
#   * `ipsec eroute --add` the outbound entry, `--addin` the inbound (and forward) entries;
#   * the listings of both tools are printed and checked against the documented line
#     formats of /proc/net/ipsec_spi and /proc/net/ipsec_eroute (regex + printf columns);
#   * a ping 10.1.0.1 -> 10.2.0.1 passes, only ESP goes over the wire, the ESP counters
#     grow on both sides (`ip -s xfrm state` printed);
#   * `spi --del` removes exactly its SA, `eroute --del` exactly the entries of its
#     selectors (counted with `ip xfrm state/policy`), a second --del fails with exit 1;
#     `spi --clear` and `eroute --clear` empty the kernel.
# Then the shunts: %pass, %drop and %trap eroutes become allow / block / IPsec policies
# and list as %pass, %drop, %trap; a packet matching %trap makes the kernel ACQUIRE.
#     lab/vm-run lab/scenarios/manual-keying.sh      (or lab/run-tests manual-keying)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

key() { echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# ipsec NS ARGS...: the binary in namespace NS, printed; output and exit status as is
ipsec() { local ns=$1; shift; on "$ns" "$IPSEC" "$@"; }
# listing NS TOOL: `ipsec TOOL` (no arguments) in NS: the command line goes to stderr so
# that only the listing is captured
listing() { show "[$1]" ipsec "$2" >&2; ip netns exec "$1" "$IPSEC" "$2"; }

# expect_counts NS STATES POLICIES WHAT: the kernel of NS holds that many SAs and policies
expect_counts() {
    local s p
    s=$(xfrm_count "$1" state); p=$(xfrm_count "$1" policy)
    echo "   $1: $s SAs, $p policies (want $2 and $3)"
    [ "$s" = "$2" ] && [ "$p" = "$3" ] || fail "$4: $1 has $s SAs and $p policies, want $2 and $3"
}

SPI_RE='^(ah|esp|comp)0x[0-9a-f]+@[0-9.]+ (AH|ESP|COMP)(_[A-Z0-9]+)*: dir=(in |out) src=[0-9.]+( ooowin=[0-9]+)?( alen=[0-9]+)?( aklen=[0-9]+)?( eklen=[0-9]+)? life\(c,s,h\)=((bytes|addtime|usetime|packets)\([0-9]+,[0-9]+,[0-9]+\))* natencap=(none|nonike|nonesp) natsport=[0-9]+ natdport=[0-9]+$'
EROUTE_RE='^[0-9]+ +[0-9.]+/[0-9]+(:[0-9]+)? +-> [0-9.]+/[0-9]+(:[0-9]+)? +=> ([a-z]+0x[0-9a-f]+@[0-9.]+|%[a-z0-9]+)(:[0-9]+)?$'

# check_spi_listing NS WANT_LINES: `ipsec spi` lists WANT_LINES SAs, each in the format
check_spi_listing() {
    local out n bad
    out=$(listing "$1" spi) || { fail "ipsec spi (list) failed in $1"; return; }
    echo "$out"
    n=$(printf '%s\n' "$out" | grep -c .)
    bad=$(printf '%s\n' "$out" | grep . | grep -cvE "$SPI_RE")
    [ "$n" = "$2" ] || fail "ipsec spi in $1 listed $n SAs, want $2"
    [ "$bad" = 0 ] || fail "ipsec spi in $1: $bad lines not in the /proc/net/ipsec_spi format"
}

# check_eroute_listing NS WANT_LINES: likewise for `ipsec eroute`, and each line must be
# what printf("%-10d %-18s -> %-18s => %s") makes of its own fields
check_eroute_listing() {
    local out n bad cols
    out=$(listing "$1" eroute) || { fail "ipsec eroute (list) failed in $1"; return; }
    echo "$out"
    n=$(printf '%s\n' "$out" | grep -c .)
    bad=$(printf '%s\n' "$out" | grep . | grep -cvE "$EROUTE_RE")
    cols=$(printf '%s\n' "$out" | grep . | while read -r c s a d b x; do
        printf '%-10d %-18s -> %-18s => %s\n' "$c" "$s" "$d" "$x"; done)
    [ "$n" = "$2" ] || fail "ipsec eroute in $1 listed $n eroutes, want $2"
    [ "$bad" = 0 ] || fail "ipsec eroute in $1: $bad lines not in the /proc/net/ipsec_eroute format"
    [ "$cols" = "$(printf '%s\n' "$out" | grep .)" ] || fail "ipsec eroute in $1: columns differ from the printf format"
}

# keyed_tunnel NAME ESP_ALG ENC_BYTES SPI_OUT SPI_IN KERNEL_ENC: the whole manual-keying
# round; KERNEL_ENC is the kernel's name of the cipher (`ip xfrm state` shows it)
keyed_tunnel() {
    local name=$1 alg=$2 n=$3 so=$4 si=$5 kenc=$6
    local ke1 ke2 ka1 ka2 ns
    ke1=$(key "$n"); ke2=$(key "$n"); ka1=$(key 20); ka2=$(key 20)
    hr; echo "== $name: SAs by hand (west->east SPI $so, east->west SPI $si)"
    for ns in west east; do
        ipsec $ns spi --esp "$alg" --said "esp.${so#0x}@192.0.2.2" --src 192.0.2.1 \
            --enckey "$ke1" --authkey "$ka1" || fail "$name: spi --esp $so refused in $ns"
        ipsec $ns spi --esp "$alg" --af inet --edst 192.0.2.1 --spi "$si" --proto esp --src 192.0.2.2 \
            --enckey "$ke2" --authkey "$ka2" --replay_window 32 || fail "$name: spi --esp $si refused in $ns"
    done
    hr; echo "== $name: eroutes"
    ipsec west eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said "tun${so}@192.0.2.2" \
        || fail "$name: eroute --add refused in west"
    ipsec west eroute --addin --eraf inet --src 10.2.0.0/24 --dst 10.1.0.0/24 --said "esp${si}@192.0.2.1" \
        || fail "$name: eroute --addin refused in west"
    ipsec east eroute --add --eraf inet --src 10.2.0.0/24 --dst 10.1.0.0/24 --af inet --edst 192.0.2.1 \
        --spi "$si" --proto esp || fail "$name: eroute --add refused in east"
    ipsec east eroute --addin --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said "tun${so}@192.0.2.2" \
        || fail "$name: eroute --addin refused in east"
    for ns in west east; do
        expect_counts $ns 2 3 "$name after keying"
        c=$(ip -n $ns xfrm state | grep -cF "enc $kenc")
        a=$(ip -n $ns xfrm state | grep -c 'auth-trunc hmac(sha1) .* 96$')
        m=$(ip -n $ns xfrm state | grep -c 'mode tunnel')
        echo "   $ns: $c SAs with $kenc, $a with hmac(sha1)-96, $m in tunnel mode"
        [ "$c" = 2 ] && [ "$a" = 2 ] && [ "$m" = 2 ] || fail "$name: $ns's SAs are not $kenc + hmac(sha1)-96 in tunnel mode"
    done

    hr; echo "== $name: listings"
    for ns in west east; do
        echo "-- [$ns] ipsec spi"; check_spi_listing $ns 2
        echo "-- [$ns] ipsec eroute"; check_eroute_listing $ns 1
    done

    hr; echo "== $name: ping through the tunnel"
    read -r WP0 WB0 WN0 < <(xfrm_counters west esp)
    read -r EP0 EB0 EN0 < <(xfrm_counters east esp)
    wire_check ESP -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || fail "$name: ping through the tunnel failed or non-ESP traffic on the wire"
    read -r WP1 WB1 WN1 < <(xfrm_counters west esp)
    read -r EP1 EB1 EN1 < <(xfrm_counters east esp)
    hr; on west ip -s xfrm state; hr; on east ip -s xfrm state; hr; on west ip xfrm policy
    hr
    echo "ESP counters before -> after the ping"
    echo "  west: $WN1 ESP SAs, $WP0 packets/$WB0 bytes -> $WP1 packets/$WB1 bytes"
    echo "  east: $EN1 ESP SAs, $EP0 packets/$EB0 bytes -> $EP1 packets/$EB1 bytes"
    [ "$WP1" -gt "$WP0" ] || fail "$name: ESP counters did not grow in west"
    [ "$EP1" -gt "$EP0" ] || fail "$name: ESP counters did not grow in east"
    echo "-- listings after the ping"
    for ns in west east; do
        echo "-- [$ns] ipsec spi"; check_spi_listing $ns 2
        echo "-- [$ns] ipsec eroute"; check_eroute_listing $ns 1
    done
    listing west eroute | grep -qE "^[1-9][0-9]* +10\.1\.0\.0/24 +-> 10\.2\.0\.0/24 +=> esp${so}@192\.0\.2\.2$" \
        || fail "$name: west's eroute does not show esp${so}@192.0.2.2 with a packet count"

    hr; echo "== $name: --del removes exactly what it names"
    ipsec west spi --del --said "esp.${so#0x}@192.0.2.2" || fail "$name: spi --del refused"
    expect_counts west 1 3 "$name after spi --del"
    ip -n west xfrm state | grep -q "spi $(printf '0x%08x' "$si")" || fail "$name: spi --del took the other SA too"
    ipsec west eroute --del --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 || fail "$name: eroute --del refused"
    expect_counts west 1 2 "$name after eroute --del"
    ip -n west xfrm policy | grep -q 'dir out' && fail "$name: the outbound policy is still there"
    ipsec west eroute --del --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24; rc=$?
    echo "   second eroute --del: exit $rc"
    [ $rc = 1 ] || fail "$name: deleting a missing eroute exited $rc, want 1"
    ipsec west eroute --del --eraf inet --src 10.2.0.0/24 --dst 10.1.0.0/24 || fail "$name: eroute --del (inbound) refused"
    ipsec west spi --del --af inet --edst 192.0.2.1 --spi "$si" --proto esp || fail "$name: spi --del (four-option form) refused"
    expect_counts west 0 0 "$name after deleting everything in west"
    ipsec east spi --clear || fail "$name: spi --clear refused"
    expect_counts east 0 3 "$name after spi --clear"
    ipsec east eroute --clear || fail "$name: eroute --clear refused"
    expect_counts east 0 0 "$name after eroute --clear"
}

begin manual-keying
keyed_tunnel "ESP 3DES-SHA1" 3des-sha1-96 24 0x1001 0x1002 'cbc(des3_ede)'
keyed_tunnel "ESP AES-SHA1" aes-sha1 16 0x2001 0x2002 'cbc(aes)'

hr; echo "== shunts: %pass, %drop, %trap"
ipsec west eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.9.0.0/24 --said %pass || fail "eroute %pass refused"
ipsec west eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.8.0.0/24 --transport-proto tcp --dst-port 25 --said %drop \
    || fail "eroute %drop refused"
ipsec west eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.7.0.0/24 --said %trap || fail "eroute %trap refused"
on west ip xfrm policy
echo "-- [west] ipsec eroute"; check_eroute_listing west 3
out=$(listing west eroute)
grep -qE '10\.9\.0\.0/24 +=> %pass$' <<<"$out" || fail "%pass is not listed as %pass"
grep -qE '10\.8\.0\.0/24:25 +=> %drop:6$' <<<"$out" || fail "%drop with tcp/25 is not listed as %drop:6"
grep -qE '10\.7\.0\.0/24 +=> %trap$' <<<"$out" || fail "%trap is not listed as %trap"
# (`ip xfrm policy` leaves out the default "action allow": no block and no template)
ip -n west xfrm policy | grep -A2 'dst 10.9.0.0/24' | grep -qE 'action block|tmpl' && fail "%pass is not an allow policy"
ip -n west xfrm policy | grep -A1 'dst 10.8.0.0/24' | grep -q 'action block' || fail "%drop is not a block policy"
# %trap: traffic that matches makes the kernel send ACQUIRE (to any PF_KEY/XFRM listener)
on west ip route add 10.7.0.0/24 via 192.0.2.2 src 10.1.0.1
ip netns exec west timeout 8 ip xfrm monitor acquire > "$LABRUN/acquire.txt" 2>&1 &
PIDS+=($!); mon=$!
sleep 1
on west ping -c 1 -W 2 -I 10.1.0.1 10.7.0.1 && fail "a ping matching %trap went through without SA"
wait "$mon" 2>/dev/null
echo "-- ip xfrm monitor acquire (west) while pinging 10.7.0.1:"; cat "$LABRUN/acquire.txt"
grep -q 'dst 10.7.0.1' "$LABRUN/acquire.txt" || fail "no ACQUIRE for traffic matching the %trap eroute"
ipsec west eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.9.0.0/24 --said %drop; rc=$?
echo "   --add over an existing eroute: exit $rc"
[ $rc = 1 ] || fail "--add over an existing eroute exited $rc, want 1"
ipsec west eroute --replace --eraf inet --src 10.1.0.0/24 --dst 10.9.0.0/24 --said %drop || fail "eroute --replace refused"
listing west eroute | grep -qE '10\.9\.0\.0/24 +=> %drop$' || fail "--replace did not make the %pass eroute a %drop"
ipsec west eroute --clear || fail "eroute --clear refused"
# the ACQUIRE left a larval SA (SPI 0) behind: the kernel's, removed by an SA flush
expect_counts west 1 0 "after eroute --clear of the shunts"
ipsec west spi --clear || fail "spi --clear refused"
expect_counts west 0 0 "after the shunts"

verdict "manual keying with ipsec spi + eroute: 3DES-SHA1 and AES-SHA1 tunnels carry the ping, listings in the ipsec_spi/ipsec_eroute formats, --del/--clear exact, shunts"
