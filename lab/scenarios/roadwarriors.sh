#!/bin/bash
# lab/scenarios/roadwarriors.sh: lab test.  A gateway (east, 192.0.3.1 on a bridge, client
# 10.2.0.0/24) with one %any connection, and RW_COUNT (50) road warriors, each an rswan
# pluto in a namespace of its own (rw1..rw50 at 192.0.3.101..150, ID @rwN):
#     east: pluto --uniqueids
#           whack --name rw --host 192.0.3.1 --client 10.2.0.0/24 --nexthop %direct --to --host %any
#                 --encrypt --tunnel --pfs --psk
#     rwN:  whack --name rw --id @rwN --host 192.0.3.10N --to --host 192.0.3.1
#                 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk --keyingtries 1 --updown true
# Checks:
#   - all road warriors dial in at once (whack --initiate --asynchronous in each): the
#     gateway holds RW_COUNT ISAKMP and IPsec SAs, the kernel 2 ESP SAs per road warrior,
#     and every road warrior's ping to 10.2.0.1 crosses;
#   - whack --status names each instance "rw"[N] 192.0.3.x, N from 1 to RW_COUNT, one
#     connection block per instance and its states under that name;
#   - --uniqueids: a new namespace (rwx, 192.0.3.200) dials in with rw1's ID: the gateway
#     deletes what it had with 192.0.3.101 (rw1 is told: its states go too), a new
#     instance takes rwx, whose ping crosses;
#   - whack --crash 192.0.3.102: the gateway's states and kernel SAs with rw2 go, with
#     nothing sent to rw2 (it keeps its own), and the others are untouched;
#   - a fixed client (the seed: a negotiation for it unorients other instances with it):
#     east's "fixed" takes the road warrior's client 10.9.0.0/24; rw3 brings it up, then
#     rw4 with the same client: east deletes the states of "fixed"[1] 192.0.3.103 (rw3
#     is told) and keeps "fixed"[2] 192.0.3.104.
# Runs once (the engine's work; the kernel side is the same as in the other scenarios).
# 51 plutos under emulation start in 20 to 110 s, the rest takes about 150 s:
# lab-time-limit: 600
#     lab/vm-run lab/scenarios/roadwarriors.sh      (or lab/run-tests roadwarriors)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

RW_COUNT=${RW_COUNT:-50}
PSK=': PSK "road warriors all"'
secrets_for() { echo "$PSK"; }
pluto_opts_for() { [ "$1" = east ] && echo --uniqueids; }
rw_addr() { echo "192.0.3.$((100 + $1))"; }
NAMESPACES=()

# rw_netns NS ADDR: a namespace on east's bridge br1 with ADDR/24, routed via 192.0.3.1
rw_netns() {
    local ns=$1 addr=$2 port="r${#NAMESPACES[@]}"
    ip netns add "$ns" || return 1
    NAMESPACES+=("$ns")
    ip link add r0 netns "$ns" type veth peer name "$port" netns east || return 1
    ip -n east link set "$port" master br1 up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" addr add "$addr/24" dev r0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set r0 up
    ip -n "$ns" route add default via 192.0.3.1
}
on_finish() {
    local ns
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    true
}
# The road warriors' connection. Their updown is `true`: the default one's routes are
# what their default route already does, and 150 runs of it (3 events each) would only
# compete with the gateway, the one under test, for the 2 emulated CPUs.
RW_CONN=(--to --host 192.0.3.1 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk --keyingtries 1
         --updown true)
