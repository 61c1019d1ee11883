# bench/lib.sh: what the native and the lab-VM benchmark share (sourced, bash).
#   the topology: two network namespaces joined by a veth pair, the responder at $R_ADDR,
#   the load-tester's initiators at their own addresses in $I_POOL (one per negotiation:
#   a real burst comes from many hosts, and rswan admits only so many half-open Main
#   Modes per source address);
#   the responders (rswan pluto, charon with the load-tester's fake kernel or the kernel,
#   libreswan pluto), each started in the responder namespace with its pid in RESP_PID;
#   burst N: the load-tester initiates N negotiations at once and the measurements of
#   that burst are printed as one "key=value ..." line (see bench_burst).
# Needs BENCH_DIR (work files, not under /run), IPSEC (rswan's binary), CHARON_PREFIX
# (the load-tester build of lab/setup-bench).

NS_I=${NS_I:-rsbench-i}; NS_R=${NS_R:-rsbench-r}
R_ADDR=198.18.0.1                 # RFC 2544 benchmark range
I_BASE=198.18.0.2
I_POOL=198.18.4.0/22              # 1022 initiator addresses
PSK=${BENCH_PSK:-bench-psk-0123456789}
IKE_PROPOSAL=3des-sha1-modp1536
ESP_PROPOSAL=3des-sha1-modp1536   # IKEv1: the group in the ESP proposal means PFS
BURST_LIMIT=${BURST_LIMIT:-180}   # seconds one burst may take at most

now() { date +%s.%N; }

topo_up() {
    topo_down
    ip netns add "$NS_I" && ip netns add "$NS_R" || return 1
    ip link add rsb-i netns "$NS_I" type veth peer name rsb-r netns "$NS_R" || return 1
    ip -n "$NS_I" link set lo up; ip -n "$NS_R" link set lo up
    ip -n "$NS_I" addr add "$I_BASE/16" dev rsb-i
    ip -n "$NS_R" addr add "$R_ADDR/16" dev rsb-r
    ip -n "$NS_I" link set rsb-i up; ip -n "$NS_R" link set rsb-r up
    # every initiator address is in place before the clock starts (the load-tester would
    # otherwise add each one during the burst and wait for the kernel to confirm it)
    local a b mac
    for ((a = 4; a < 8; a++)); do for ((b = 0; b < 256; b++)); do
        case $a.$b in 4.0|7.255) continue ;; esac
        echo "addr add 198.18.$a.$b/16 dev rsb-i"
    done; done | ip -n "$NS_I" -batch - || return 1
    # ... and known to the responder's neighbour table: otherwise the first burst of a
    # run (whichever responder has it) waits for a thousand ARP resolutions, beyond the
    # table's default gc_thresh2 of 512 entries, and its initiator retransmits, which
    # the later bursts, with a warm table, do not.
    mac=$(ip -n "$NS_I" -o link show rsb-i | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    [ -n "$mac" ] || return 1
    for ((a = 4; a < 8; a++)); do for ((b = 0; b < 256; b++)); do
        case $a.$b in 4.0|7.255) continue ;; esac
        echo "neigh replace 198.18.$a.$b lladdr $mac dev rsb-r nud permanent"
    done; done | ip -n "$NS_R" -batch - || return 1
}

topo_down() {
    local ns pids
    for ns in "$NS_I" "$NS_R"; do
        ip netns list 2>/dev/null | grep -qw "$ns" || continue
        pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
        [ -n "${pids// }" ] && kill -9 $pids 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    return 0
}

# UdpRcvbufErrors of the responder's namespace
rcvbuf_errors() {
    ip netns exec "$NS_R" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 }
        else for (i = 1; i <= NF; i++) if (n[i] == "RcvbufErrors") print $i }' /proc/net/snmp
}

