#!/bin/bash
# lab/scenarios/conf-setup.sh: lab test.  Two rswan gateways configured only through
# ipsec.conf and ipsec.secrets at their default paths, run the way an Openswan user runs
# them: `ipsec setup start` (auto=start in west, auto=add in east), then `ipsec auto
# --status`, `ipsec verify`, a ping through the tunnel, the JSON status of the SA and
# `ipsec whack --trafficstatus` with the kernel's counters, `ipsec auto --down` / `--up`,
# and `ipsec setup stop`, which must leave each kernel without SA or policy, no pluto,
# no control socket and no lock.
#
# Each gateway gets its own /etc/ipsec.conf and /etc/ipsec.secrets (`ip netns exec`
# binds /etc/netns/NS/* over /etc) and its own /run (a bind mount in a mount namespace
# of its own, made for every ipsec command of that gateway: the daemon started by
# `ipsec setup start` stays in the one it was started in), so both use the default
# /var/run/pluto.ctl and /var/run/pluto.pid without seeing each other's.
#     lab/vm-run lab/scenarios/conf-setup.sh      (or lab/run-tests conf-setup)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

GW=/var/tmp/rswan-lab-conf        # per gateway: run/ (its /run) and pluto.log; not under /run
CONN_NAME=west-east

# gw NS ARGS...: `ipsec ARGS...` as gateway NS (its netns, its /etc, its /run); 90 s limit
gw() {
    local ns=$1; shift
    show "[$ns]" ipsec "$@"
    ip netns exec "$ns" unshare -m sh -c 'mount --bind "$0" /run && exec "$@"' "$GW/$ns/run" \
        timeout 90 "$IPSEC" "$@"
}

# the one ipsec.conf both gateways read; only auto= and the log file differ
write_conf() {
    local ns=$1 auto=$2 stack
    case $LAB_STACK in pfkey) stack='plutoopts="--use-pfkey"' ;; *) stack='protostack=netkey' ;; esac
    mkdir -p "/etc/netns/$ns" "$GW/$ns/run"
    cat > "/etc/netns/$ns/ipsec.conf" <<EOF
# /etc/ipsec.conf of $ns
version 2.0

config setup
	$stack
	plutostderrlog=$GW/$ns/pluto.log
	nat_traversal=no

conn %default
	authby=secret
	keyingtries=%forever
	ikelifetime=1h
	keylife=8h

conn $CONN_NAME
	left=192.0.2.1
	leftsubnet=10.1.0.0/24
	right=192.0.2.2
	rightsubnet=10.2.0.0/24
	ike=aes128-sha1-modp2048
	esp=aes128-sha1
	pfs=yes
	auto=$auto
EOF
    echo "$PSK_LINE" > "/etc/netns/$ns/ipsec.secrets"
    chmod 600 "/etc/netns/$ns/ipsec.secrets"
    echo "== /etc/ipsec.conf of $ns:"; sed 's/^/   /' "/etc/netns/$ns/ipsec.conf"
}

# `ip netns exec` binds only over files that exist
for f in ipsec.conf ipsec.secrets; do
    [ -e "/etc/$f" ] || { : > "/etc/$f"; CREATED_ETC+=" /etc/$f"; }
done

# finish (common.sh) stops, by whack --shutdown through $LABRUN/NS/pluto.ctl, a pluto that
# a failed check left running, waits for the pids in PLUTOS and shows $LABRUN/NS/pluto.log:
# links to the gateway's own files give it those
link_gateway_files() {
    local ns
    for ns in west east; do
        mkdir -p "$LABRUN/$ns"
        ln -sfn "$GW/$ns/run/pluto.ctl" "$LABRUN/$ns/pluto.ctl"
        ln -sfn "$GW/$ns/pluto.log" "$LABRUN/$ns/pluto.log"
    done
}

