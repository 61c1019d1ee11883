#!/bin/bash
# lab/scenarios/updown-slow.sh: lab test.  West has two connections to east: "slow"
# (10.1.1.0/24 <-> 10.2.1.0/24, between second addresses of the gateways, 192.0.2.11 and
# 192.0.2.12, so that each connection has its own Main Mode) whose updown on west sleeps
# 20 s on `up` (otherwise it is the default `ipsec _updown`), and "secret" (10.1.0.0/24
# <-> 10.2.0.0/24, default updown).  "slow" is brought up first; WHILE its `up` sleeps, `whack --status` must
# answer within 1 s, and "secret" must negotiate in its usual time (under 10 s) and carry
# a ping in ESP: pluto runs updown as child processes and never waits for them.  Then the
# slow `up` completes and its output reaches pluto's log.  Last, `whack --shutdown`: the
# `down` of "slow" (3 s) and its `unroute` must run before pluto exits (the route is gone).
#     lab/vm-run lab/scenarios/updown-slow.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

SLOW_UPDOWN=$LABRUN/west/slow-updown
CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)
SLOW_EAST=(--name slow --host 192.0.2.11 --client 10.1.1.0/24
      --to --host 192.0.2.12 --client 10.2.1.0/24 --encrypt --tunnel --pfs --psk)
SLOW_WEST=(--name slow --host 192.0.2.11 --client 10.1.1.0/24 --updown "$SLOW_UPDOWN"
      --to --host 192.0.2.12 --client 10.2.1.0/24 --encrypt --tunnel --pfs --psk)
secrets_for() { echo "$PSK_LINE"; echo '192.0.2.11 192.0.2.12 : PSK "a shared secret"'; }

# secs_since T0: seconds (2 decimals) since date +%s.%N gave T0
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
# below SECS LIMIT: SECS < LIMIT
below() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }
up_done() { grep -q '"slow": up-client output: slow up done' "$LABRUN/west/pluto.log"; }

begin updown-slow
on west ip addr add 192.0.2.11/24 dev w0 || finish 1 "no second address in west"
on east ip addr add 192.0.2.12/24 dev e0 || finish 1 "no second address in east"
mkdir -p "$LABRUN/west"
cat > "$SLOW_UPDOWN" <<EOF
#!/bin/sh
# updown of "slow": up takes 20 s; everything else is the default updown.
case "\$PLUTO_VERB" in
up-*)
    echo "slow up starts"; touch "$LABRUN/west/slow-up.started"
    sleep 20
    echo "slow up done"; touch "$LABRUN/west/slow-up.done" ;;
down-*)
    sleep 3; echo "slow down done" ;;
esac
exec "$IPSEC" _updown
EOF
chmod +x "$SLOW_UPDOWN"
start_plutos
add_connection
whack west "${SLOW_WEST[@]}" || finish 1 "whack could not add \"slow\" in west"
whack east "${SLOW_EAST[@]}" || finish 1 "whack could not add \"slow\" in east"

hr; echo "== initiate \"slow\" from west: whack returns once the SA is up, not after up"
T0=$(date +%s.%N)
whack west --initiate --name slow || finish 1 "whack --initiate of \"slow\" failed"
SLOW_T=$(secs_since "$T0"); log "\"slow\" negotiated in $SLOW_T s"
wait_until 5 test -e "$LABRUN/west/slow-up.started" || fail "the updown up of \"slow\" did not start"
[ -e "$LABRUN/west/slow-up.done" ] && fail "whack --initiate waited for the updown up of \"slow\""

hr; echo "== while \"slow\"'s up sleeps: whack --status answers at once"
# The best of three: one exec of whack under TCG on a busy host can take most of a
# second by itself; a daemon that waited for the updown would answer none of them in time.
STATUS_T=
for i in 1 2 3; do
    T0=$(date +%s.%N)
    whack west --status > "$LABRUN/west/status.txt" 2>&1 || fail "whack --status failed"
    T=$(secs_since "$T0"); log "whack --status answered in $T s"
    [ -z "$STATUS_T" ] || below "$T" "$STATUS_T" && STATUS_T=$T
done
grep -E '"slow"|"secret"' "$LABRUN/west/status.txt" | head -n 8
below "$STATUS_T" 1 || fail "whack --status took $STATUS_T s at best (limit 1 s) while an updown ran"

hr; echo "== while \"slow\"'s up sleeps: \"secret\" negotiates and carries a ping"
T0=$(date +%s.%N)
whack west --initiate --name secret || fail "whack --initiate of \"secret\" failed"
SECRET_T=$(secs_since "$T0"); log "\"secret\" negotiated in $SECRET_T s"
below "$SECRET_T" 10 || fail "\"secret\" took $SECRET_T s to negotiate (limit 10 s) while an updown ran"
read -r WP0 _ < <(xfrm_counters west esp)
only_esp_on_wire 5 || fail "no ping through \"secret\" in ESP while \"slow\"'s up ran"
read -r WP1 _ < <(xfrm_counters west esp)
[ "$WP1" -gt "$WP0" ] || fail "ESP counters did not grow in west"
if [ -e "$LABRUN/west/slow-up.done" ]; then
    fail "\"slow\"'s up ended before the checks: they did not run while it slept"
else
    log "\"slow\"'s up is still sleeping: the checks above ran while it did"
fi

hr; echo "== \"slow\"'s up completes and its output is logged"
wait_until 40 up_done || fail "the output of \"slow\"'s up never reached pluto's log"
grep -E '"slow": (prepare|route|up)-client|"secret": (prepare|route|up)-client' "$LABRUN/west/pluto.log"
grep -q '"slow": up-client output: slow up starts' "$LABRUN/west/pluto.log" \
    || fail "the first output line of \"slow\"'s up is missing from the log"
grep -q '"slow": up-client command' "$LABRUN/west/pluto.log" \
    && fail "pluto logged a failure of \"slow\"'s up"
hr; echo "== whack --shutdown: pluto waits for \"slow\"'s down (3 s) and unroute before it exits"
on west ip route show 10.2.1.0/24
[ -n "$(ip -n west route show 10.2.1.0/24)" ] || fail "no route to 10.2.1.0/24 after \"slow\"'s route"
gone() { ! kill -0 "$1" 2>/dev/null; }
T0=$(date +%s.%N)
whack west --shutdown || fail "whack --shutdown failed"
wait_until 40 gone "$PLUTO_PID_west" || fail "pluto in west still runs 40 s after whack --shutdown"
EXIT_T=$(secs_since "$T0"); log "west's pluto exited $EXIT_T s after whack --shutdown"
tail -n 8 "$LABRUN/west/pluto.log"
grep -q '"slow": down-client output: slow down done' "$LABRUN/west/pluto.log" \
    || fail "pluto exited without the output of \"slow\"'s down"
on west ip route show 10.2.1.0/24
[ -n "$(ip -n west route show 10.2.1.0/24)" ] && fail "the route to 10.2.1.0/24 is left after pluto exited: no unroute"
verdict "while \"slow\"'s updown up slept 20 s, whack --status answered in $STATUS_T s and \"secret\" negotiated in $SECRET_T s and carried ESP ($WP0->$WP1 packets); \"slow\" was announced after $SLOW_T s and its up's output was logged when it ended; at --shutdown pluto waited for down and unroute ($EXIT_T s)"