# rw_conn NS ADDR ID: the road warrior's connection, listening (quietly: 50 of them)
rw_conn() {
    local w=("$IPSEC" whack --ctlbase "$LABRUN/$1/pluto")
    ip netns exec "$1" "${w[@]}" --name rw --id "$3" --host "$2" "${RW_CONN[@]}" > /dev/null \
        && ip netns exec "$1" "${w[@]}" --listen > /dev/null
}
# all_up: the gateway's kernel holds both ESP SAs of every road warrior (asking the
# kernel costs the gateway's pluto nothing while it negotiates)
all_up() { local n; n=$(east_esp); [ "${n:-0}" -ge $((2 * RW_COUNT)) ]; }
# start_pluto_nowait NS: start_pluto without waiting for the control socket
start_pluto_nowait() {
    local ns=$1 d=$LABRUN/$1
    mkdir -p "$d"
    secrets_for "$ns" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    # --nhelpers 0: a road warrior does one negotiation; 51 helper threads
    # would only compete for the emulated CPUs.
    ip netns exec "$ns" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" --nhelpers 0 $(stack_opts) $PLUTO_OPTS > "$d/pluto.log" 2>&1 &
    PIDS+=($!); PLUTOS+=($!)
}
all_sockets() {
    local i
    for i in $(seq "$RW_COUNT"); do [ -S "$LABRUN/rw$i/pluto.ctl" ] || return 1; done
}
ping_from() { ip netns exec "$1" ping -c 1 -W 2 -I "$2" 10.2.0.1 > /dev/null 2>&1; }
east_status() { ip netns exec east "$IPSEC" whack --ctlbase "$LABRUN/east/pluto" --status; }
count_established() {   # count_established ipsec|isakmp: the gateway's established states
    local pat='STATE_MAIN_R3'; [ "$1" = ipsec ] && pat='STATE_QUICK_R2'
    east_status | grep -c "^000 #[0-9]*: .*$pat"
}
east_esp() { ip -n east xfrm state | grep -c '^src .* dst '; }
states_with() { east_status | grep -c "^000 #[0-9]*: \"rw\"\[[0-9]*\] $1[: ]"; }

begin roadwarriors
ip -n east link add br1 type bridge && ip -n east addr add 192.0.3.1/24 dev br1 \
    && ip -n east link set br1 up || finish 1 "no bridge br1 in east"
for i in $(seq "$RW_COUNT"); do
    rw_netns "rw$i" "$(rw_addr "$i")" || finish 1 "cannot make namespace rw$i"
done
rw_netns rwx 192.0.3.200 || finish 1 "cannot make namespace rwx"

hr; echo "== the gateway: one %any connection, --uniqueids"
start_pluto east || finish 1 "pluto did not start in east"
whack east --name rw --host 192.0.3.1 --client 10.2.0.0/24 --nexthop %direct --to --host %any \
    --encrypt --tunnel --pfs --psk || finish 1 "whack could not add the gateway's connection"
whack east --listen || finish 1 "whack --listen failed in east"

hr; echo "== $RW_COUNT road warriors, each its own pluto (rwN at 192.0.3.10N, ID @rwN)"
T=$(date +%s)
# All at once: one after the other they take minutes under emulation.
for i in $(seq "$RW_COUNT"); do start_pluto_nowait "rw$i"; done
wait_until 240 all_sockets || finish 1 "not every road warrior's pluto opened its control socket"
# The connections too (each whack waits for its pluto, which under emulation
# takes seconds): external processes in the background, then each one's status.
ADDS=()
for i in $(seq "$RW_COUNT"); do
    ip netns exec "rw$i" "$IPSEC" whack --ctlbase "$LABRUN/rw$i/pluto" --name rw --id "@rw$i" \
        --host "$(rw_addr "$i")" "${RW_CONN[@]}" > "$LABRUN/rw$i/add.out" 2>&1 &
    ADDS+=($!)
done
for p in "${ADDS[@]}"; do wait "$p" || finish 1 "whack could not add a road warrior's connection"; done
ADDS=()
for i in $(seq "$RW_COUNT"); do
    ip netns exec "rw$i" "$IPSEC" whack --ctlbase "$LABRUN/rw$i/pluto" --listen > "$LABRUN/rw$i/listen.out" 2>&1 &
    ADDS+=($!)
done
for p in "${ADDS[@]}"; do wait "$p" || finish 1 "whack --listen failed in a road warrior"; done
log "$RW_COUNT plutos up with their connections in $(( $(date +%s) - T )) s"

