#!/bin/bash
# lab/scenarios/trap.sh: --route installs a TRAP; traffic starts the negotiation.
# Derived from demo.sh: no --initiate here.  The first pings hit west's TRAP policy, the
# kernel sends pluto an ACQUIRE, pluto negotiates, and later pings cross in ESP.
# (What follows is demo.sh's description of the common part.)
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
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/../lib.sh"

PSK_LINE='192.0.2.1 192.0.2.2 : PSK "a shared secret"'
PLUTO_OPTS=${PLUTO_OPTS:-}
PLUTOS=()          # pids of the plutos we started
CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)

# whack NS ARGS...: `ipsec whack` talking to the pluto of namespace NS (limit: 90 s)
whack() {
    local ns=$1; shift
    show "[$ns]" "$IPSEC" whack --ctlbase "$LABRUN/$ns/pluto" "$@"
    ip netns exec "$ns" timeout 90 "$IPSEC" whack --ctlbase "$LABRUN/$ns/pluto" "$@"
}

# start_pluto NS: start pluto in netns NS, wait for its control socket
start_pluto() {
    local ns=$1 d=$LABRUN/$1 i pid
    mkdir -p "$d"
    echo "$PSK_LINE" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    show "[$ns]" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" \
        $PLUTO_OPTS "> $d/pluto.log 2>&1 &"
    ip netns exec "$ns" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" $PLUTO_OPTS > "$d/pluto.log" 2>&1 &
    pid=$!; PIDS+=("$pid"); PLUTOS+=("$pid")
    for i in $(seq 100); do
        [ -S "$d/pluto.ctl" ] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"; echo "pluto in $ns exited with status $?"; return 1
        fi
        sleep 0.1
    done
    echo "pluto in $ns: no control socket $d/pluto.ctl after 10 s"; return 1
}

finish() {    # finish STATUS MESSAGE: logs on failure, stop the plutos, PASS/FAIL line
    local rc=$1 ns; shift
    if [ "$rc" != 0 ]; then
        for ns in west east; do
            [ -s "$LABRUN/$ns/pluto.log" ] || continue
            hr; echo "== last lines of $ns's pluto log"; tail -n 30 "$LABRUN/$ns/pluto.log"
        done
    fi
    local p i alive
    for ns in west east; do
        [ -S "$LABRUN/$ns/pluto.ctl" ] && whack $ns --shutdown
    done
    for i in $(seq 50); do          # the plutos must go away after --shutdown
        alive=""; for p in "${PLUTOS[@]}"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && break; sleep 0.1
    done
    if [ -n "$alive" ]; then
        echo "pluto still running 5 s after --shutdown (pid$alive)"
        [ "$rc" = 0 ] && set -- "$* - but pluto did not exit after whack --shutdown" && rc=1
    fi
    [ -n "${VMRUN_OUT:-}" ] && cp -r "$LABRUN" "$VMRUN_OUT/" 2>/dev/null
    cleanup
    hr
    if [ "$rc" = 0 ]; then log "PASS: trap: $*"; else log "FAIL: trap: $*"; fi
    exit "$rc"
}

[ -x "$IPSEC" ] || { log "FAIL: trap: no $IPSEC (run make first)"; exit 1; }
log "rswan demo: $("$IPSEC" --version 2>&1 | head -n 1), kernel $(uname -r)"
rm -rf "$LABRUN"; mkdir -p "$LABRUN"
make_topology

hr; echo "== start pluto in both gateways"
start_pluto west || finish 1 "pluto did not start in west"
start_pluto east || finish 1 "pluto did not start in east"

hr; echo "== the connection, on both gateways"
for ns in west east; do
    whack $ns "${CONN[@]}" || finish 1 "whack could not add the connection in $ns"
    whack $ns --listen || finish 1 "whack --listen failed in $ns"
done
whack west --route --name secret || finish 1 "whack --route failed in west"
hr; on west ip xfrm policy
on west ip xfrm policy | grep -q "dir out" || finish 1 "no outbound TRAP policy after --route"

hr; echo "== traffic from westnet to eastnet starts the negotiation"
read -r WP0 WB0 WN0 < <(esp_counters west)
on west ping -c 20 -i 0.5 -W 1 -I 10.1.0.1 10.2.0.1 > "$LABRUN/ping.txt" 2>&1
cat "$LABRUN/ping.txt"
RECV=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LABRUN/ping.txt")
read -r WP1 WB1 WN1 < <(esp_counters west)
read -r EP1 EB1 EN1 < <(esp_counters east)
hr; whack west --status; hr; on west ip -s xfrm state
grep -q "initiate on demand" "$LABRUN/west/pluto.log" || finish 1 "pluto did not react to the kernel's ACQUIRE"
[ "${RECV:-0}" -gt 0 ] || finish 1 "no ping answered once the tunnel was up"
[ "$WP1" -gt "$WP0" ] || finish 1 "ESP counters did not grow in west"
[ "$EP1" -gt 0 ] || finish 1 "ESP counters did not grow in east"
echo "== the TRAP stays after --terminate (traffic would negotiate again)"
whack west --terminate --name secret
sleep 1
on west ip xfrm policy | grep -q "dir out" || finish 1 "the TRAP policy was not restored after --terminate"
on west ip xfrm state
# The kernel's own larval ACQUIRE entries (spi 0) are not SAs pluto made.
on west ip xfrm state | grep "proto esp" | grep -qv "spi 0x00000000" && finish 1 "ESP SAs left in west after --terminate"
finish 0 "traffic caught by --route's TRAP started the negotiation ($RECV of 20 pings answered, ESP $WP0->$WP1 packets in west); TRAP restored after --terminate"
