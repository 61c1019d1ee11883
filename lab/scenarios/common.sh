# lab/scenarios/common.sh: what the rswan scenarios share.  Source it first thing (it
# sources lab/lib.sh itself).  demo.sh and the lab tests run by lab/run-tests use it.
#
#   begin NAME          a scenario starts: traps (cleanup even on failure), fresh $LABRUN,
#                       make_topology; NAME goes into the final PASS/FAIL line
#   start_pluto NS      pluto in namespace NS (its log in $LABRUN/NS/pluto.log), with
#                       the ipsec.secrets that secrets_for NS prints (default: the PSK)
#   whack NS ARGS...    `ipsec whack` against the pluto of NS (printed, 90 s limit)
#   start_plutos / add_connection [--route] / initiate
#                       the steps of demo.sh: both plutos, the connection $CONN on both
#                       sides (--listen, optionally --route), --initiate from west
#   show_status         whack --status of both, printed and kept in $LABRUN/NS/status.txt
#   xfrm_counters NS PROTO   (lib.sh) "PACKETS BYTES SAS" over the PROTO (esp, ah, comp) states
#   xfrm_count NS state|policy   how many SAs / policies NS's kernel holds
#   xfrm_empty NS...    true if none of them holds an SA or a policy
#   dump_xfrm [NS...]   `ip -s xfrm state` and `ip xfrm policy`, printed
#   ping_check PROTO STATE PING_ARGS...   the ping of a lab test: wire_check, counters
#                       before/after, 2 SAs a side, counters grew on both
#   wire_check PROTO PING_ARGS...   (lib.sh) ping from west while tcpdump watches what
#                       both gateways send; only PROTO (ESP, AH) may be on the wire
#   wait_until SECONDS CMD...   retry CMD every 0.2 s until it succeeds or time is up
#   fail MESSAGE       record a failed check and go on;  verdict MESSAGE: finish with PASS
#                       (MESSAGE) if no check failed, else FAIL with the first failed check
#   finish RC MESSAGE   on failure: pluto logs and the kernel's SAs/policies; then stop
#                       the plutos (whack --shutdown), copy $LABRUN to $VMRUN_OUT, delete
#                       the namespaces, run on_finish, print the verdict and exit RC
#   on_finish           no-op; a scenario that changes the guest (modules, /etc) redefines
#                       it to undo that: finish runs it on success and on failure
#
# The verdict of a lab test is its last line: `PASS: NAME` or `FAIL: NAME: REASON`, with
# exit status 0 or 1.  demo.sh keeps its own wording (it redefines report_verdict).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SCENARIO=${SCENARIO:-scenario}
PSK_LINE='192.0.2.1 192.0.2.2 : PSK "a shared secret"'
PLUTO_OPTS=${PLUTO_OPTS:-}
PLUTOS=()           # pids of the plutos we started
FAILED=()           # failed checks (fail); verdict reports the first
FINISHED=0
DUMP_XFRM_ON_FAIL=${DUMP_XFRM_ON_FAIL:-1}   # finish shows `ip xfrm state/policy` on failure

# whack NS ARGS...: `ipsec whack` talking to the pluto of namespace NS (limit: 90 s)
whack() {
    local ns=$1; shift
    show "[$ns]" "$IPSEC" whack --ctlbase "$LABRUN/$ns/pluto" "$@"
    ip netns exec "$ns" timeout 90 "$IPSEC" whack --ctlbase "$LABRUN/$ns/pluto" "$@"
}

# secrets_for NS: the ipsec.secrets of NS's pluto; scenarios redefine it (rsa.sh)
secrets_for() { echo "$PSK_LINE"; }

# pluto_opts_for NS: pluto options of NS's pluto besides PLUTO_OPTS; scenarios redefine
# it (natt.sh: --nat_traversal ...)
pluto_opts_for() { :; }

