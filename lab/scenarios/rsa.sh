#!/bin/bash
# lab/scenarios/rsa.sh: the demo with RSA signatures instead of a PSK.  Each gateway
# makes its key with `ipsec rsasigkey`, the public halves are exchanged with
# `ipsec showhostkey --key` and `whack --keyid ... --pubkeyrsa`, and the connection uses
# --rsasig.
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
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --rsasig)

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
    local me; [ "$ns" = west ] && me=192.0.2.1 || me=192.0.2.2
    show "[$ns]" "$IPSEC" rsasigkey --hostname "$ns" 2048 "> $d/key"
    "$IPSEC" rsasigkey --hostname "$ns" 2048 > "$d/key" || return 1
    { echo "$me: RSA {"; cat "$d/key"; echo "	}"; } > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
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
    if [ "$rc" = 0 ]; then log "PASS: rsa: $*"; else log "FAIL: rsa: $*"; fi
    exit "$rc"
}

[ -x "$IPSEC" ] || { log "FAIL: rsa: no $IPSEC (run make first)"; exit 1; }
log "rswan demo: $("$IPSEC" --version 2>&1 | head -n 1), kernel $(uname -r)"
rm -rf "$LABRUN"; mkdir -p "$LABRUN"
make_topology

hr; echo "== start pluto in both gateways"
start_pluto west || finish 1 "pluto did not start in west"
start_pluto east || finish 1 "pluto did not start in east"

hr; echo "== public keys: each gateway learns the other's"
WKEY=$("$IPSEC" showhostkey --file "$LABRUN/west/ipsec.secrets" --key) || finish 1 "showhostkey failed in west"
EKEY=$("$IPSEC" showhostkey --file "$LABRUN/east/ipsec.secrets" --key) || finish 1 "showhostkey failed in east"
echo "west: ${WKEY:0:40}..."; echo "east: ${EKEY:0:40}..."
whack west --keyid 192.0.2.2 --pubkeyrsa "$EKEY" || finish 1 "whack --pubkeyrsa failed in west"
whack east --keyid 192.0.2.1 --pubkeyrsa "$WKEY" || finish 1 "whack --pubkeyrsa failed in east"

hr; echo "== the connection, on both gateways"
for ns in west east; do
    whack $ns "${CONN[@]}" || finish 1 "whack could not add the connection in $ns"
    whack $ns --listen || finish 1 "whack --listen failed in $ns"
done
whack west --listpubkeys

hr; echo "== initiate from west"
whack west --initiate --name secret || finish 1 "whack --initiate failed"
grep -q "auth=OAKLEY_RSA_SIG" "$LABRUN/west/pluto.log" || finish 1 "the ISAKMP SA was not authenticated with RSA signatures"

hr; echo "== ping through the tunnel"
read -r WP0 WB0 WN0 < <(esp_counters west)
read -r EP0 EB0 EN0 < <(esp_counters east)
only_esp_on_wire 5; WIRE=$?
read -r WP1 WB1 WN1 < <(esp_counters west)
read -r EP1 EB1 EN1 < <(esp_counters east)
echo "ESP packets: west $WP0 -> $WP1, east $EP0 -> $EP1"
[ "$WIRE" = 0 ] || finish 1 "ping through the tunnel failed or non-ESP traffic on the wire"
[ "$WP1" -gt "$WP0" ] && [ "$EP1" -gt "$EP0" ] || finish 1 "ESP counters did not grow"
finish 0 "RSA-authenticated (rsasigkey keys, 2048 bits) tunnel carried the ping in ESP (west $WP0->$WP1, east $EP0->$EP1 packets)"