hr; echo "== all of them dial in at once (whack --initiate --asynchronous in each)"
T=$(date +%s)
WHACKS=()
for i in $(seq "$RW_COUNT"); do
    ip netns exec "rw$i" "$IPSEC" whack --ctlbase "$LABRUN/rw$i/pluto" --initiate --name rw --asynchronous > /dev/null &
    WHACKS+=($!)
done
wait "${WHACKS[@]}"
for _ in $(seq 240); do all_up && break; sleep 1; done
log "$(count_established isakmp) ISAKMP SAs, $(count_established ipsec) IPsec SAs at the gateway after $(( $(date +%s) - T )) s"
[ "$(count_established isakmp)" = "$RW_COUNT" ] || fail "expected $RW_COUNT ISAKMP SAs at the gateway, got $(count_established isakmp)"
[ "$(count_established ipsec)" = "$RW_COUNT" ] || fail "expected $RW_COUNT IPsec SAs at the gateway, got $(count_established ipsec)"
[ "$(east_esp)" = $((2 * RW_COUNT)) ] || fail "expected $((2 * RW_COUNT)) ESP SAs in east's kernel, got $(east_esp)"
bad=""
for i in $(seq "$RW_COUNT"); do ping_from "rw$i" "$(rw_addr "$i")" || bad="$bad rw$i"; done
[ -z "$bad" ] || fail "pings did not cross from:$bad"
read -r P B _ < <(xfrm_counters east esp)
log "pings from all $RW_COUNT road warriors done; east's ESP SAs counted $P packets, $B bytes"

hr; echo "== whack --status in east (its first instances; $RW_COUNT in all)"
east_status > "$LABRUN/east-status.txt"
grep -E '^000 "rw"(\[[1-3]\])?:|^000 #[0-9]+: "rw"\[[1-3]\] ' "$LABRUN/east-status.txt"
n_inst=$(grep -c '^000 "rw"\[[0-9]*\]: [^ ]*\.\.\.' "$LABRUN/east-status.txt")
[ "$n_inst" = "$RW_COUNT" ] || fail "expected $RW_COUNT instance blocks \"rw\"[N] in --status, got $n_inst"
nums=$(grep -o '^000 "rw"\[[0-9]*\]: [^ ]*\.\.\.' "$LABRUN/east-status.txt" | grep -o '\[[0-9]*\]' | tr -d '[]' | sort -n | tr '\n' ' ')
echo "... $n_inst instance blocks, numbered $(echo "$nums" | awk '{print $1 "-" $NF}')"
[ "$nums" = "$(seq -s ' ' "$RW_COUNT") " ] || fail "instances are not numbered 1..$RW_COUNT: $nums"
for i in 1 2 "$RW_COUNT"; do
    [ "$(states_with "$(rw_addr "$i")")" = 3 ] \
        || fail "expected 2 state lines and an SA line named \"rw\"[N] $(rw_addr "$i") in --status"
done

hr; echo "== --uniqueids: rwx (192.0.3.200) dials in with rw1's ID @rw1"
start_pluto rwx > /dev/null || finish 1 "pluto did not start in rwx"
rw_conn rwx 192.0.3.200 @rw1 || finish 1 "whack could not add rwx's connection"
whack rwx --initiate --name rw || fail "rwx could not negotiate"
wait_until 20 sh -c "! ip netns exec rw1 '$IPSEC' whack --ctlbase '$LABRUN/rw1/pluto' --status | grep -q STATE_" \
    || fail "rw1 still has states: the gateway's Deletes did not reach it"
grep 'uniqueids' "$LABRUN/east/pluto.log" | head -n 2
[ "$(states_with 192.0.3.101)" = 0 ] || fail "the gateway still has states with 192.0.3.101"
[ "$(states_with 192.0.3.200)" = 3 ] || fail "the gateway has no \"rw\"[N] 192.0.3.200 states"
east_status | grep '"rw"\[[0-9]*\] 192.0.3.200' | head -n 2
ping_from rwx 192.0.3.200 || fail "rwx's ping did not cross"
[ "$(east_esp)" = $((2 * RW_COUNT)) ] || fail "expected $((2 * RW_COUNT)) ESP SAs in east after the replacement, got $(east_esp)"

