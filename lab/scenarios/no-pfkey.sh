#!/bin/bash
# lab/scenarios/no-pfkey.sh: lab test.  A kernel without PF_KEY (af_key unloaded, its
# auto-loading refused, as on distributions that dropped CONFIG_NET_KEY):
#   - pluto with its default stack (--use-auto) and with --use-netkey starts, says it
#     uses XFRM netlink, answers whack and leaves nothing behind at --shutdown;
#   - pluto --use-pfkey refuses to start, clearly: exit status 1, a message naming
#     PF_KEY, no control socket and no lock file left, with --nofork and as a daemon;
#   - ipsec spi and ipsec eroute list the kernel (XFRM dumps) with exit status 0.
# The scenarios themselves run once per stack (lab/run-tests NAME@xfrm runs one on this
# kernel); af_key is put back as LAB_STACK wants it at the end (even on failure).
#     lab/vm-run lab/scenarios/no-pfkey.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

STACK_WAS=$LAB_STACK
on_finish() { LAB_STACK=$STACK_WAS stack_modules; }
LAB_STACK=xfrm

begin no-pfkey
run ls /proc/net/pfkey && finish 1 "/proc/net/pfkey still exists"
on west ls /proc/net/pfkey && finish 1 "/proc/net/pfkey still exists in west"

D=$LABRUN/west; mkdir -p "$D"
echo "$PSK_LINE" > "$D/ipsec.secrets"; chmod 600 "$D/ipsec.secrets"
for stack in "" --use-netkey; do
    hr; echo "== pluto ${stack:-(default stack)} without PF_KEY"
    start_pluto_with() {
        show "[west]" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$D/pluto" \
            --secretsfile "$D/ipsec.secrets" $stack "> $D/pluto.log 2>&1 &"
        ip netns exec west "$IPSEC" pluto --nofork --stderrlog --ctlbase "$D/pluto" \
            --secretsfile "$D/ipsec.secrets" $stack > "$D/pluto.log" 2>&1 &
        PID=$!; PIDS+=("$PID")
    }
    start_pluto_with
    wait_until 10 test -S "$D/pluto.ctl" || { cat "$D/pluto.log"; finish 1 "pluto ${stack:-(default)} did not start without PF_KEY"; }
    whack west --listen > /dev/null || fail "whack --listen failed"
    whack west --status | head -3
    grep -q 'Using Linux XFRM' "$D/pluto.log" || { cat "$D/pluto.log"; fail "pluto ${stack:-(default)} did not say it uses XFRM"; }
    whack west --shutdown
    wait_until 10 bash -c "! kill -0 $PID 2>/dev/null" || fail "pluto did not stop"
    [ -e "$D/pluto.ctl" ] && fail "pluto left its control socket"
    [ -e "$D/pluto.pid" ] && fail "pluto left its lock file"
done

for mode in --nofork daemon; do
    hr; echo "== pluto --use-pfkey ($mode) without PF_KEY"
    opt=$mode; [ "$mode" = daemon ] && opt=
    show "[west]" "$IPSEC" pluto $opt --use-pfkey --stderrlog --ctlbase "$D/pluto" --secretsfile "$D/ipsec.secrets"
    ip netns exec west timeout 20 "$IPSEC" pluto $opt --use-pfkey --stderrlog --ctlbase "$D/pluto" \
        --secretsfile "$D/ipsec.secrets" > "$D/pluto-$mode.log" 2>&1; rc=$?
    sed 's/^/   /' "$D/pluto-$mode.log"; echo "   (exit status $rc)"
    [ "$rc" = 1 ] || fail "pluto --use-pfkey $mode exited with status $rc without PF_KEY (expected 1)"
    grep -q 'PF_KEY' "$D/pluto-$mode.log" || fail "pluto --use-pfkey $mode did not name PF_KEY"
    [ -e "$D/pluto.ctl" ] && fail "pluto $mode left its control socket"
    [ -e "$D/pluto.pid" ] && fail "pluto $mode left its lock file"
    rm -f "$D/pluto.ctl" "$D/pluto.pid"
done

hr; echo "== the manual tools without PF_KEY"
on west "$IPSEC" spi; rc=$?
[ "$rc" = 0 ] || fail "ipsec spi exited $rc without PF_KEY"
on west "$IPSEC" eroute; rc=$?
[ "$rc" = 0 ] || fail "ipsec eroute exited $rc without PF_KEY"
verdict "without af_key pluto runs on XFRM netlink, --use-pfkey is refused clearly, spi and eroute list"
