#!/bin/bash
# lab/scenarios/manual-bad-input.sh: lab test.  Bad input to `ipsec spi` and `ipsec eroute`
# on NETKEY: with one SA and one eroute in west's kernel, every bad command (unknown
# algorithm, short keys, SPI below 0x100, missing --edst, bad key prefix, bad subnet, an
# SA or eroute that already exists, deleting what does not exist...) must exit 1 with one
# line on stderr, print nothing on stdout, and leave `ip xfrm state` and `ip xfrm policy`
# exactly as they were.
#     lab/vm-run lab/scenarios/manual-bad-input.sh      (or lab/run-tests manual-bad-input)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

K24=0x0123456789abcdef0123456789abcdef0123456789abcdef
K20=0x0123456789abcdef0123456789abcdef01234567
K16=0x0123456789abcdef0123456789abcdef

snapshot() { ip -n west xfrm state; echo ==; ip -n west xfrm policy; }

# refused ARGS...: `ipsec ARGS` in west must exit 1, print one stderr line, no stdout,
# and leave the kernel's SAs and policies unchanged
refused() {
    local before after rc out err
    before=$(snapshot)
    show "[west]" ipsec "$@"
    out=$(ip netns exec west "$IPSEC" "$@" 2>"$LABRUN/err"); rc=$?
    err=$(cat "$LABRUN/err")
    after=$(snapshot)
    echo "   exit $rc, stderr: $err"
    [ $rc = 1 ] || fail "ipsec $*: exit $rc, want 1"
    [ -z "$out" ] || fail "ipsec $*: printed on stdout: $out"
    [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "ipsec $*: stderr is not one line"
    [ "$before" = "$after" ] || fail "ipsec $*: the kernel changed"
}

begin manual-bad-input
mkdir -p "$LABRUN"
hr; echo "== one good SA and eroute in west"
on west "$IPSEC" spi --esp 3des-sha1-96 --said esp.1001@192.0.2.2 --src 192.0.2.1 --enckey $K24 --authkey $K20 \
    || fail "the good SA was refused"
on west "$IPSEC" eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said esp.1001@192.0.2.2 \
    || fail "the good eroute was refused"
snapshot

hr; echo "== ipsec spi: bad input"
SA=(--said esp.1003@192.0.2.2 --src 192.0.2.1)
refused spi --esp blowfish-sha1 "${SA[@]}" --enckey $K24 --authkey $K20          # unknown algorithm
refused spi --ah hmac-ripemd --said ah.1003@192.0.2.2 --authkey $K20           # unknown AH algorithm
refused spi --ah hmac-sha1-96 "${SA[@]}" --authkey $K20                         # esp SAID for --ah
refused spi --comp lzs --said comp.1003@192.0.2.2                               # unknown compression
refused spi --esp 3des-sha1-96 "${SA[@]}" --enckey $K16 --authkey $K20           # short 3DES key
refused spi --esp aes-sha1 "${SA[@]}" --enckey 0x0102030405 --authkey $K20       # short AES key
refused spi --esp 3des-sha1-96 "${SA[@]}" --enckey $K24 --authkey $K16           # short SHA1 key
refused spi --esp 3des-sha1-96 --said esp.ff@192.0.2.2 --enckey $K24 --authkey $K20   # SPI < 0x100
refused spi --esp 3des-sha1-96 --af inet --spi 0x1003 --proto esp --enckey $K24 --authkey $K20  # no --edst
refused spi --esp 3des-sha1-96 "${SA[@]}" --enckey 0123 --authkey $K20           # no 0x/0s/0t prefix
refused spi --esp 3des-sha1-96 "${SA[@]}" --authkey $K20                         # no --enckey
refused spi --esp 3des-sha1-96 "${SA[@]}" --dst 192.0.2.9 --enckey $K24 --authkey $K20   # --dst differs
refused spi --esp 3des-sha1-96 "${SA[@]}" --replay_window 99 --enckey $K24 --authkey $K20
refused spi --ip4 --said tun.1003@192.0.2.2 --src 192.0.2.1                      # no IPIP on NETKEY
refused spi --del --clear
refused spi --esp 3des-sha1-96 --said esp.1001@192.0.2.2 --src 192.0.2.1 --enckey $K24 --authkey $K20  # exists
refused spi --del --said esp.1005@192.0.2.2                                      # does not exist

hr; echo "== ipsec eroute: bad input"
refused eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.3.0.0/24 --af inet --spi 0x1001 --proto esp  # no --edst
refused eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.3.0.0/24 --said esp.ff@192.0.2.2             # SPI < 0x100
refused eroute --add --eraf inet --src 10.1.0.0 --dst 10.3.0.0/24 --said esp.1001@192.0.2.2              # not a subnet
refused eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.3.0.0/24 --said esp.1001@192.0.2.2 --spi 0x1001  # conflict
refused eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.3.0.0/24 --dst-port 25 --said %drop           # port w/o tcp/udp
refused eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said esp.1001@192.0.2.2           # exists
refused eroute --del --eraf inet --src 10.1.0.0/24 --dst 10.5.0.0/24                                      # does not exist
refused eroute --add --del

hr; echo "== the good ones are still there"
snapshot
# The eroute is 3 policies: out, and the in/fwd mirrors that let its tunnel's
# decapsulated traffic in (README: manual keying on NETKEY).
[ "$(xfrm_count west state)" = 1 ] && [ "$(xfrm_count west policy)" = 3 ] || fail "west lost its SA or eroute"
on west "$IPSEC" spi --clear && on west "$IPSEC" eroute --clear || fail "--clear refused"
xfrm_empty west || fail "--clear left something in west"
verdict "bad input to spi and eroute: exit 1, one line, kernel unchanged"
