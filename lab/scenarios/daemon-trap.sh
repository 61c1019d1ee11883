#!/bin/bash
# lab/scenarios/daemon-trap.sh: lab test.  pluto as a daemon (it forks; no --nofork) on
# both gateways: the child must get the kernel's ACQUIREs, so its PF_KEY registration has
# to happen after the fork.  `--route` on west, then traffic from westnet starts the
# negotiation and crosses in ESP; the lock file names the daemon; --shutdown ends it.
#     lab/vm-run lab/scenarios/daemon-trap.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --psk)

# start_daemon NS: `ipsec pluto` without --nofork; it returns once the child runs
start_daemon() {
    local ns=$1 d=$LABRUN/$1 rc pid
    mkdir -p "$d"
    secrets_for "$ns" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    show "[$ns]" "$IPSEC" pluto --stderrlog --ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" $(stack_opts) "> $d/pluto.log 2>&1"
    ip netns exec "$ns" "$IPSEC" pluto --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" $(stack_opts) > "$d/pluto.log" 2>&1; rc=$?
    [ "$rc" = 0 ] || { echo "pluto in $ns exited $rc"; return 1; }
    pid=$(cat "$d/pluto.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { echo "no daemon named by $d/pluto.pid"; return 1; }
    PLUTOS+=("$pid"); eval "PLUTO_PID_$ns=$pid"
    echo "pluto daemon in $ns: pid $pid"
    [ -S "$d/pluto.ctl" ] || { echo "no control socket $d/pluto.ctl"; return 1; }
}

begin daemon-trap
hr; echo "== pluto as a daemon in both gateways"
start_daemon west || finish 1 "the pluto daemon did not start in west"
start_daemon east || finish 1 "the pluto daemon did not start in east"
add_connection
whack west --route --name secret || finish 1 "whack --route failed in west"

hr; echo "== traffic from westnet to eastnet starts the negotiation"
caught() { grep -q "initiate on demand" "$LABRUN/west/pluto.log"; }
up() { on west ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1; }
on west ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1
wait_until 60 caught || fail "the daemon got no ACQUIRE (registered before the fork?)"
wait_until 30 up || fail "no ping answered once the tunnel should be up"
read -r WP WB WN < <(xfrm_counters west esp)
read -r EP EB EN < <(xfrm_counters east esp)
echo "ESP packets: west $WP, east $EP"
[ "$WP" -gt 0 ] && [ "$EP" -gt 0 ] || fail "ESP counters did not grow"
show_status
verdict "the forked pluto got the kernel's ACQUIRE and negotiated on traffic (ESP west $WP, east $EP packets)"