# cpu_ticks PID: utime + stime of the process, all its threads (clock ticks)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null; }
rss_kb()    { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# ---- strongSwan ---------------------------------------------------------------------------
# charon_conf FILE LOG ROLE [N]: a strongswan.conf for the load-tester build.
#   ROLE initiator: N negotiations at once (one initiator job each, iterations = 1), each
#     from its own address of I_POOL; the fake kernel; the IKE and CHILD SAs are kept
#     (no rekeying, no delete after establishing) so the responder holds them all.
#   ROLE fake | kernel: the load-tester's built-in responder (no initiators), with the
#     fake kernel or the real one (kernel-netlink, lab VM).
# Both sides: PSK, the responder's ID is its address (as rswan's and libreswan's default
# ID), the initiators' are FQDNs (c<N>-r1.strongswan.org); charon.threads is left at its
# default (16).  The initiator logs IKE at level 1 (its retransmissions are counted from
# "sending retransmit"), time-stamped in ms; the responder logs as charon does by default.
charon_conf() {
    local file=$1 log=$2 role=$3 n=${4:-0} init=0 fake=yes lvl=1 extra=""
    case $role in
        initiator) init=$n; lvl=0
                   extra="addrs { rsb-i = 198.18.4.1-198.18.7.254 }
            addrs_prefix = 16
            addrs_keep = yes
            shutdown_when_complete = no" ;;
        kernel) fake=no ;;
    esac
    cat > "$file" <<CONF
charon {
    load_modular = no
    load = random nonce openssl pem pkcs1 pubkey hmac x509 load-tester kernel-netlink socket-default
    install_routes = no
    install_virtual_ip = no
    retransmit_timeout = 4.0
    filelog {
        bench {
            path = $log
            time_format = %s
            time_add_ms = yes
            default = $lvl
            ike = 1
            flush_line = yes
        }
    }
    syslog {
        daemon { default = -1 }
        auth { default = -1 }
    }
    plugins {
        load-tester {
            enable = yes
            initiators = $init
            iterations = 1
            delay = 0
            responder = $R_ADDR
            responder_id = $R_ADDR
            proposal = $IKE_PROPOSAL
            esp = $ESP_PROPOSAL
            version = 1
            initiator_auth = psk
            responder_auth = psk
            preshared_key = $PSK
            fake_kernel = $fake
            # long lifetimes: 0 would be sent as a 0 s IKEv1 lifetime (libreswan
            # would expire the SAs at once); nothing is rekeyed during a burst
            ike_rekey = 14400
            child_rekey = 1200
            delete_after_established = no
            $extra
        }
    }
}
CONF
}

# charon_in NS CONF OUT RUNDIR [CHARON]: charon (default: the load-tester build) in NS,
# in a mount namespace of its own where RUNDIR is bind-mounted over /run: charon's pid
# file and sockets are compiled in under /var/run, and two charons on one host would
# clash.  stdout/stderr to OUT; sets CHARON_PID.
charon_in() {
    local ns=$1 conf=$2 out=$3 run=$4 bin=${5:-$CHARON_PREFIX/libexec/ipsec/charon}
    mkdir -p "$run"
    ip netns exec "$ns" unshare -m sh -c "mount --make-rprivate / && mount --bind '$run' /run &&
        exec env STRONGSWAN_CONF='$conf' '$bin'" > "$out" 2>&1 &
    CHARON_PID=$!
}

# ---- the responders ----------------------------------------------------------------------
# Each start_* leaves RESP_PID (the process whose CPU and RSS are measured) and returns
# once the responder listens; stop_responder ends it.  $1 is a work directory.

# start_rswan DIR [PLUTO OPTIONS...]: rswan's pluto with one %any PSK connection,
# 3DES-SHA1-MODP1536 with PFS (RSWAN_CONN_OPTS: more whack options for it); natively with
# --noklips, in the lab VM with its default kernel interface.
start_rswan() {
    local d=$1; shift
    mkdir -p "$d"
    echo "$R_ADDR %any : PSK \"$PSK\"" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    ip netns exec "$NS_R" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" "$@" > "$d/pluto.out" 2> "$d/pluto.log" &
    RESP_PID=$!
    local i
    for i in $(seq 100); do [ -S "$d/pluto.ctl" ] && break; sleep 0.1; done
    "$IPSEC" whack --ctlbase "$d/pluto" --name rw --host "$R_ADDR" --nexthop "$I_BASE" --to --host %any \
        --psk --encrypt --tunnel --pfs --ike "$IKE_PROPOSAL" --esp 3des-sha1 ${RSWAN_CONN_OPTS:-} > "$d/whack.out" 2>&1 \
        && "$IPSEC" whack --ctlbase "$d/pluto" --listen >> "$d/whack.out" 2>&1 \
        || { cat "$d/whack.out" "$d/pluto.log" >&2; return 1; }
}

# start_charon DIR fake|kernel: the load-tester's responder
start_charon() {
    local d=$1 i
    mkdir -p "$d"
    charon_conf "$d/strongswan.conf" "$d/charon.log" "$2"
    charon_in "$NS_R" "$d/strongswan.conf" "$d/charon.out" "$d/run"
    RESP_PID=$CHARON_PID
    for i in $(seq 100); do
        grep -q 'charon.*starting\|spawning .* worker threads' "$d/charon.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.5
    kill -0 "$RESP_PID" 2>/dev/null || { cat "$d/charon.out" >&2; return 1; }
}

