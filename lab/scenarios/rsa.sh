#!/bin/bash
# lab/scenarios/rsa.sh: lab test.  The demo's tunnel authenticated with RSA signatures:
# each gateway makes its key with `ipsec rsasigkey`, the public halves go across with
# `ipsec showhostkey --key` and `whack --keyid ... --pubkeyrsa`, the connection has --rsasig.
#     lab/vm-run lab/scenarios/rsa.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --rsasig)

# secrets_for NS: a fresh 2048-bit key of NS, as an ipsec.secrets RSA entry for its address
secrets_for() {
    local me=192.0.2.1; [ "$1" = east ] && me=192.0.2.2
    show "[$1]" "$IPSEC" rsasigkey --hostname "$1" 2048 >&2
    echo "$me: RSA {"
    "$IPSEC" rsasigkey --hostname "$1" 2048 || return 1
    echo "	}"
}

begin rsa
start_plutos

hr; echo "== public keys: each gateway learns the other's"
WKEY=$("$IPSEC" showhostkey --file "$LABRUN/west/ipsec.secrets" --key) || finish 1 "showhostkey failed in west"
EKEY=$("$IPSEC" showhostkey --file "$LABRUN/east/ipsec.secrets" --key) || finish 1 "showhostkey failed in east"
echo "west: ${WKEY:0:40}..."; echo "east: ${EKEY:0:40}..."
whack west --keyid 192.0.2.2 --pubkeyrsa "$EKEY" || finish 1 "whack --pubkeyrsa failed in west"
whack east --keyid 192.0.2.1 --pubkeyrsa "$WKEY" || finish 1 "whack --pubkeyrsa failed in east"

add_connection
whack west --listpubkeys
initiate
grep -q "auth=OAKLEY_RSA_SIG" "$LABRUN/west/pluto.log" || fail "the ISAKMP SA was not authenticated with RSA signatures"

hr; echo "== ping through the tunnel"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
verdict "RSA-authenticated tunnel (rsasigkey keys, 2048 bits) carried the ping in ESP (west $WP0->$WP1, east $EP0->$EP1 packets)"