# start_pluto NS: start pluto in netns NS, wait for its control socket
start_pluto() {
    local ns=$1 d=$LABRUN/$1 i pid
    mkdir -p "$d"
    secrets_for "$ns" > "$d/ipsec.secrets" || return 1
    chmod 600 "$d/ipsec.secrets"
    show "[$ns]" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" \
        $(stack_opts) $PLUTO_OPTS $(pluto_opts_for "$ns") "> $d/pluto.log 2>&1 &"
    ip netns exec "$ns" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" $(stack_opts) $PLUTO_OPTS $(pluto_opts_for "$ns") >> "$d/pluto.log" 2>&1 &
    pid=$!; PIDS+=("$pid"); PLUTOS+=("$pid")
    eval "PLUTO_PID_$ns=$pid"
    local t0; t0=$(date +%s.%N)
    for i in $(seq 300); do
        if [ -S "$d/pluto.ctl" ]; then
            [ "$i" -gt 50 ] && log "pluto in $ns took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s to open its control socket"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"; echo "pluto in $ns exited with status $?"; return 1
        fi
        sleep 0.1
    done
    echo "pluto in $ns: no control socket $d/pluto.ctl after 30 s"; return 1
}

start_plutos() {
    hr; echo "== start pluto in both gateways"
    start_pluto west || finish 1 "pluto did not start in west"
    start_pluto east || finish 1 "pluto did not start in east"
}

# add_connection [--route]: the connection ${CONN[@]} (named "secret"), on both gateways
add_connection() {
    local ns
    hr; echo "== the connection, on both gateways"
    for ns in west east; do
        whack $ns "${CONN[@]}" || finish 1 "whack could not add the connection in $ns"
        whack $ns --listen || finish 1 "whack --listen failed in $ns"
        if [ "${1:-}" = --route ]; then
            whack $ns --route --name secret || finish 1 "whack --route failed in $ns"
        fi
    done
}

# initiate: whack --initiate from west; fails the scenario if whack reports failure
initiate() {
    local t
    hr; echo "== initiate from west"
    t=$(date +%s.%N)
    whack west --initiate --name secret || finish 1 "whack --initiate failed"
    log "negotiated in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
}

# show_status: whack --status of both plutos, printed and kept in $LABRUN/NS/status.txt
show_status() {
    local ns
    for ns in west east; do
        hr; whack $ns --status > "$LABRUN/$ns/status.txt" 2>&1; cat "$LABRUN/$ns/status.txt"
    done
}

# xfrm_count NS state|policy: the number of SAs, or of SPD policies (dir in/out/fwd), in
# NS's kernel.  Per-socket policies ("socket in/out": pluto exempts its IKE sockets from
# IPsec that way) are not counted: they belong to pluto's sockets and go with them.  Nor
# are the four that pass IPv6 neighbour discovery (ICMPv6 types 135 and 136, in and out)
# while pluto runs: they are no connection's.
xfrm_count() {
    if [ "$2" = policy ]; then
        ip -n "$1" xfrm policy list | awk '/^src / { nd = /proto ipv6-icmp type 13[56] / }
            /^[[:space:]]+dir (in|out|fwd) / && !nd { n++ } END { print n + 0 }'
    else
        ip -n "$1" xfrm state list | grep -c '^src '
    fi
}

# xfrm_empty NS...: true if no SA and no SPD policy is left in any of the namespaces
xfrm_empty() {
    local ns
    for ns in "$@"; do
        [ "$(xfrm_count "$ns" state)" = 0 ] && [ "$(xfrm_count "$ns" policy)" = 0 ] || return 1
    done
}

# dump_xfrm [NS...]: `ip xfrm state` and `ip xfrm policy` of the namespaces, printed
dump_xfrm() {
    local ns
    for ns in "${@:-west east}"; do
        ip netns list 2>/dev/null | grep -qw "$ns" || continue
        hr; on "$ns" ip -s xfrm state; hr; on "$ns" ip xfrm policy
    done
}

