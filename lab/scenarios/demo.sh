#!/bin/bash
# lab/scenarios/demo.sh: the `make demo` scenario.  Two rswan gateways, west (192.0.2.1,
# clients 10.1.0.0/24) and east (192.0.2.2, clients 10.2.0.0/24), each running
#     ipsec pluto (with the kernel: no --noklips)
# negotiate the seed example's connection "secret" (IKEv1 PSK, ESP tunnel, PFS), then a
# ping 10.1.0.1 -> 10.2.0.1 must go through the tunnel: ESP counters grow on both sides
# and only ESP is on the wire.  Every command is printed as it runs ("+ [west] ...").
#     lab/vm-run lab/scenarios/demo.sh          (needs `make` first: $REPO/target/ipsec)
# PLUTO_OPTS adds pluto options, e.g. `lab/vm-run -e PLUTO_OPTS=--noklips ...` to check
# the negotiation alone (then no SA reaches the kernel and the ESP checks fail).
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"     # lib.sh, whack, start_pluto, finish, ...

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)
DUMP_XFRM_ON_FAIL=0
report_verdict() {     # the demo's own last line
    if [ "$1" = 0 ]; then log "DEMO PASS: $2"; else log "DEMO FAIL: $2"; fi
}

[ -x "$IPSEC" ] || { log "DEMO FAIL: no $IPSEC (run make first)"; exit 1; }
log "rswan demo: $("$IPSEC" --version 2>&1 | head -n 1), kernel $(uname -r)"
rm -rf "$LABRUN"; mkdir -p "$LABRUN"
make_topology

start_plutos
add_connection --route
initiate

hr; whack west --status; hr; whack east --status

hr; echo "== ping through the tunnel"
read -r WP0 WB0 WN0 < <(esp_counters west)
read -r EP0 EB0 EN0 < <(esp_counters east)
only_esp_on_wire 5; WIRE=$?
read -r WP1 WB1 WN1 < <(esp_counters west)
read -r EP1 EB1 EN1 < <(esp_counters east)

hr; on west ip -s xfrm state; hr; on east ip -s xfrm state; hr; on west ip xfrm policy
hr
echo "ESP counters before -> after the ping"
echo "  west: $WN1 ESP SAs, $WP0 packets/$WB0 bytes -> $WP1 packets/$WB1 bytes"
echo "  east: $EN1 ESP SAs, $EP0 packets/$EB0 bytes -> $EP1 packets/$EB1 bytes"

[ "$WIRE" = 0 ] || finish 1 "ping through the tunnel failed or non-ESP traffic on the wire"
[ "$WP1" -gt "$WP0" ] || finish 1 "ESP counters did not grow in west"
[ "$EP1" -gt "$EP0" ] || finish 1 "ESP counters did not grow in east"
finish 0 "west and east negotiated \"secret\"; the ping went through ESP (west $WP0->$WP1, east $EP0->$EP1 packets); only ESP on the wire"