# start_strongswan DIR: Debian's charon (kernel-netlink, the plugins Debian loads for
# IKEv1 3DES/MODP; af-alg left out: its probing costs seconds under TCG) with a swanctl
# %any PSK connection, as a user would configure it (lab VM).
start_strongswan() {
    local d=$1 i
    mkdir -p "$d/swanctl/conf.d" "$d/run"
    cat > "$d/strongswan.conf" <<CONF
charon {
    load_modular = no
    load = random nonce openssl pem pkcs1 pkcs8 pubkey x509 sha1 sha2 md5 hmac kdf gmp aes kernel-netlink socket-default vici
    install_routes = no
    filelog {
        bench { path = $d/charon.log
                time_format = %s
                default = 1 }
    }
    syslog { daemon { default = -1 } auth { default = -1 } }
}
swanctl { load = pem pkcs1 pkcs8 x509 pubkey openssl random }
CONF
    cat > "$d/swanctl/swanctl.conf" <<CONF
connections {
    rw {
        version = 1
        aggressive = no
        local_addrs = $R_ADDR
        proposals = $IKE_PROPOSAL
        local { auth = psk
                id = $R_ADDR }
        remote { auth = psk }
        children { net { mode = tunnel
                         esp_proposals = $ESP_PROPOSAL } }
    }
}
secrets { ike-bench { secret = "$PSK" } }
CONF
    charon_in "$NS_R" "$d/strongswan.conf" "$d/charon.out" "$d/run" /usr/lib/ipsec/charon
    RESP_PID=$CHARON_PID
    for i in $(seq 300); do [ -S "$d/run/charon.vici" ] && break; sleep 0.1; done
    ip netns exec "$NS_R" env SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
        swanctl --load-all --noprompt --uri "unix://$d/run/charon.vici" > "$d/swanctl.out" 2>&1 \
        || { cat "$d/charon.out" "$d/swanctl.out" >&2; return 1; }
}

# start_libreswan DIR: libreswan 4.10's pluto (unpacked by lab/setup into $LAB_DIR/libreswan)
# with an ipsec.conf %any PSK connection, IKEv1 allowed (Debian's default drops it),
# updown disabled (lab VM).
start_libreswan() {
    local d=$1 i ls=${LAB_DIR:-/tmp/rswan-lab}/libreswan/usr/libexec/ipsec
    [ -x "$ls/pluto" ] || { echo "no libreswan in $ls: run lab/setup" >&2; return 1; }
    # pluto runs /usr/libexec/ipsec/addconn from a built-in path (guest: a throw-away root)
    [ -e /usr/libexec/ipsec/pluto ] || { mkdir -p /usr/libexec && ln -sfn "$ls" /usr/libexec/ipsec; }
    mkdir -p "$d/nss" "$d/ipsec.d" "$d/run"
    certutil -N -d "sql:$d/nss" --empty-password > /dev/null 2>&1 || { echo "certutil failed" >&2; return 1; }
    cat > "$d/ipsec.conf" <<CONF
config setup
    ikev1-policy=accept
    uniqueids=no

conn rw
    ikev2=no
    aggressive=no
    type=tunnel
    authby=secret
    left=$R_ADDR
    leftid=$R_ADDR
    right=%any
    rightid=%any
    ike=3des-sha1;modp1536
    esp=3des-sha1
    pfs=yes
    leftupdown=%disabled
    auto=add
CONF
    echo "$R_ADDR %any : PSK \"$PSK\"" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    ip netns exec "$NS_R" "$ls/pluto" --config "$d/ipsec.conf" --nofork --secretsfile "$d/ipsec.secrets" \
        --ipsecdir "$d/ipsec.d" --nssdir "$d/nss" --rundir "$d/run" --dumpdir "$d/run" \
        --logfile "$d/pluto.log" > "$d/pluto.out" 2>&1 &
    RESP_PID=$!
    for i in $(seq 300); do
        "$ls/whack" --ctlsocket "$d/run/pluto.ctl" --status 2>/dev/null | grep -q '"rw".*erouted\|"rw": ' && return 0
        kill -0 "$RESP_PID" 2>/dev/null || break
        sleep 0.2
    done
    cat "$d/pluto.out" "$d/pluto.log" >&2; return 1
}