on_finish() {
    rm -rf /etc/netns/west /etc/netns/east
    [ -n "${CREATED_ETC:-}" ] && rm -f $CREATED_ETC
    if [ -n "${VMRUN_OUT:-}" ]; then mkdir -p "$VMRUN_OUT"; cp "$GW"/*/pluto.log "$VMRUN_OUT/" 2>/dev/null; fi
    rm -rf "$GW"
}

# pluto_pids NS: the pluto processes in NS's network namespace
pluto_pids() {
    local p
    for p in $(ip netns pids "$1" 2>/dev/null); do
        tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | grep -qE '(^|/| )ipsec pluto ' && echo "$p"
    done
}
established() { gw west auto --status 2>/dev/null | grep -q 'IPsec SA established'; }
esp_both() { [ "$(xfrm_count west state)" -ge 2 ] && [ "$(xfrm_count east state)" -ge 2 ]; }
no_esp() { [ "$(xfrm_count west state)" = 0 ] && [ "$(xfrm_count east state)" = 0 ]; }

begin conf-setup
rm -rf "$GW"
write_conf west start
write_conf east add
link_gateway_files

hr; echo "== ipsec setup start: east (auto=add), then west (auto=start)"
gw east setup start || finish 1 "ipsec setup start failed in east"
gw west setup start || finish 1 "ipsec setup start failed in west"
for ns in west east; do
    [ -S "$GW/$ns/run/pluto.ctl" ] || fail "$ns: no /var/run/pluto.ctl after ipsec setup start"
    [ -s "$GW/$ns/run/pluto.pid" ] || fail "$ns: no /var/run/pluto.pid after ipsec setup start"
    gw $ns setup status; rc=$?
    [ $rc = 0 ] || fail "$ns: ipsec setup status said $rc while pluto runs"
    pid=$(pluto_pids $ns)
    echo "$ns: pluto pid(s) [$pid], /var/run/pluto.pid says $(cat "$GW/$ns/run/pluto.pid" 2>/dev/null)"
    [ -n "$pid" ] && [ "$pid" = "$(tr -dc 0-9 < "$GW/$ns/run/pluto.pid")" ] || fail "$ns: the pluto running is not the one of /var/run/pluto.pid"
    PLUTOS+=($pid)
done
echo "plutos started by ipsec setup start: ${PLUTOS[*]}"
[ ${#PLUTOS[@]} = 2 ] || fail "expected one pluto per gateway, found pids: ${PLUTOS[*]}"
wait_until 60 esp_both || finish 1 "auto=start: no IPsec SA within 60 s (west $(xfrm_count west state), east $(xfrm_count east state) SAs)"
wait_until 10 established || fail "ipsec auto --status of west shows no established IPsec SA"

hr; echo "== ipsec auto --status (west)"
gw west auto --status | tee "$LABRUN/west-status.txt"
grep -q "\"$CONN_NAME\"" "$LABRUN/west-status.txt" || fail "ipsec auto --status does not list \"$CONN_NAME\""

hr; echo "== ipsec verify (west): a gateway for subnets forwards"
on west sysctl -qw net.ipv4.ip_forward=1
gw west verify > "$LABRUN/west-verify.txt" 2>&1; vrc=$?
cat "$LABRUN/west-verify.txt"
echo "ipsec verify: exit status $vrc"
[ "$vrc" = 0 ] || fail "ipsec verify found a problem (exit status $vrc)"
grep -q '^Checking that pluto is running  *\[OK\]' "$LABRUN/west-verify.txt" || fail "ipsec verify does not report pluto running"
grep -q '^Checking /etc/ipsec.conf  *\[OK\]' "$LABRUN/west-verify.txt" || fail "ipsec verify does not report /etc/ipsec.conf OK"
grep -q '^Checking /etc/ipsec.secrets  *\[OK\]' "$LABRUN/west-verify.txt" || fail "ipsec verify does not report /etc/ipsec.secrets OK"
grep -q '^Checking for IPsec support in kernel  *\[OK\]' "$LABRUN/west-verify.txt" || fail "ipsec verify does not find the kernel's IPsec"
grep -q '^Kernel modules for the configured algorithms  *\[OK\]' "$LABRUN/west-verify.txt" || fail "ipsec verify misses kernel modules"

hr; echo "== ping through the tunnel"
ping_check ESP esp -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1

hr; echo "== JSON status and trafficstatus (west), after the ping"
gw west whack --status --json > "$LABRUN/west-status.json" || fail "whack --status --json failed"
python3 - "$LABRUN/west-status.json" <<'EOF' || fail "the JSON status does not show the IPsec SA with its traffic"
import json, sys
# the file starts with the "+ [west] ipsec whack ..." line gw prints
objs = [json.loads(l) for l in open(sys.argv[1]) if not l.startswith("+ ")]
print("%d objects: %s" % (len(objs), ", ".join(sorted(set(o["type"] for o in objs)))))
sa = [o for o in objs if o.get("type") == "state" and o.get("kind") == "ipsec" and o.get("established")]
if not sa:
    print("no established IPsec state in the JSON status"); sys.exit(1)
print(json.dumps(sa[0], indent=1, sort_keys=True))
if not (isinstance(sa[0].get("in_bytes"), int) and sa[0]["in_bytes"] > 0
        and isinstance(sa[0].get("out_bytes"), int) and sa[0]["out_bytes"] > 0):
    print("the IPsec SA's byte counters are not both above zero after the ping"); sys.exit(1)
EOF
gw west whack --trafficstatus | tee "$LABRUN/west-traffic.txt" || fail "whack --trafficstatus failed"
grep -qE "^006 #[0-9]+: \"$CONN_NAME\", type=ESP, inBytes=[1-9][0-9]*, outBytes=[1-9][0-9]*, id='192.0.2.2'" "$LABRUN/west-traffic.txt" \
    || fail "trafficstatus shows no traffic for \"$CONN_NAME\""
on west ip -s xfrm state | grep -E "^src|bytes" | head -8

hr; echo "== ipsec auto --down, then --up (west)"
gw west auto --down "$CONN_NAME" || fail "ipsec auto --down failed"
wait_until 20 no_esp || fail "SAs left after ipsec auto --down (west $(xfrm_count west state), east $(xfrm_count east state))"
echo "after --down: west $(xfrm_count west state) SAs, east $(xfrm_count east state) SAs"
gw west auto --up "$CONN_NAME" || fail "ipsec auto --up failed"
wait_until 20 esp_both || fail "no SAs after ipsec auto --up"
on west ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || fail "no ping after ipsec auto --up"

hr; echo "== ipsec setup stop (west, then east)"
for ns in west east; do
    gw $ns setup stop || fail "ipsec setup stop failed in $ns"
done
for ns in west east; do
    on $ns ip xfrm state; on $ns ip xfrm policy
    echo "$ns after ipsec setup stop: $(xfrm_count $ns state) SAs, $(xfrm_count $ns policy) policies," \
         "pluto processes: [$(pluto_pids $ns | tr '\n' ' ')], /var/run: [$(ls "$GW/$ns/run" | tr '\n' ' ')]"
    [ -z "$(pluto_pids $ns)" ] || fail "$ns: pluto still runs after ipsec setup stop"
    [ -e "$GW/$ns/run/pluto.ctl" ] && fail "$ns: /var/run/pluto.ctl left after ipsec setup stop"
    [ -e "$GW/$ns/run/pluto.pid" ] && fail "$ns: /var/run/pluto.pid left after ipsec setup stop"
    gw $ns setup status; rc=$?
    [ $rc = 3 ] || fail "$ns: ipsec setup status said $rc after stop (expected 3)"
done
xfrm_empty west east || fail "a kernel still holds SAs or policies after ipsec setup stop"
[ "$(ip -n west xfrm policy list | grep -c '^src ')" = 0 ] || fail "west: ip xfrm policy is not empty after ipsec setup stop"

verdict "ipsec setup start brought \"$CONN_NAME\" up from ipsec.conf alone (auto=start/add); auto --down/--up, verify, JSON and traffic status worked; ipsec setup stop left both kernels empty"
