#!/bin/bash
# lab/scenarios/rsa.sh: lab test.  The demo's tunnel authenticated with RSA signatures:
# each gateway makes its key with `ipsec rsasigkey`.  West learns east's public half with
# `ipsec showhostkey --key` and `whack --keyid ... --pubkeyrsa`; east learns none and
# takes west's from DNS (`--dnskeyondemand` on west's end): a dnsmasq in east's
# namespace serves west's reverse-map name with the FreeS/WAN TXT record
# (X-IPsec-Server(10)=192.0.2.1 AQ...) and an IPSECKEY record (RFC 4025) of the same key.
#     lab/vm-run lab/scenarios/rsa.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24 --dnskeyondemand
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --rsasig)
WEST_REV=1.2.0.192.in-addr.arpa

# east's resolver: `ip netns exec east` binds /etc/netns/east/resolv.conf over the guest's
# (made before pluto starts, so that its namespace has it)
on_finish() {
    [ -n "${DNSMASQ_PID:-}" ] && kill "$DNSMASQ_PID" 2>/dev/null
    rm -rf /etc/netns/east; true
}

# ipseckey_hex KEY: the RDATA of an IPSECKEY record for KEY (0s base64, RFC 3110) with
# precedence 10 and gateway 192.0.2.1: precedence, gateway type 1, algorithm 2 (RSA),
# the address, the key
ipseckey_hex() {
    printf '0a0102c0000201'
    printf '%s' "${1#0s}" | base64 -d | od -An -v -tx1 | tr -d ' \n'
}

# secrets_for NS: a fresh 2048-bit key of NS, as an ipsec.secrets RSA entry for its address
secrets_for() {
    local me=192.0.2.1; [ "$1" = east ] && me=192.0.2.2
    show "[$1]" "$IPSEC" rsasigkey --hostname "$1" 2048 >&2
    echo "$me: RSA {"
    "$IPSEC" rsasigkey --hostname "$1" 2048 || return 1
    echo "	}"
}

begin rsa
mkdir -p /etc/netns/east
echo "nameserver 127.0.0.1" > /etc/netns/east/resolv.conf
start_plutos

hr; echo "== public keys: each gateway learns the other's"
WKEY=$("$IPSEC" showhostkey --file "$LABRUN/west/ipsec.secrets" --key) || finish 1 "showhostkey failed in west"
EKEY=$("$IPSEC" showhostkey --file "$LABRUN/east/ipsec.secrets" --key) || finish 1 "showhostkey failed in east"
echo "west: ${WKEY:0:40}..."; echo "east: ${EKEY:0:40}..."
whack west --keyid 192.0.2.2 --pubkeyrsa "$EKEY" || finish 1 "whack --pubkeyrsa failed in west"

hr; echo "== east's name server: west's key under $WEST_REV"
# TXT character-strings hold 255 bytes: dnsmasq makes one of each comma-separated part.
TXT="X-IPsec-Server(10)=192.0.2.1 ${WKEY#0s}"
TXT_PARTS=$(printf '%s' "$TXT" | fold -w 200 | paste -sd, -)
ip netns exec east dnsmasq --keep-in-foreground --user=root --no-resolv --no-hosts --bind-interfaces \
    --listen-address=127.0.0.1 --pid-file="$LABRUN/dnsmasq.pid" --log-queries \
    --log-facility="$LABRUN/dnsmasq.log" --txt-record="$WEST_REV,$TXT_PARTS" \
    --dns-rr="$WEST_REV,45,$(ipseckey_hex "$WKEY")" &
DNSMASQ_PID=$!; PIDS+=("$DNSMASQ_PID")
wait_until 10 grep -q "started" "$LABRUN/dnsmasq.log" || finish 1 "dnsmasq did not start in east"

add_connection
whack west --listpubkeys
whack east --listpubkeys
initiate
grep -q "auth=OAKLEY_RSA_SIG" "$LABRUN/west/pluto.log" || fail "the ISAKMP SA was not authenticated with RSA signatures"
grep "DNS\|asking" "$LABRUN/east/pluto.log"
grep -q "no RSA public key known for '192.0.2.1': asking DNS (TXT and IPSECKEY of $WEST_REV)" \
    "$LABRUN/east/pluto.log" || fail "east did not ask DNS for west's key"
grep -q "DNS gave 1 RSA public key(s) for '192.0.2.1' under $WEST_REV" "$LABRUN/east/pluto.log" \
    || fail "east did not take west's key from DNS"
grep "query\[\|reply\|config" "$LABRUN/dnsmasq.log" | sed 's/^/dnsmasq: /' | cut -c1-160
[ "$(grep -c "query\[TXT\] $WEST_REV\|query\[IPSECKEY\] $WEST_REV" "$LABRUN/dnsmasq.log")" = 2 ] \
    || fail "dnsmasq was not asked for the TXT and the IPSECKEY record, once each"

hr; echo "== ping through the tunnel"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
verdict "RSA-authenticated tunnel (rsasigkey keys, 2048 bits; east's key for west from DNS) carried the ping in ESP (west $WP0->$WP1, east $EP0->$EP1 packets)"
