#!/bin/bash
# lab/scenarios/esp-3des-sha1-tunnel.sh: lab test.  The net-to-net ESP tunnel
# 10.1.0.0/24 <-> 10.2.0.0/24 with `--esp 3des-sha1`: after west's --initiate, a ping
# 10.1.0.1 -> 10.2.0.1 passes, the ESP counters grow on both gateways, only ESP goes
# between them, and the kernel's SAs are cbc(des3_ede) + hmac(sha1).
#     lab/vm-run lab/scenarios/esp-3des-sha1-tunnel.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk
      --esp 3des-sha1)

begin esp-3des-sha1-tunnel
start_plutos
add_connection
initiate
show_status

hr; echo "== ping through the tunnel"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
for ns in west east; do
    n=$(ip -n $ns xfrm state | grep -c 'enc cbc(des3_ede)')
    a=$(ip -n $ns xfrm state | grep -c 'auth-trunc hmac(sha1) .* 96$')
    echo "$ns: $n SAs with cbc(des3_ede), $a with hmac(sha1)-96"
    [ "$n" = 2 ] && [ "$a" = 2 ] || fail "$ns's ESP SAs are not 3DES + HMAC-SHA1-96"
done
verdict "3des-sha1 ESP tunnel: ping through ESP (west $WP0->$WP1, east $EP0->$EP1 packets), cbc(des3_ede)+hmac(sha1) SAs, only ESP on the wire"
