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
    warm_algorithms
}

# warm_algorithms: the kernel tests each crypto algorithm the first time an SA
# uses it; under qemu TCG that takes seconds inside the install system call, so
# the first negotiation of a VM would stall its pluto (and miss DPD answers).
# One throwaway SA per combination the scenarios use pays that cost here.
warm_algorithms() {
    local z16=0x00000000000000000000000000000000 spi=0x7e57 a
    local z20=0x0000000000000000000000000000000000000000
    local z24=0x000000000000000000000000000000000000000000000000
    local z32=0x0000000000000000000000000000000000000000000000000000000000000000
    for a in "enc cbc(aes) $z16 auth hmac(sha1) $z20" "enc cbc(des3_ede) $z24 auth hmac(md5) $z16" \
             "enc cbc(des3_ede) $z24 auth hmac(sha1) $z20" "enc cbc(aes) $z16 auth hmac(sha256) $z32"; do
        # shellcheck disable=SC2086 # the words of $a are ip's arguments
        ip xfrm state add src 192.0.2.254 dst 192.0.2.253 proto esp spi $spi $a 2>/dev/null
        ip xfrm state delete src 192.0.2.254 dst 192.0.2.253 proto esp spi $spi 2>/dev/null
    done
    ip xfrm state add src 192.0.2.254 dst 192.0.2.253 proto ah spi $spi auth 'hmac(sha1)' $z20 2>/dev/null
    ip xfrm state delete src 192.0.2.254 dst 192.0.2.253 proto ah spi $spi 2>/dev/null
    return 0
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

# ---- the NAT topology (NAT-T scenarios, NAT interop cells) -------------------------------
#
#   netns west (road warrior)     netns nat (masquerading NAT)              netns east (gateway)
#   w0 (veth) 192.168.1.2/24 <--> n0 192.168.1.1/24 | n1 192.0.2.1/24 <--> e0 (veth) 192.0.2.2/24
#   default via 192.168.1.1       MASQUERADE out of n1 to source ports     lan0 (dummy) 10.2.0.1/24
#                                 NAT_PORTS (20000-29999): no port is      192.168.0.0/16 via 192.0.2.1
#                                 kept, IKE's 500 and 4500 both move;        src 10.2.0.1
#                                 from n1 to n0 only replies (conntrack
#                                 ESTABLISHED,RELATED): unsolicited
#                                 packets from outside are dropped
#
# The road warrior's client is its own private address (192.168.1.2); the gateway's is
# 10.2.0.0/24.  The gateway sees the road warrior as 192.0.2.1 on some port 2xxxx.
# n1 is the outer wire: no IPsec is processed in netns nat, so a capture there shows
# exactly what crossed (on e0 the kernel would re-inject decapsulated packets).
NAT_PORTS=${NAT_PORTS:-20000-29999}

# nat_topology: load the modules, build the three namespaces drawn above
nat_topology() {
    load_modules
    ip netns add west && ip netns add nat && ip netns add east || die "ip netns add"
    ip link add w0 netns west type veth peer name n0 netns nat || die "veth west-nat"
    ip link add n1 netns nat type veth peer name e0 netns east || die "veth nat-east"
    ip -n west addr add 192.168.1.2/24 dev w0
    ip -n nat addr add 192.168.1.1/24 dev n0
    ip -n nat addr add 192.0.2.1/24 dev n1
    ip -n east addr add 192.0.2.2/24 dev e0
    ip -n east link add lan0 type dummy || die "dummy"
    ip -n east addr add 10.2.0.1/24 dev lan0
    local ns
    for ns in west nat east; do
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n $ns link set lo up
    done
    ip -n west link set w0 up; ip -n nat link set n0 up; ip -n nat link set n1 up
    ip -n east link set e0 up; ip -n east link set lan0 up
    ip -n west route add default via 192.168.1.1 || die "route west"
    ip -n east route add 192.168.0.0/16 via 192.0.2.1 src 10.2.0.1 || die "route east"
    ip netns exec nat sysctl -qw net.ipv4.ip_forward=1
    nat_rules "$NAT_PORTS" || die "iptables in nat"
}

# nat_rules PORTS: (re)write the NAT's rules: masquerade to source ports PORTS, forward
# from outside only what belongs to a connection started inside
nat_rules() {
    local t=(ip netns exec nat iptables -w 5)
    "${t[@]}" -t nat -F POSTROUTING && "${t[@]}" -F FORWARD &&
    "${t[@]}" -t nat -A POSTROUTING -o n1 -p udp -j MASQUERADE --to-ports "$1" --random &&
    "${t[@]}" -t nat -A POSTROUTING -o n1 -j MASQUERADE &&
    "${t[@]}" -A FORWARD -i n0 -o n1 -j ACCEPT &&
    "${t[@]}" -A FORWARD -i n1 -o n0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
    "${t[@]}" -A FORWARD -j DROP
}

# nat_flush: forget every mapping (conntrack -F); the next datagram from the road
# warrior gets a new one (a random port of NAT_PORTS: almost surely another)
nat_flush() { on nat conntrack -F 2>&1 | grep -v 'have been deleted' ; true; }

# nat_change_port: force a new mapping: masquerade to another port range, then flush
# (the road warrior's next datagram certainly leaves from a new port)
nat_change_port() {
    case $NAT_PORTS in 20000-29999) NAT_PORTS=30000-39999 ;; *) NAT_PORTS=20000-29999 ;; esac
    show "[nat]" "masquerade to ports $NAT_PORTS; conntrack -F"
    nat_rules "$NAT_PORTS" && nat_flush
}

