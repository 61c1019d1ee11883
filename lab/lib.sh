# lab/lib.sh: helpers for the guest scripts in lab/scenarios (sourced, run under vm-run).
#
#   netns west                                      netns east
#   lan0 (dummy) 10.1.0.1/24                        lan0 (dummy) 10.2.0.1/24
#   w0 (veth) 192.0.2.1/24  <------------------->   e0 (veth) 192.0.2.2/24
#   route 10.2.0.0/24 via 192.0.2.2 src 10.1.0.1    route 10.1.0.0/24 via 192.0.2.1 src 10.2.0.1
#
# The static routes give the kernel a route to the remote client subnet (the XFRM policy
# lookup comes after routing).  All traffic stays in these namespaces, inside the VM.
# Work files go to $LABRUN (/run is a fresh tmpfs in the guest; /tmp would show the
# host's /tmp through the overlay).

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
IPSEC=${IPSEC:-$REPO/target/ipsec}
LABRUN=${LABRUN:-/run/rswan-lab}
PIDS=()                  # processes we started; cleanup kills exactly these

ts()  { date +%H:%M:%S.%3N; }
log() { echo "[$(ts)] $*"; }
hr()  { echo "------------------------------------------------------------------------"; }
die() { echo "[$(ts)] FAIL: $*" >&2; exit 1; }

# run CMD...: print "+ CMD" (with $IPSEC shown as "ipsec"), then run it.
# on NS CMD...: the same inside network namespace NS, printed as "+ [NS] CMD".
show() { local a="$*"; echo "+ ${a//"$IPSEC"/ipsec}"; }
run()  { show "$@"; "$@"; }
on()   {
    local ns=$1; shift; show "[$ns]" "$@"
    if [ "$1" = ip ]; then shift; ip -n "$ns" "$@"     # one exec less (slow under TCG)
    else ip netns exec "$ns" "$@"; fi
}

# LAB_STACK: which kernel interface this pass gives pluto and the manual tools.
#   pfkey  af_key loaded; pluto runs with --use-pfkey (NETKEY over PF_KEYv2)
#   xfrm   a kernel without PF_KEY: af_key unloaded and its auto-loading refused, so
#          pluto's default (--use-auto) and the tools must use XFRM netlink
LAB_STACK=${LAB_STACK:-pfkey}
# The IPsec modules but af_key: esp4/ah4/ipcomp (+ xfrm4_tunnel) the transforms;
# xfrm_user for `ip xfrm`; des3_ede etc. would be auto-loaded, loading them now keeps
# timings stable.
LAB_MODULES="xfrm_user esp4 ah4 ipcomp xfrm4_tunnel tunnel4 xfrm_ipcomp veth dummy des3_ede
             authenc echainiv seqiv"
NO_AF_KEY=/etc/modprobe.d/rswan-lab-no-af_key.conf

load_modules() {
    modprobe -a $LAB_MODULES || die "modprobe failed"
    stack_modules
}

# stack_modules: af_key there (pfkey) or gone for good (xfrm), as LAB_STACK says
stack_modules() {
    case $LAB_STACK in
        pfkey)
            rm -f "$NO_AF_KEY"
            modprobe af_key || die "modprobe af_key failed" ;;
        xfrm)
            echo "install af_key /bin/false" > "$NO_AF_KEY"
            local i
            for i in $(seq 75); do
                grep -q '^af_key ' /proc/modules || break
                rmmod af_key 2>/dev/null || sleep 0.2
            done
            [ ! -e /proc/net/pfkey ] || die "af_key cannot be unloaded (still in use?)" ;;
        *) die "LAB_STACK=$LAB_STACK: pfkey or xfrm" ;;
    esac
}

# stack_opts: pluto's options for LAB_STACK
stack_opts() { [ "$LAB_STACK" = pfkey ] && echo --use-pfkey; }

