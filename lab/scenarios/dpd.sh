#!/bin/bash
# lab/scenarios/dpd.sh: lab test.  Dead Peer Detection (RFC 3706) between two rswan plutos
# on the two-gateway topology, with small timers: both ends of every connection have
#     --dpddelay 2 --dpdtimeout 6 --dpdaction ACTION      (west's ACTION: the round's)
# Three rounds, each with a fresh east pluto (the previous one was killed):
#   clear    up, ping; then idle for 4 delays: R_U_THERE / R_U_THERE_ACK go both ways
#            (ISAKMP Informationals, exchange type 5, encrypted: counted on the wire, and
#            the same SAs are still there afterwards); then east's pluto is killed (-9:
#            no Delete): west must clear its states, SAs and policies within dpdtimeout
#            + one delay (8 s; LIMIT adds 2 s for a loaded TCG guest);
#   restart  up, kill east: west deletes the old SAs within the same limit and initiates
#            again; east's pluto comes back (empty kernel, as after a reboot) and the
#            tunnel is up again with new SAs that carry a ping;
#   hold     up, kill east: west's SAs go within the limit, the connection's outbound
#            policy stays (%hold: traffic is not sent in clear) and a ping is not leaked.
# Runs once (on the first stack of LAB_STACKS): DPD lives in the ISAKMP SA; the kernel is
# asked only for the SAs' use counters (QuerySa), the same lifetime counters every ping
# check reads on both stacks, and its SA/policy removal is that of --terminate, tested on
# both.  `lab/run-tests dpd@xfrm` runs it on the other stack.
#     lab/vm-run lab/scenarios/dpd.sh      (or lab/run-tests dpd)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

DELAY=2; TIMEOUT=6
# Openswan's bound: the next R_U_THERE goes out at most one delay after the peer's last
# sign of life and the peer is declared dead dpdtimeout after it; 2 s more for timers in a
# TCG guest on a loaded host
LIMIT=$((TIMEOUT + DELAY + 2))
conn() {   # conn NAME WEST_ACTION NS: the connection of NS for a round
    local me=192.0.2.1 mynet=10.1.0.0/24 him=192.0.2.2 hisnet=10.2.0.0/24 action=$2
    [ "$3" = east ] && { me=192.0.2.2; mynet=10.2.0.0/24; him=192.0.2.1; hisnet=10.1.0.0/24; action=clear; }
    echo --name "$1" --host $me --client $mynet --to --host $him --client $hisnet \
         --encrypt --tunnel --pfs --psk --dpddelay $DELAY --dpdtimeout $TIMEOUT --dpdaction $action
}
spis()      { ip -n "$1" xfrm state | awk '/proto esp spi/ && $4 != "0x00000000" {print $4}' | sort; }
esp_count() { spis "$1" | grep -c .; }
both_esp()  { [ "$(esp_count west)" -ge 2 ] && [ "$(esp_count east)" -ge 2 ]; }
states_of() {   # states_of NAME: west's state numbers of connection NAME
    ip netns exec west timeout 20 "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" --status 2>/dev/null |
        grep -E "^000 #[0-9]+: \"$1\"" | awk '{print $2}' | tr -d : | sort -u | tr '\n' ' '
}
gone() {        # gone NAME STATES SPIS: west has none of the STATES of NAME and none of the SPIS
    local s now; now=" $(states_of "$1")"
    for s in $2; do case $now in *" $s "*) return 1 ;; esac; done
    for s in $3; do spis west | grep -qx "$s" && return 1; done; return 0
}
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
ping_ok() { ip netns exec west ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1; }

# kill_east: the peer dies: kill -9 (no Delete, its kernel keeps its SAs)
kill_east() {
    hr; echo "== east's pluto dies (kill -9 $PLUTO_PID_east)"
    kill -9 "$PLUTO_PID_east"; wait "$PLUTO_PID_east" 2>/dev/null
    T_KILL=$(date +%s.%N)
}
# revive_east [NAME]: east as after a reboot: empty kernel, a new pluto (and the connection)
revive_east() {
    hr; echo "== east comes back: empty kernel, a new pluto${1:+, the connection $1}"
    on east ip xfrm state flush; on east ip xfrm policy flush
    rm -f "$LABRUN/east/pluto.ctl" "$LABRUN/east/pluto.pid"
    start_pluto east || finish 1 "pluto did not start again in east"
    whack east --listen || finish 1 "whack --listen failed in east"
    [ -z "${1:-}" ] || whack east $(conn "$1" - east) || finish 1 "whack could not add $1 in east"
}
# up NAME ACTION: the round's connection on both sides, west initiates, a ping crosses
up() {
    hr; echo "== round $2: connection $1, west --dpdaction $2"
    whack west $(conn "$1" "$2" west) || finish 1 "whack could not add $1 in west"
    whack east $(conn "$1" "$2" east) || finish 1 "whack could not add $1 in east"
    whack west --initiate --name "$1" || finish 1 "round $2: whack --initiate failed"
    wait_until 10 both_esp || fail "round $2: ESP SAs missing after the initiation"
    on west ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || fail "round $2: ping through the tunnel failed"
    ROUND_SPIS=$(spis west | tr '\n' ' ')
    ROUND_STATES=$(states_of "$1")
}
# detected NAME ROUND: west got rid of the round's SAs within LIMIT s of the kill (timed by
# polling the kernel alone: a whack --status per poll would add its own time), and of the
# round's states (restart: a new Main Mode state of the connection may already be there)
sas_gone() { local s; for s in $ROUND_SPIS; do spis west | grep -qx "$s" && return 1; done; return 0; }
detected() {
    local end=$(( $(date +%s) + LIMIT + 20 ))
    until sas_gone || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
    if sas_gone; then
        DETECT=$(secs_since "$T_KILL")
        log "round $2: the dead peer's SAs left west's kernel $DETECT s after the kill (limit $LIMIT)"
        awk -v d="$DETECT" -v l="$LIMIT" 'BEGIN{exit !(d > l)}' &&
            fail "round $2: west took $DETECT s to clear the dead peer's SAs (limit: dpdtimeout $TIMEOUT + delay $DELAY + 2 = $LIMIT s)"
    else
        DETECT=never
        fail "round $2: the dead peer's SAs [$ROUND_SPIS] still in west $((LIMIT + 20)) s after the kill"
    fi
    wait_until 5 gone "$1" "$ROUND_STATES" "$ROUND_SPIS" ||
        fail "round $2: west still has the dead peer's states ([$ROUND_STATES] -> [$(states_of "$1")])"
}