# nat_mappings: the NAT's UDP mappings, one a line: "SPORT -> MAPPED_PORT DPORT"
nat_mappings() {
    ip netns exec nat conntrack -L -p udp 2>/dev/null | awk '{
        n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(sport|dport)=/) { split($i, kv, "="); v[++n] = kv[2] }
        if (n >= 4) print v[1] " -> " v[4] " " v[2] }'
}

# udp_send NS SRC SPORT DST DPORT TEXT: one UDP datagram from SRC:SPORT (perl: no socat in
# the image, and bash's /dev/udp cannot choose its source port)
udp_send() {
    ip netns exec "$1" perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => $ARGV[0], LocalPort => $ARGV[1],
                                      PeerAddr => $ARGV[2], PeerPort => $ARGV[3], ReuseAddr => 1)
            or die "socket: $!\n";
        defined $s->send($ARGV[4]) or die "send: $!\n"' "$2" "$3" "$4" "$5" "$6"
}

# capture_start NS DEV FILE [FILTER...]: tcpdump -w FILE on NS's DEV in the background
# (pid in CAP_PID, also in PIDS), back once it captures
capture_start() {
    local ns=$1 dev=$2 f=$3 i; shift 3
    ip netns exec "$ns" tcpdump -n -U -s 0 -i "$dev" -w "$f" "$@" 2> "$f.err" &
    CAP_PID=$!; PIDS+=("$CAP_PID")
    for i in $(seq 100); do grep -q 'listening on' "$f.err" 2>/dev/null && return 0; sleep 0.1; done
    cat "$f.err"; return 1
}

# capture_stop [PID]: stop a capture (default CAP_PID), let it write its last packets
capture_stop() {
    local p=${1:-${CAP_PID:-}}
    [ -n "$p" ] || return 0
    sleep 0.3; kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; true
}

# wire_summary PCAP: one line per packet of an outer-wire capture, as tshark dissects it:
#   TIME SRC:SPORT > DST:DPORT KIND LEN
# KIND: isakmp/EXCH (EXCH = isakmp.exchangetype: 2 Main Mode, 32 Quick Mode, 5 Informational),
# esp-in-udp, keepalive (UDP 4500 with the one byte 0xff), esp (plain ESP, IP protocol
# 50), icmp, udp/other.  LEN: the UDP payload length (IP payload for plain ESP).
wire_summary() {
    tshark -r "$1" -T fields -E 'separator=|' -E occurrence=f \
        -e frame.time_relative -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e ip.proto \
        -e isakmp.exchangetype -e esp.spi -e udp.length -e ip.len 2>/dev/null |
    awk -F'|' '$6 == "" { next }                 # not IP (ARP)
    {
        sp = $3; dp = $5; proto = $6; xt = $7; spi = $8
        if (proto != 17) sp = dp = ""        # (an ICMP error would show its quoted ports)
        if (proto == 50)        { kind = "esp"; len = $10 - 20 }
        else if (proto == 1)    { kind = "icmp"; len = $10 - 20 }
        else if (proto != 17)   { kind = "ip-proto-" proto; len = $10 - 20 }
        else {
            len = $9 - 8
            if (xt != "")        kind = "isakmp/" xt
            else if (spi != "")  kind = "esp-in-udp"
            else if (len == 1 && (sp == 4500 || dp == 4500)) kind = "keepalive"
            else                 kind = "udp/other"
        }
        printf "%8.3f %s%s > %s%s %s %d\n", $1, $2, (sp != "" ? ":" sp : ""), $4, (dp != "" ? ":" dp : ""), kind, len
    }'
}

