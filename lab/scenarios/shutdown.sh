#!/bin/bash
# lab/scenarios/shutdown.sh: lab test.  West and east establish the routed ESP tunnel
# "secret"; then the wire between them is cut (so neither side can rely on the other's
# Delete) and east's pluto gets SIGTERM (the pid from its lock file, $LABRUN/east/pluto.pid):
# east's kernel must be left with no SA and no policy as soon as that pluto is gone.
# Then `whack --shutdown` on west: west's kernel must end up empty as well.  Both plutos
# must exit and remove their lock file and control socket.
#     lab/vm-run lab/scenarios/shutdown.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk)

counts() {   # NS: "N SAs, M policies"
    echo "$(xfrm_count "$1" state) SAs, $(xfrm_count "$1" policy) policies"
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# stopped NS PID HOW: wait for the pluto to exit, then check what it left behind
stopped() {
    local ns=$1 pid=$2 how=$3
    if wait_until 10 gone "$pid"; then
        wait "$pid" 2>/dev/null; echo "pluto in $ns (pid $pid) exited with status $? after $how"
    else
        fail "pluto in $ns (pid $pid) still runs 10 s after $how"; return
    fi
    [ -e "$LABRUN/$ns/pluto.pid" ] && fail "$ns: the lock file $LABRUN/$ns/pluto.pid is left after $how"
    [ -e "$LABRUN/$ns/pluto.ctl" ] && fail "$ns: the control socket $LABRUN/$ns/pluto.ctl is left after $how"
    on $ns ip xfrm state; on $ns ip xfrm policy
    echo "$ns after $how: $(counts $ns)"
    [ "$(xfrm_count $ns state)" = 0 ] || fail "$ns's kernel still holds SAs after $how"
    [ "$(xfrm_count $ns policy)" = 0 ] || fail "$ns's kernel still holds policies after $how"
    # with pluto gone, not even its sockets' policies may be left: `ip xfrm policy` is empty
    [ "$(ip -n $ns xfrm policy list | grep -c '^src ')" = 0 ] || fail "$ns: ip xfrm policy is not empty after $how"
}

begin shutdown
start_plutos
add_connection --route
initiate

hr; echo "== the tunnel works"
on west ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || finish 1 "the tunnel did not carry a ping"
echo "west: $(counts west); east: $(counts east)"
[ "$(xfrm_count west state)" -ge 2 ] && [ "$(xfrm_count east state)" -ge 2 ] || finish 1 "the SAs are not in both kernels"

hr; echo "== cut the wire: each pluto must clean up its own kernel"
on west ip link set w0 down
on east ip link set e0 down

hr; echo "== SIGTERM to east's pluto (pid from its lock file)"
EPID=$(tr -dc 0-9 < "$LABRUN/east/pluto.pid")
echo "$LABRUN/east/pluto.pid: $EPID (started as $PLUTO_PID_east)"
[ "$EPID" = "$PLUTO_PID_east" ] || fail "east's lock file holds '$EPID', not pluto's pid $PLUTO_PID_east"
run kill -TERM "${EPID:-$PLUTO_PID_east}"
stopped east "$PLUTO_PID_east" SIGTERM
echo "west, still running: $(counts west)"

hr; echo "== whack --shutdown on west"
whack west --shutdown || fail "whack --shutdown failed"
stopped west "$PLUTO_PID_west" "whack --shutdown"

hr; tail -n 12 "$LABRUN/east/pluto.log"; hr; tail -n 12 "$LABRUN/west/pluto.log"
verdict "SIGTERM (east) and whack --shutdown (west) left no SA and no policy in either kernel (west: $(counts west); east: $(counts east))"