stop_responder() {
    [ -n "${RESP_PID:-}" ] || return 0
    kill "$RESP_PID" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$RESP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$RESP_PID" 2>/dev/null
    wait "$RESP_PID" 2>/dev/null
    RESP_PID=""
}

# ---- one burst -----------------------------------------------------------------------------
# bench_burst DIR N: the load-tester initiates N negotiations (MM + QM with PFS) at once
# towards the running responder RESP_PID; once all N CHILD_SAs are up (or BURST_LIMIT
# seconds passed) prints
#   n=N ok=ESTABLISHED wall=S cpu=S drops=D retrans=R rss_idle=KB rss_sas=KB rss_last=KB
# wall: the initiator's first "initiating" to its last "CHILD_SA ... established" (its
# log's ms time stamps); cpu: the responder's utime+stime over the burst (all threads);
# drops: UdpRcvbufErrors in the responder's namespace; retrans: the initiator's
# retransmissions; rss_idle/rss_sas: the responder's VmRSS before, and with all SAs held,
# BENCH_SETTLE seconds (default 2) after the last was established: the steady state a
# gateway holds its tunnels in, once the burst's transient buffers are freed (all
# responders get the same wait); rss_last: its VmRSS at the moment the last was
# established, the burst's transients included.
bench_burst() {
    local d=$1 n=$2 hz c0 c1 d0 d1 r0 r1 ok=0 t0 i
    hz=$(getconf CLK_TCK)
    mkdir -p "$d"; rm -f "$d/initiator.log"
    charon_conf "$d/initiator.conf" "$d/initiator.log" initiator "$n"
    r0=$(rss_kb "$RESP_PID"); c0=$(cpu_ticks "$RESP_PID"); d0=$(rcvbuf_errors)
    t0=$(date +%s)
    charon_in "$NS_I" "$d/initiator.conf" "$d/initiator.out" "$d/run"
    local ipid=$CHARON_PID
    while :; do
        ok=$(grep -c '\] CHILD_SA .* established' "$d/initiator.log" 2>/dev/null)
        [ "${ok:-0}" -ge "$n" ] && break
        kill -0 "$ipid" 2>/dev/null || break
        kill -0 "$RESP_PID" 2>/dev/null || break
        [ $(( $(date +%s) - t0 )) -ge "$BURST_LIMIT" ] && break
        sleep 0.1
    done
    c1=$(cpu_ticks "$RESP_PID"); r1=$(rss_kb "$RESP_PID"); d1=$(rcvbuf_errors)
    local rl=$r1
    sleep "${BENCH_SETTLE:-2}"; r1=$(rss_kb "$RESP_PID")
    kill "$ipid" 2>/dev/null
    for i in $(seq 100); do kill -0 "$ipid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$ipid" 2>/dev/null; wait "$ipid" 2>/dev/null
    awk -v n="$n" -v ok="${ok:-0}" -v hz="$hz" -v c0="${c0:-0}" -v c1="${c1:-0}" \
        -v d="$(( ${d1:-0} - ${d0:-0} ))" -v r0="${r0:-0}" -v r1="${r1:-0}" -v rl="${rl:-0}" '
        / initiating Main Mode / { if (t0 == "") t0 = $1 }
        /\] CHILD_SA .* established/ { t1 = $1 }
        /sending retransmit/ { re++ }
        END { printf "n=%d ok=%d wall=%.3f cpu=%.3f drops=%d retrans=%d rss_idle=%d rss_sas=%d rss_last=%d\n",
                     n, ok, (t1 != "" && t0 != "") ? t1 - t0 : 0, (c1 - c0) / hz, d, re, r0, r1, rl }' \
        "$d/initiator.log"
}

# burst_failures DIR RESPONDER_DIR: after a burst that did not establish everything, what
# went wrong: the initiator's and the responder's complaints, counted (numbers as N)
burst_failures() {
    local f
    for f in "$1/initiator.log" "$2"/*.log; do
        [ -f "$f" ] || continue
        echo "    $(basename "$f"):"
        grep -aE 'giving up|error notify|failed|fail|timeout|no proposal|ignor|half.open|invalid|dropp|refus|exceed' "$f" \
            | sed -E 's/^[0-9.]+ [0-9]+\[[A-Z]+\] //; s/^[A-Z][a-z]{2} [0-9 ]+ [0-9:.]+: //; s/[0-9]+/N/g' \
            | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/      /'
    done
}