begin dpd
start_plutos
whack west --listen && whack east --listen || finish 1 "whack --listen failed"

# ---- clear ---------------------------------------------------------------------------
up dpd-clear clear
S0=$(states_of dpd-clear); P0=$ROUND_SPIS
capture_start west w0 "$LABRUN/w0.pcap" udp port 500 or udp port 4500 || finish 1 "tcpdump did not start"
hr; echo "== idle for $((4 * DELAY + 1)) s (4 DPD delays): R_U_THERE and ACKs both ways, nothing replaced"
sleep $((4 * DELAY + 1))
capture_stop
tcpdump -n -r "$LABRUN/w0.pcap" 2>/dev/null | tee "$LABRUN/w0-idle.txt"
INF_W=$(grep -c ' 192\.0\.2\.1\.500 > 192\.0\.2\.2\.500: .*inf' "$LABRUN/w0-idle.txt")
INF_E=$(grep -c ' 192\.0\.2\.2\.500 > 192\.0\.2\.1\.500: .*inf' "$LABRUN/w0-idle.txt")
OTHER=$(grep -vc 'inf' "$LABRUN/w0-idle.txt")
grep -a 'R_U_THERE' "$LABRUN/west/pluto.log" | tail -n 6
echo "informationals in $((4 * DELAY + 1)) s: west -> east $INF_W, east -> west $INF_E, other ISAKMP $OTHER"
[ "$INF_W" -ge 3 ] && [ "$INF_E" -ge 3 ] ||
    fail "too few DPD exchanges while idle (west sent $INF_W, east $INF_E Informationals in $((4 * DELAY + 1)) s; expected an R_U_THERE and an ACK per delay and side)"
[ "$OTHER" = 0 ] || fail "ISAKMP other than Informationals while idle ($OTHER messages): SAs renegotiated?"
[ "$(states_of dpd-clear)" = "$S0" ] || fail "west's states changed while the peer was alive ([$S0] -> [$(states_of dpd-clear)])"
[ "$(spis west | tr '\n' ' ')" = "$P0" ] || fail "west's SAs changed while the peer was alive"
ping_ok || fail "the tunnel no longer carries a ping after the idle time"
kill_east
detected dpd-clear clear; D_CLEAR=$DETECT
[ -z "$(states_of dpd-clear)" ] || fail "round clear: west has states [$(states_of dpd-clear)] after clearing the dead peer"
hr; on west ip xfrm policy
[ "$(xfrm_count west policy)" = 0 ] || fail "round clear: west kept policies after clearing the dead peer (--dpdaction clear)"
whack west --delete --name dpd-clear

# ---- restart -------------------------------------------------------------------------
revive_east
up dpd-restart restart
kill_east
detected dpd-restart restart; D_RESTART=$DETECT
revive_east dpd-restart
T=$(date +%s.%N)
if wait_until 60 both_esp && wait_until 10 ping_ok; then
    D_BACK=$(secs_since "$T")
    log "round restart: the tunnel is up again $D_BACK s after east came back: west [$(spis west | tr '\n' ' ')]"
else
    D_BACK=never; fail "round restart: the tunnel did not come back within 60 s of east's return"
fi
show_status
whack west --delete --name dpd-restart
wait_until 10 xfrm_empty west || { on west ip xfrm policy; fail "round restart: --delete left SAs or policies in west"; }

# ---- hold ----------------------------------------------------------------------------
whack east --delete --name dpd-restart
wait_until 10 xfrm_empty east || { on east ip xfrm policy; fail "round restart: --delete left SAs or policies in east"; }
up dpd-hold hold
kill_east
detected dpd-hold hold; D_HOLD=$DETECT
hr; on west ip xfrm policy
ip -n west xfrm policy | grep -A1 'src 10.1.0.0/24 dst 10.2.0.0/24' | grep -q 'dir out' ||
    fail "round hold: west's outbound policy is gone (--dpdaction hold keeps it)"
show_status
capture_start west w0 "$LABRUN/w0-hold.pcap" icmp || finish 1 "tcpdump did not start"
on west ping -c 2 -i 0.3 -W 1 -I 10.1.0.1 10.2.0.1
capture_stop
tcpdump -n -r "$LABRUN/w0-hold.pcap" 2>/dev/null | grep -q 'ICMP echo request' &&
    fail "round hold: a ping left west in clear while held"
verdict "DPD: SAs survived 4 delays with the peer alive (Informationals $INF_W/$INF_E), dead peer cleared in ${D_CLEAR} s, restart: deleted in ${D_RESTART} s and up again ${D_BACK} s after the peer returned, hold: deleted in ${D_HOLD} s with the policy kept (limit $LIMIT s)"