# wait_until SECONDS CMD...: run CMD every 0.2 s until it succeeds (true) or time is up
wait_until() {
    local end=$(( $(date +%s) + $1 )); shift
    while :; do
        "$@" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# ping_check PROTO STATE PING_ARGS...: a lab test's ping through its tunnel.  Takes the
# STATE (esp, ah) counters of both gateways, runs wire_check PROTO PING_ARGS, shows the
# kernels' SAs and policies and the counters before -> after, and fails the checks "2
# STATE SAs on each side" and "the counters grew on both sides".  Leaves WP0 WP1 EP0 EP1
# (packets before and after, west and east) for the verdict.
ping_check() {
    local proto=$1 state=$2 wb0 wb1 wn1 eb0 eb1 en1; shift 2
    read -r WP0 wb0 _ < <(xfrm_counters west "$state")
    read -r EP0 eb0 _ < <(xfrm_counters east "$state")
    wire_check "$proto" "$@" || fail "ping $* failed or traffic other than $proto on the wire"
    read -r WP1 wb1 wn1 < <(xfrm_counters west "$state")
    read -r EP1 eb1 en1 < <(xfrm_counters east "$state")
    dump_xfrm west east
    hr
    echo "$proto counters before -> after the ping"
    echo "  west: $wn1 $proto SAs, $WP0 packets/$wb0 bytes -> $WP1 packets/$wb1 bytes"
    echo "  east: $en1 $proto SAs, $EP0 packets/$eb0 bytes -> $EP1 packets/$eb1 bytes"
    [ "$wn1" = 2 ] && [ "$en1" = 2 ] || fail "expected 2 $proto SAs on each side (west $wn1, east $en1)"
    [ "$WP1" -gt "$WP0" ] || fail "$proto counters did not grow in west"
    [ "$EP1" -gt "$EP0" ] || fail "$proto counters did not grow in east"
}

# fail MESSAGE: record a failed check (the scenario goes on; finish reports it)
fail() { echo "   -> check failed: $*"; FAILED+=("$*"); }

# verdict: finish with the first failed check, or with PASS and MESSAGE
verdict() {
    if [ ${#FAILED[@]} = 0 ]; then finish 0 "$*"; fi
    [ ${#FAILED[@]} -gt 1 ] && { echo "failed checks:"; printf '  - %s\n' "${FAILED[@]}"; }
    finish 1 "${FAILED[0]}$([ ${#FAILED[@]} -gt 1 ] && echo " (and $(( ${#FAILED[@]} - 1 )) more)")"
}

# on_finish: what a scenario must undo besides plutos and namespaces (modules, files);
# finish runs it last, on success and on failure.  Scenarios redefine it.
on_finish() { :; }

# report_verdict RC MESSAGE: the last line of a lab test
report_verdict() {
    if [ "$1" = 0 ]; then log "ok: $2"; echo "PASS: $SCENARIO"
    else echo "FAIL: $SCENARIO: $2"; fi
}

finish() {    # finish STATUS MESSAGE: logs on failure, stop the plutos, PASS/FAIL line
    local rc=$1 ns; shift
    [ "$FINISHED" = 1 ] && exit "$rc"
    FINISHED=1
    trap - INT TERM
    if [ "$rc" != 0 ]; then
        for ns in west east; do
            [ -s "$LABRUN/$ns/pluto.log" ] || continue
            hr; echo "== last lines of $ns's pluto log"; tail -n "${LOG_TAIL:-30}" "$LABRUN/$ns/pluto.log"
        done
        [ "$DUMP_XFRM_ON_FAIL" = 1 ] && dump_xfrm west east
    fi
    local p i alive=""
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
    [ -n "${VMRUN_OUT:-}" ] && mkdir -p "$VMRUN_OUT" && cp -r "$LABRUN" "$VMRUN_OUT/" 2>/dev/null
    cleanup
    on_finish
    hr
    report_verdict "$rc" "$*"
    exit "$rc"
}

# begin NAME [nat]: start a lab test: cleanup on any exit, fresh $LABRUN, the two
# gateways (make_topology), or with "nat" the road warrior behind a NAT (nat_topology)
begin() {
    SCENARIO=$1
    trap '_exit_trap' EXIT
    trap 'finish 1 "interrupted (signal)"' INT TERM
    [ -x "$IPSEC" ] || finish 1 "no $IPSEC (run make first)"
    log "rswan lab test $SCENARIO: $("$IPSEC" --version 2>&1 | head -n 1), kernel $(uname -r)"
    rm -rf "$LABRUN"; mkdir -p "$LABRUN"
    if [ "${2:-}" = nat ]; then nat_topology; else make_topology; fi
}

# an exit that did not go through finish (die in lib.sh, set -e, ...) still cleans up
_exit_trap() {
    local rc=$?
    [ "$FINISHED" = 1 ] && return
    finish 1 "aborted (exit status $rc) before the scenario finished"
}
