#!/bin/bash
# lab/scenarios/aes-sha1-pfs.sh: lab test.  The net-to-net ESP tunnel with
# `--ike aes128-sha1-modp2048 --esp aes128-sha1 --pfs`: the ping 10.1.0.1 -> 10.2.0.1
# passes through ESP (counters grow on both sides, only ESP on the wire), the kernel's
# SAs are cbc(aes) with a 128-bit key + hmac(sha1), and both plutos report the ISAKMP SA
# and the IPsec SA established with these algorithms, and --status shows PFS in the
# connection's policy.
#     lab/vm-run lab/scenarios/aes-sha1-pfs.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk
      --ike aes128-sha1-modp2048 --esp aes128-sha1)

begin aes-sha1-pfs
start_plutos
add_connection
initiate
show_status

hr; echo "== ping through the tunnel"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
for ns in west east; do
    n=$(ip -s -n $ns xfrm state | grep -c 'enc cbc(aes) 0x[0-9a-f]* (128 bits)')
    a=$(ip -s -n $ns xfrm state | grep -c 'auth-trunc hmac(sha1) 0x[0-9a-f]* (160 bits) 96')
    echo "$ns: $n SAs with cbc(aes) 128 bits, $a with hmac(sha1)-96"
    [ "$n" = 2 ] && [ "$a" = 2 ] || fail "$ns's ESP SAs are not AES-128-CBC + HMAC-SHA1-96 (ip xfrm state shows no cbc(aes))"
    grep 'SA established' "$LABRUN/$ns/pluto.log" | sed 's/^/   /'
    grep -q 'ISAKMP SA established .*cipher=oakley_aes_cbc_128 prf=oakley_sha group=modp2048' "$LABRUN/$ns/pluto.log" \
        || fail "$ns's log shows no ISAKMP SA with aes_cbc_128, sha, modp2048"
    grep -q 'IPsec SA established .*xfrm=AES_128-HMAC_SHA1' "$LABRUN/$ns/pluto.log" \
        || fail "$ns's log shows no IPsec SA with AES_128-HMAC_SHA1"
    grep -q '"secret": *policy: .*+PFS' "$LABRUN/$ns/status.txt" || fail "$ns's --status shows no PFS in the policy"
done
verdict "aes128-sha1 ESP tunnel with PFS (IKE aes128-sha1-modp2048): ping through ESP (west $WP0->$WP1, east $EP0->$EP1 packets), cbc(aes) SAs, only ESP on the wire"
