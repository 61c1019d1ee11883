#!/bin/bash
# lab/scenarios/no-pfkey.sh: lab test.  Without af_key (no /proc/net/pfkey: the module
# is unloaded) pluto must refuse to start, clearly: exit status 1, the message "no
# supported IPsec stack", no control socket and no lock file left, both with --nofork
# and as a daemon.  af_key is loaded again at the end (even on failure).
#     lab/vm-run lab/scenarios/no-pfkey.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

on_finish() { modprobe af_key || echo "warning: modprobe af_key failed after the test"; }
load_modules() {    # lib.sh's list without af_key
    modprobe -a xfrm_user esp4 ah4 ipcomp xfrm4_tunnel tunnel4 xfrm_ipcomp \
        veth dummy des3_ede authenc echainiv seqiv || die "modprobe failed"
}
unload_af_key() { ! grep -q '^af_key ' /proc/modules || rmmod af_key 2>/dev/null; }

begin no-pfkey
hr; echo "== unload af_key"
wait_until 15 unload_af_key || finish 1 "cannot unload af_key (still in use)"
run ls /proc/net/pfkey && finish 1 "/proc/net/pfkey still exists"
on west ls /proc/net/pfkey && finish 1 "/proc/net/pfkey still exists in west"

D=$LABRUN/west; mkdir -p "$D"
echo "$PSK_LINE" > "$D/ipsec.secrets"; chmod 600 "$D/ipsec.secrets"
for mode in --nofork daemon; do
    hr; echo "== pluto ($mode) without PF_KEY"
    opt=$mode; [ "$mode" = daemon ] && opt=
    show "[west]" "$IPSEC" pluto $opt --stderrlog --ctlbase "$D/pluto" --secretsfile "$D/ipsec.secrets"
    ip netns exec west timeout 20 "$IPSEC" pluto $opt --stderrlog --ctlbase "$D/pluto" \
        --secretsfile "$D/ipsec.secrets" > "$D/pluto-$mode.log" 2>&1; rc=$?
    sed 's/^/   /' "$D/pluto-$mode.log"; echo "   (exit status $rc)"
    [ "$rc" = 1 ] || fail "pluto $mode exited with status $rc without PF_KEY (expected 1)"
    grep -q 'no supported IPsec stack' "$D/pluto-$mode.log" \
        || fail "pluto $mode did not say 'no supported IPsec stack'"
    [ -e "$D/pluto.ctl" ] && fail "pluto $mode left its control socket"
    [ -e "$D/pluto.pid" ] && fail "pluto $mode left its lock file"
    rm -f "$D/pluto.ctl" "$D/pluto.pid"
done
verdict "without af_key pluto exits 1 with 'no supported IPsec stack' and leaves nothing behind"