hr; echo "== whack --crash 192.0.3.102 (rw2 rebooted)"
whack east --crash 192.0.3.102 || fail "whack --crash failed"
grep 'crashed' "$LABRUN/east/pluto.log" | tail -n 1
[ "$(states_with 192.0.3.102)" = 0 ] || fail "the gateway still has states with 192.0.3.102"
n=$(ip -n east xfrm state | grep -c '192.0.3.102')
[ "$n" = 0 ] || fail "east's kernel still has $n SAs with 192.0.3.102"
[ "$(east_esp)" = $((2 * RW_COUNT - 2)) ] || fail "expected $((2 * RW_COUNT - 2)) ESP SAs in east after --crash, got $(east_esp)"
n=$(ip netns exec rw2 "$IPSEC" whack --ctlbase "$LABRUN/rw2/pluto" --status | grep -c 'STATE_')
[ "$n" = 2 ] || fail "rw2 was told something: it has $n states, expected its 2"
ping_from rw3 "$(rw_addr 3)" || fail "rw3's ping did not cross after the crash of rw2"
log "after --crash: $(count_established ipsec) IPsec SAs at the gateway, $(east_esp) ESP SAs in its kernel"

hr; echo "== a fixed client: rw3, then rw4 dial into \"fixed\" (their client 10.9.0.0/24)"
whack east --name fixed --host 192.0.3.1 --client 10.2.1.0/24 --nexthop %direct --to --host %any \
    --client 10.9.0.0/24 --encrypt --tunnel --psk || fail "whack could not add \"fixed\" in east"
for i in 3 4; do
    whack "rw$i" --name fixed --id "@rw$i" --host "$(rw_addr "$i")" --client 10.9.0.0/24 --to \
        --host 192.0.3.1 --client 10.2.1.0/24 --encrypt --tunnel --psk --keyingtries 1 --updown true \
        > /dev/null || fail "whack could not add \"fixed\" in rw$i"
done
whack rw3 --initiate --name fixed > /dev/null || fail "rw3 could not bring \"fixed\" up"
whack rw4 --initiate --name fixed > /dev/null || fail "rw4 could not bring \"fixed\" up"
grep 'unorienting' "$LABRUN/east/pluto.log" | tail -n 1
grep -q '"fixed"\[1\] 192.0.3.103 #[0-9]*: unorienting this instance: #[0-9]* from 192.0.3.104' \
    "$LABRUN/east/pluto.log" || fail "east did not unorient \"fixed\"[1] 192.0.3.103"
# East files each warrior's ISAKMP SA under "rw" (the first connection for its address;
# Quick Mode's IDs then chose "fixed"): that ISAKMP SA also carries the warrior's "rw"
# tunnel and stays; the unoriented instance is the IPsec side.
fixed_ipsec() { whack "$1" --status 2>/dev/null | grep -c '^000 #[0-9]*: "fixed".*STATE_QUICK'; }
rw3_told() { [ "$(fixed_ipsec rw3)" = 0 ]; }
wait_until 20 rw3_told || fail "rw3 still has a \"fixed\" IPsec SA: the gateway's Delete did not reach it"
east_status | grep -E '^000 #[0-9]+: "fixed"' | tee "$LABRUN/fixed.txt"
grep -q '"fixed"\[1\]' "$LABRUN/fixed.txt" && fail "east still has states of \"fixed\"[1]"
[ "$(grep -c '"fixed"\[2\] 192.0.3.104.*STATE_QUICK_R2' "$LABRUN/fixed.txt")" = 1 ] \
    || fail "east has no established IPsec state of \"fixed\"[2] 192.0.3.104"
[ "$(fixed_ipsec rw4)" = 1 ] || fail "rw4 has no \"fixed\" IPsec SA"

for i in $(seq "$RW_COUNT") x; do whack "rw$i" --shutdown > /dev/null 2>&1; done
verdict "$RW_COUNT road warriors as \"rw\"[1..$RW_COUNT], --uniqueids replaced rw1, --crash took rw2, rw4's fixed client unoriented rw3's instance"