# xfrm_counters NS PROTO: "PACKETS BYTES SAS" summed over the PROTO states (esp, ah, comp)
# of `ip -s xfrm state`; the kernel's larval ACQUIRE states (SPI 0) are no SAs
xfrm_counters() {
    ip -n "$1" -s xfrm state | awk -v proto="$2" '
        /^src /                           { on = 0 }
        $1 == "proto" && $2 == proto && $4 !~ /^0x0+\(/ { on = 1; n++ }   # not larval ones
        on && /lifetime current:/         { getline; b += $1; p += $2 }   # "  840(bytes), 10(packets)"
        END { printf "%d %d %d\n", p, b, n }'
}

# esp_counters NS: xfrm_counters NS esp
esp_counters() { xfrm_counters "$1" esp; }

# ipv6_topology: make_topology's gateways with IPv6 too: 2001:db8:2::1 (w0) and
# 2001:db8:2::2 (e0), clients 2001:db8:a::1/64 (west's lan0) and 2001:db8:b::1/64
# (east's), routed like the IPv4 ones (no DAD: usable at once); the wire checks then
# watch IPv6 (neighbour discovery aside) and ping PING_SRC -> PING_DST.
ipv6_topology() {
    local ns
    modprobe -a esp6 xfrm6_tunnel tunnel6 || return 1
    for ns in west east; do
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
            net.ipv6.conf.lo.disable_ipv6=0 net.ipv6.conf.lan0.disable_ipv6=0 || return 1
    done
    ip netns exec west sysctl -qw net.ipv6.conf.w0.disable_ipv6=0 || return 1
    ip netns exec east sysctl -qw net.ipv6.conf.e0.disable_ipv6=0 || return 1
    ip -n west addr add 2001:db8:2::1/64 dev w0 nodad && ip -n east addr add 2001:db8:2::2/64 dev e0 nodad \
        && ip -n west addr add 2001:db8:a::1/64 dev lan0 nodad && ip -n east addr add 2001:db8:b::1/64 dev lan0 nodad \
        || return 1
    ip -n west route add 2001:db8:b::/64 via 2001:db8:2::2 src 2001:db8:a::1 \
        && ip -n east route add 2001:db8:a::/64 via 2001:db8:2::1 src 2001:db8:b::1 || return 1
    WIRE_FILTER='ip6 and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)'
    PING_SRC=2001:db8:a::1; PING_DST=2001:db8:b::1
}

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
        ip netns exec $ns tcpdump -n -l -i $dev -Q out "${WIRE_FILTER:-ip}" > "$f.txt" 2> "$f.err" &
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
# 10.1.0.1 in west to 10.2.0.1 (after ipv6_topology: 2001:db8:a::1 to 2001:db8:b::1)
only_esp_on_wire() {
    wire_check ESP -c "${1:-5}" -i 0.2 -W 2 -I "${PING_SRC:-10.1.0.1}" "${PING_DST:-10.2.0.1}"
}

# cleanup: stop what we started (by PID) and delete the namespaces.  In the guest
# everything dies with the VM anyway; this keeps scenarios re-runnable in one boot.
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
    ip netns del west 2>/dev/null
    ip netns del nat 2>/dev/null
    ip netns del east 2>/dev/null
    true
}

[ "${VMRUN:-}" = 1 ] || echo "lab/lib.sh: warning: not inside vm-run (the host kernel has no ESP/PF_KEY)" >&2
