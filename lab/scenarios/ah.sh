#!/bin/bash
# lab/scenarios/ah.sh: lab test.  An AH-only tunnel (`--authenticate`, no --encrypt)
# 10.1.0.0/24 <-> 10.2.0.0/24: the ping 10.1.0.1 -> 10.2.0.1 passes, the AH counters of
# `ip -s xfrm state` grow on both gateways, the kernel holds AH SAs (and no ESP SA), and
# only AH goes over the wire (tcpdump shows "AH(spi=...)" with the inner ICMP in clear).
#     lab/vm-run lab/scenarios/ah.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --authenticate --tunnel --pfs --psk)

begin ah
start_plutos
add_connection
initiate
show_status

hr; echo "== ping through the AH tunnel"
ping_check AH ah -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
for ns in west east; do
    read -r _ _ n < <(xfrm_counters $ns esp)
    [ "$n" = 0 ] || fail "$ns has $n ESP SAs in an AH-only connection"
done
verdict "AH tunnel: ping through AH (west $WP0->$WP1, east $EP0->$EP1 packets), only AH on the wire"