# make_topology: load the IPsec modules, build the two gateways drawn above
make_topology() {
    load_modules
    ip netns add west && ip netns add east || die "ip netns add"
    ip link add w0 netns west type veth peer name e0 netns east || die "veth"
    ip -n west addr add 192.0.2.1/24 dev w0
    ip -n east addr add 192.0.2.2/24 dev e0
    ip -n west link add lan0 type dummy && ip -n east link add lan0 type dummy || die "dummy"
    ip -n west addr add 10.1.0.1/24 dev lan0
    ip -n east addr add 10.2.0.1/24 dev lan0
    local ns
    for ns in west east; do
        # no IPv6: router solicitations would only clutter the captures
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n $ns link set lo up
        ip -n $ns link set lan0 up
    done
    ip -n west link set w0 up
    ip -n east link set e0 up
    ip -n west route add 10.2.0.0/24 via 192.0.2.2 src 10.1.0.1 || die "route west"
    ip -n east route add 10.1.0.0/24 via 192.0.2.1 src 10.2.0.1 || die "route east"
}

# xfrm_counters NS PROTO: "PACKETS BYTES SAS" summed over the PROTO states (esp, ah, comp)
# of `ip -s xfrm state`
xfrm_counters() {
    ip -n "$1" -s xfrm state | awk -v proto="$2" '
        /^src /                           { on = 0 }
        $1 == "proto" && $2 == proto      { on = 1; n++ }
        on && /lifetime current:/         { getline; b += $1; p += $2 }   # "  840(bytes), 10(packets)"
        END { printf "%d %d %d\n", p, b, n }'
}

# esp_counters NS: xfrm_counters NS esp
esp_counters() { xfrm_counters "$1" esp; }

# wire_check PROTO PING_ARGS...: while tcpdump watches what west's w0 and east's e0 SEND
# (-Q out: on the receiving side tcpdump would also show the decrypted inner packet the
# kernel re-injects there), run `ping PING_ARGS` in west.  Prints the captures; succeeds
# if the ping succeeded and each side sent PROTO (tcpdump's "ESP(" or "AH(") and nothing
# else over IP.
wire_check() {
    local proto=$1 ns dev f ping_rc ok=0 i tpids=(); shift
    mkdir -p "$LABRUN"
    for ns in west east; do
        dev=w0; [ $ns = east ] && dev=e0
        f=$LABRUN/wire-$ns
        ip netns exec $ns tcpdump -n -l -i $dev -Q out ip > "$f.txt" 2> "$f.err" &
        tpids+=($!); PIDS+=($!)
    done
    for i in $(seq 100); do           # wait until both are capturing
        [ "$(grep -l 'listening on' "$LABRUN"/wire-{west,east}.err | wc -l)" = 2 ] && break
        [ $i = 100 ] && { cat "$LABRUN"/wire-*.err; echo "   -> tcpdump did not start"; ok=1; }
        sleep 0.1
    done
    on west ping "$@"; ping_rc=$?
    sleep 0.3
    kill -INT "${tpids[@]}" 2>/dev/null; wait "${tpids[@]}" 2>/dev/null
    for ns in west east; do
        f=$LABRUN/wire-$ns.txt
        echo "== what $ns sent (tcpdump -Q out):"; sed '/^$/d; s/^/   /' "$f"
        grep -q " $proto(" "$f" || { echo "   -> no $proto from $ns"; ok=1; }
        grep -v " $proto(" "$f" | grep -q . && { echo "   -> $ns sent something other than $proto"; ok=1; }
    done
    [ $ping_rc = 0 ] || { echo "   -> ping failed (exit $ping_rc)"; ok=1; }
    return $ok
}

# only_esp_on_wire [COUNT]: wire_check of an ESP tunnel: COUNT pings (default 5) from
# 10.1.0.1 in west to 10.2.0.1
only_esp_on_wire() { wire_check ESP -c "${1:-5}" -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1; }

# cleanup: stop what we started (by PID) and delete the namespaces.  In the guest
# everything dies with the VM anyway; this keeps scenarios re-runnable in one boot.
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
    ip netns del west 2>/dev/null
    ip netns del east 2>/dev/null
    true
}

[ "${VMRUN:-}" = 1 ] || echo "lab/lib.sh: warning: not inside vm-run (the host kernel has no ESP/PF_KEY)" >&2
