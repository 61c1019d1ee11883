#!/bin/bash
# lab/interop/natdpd.sh: NAT traversal and Dead Peer Detection cells of the interop suite,
# rswan against strongSwan 5.9 (charon + swanctl) or libreswan 4.10 (pluto), IKEv1 Main
# Mode, PSK, aes128-sha1-modp2048, ESP aes128-sha1 with PFS.  One cell:
#
#     lab/vm-run lab/interop/natdpd.sh PEER KIND       PEER: strongswan | libreswan
#
# KIND:
#   nat-rswan   rswan is the road warrior (west, 192.168.1.2) behind the masquerading NAT
#               of lib.sh nat_topology and initiates to PEER, a gateway (east, 192.0.2.2,
#               client 10.2.0.0/24) that takes road warriors from anywhere
#               (strongSwan remote_addrs = %any, remote_ts = 192.168.0.0/16; libreswan
#               right=%any, rightsubnet=vhost:%priv with virtual-private);
#   nat-peer    PEER is the road warrior behind the NAT and initiates to an rswan gateway:
#               pluto --nat_traversal --virtual_private ...; whack --nexthop 192.0.2.1 --to --host %any
#               --client vhost:%priv;
#     both: up, both kernels' ESP SAs UDP-encapsulated, pings 192.168.1.2 -> 10.2.0.1
#     cross, the outer wire (capture on the NAT's outside) has UDP 500 only before the
#     switch to 4500, never plain ESP, and keepalives from the road warrior (rswan:
#     --keep_alive 2, a check; the peer's: counted); then the road warrior's teardown
#     leaves no SA on either side (its Deletes crossed the NAT on 4500);
#   dpd         no NAT (lib.sh make_topology): rswan (west) and PEER (east), both with DPD
#               delay 2 s, timeout 6 s, action clear.  rswan initiates; while idle for 4
#               delays Informationals go both ways and nobody's SAs change (each answers
#               the other's R_U_THERE: without an ACK the asker would clear within 8 s);
#               PEER is killed (-9): rswan clears within timeout + delay (+ slack); PEER
#               comes back, rswan initiates again; rswan is killed (-9): PEER clears
#               its SAs within the same limit.
# RSWAN_NAT_OPTS (when set) replaces rswan's NAT options (--nat_traversal ...).
# Prints "@@RESULT NAME PASS|FAIL STEPS TIMES" for lab/interop/all.sh, NAME =
# PEER/KIND/psk/aes128-sha1-modp2048/pfs, and PASS:/FAIL: lines as the other cells do.
set -u
HERE=$(dirname "$(readlink -f "$0")")
[ -f "$HERE/common.sh" ] || HERE=${VMRUN_SCRIPT_DIR:-.}
LABRUN=${INTEROP_RUN:-/var/tmp/rswan-interop}
. "$HERE/../lib.sh"
LAB_DIR=${LAB_DIR:-/tmp/rswan-lab}

PEER=${1:-strongswan}; KIND=${2:-nat-rswan}
case $PEER in strongswan|libreswan) ;; *) echo "usage: $0 strongswan|libreswan nat-rswan|nat-peer|dpd"; exit 2 ;; esac
case $KIND in nat-rswan|nat-peer|dpd) ;; *) echo "usage: $0 strongswan|libreswan nat-rswan|nat-peer|dpd"; exit 2 ;; esac
NAME=$PEER/$KIND/psk/aes128-sha1-modp2048/pfs
OUTDIR=${VMRUN_OUT:+$VMRUN_OUT/$PEER-$KIND}
PSK="rswan-interop-shared-secret-0123456789"
CONN=rw
IKE=aes128-sha1-modp2048; ESP=aes128-sha1
KEEP_ALIVE=2; DPD_DELAY=2; DPD_TIMEOUT=6
# timeout + delay (Openswan's bound) + 4 s: libreswan 4.10 itself took 10.6 s here
DPD_LIMIT=$((DPD_TIMEOUT + DPD_DELAY + 4))
VIRTUAL_PRIVATE=%v4:10.0.0.0/8,%v4:192.168.0.0/16,%v4:172.16.0.0/12,%v4:!10.2.0.0/24
WHACK_TIMEOUT=90
CHARON=/usr/lib/ipsec/charon
CHARON_PLUGINS="random nonce openssl pem pkcs1 pkcs8 pubkey x509 sha1 sha2 md5 hmac kdf gmp aes kernel-netlink socket-default vici"
LS_EXEC=$LAB_DIR/libreswan/usr/libexec/ipsec

# The roles: RW (road warrior) / GW (gateway) in the NAT cells, west/east in the dpd cell
case $KIND in
    nat-rswan) RSWAN_NS=west; PEER_NS=east; RSWAN_ROLE=rw; PEER_ROLE=gw ;;
    nat-peer)  RSWAN_NS=east; PEER_NS=west; RSWAN_ROLE=gw; PEER_ROLE=rw ;;
    dpd)       RSWAN_NS=west; PEER_NS=east; RSWAN_ROLE=dpd; PEER_ROLE=dpd ;;
esac

STEPS=(); REASONS=(); TIMINGS=(); FINISHED=0
step_result() {  # step_result STEP ok|FAIL [REASON]
    STEPS+=("$1=$2")
    if [ "$2" = FAIL ]; then REASONS+=("${3:-$1 failed}"); log "step $1: FAIL: ${3:-}"
    else log "step $1: $2${3:+ ($3)}"; fi
}
wait_until() { local end=$((SECONDS + $1)); shift; while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.5; done; "$@"; }
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
spis()       { ip -n "$1" xfrm state 2>/dev/null | awk '/proto esp spi/ && $4 != "0x00000000" {print $4}' | sort; }
esp_count()  { spis "$1" | grep -c .; }
both_esp()   { [ "$(esp_count west)" -ge 2 ] && [ "$(esp_count east)" -ge 2 ]; }
encap_count() { ip -n "$1" xfrm state 2>/dev/null | grep -c 'encap type espinudp'; }

# ------------------------------------------------------------------------------ rswan ---
rwhack() {
    show "[$RSWAN_NS]" "$IPSEC" whack --ctlbase "$LABRUN/rswan/pluto" "$@"
    ip netns exec "$RSWAN_NS" timeout "$WHACK_TIMEOUT" "$IPSEC" whack --ctlbase "$LABRUN/rswan/pluto" "$@"
}
rswan_start() {
    local d=$LABRUN/rswan i opts=() conn=()
    mkdir -p "$d"; rm -f "$d/pluto.ctl" "$d/pluto.pid"
    case $RSWAN_ROLE in
        rw)  echo "192.168.1.2 192.0.2.2 : PSK \"$PSK\"" > "$d/ipsec.secrets"
             opts=(${RSWAN_NAT_OPTS---nat_traversal --keep_alive $KEEP_ALIVE})
             conn=(--host 192.168.1.2 --to --host 192.0.2.2 --client 10.2.0.0/24) ;;
        gw)  echo "192.0.2.2 %any : PSK \"$PSK\"" > "$d/ipsec.secrets"
             opts=(${RSWAN_NAT_OPTS---nat_traversal --virtual_private $VIRTUAL_PRIVATE})
             conn=(--host 192.0.2.2 --client 10.2.0.0/24 --nexthop 192.0.2.1 --to --host %any --client vhost:%priv) ;;
        dpd) echo "192.0.2.1 192.0.2.2 : PSK \"$PSK\"" > "$d/ipsec.secrets"
             conn=(--host 192.0.2.1 --client 10.1.0.0/24 --to --host 192.0.2.2 --client 10.2.0.0/24
                   --dpddelay "$DPD_DELAY" --dpdtimeout "$DPD_TIMEOUT" --dpdaction clear) ;;
    esac
    chmod 600 "$d/ipsec.secrets"
    show "[$RSWAN_NS]" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" \
        "${opts[@]}" ">> $d/pluto.log 2>&1 &"
    ip netns exec "$RSWAN_NS" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" "${opts[@]}" >> "$d/pluto.log" 2>&1 &
    RSWAN_PID=$!; PIDS+=("$RSWAN_PID")
    for i in $(seq 100); do
        [ -S "$d/pluto.ctl" ] && break
        kill -0 "$RSWAN_PID" 2>/dev/null || { tail -n 5 "$d/pluto.log"; echo "rswan pluto exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/pluto.ctl" ] || { echo "rswan pluto: no control socket after 10 s"; return 1; }
    rwhack --name "$CONN" "${conn[@]}" --encrypt --tunnel --psk --pfs --ike "$IKE" --esp "$ESP" || return 1
    rwhack --listen
}
rswan_states() {
    ip netns exec "$RSWAN_NS" timeout 20 "$IPSEC" whack --ctlbase "$LABRUN/rswan/pluto" --status 2>/dev/null |
        grep -oE '^000 #[0-9]+: "' | awk '{print $2}' | tr -d : | sort -u | grep -c .
}
rswan_stop() {
    kill -0 "${RSWAN_PID:-0}" 2>/dev/null || return 0
    [ -S "$LABRUN/rswan/pluto.ctl" ] && rwhack --shutdown
    local i; for i in $(seq 50); do kill -0 "$RSWAN_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill "$RSWAN_PID" 2>/dev/null
}

# -------------------------------------------------------------------------- strongSwan ---
swanctl_() {
    local d=$LABRUN/peer
    show "[$PEER_NS]" swanctl "$@"
    ip netns exec "$PEER_NS" env SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
        timeout "$WHACK_TIMEOUT" swanctl "$@" --uri "unix://$d/run/charon.vici"
}
strongswan_start() {
    local d=$LABRUN/peer i la ra lid rid lts rts dpd="" dpdact="" ka=""
    mkdir -p "$d/run" "$d/swanctl"/{conf.d,x509,x509ca,x509aa,x509ac,x509crl,x509ocsp,private,rsa,ecdsa,bliss,pkcs8,pkcs12,pubkey}
    rm -f "$d/run/"*
    case $PEER_ROLE in
        rw)  la=192.168.1.2; ra=192.0.2.2; lid=192.168.1.2; rid=192.0.2.2; lts=dynamic; rts=10.2.0.0/24
             ka="keep_alive = ${KEEP_ALIVE}s" ;;
        gw)  la=192.0.2.2; ra=%any; lid=192.0.2.2; rid=%any; lts=10.2.0.0/24; rts=192.168.0.0/16 ;;
        dpd) la=192.0.2.2; ra=192.0.2.1; lid=192.0.2.2; rid=192.0.2.1; lts=10.2.0.0/24; rts=10.1.0.0/24
             dpd="dpd_delay = ${DPD_DELAY}s
        dpd_timeout = ${DPD_TIMEOUT}s"; dpdact="dpd_action = clear" ;;
    esac
    cat > "$d/strongswan.conf" <<EOF
charon {
    load_modular = no
    load = $CHARON_PLUGINS
    install_routes = no
    $ka
    filelog {
        lab {
            path = $d/charon.log
            time_format = %H:%M:%S
            time_add_ms = yes
            default = 1
            ike = 2
            cfg = 2
            net = 1
            enc = 1
            flush_line = yes
        }
    }
    syslog {
        daemon { default = -1 }
        auth { default = -1 }
    }
}
swanctl {
    load = pem pkcs1 pkcs8 x509 pubkey openssl random
}
EOF
    cat > "$d/swanctl/swanctl.conf" <<EOF
connections {
    $CONN {
        version = 1
        aggressive = no
        local_addrs = $la
        remote_addrs = $ra
        proposals = $IKE
        $dpd
        local {
            auth = psk
            id = $lid
        }
        remote {
            auth = psk
            id = $rid
        }
        children {
            net {
                mode = tunnel
                local_ts = $lts
                remote_ts = $rts
                esp_proposals = $ESP-modp2048
                start_action = none
                $dpdact
            }
        }
    }
}
secrets {
    ike-rswan {
        id-1 = $lid
        secret = "$PSK"
    }
}
EOF
    echo "== $d/swanctl/swanctl.conf:"; sed 's/^/   /' "$d/swanctl/swanctl.conf"
    show "[$PEER_NS]" "sh -c \"mount --bind $d/run /run && exec env STRONGSWAN_CONF=$d/strongswan.conf $CHARON\" &"
    ip netns exec "$PEER_NS" sh -c "mount --bind '$d/run' /run && exec env STRONGSWAN_CONF='$d/strongswan.conf' $CHARON" \
        >> "$d/charon.stdout" 2>&1 &
    PEER_PID=$!; PIDS+=("$PEER_PID")
    for i in $(seq 600); do
        [ -S "$d/run/charon.vici" ] && break
        kill -0 "$PEER_PID" 2>/dev/null || { cat "$d/charon.stdout"; echo "charon exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/run/charon.vici" ] || { echo "charon: no vici socket after 60 s"; return 1; }
    swanctl_ --load-all --noprompt
}
strongswan_initiate() { swanctl_ --initiate --child net --timeout 60 2>&1 | tail -n 12; return "${PIPESTATUS[0]}"; }
strongswan_terminate() { swanctl_ --terminate --ike "$CONN" --timeout 20; }
strongswan_sas() {   # IKE and CHILD SAs listed by swanctl --list-sas
    local d=$LABRUN/peer
    ip netns exec "$PEER_NS" env SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
        timeout 20 swanctl --list-sas --uri "unix://$d/run/charon.vici" 2>/dev/null | grep -cE '^[^ ]+: #[0-9]+, |^  [^ ]+: #[0-9]+, reqid'
}
strongswan_status() { swanctl_ --list-sas; }
strongswan_logs() { echo "$LABRUN/peer/charon.log $LABRUN/peer/charon.stdout"; }

# --------------------------------------------------------------------------- libreswan ---
lwhack() {
    show "[$PEER_NS]" "$LS_EXEC/whack" "$@"
    ip netns exec "$PEER_NS" timeout "$WHACK_TIMEOUT" "$LS_EXEC/whack" --ctlsocket "$LABRUN/peer/run/pluto.ctl" "$@"
}
libreswan_start() {
    local d=$LABRUN/peer i setup="" conn secrets
    [ -x "$LS_EXEC/pluto" ] || { echo "no libreswan in $LS_EXEC: run lab/setup"; return 1; }
    [ -e /usr/libexec/ipsec/pluto ] || { mkdir -p /usr/libexec && ln -sfn "$LS_EXEC" /usr/libexec/ipsec; }
    mkdir -p "$d/nss" "$d/ipsec.d" "$d/run"; rm -f "$d/run/"*
    [ -e "$d/nss/cert9.db" ] || run certutil -N -d "sql:$d/nss" --empty-password || return 1
    case $PEER_ROLE in
        rw)  setup="keep-alive=$KEEP_ALIVE"
             conn="left=192.168.1.2
    leftid=192.168.1.2
    right=192.0.2.2
    rightid=192.0.2.2
    rightsubnet=10.2.0.0/24"
             secrets="192.168.1.2 192.0.2.2 : PSK \"$PSK\"" ;;
        gw)  setup="virtual-private=$VIRTUAL_PRIVATE"
             conn="left=192.0.2.2
    leftid=192.0.2.2
    leftsubnet=10.2.0.0/24
    right=%any
    rightid=%any
    rightsubnet=vhost:%priv"
             secrets="192.0.2.2 %any : PSK \"$PSK\"" ;;
        dpd) conn="left=192.0.2.2
    leftid=192.0.2.2
    leftsubnet=10.2.0.0/24
    right=192.0.2.1
    rightid=192.0.2.1
    rightsubnet=10.1.0.0/24
    dpddelay=$DPD_DELAY
    dpdtimeout=$DPD_TIMEOUT
    dpdaction=clear"
             secrets="192.0.2.2 192.0.2.1 : PSK \"$PSK\"" ;;
    esac
    cat > "$d/ipsec.conf" <<EOF
config setup
    ikev1-policy=accept
    uniqueids=no
    plutodebug=${PLUTODEBUG:-none}
    $setup

conn $CONN
    ikev2=no
    aggressive=no
    type=tunnel
    authby=secret
    $conn
    ike=aes128-sha1;modp2048
    esp=$ESP
    pfs=yes
    leftupdown=%disabled
    auto=add
EOF
    echo "$secrets" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    echo "== $d/ipsec.conf:"; sed 's/^/   /' "$d/ipsec.conf"
    local cmd=("$LS_EXEC/pluto" --config "$d/ipsec.conf" --nofork --secretsfile "$d/ipsec.secrets"
               --ipsecdir "$d/ipsec.d" --nssdir "$d/nss" --rundir "$d/run" --dumpdir "$d/run"
               --logfile "$d/pluto.log")
    show "[$PEER_NS]" "${cmd[@]}" "&"
    ip netns exec "$PEER_NS" "${cmd[@]}" >> "$d/pluto.stdout" 2>&1 &
    PEER_PID=$!; PIDS+=("$PEER_PID")
    for i in $(seq 600); do
        [ -S "$d/run/pluto.ctl" ] && break
        kill -0 "$PEER_PID" 2>/dev/null || { cat "$d/pluto.stdout"; tail -n 20 "$d/pluto.log"; echo "libreswan pluto exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/run/pluto.ctl" ] || { echo "libreswan pluto: no control socket after 60 s"; return 1; }
    on "$PEER_NS" "$LS_EXEC/addconn" --config "$d/ipsec.conf" --ctlsocket "$d/run/pluto.ctl" --autoall || return 1
    lwhack --listen > /dev/null
}
libreswan_initiate() { lwhack --name "$CONN" --initiate; }
libreswan_terminate() { lwhack --name "$CONN" --terminate; }
libreswan_sas() {
    ip netns exec "$PEER_NS" timeout 20 "$LS_EXEC/whack" --ctlsocket "$LABRUN/peer/run/pluto.ctl" --showstates 2>/dev/null |
        grep -oE '#[0-9]+: "' | sort -u | grep -c .
}
libreswan_status() { lwhack --showstates; lwhack --trafficstatus; }
libreswan_logs() { echo "$LABRUN/peer/pluto.log $LABRUN/peer/pluto.stdout"; }

peer_start()     { "${PEER}_start"; }
peer_initiate()  { "${PEER}_initiate"; }
peer_terminate() { "${PEER}_terminate"; }
peer_sas()       { "${PEER}_sas"; }
peer_status()    { "${PEER}_status"; }
peer_kill()      { show "[$PEER_NS]" kill -9 "$PEER_PID"; kill -9 "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; }
peer_stop() {
    [ -n "${PEER_PID:-}" ] && kill -0 "$PEER_PID" 2>/dev/null || return 0
    [ "$PEER" = libreswan ] && [ -S "$LABRUN/peer/run/pluto.ctl" ] && lwhack --shutdown > /dev/null 2>&1
    kill "$PEER_PID" 2>/dev/null
    local i; for i in $(seq 50); do kill -0 "$PEER_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$PEER_PID" 2>/dev/null
}

# ----------------------------------------------------------------------------- finish ---
show_logs() {
    local f
    hr; echo "== rswan ($RSWAN_NS) log (last 60 lines)"; tail -n 60 "$LABRUN/rswan/pluto.log"
    for f in $("${PEER}_logs"); do
        [ -s "$f" ] || continue
        hr; echo "== $PEER ($PEER_NS) log $f (last 60 lines)"; tail -n 60 "$f"
    done
    hr; on west ip -s xfrm state; on east ip -s xfrm state
}
finish() {
    [ $FINISHED = 1 ] && return; FINISHED=1
    trap - EXIT INT TERM
    [ -n "${1:-}" ] && [ "$1" != 0 ] && REASONS+=("${2:-aborted}")
    local rc=0; [ ${#REASONS[@]} -gt 0 ] && rc=1
    [ $rc != 0 ] && show_logs
    hr
    rswan_stop; peer_stop
    capture_stop
    if [ -n "$OUTDIR" ]; then
        mkdir -p "$OUTDIR"
        (cd "$LABRUN" && find . -type f ! -name '*.db' -print0 | cpio -0pdm --quiet "$OUTDIR")
    fi
    cleanup
    hr
    local steps="${STEPS[*]}"
    echo "@@RESULT $NAME $([ $rc = 0 ] && echo PASS || echo FAIL) ${steps// /,} ${TIMINGS[*]:-}"
    if [ $rc = 0 ]; then log "PASS: $NAME"
    else local why; why=$(printf '%s; ' "${REASONS[@]}"); log "FAIL: $NAME: ${why%; }"; fi
    exit $rc
}

# ----------------------------------------------------------------------------- the cells ---
up() {   # up BY: BY (rswan|peer) initiates; ESP SAs on both sides
    local t rc; t=$(date +%s.%N)
    if [ "$1" = rswan ]; then rwhack --initiate --name "$CONN"; rc=$?; else peer_initiate; rc=$?; fi
    TIMINGS+=("up=$(secs_since "$t")s")
    [ $rc = 0 ] || { step_result up FAIL "initiation by $1 failed (exit $rc)"; return 1; }
    wait_until 10 both_esp || { step_result up FAIL "ESP SAs missing (west $(esp_count west), east $(esp_count east))"; return 1; }
    step_result up ok
}

nat_cell() {
    local rw_by=rswan; [ "$KIND" = nat-peer ] && rw_by=peer
    capture_start nat n1 "$LABRUN/n1.pcap" || finish 1 "tcpdump did not start on nat's n1"
    hr; echo "== the road warrior ($([ $rw_by = rswan ] && echo rswan || echo "$PEER"), west) initiates through the NAT"
    up "$rw_by" || finish 1 "no tunnel"
    rwhack --status | grep -E '^000 (#|"'"$CONN"'")'; peer_status
    hr; on west ip xfrm state; on east ip xfrm state
    local we ee; we=$(encap_count west); ee=$(encap_count east)
    if [ "$we" -ge 2 ] && [ "$ee" -ge 2 ]; then step_result encap ok
    else step_result encap FAIL "ESP SAs not UDP-encapsulated (espinudp: west $we, east $ee)"; fi
    hr; echo "== ping 192.168.1.2 -> 10.2.0.1 through the tunnel"
    read -r WP0 _ < <(esp_counters west); read -r EP0 _ < <(esp_counters east)
    on west ping -c 5 -i 0.2 -W 2 -I 192.168.1.2 10.2.0.1; local prc=$?
    read -r WP1 _ < <(esp_counters west); read -r EP1 _ < <(esp_counters east)
    echo "ESP packets: west $WP0 -> $WP1, east $EP0 -> $EP1"
    if [ $prc = 0 ] && [ "$WP1" -gt "$WP0" ] && [ "$EP1" -gt "$EP0" ]; then step_result ping ok
    else step_result ping FAIL "ping failed (exit $prc) or ESP counters did not grow (west $WP0->$WP1, east $EP0->$EP1)"; fi
    # Idle for two --keep_alive intervals and a second, so that at least two
    # keepalives must show however fast the negotiation was.
    sleep $((2 * KEEP_ALIVE + 1))
    hr; echo "== the road warrior tears down"
    local t; t=$(date +%s.%N)
    if [ $rw_by = rswan ]; then rwhack --terminate --name "$CONN"; else peer_terminate; fi
    if wait_until 20 eval '[ "$(esp_count west)" = 0 ] && [ "$(esp_count east)" = 0 ]'; then
        step_result down ok "$(secs_since "$t") s"
    else
        step_result down FAIL "SAs left after the road warrior's teardown: west $(esp_count west), east $(esp_count east) ESP SAs; rswan states $(rswan_states), $PEER SAs $(peer_sas)"
    fi
    capture_stop
    hr; echo "== the outer wire (NAT's outside, n1)"
    tcpdump -n -r "$LABRUN/n1.pcap" 2>/dev/null > "$LABRUN/n1.txt"
    local first n500 after500 plain nesp ka_rw
    first=$(grep -n '\.4500[ :]' "$LABRUN/n1.txt" | head -n 1 | cut -d: -f1)
    head -n "$(( ${first:-0} + 4 ))" "$LABRUN/n1.txt"; echo "..."; grep 'isakmp-nat-keep-alive' "$LABRUN/n1.txt" | head -n 3
    grep -E 'NONESP-encap' "$LABRUN/n1.txt" | tail -n 3
    n500=$(grep -cE '\.500[ :]' "$LABRUN/n1.txt")
    after500=$( [ -n "$first" ] && tail -n +"$first" "$LABRUN/n1.txt" | grep -cE '\.500[ :]')
    plain=$(grep -E ': ESP\(' "$LABRUN/n1.txt" | grep -vc 'UDP-encap')
    nesp=$(grep -c 'UDP-encap: ESP' "$LABRUN/n1.txt")
    ka_rw=$(grep 'isakmp-nat-keep-alive' "$LABRUN/n1.txt" | grep -c ' 192\.0\.2\.1\.[0-9]* > 192\.0\.2\.2\.4500:')
    echo "wire: $n500 on UDP 500, ${after500:-?} of them after the first on 4500; $nesp ESP in UDP, $plain plain ESP; $ka_rw keepalives from the road warrior"
    if [ -z "$first" ]; then step_result wire FAIL "nothing on UDP 4500"
    elif [ "$after500" != 0 ] || [ "$plain" != 0 ] || [ "$nesp" = 0 ]; then
        step_result wire FAIL "outer wire: $after500 on UDP 500 after the switch to 4500, $plain plain ESP, $nesp ESP in UDP"
    else step_result wire ok; fi
    if [ $rw_by = rswan ]; then
        if [ "$ka_rw" -ge 2 ]; then step_result keepalive ok "$ka_rw"
        else step_result keepalive FAIL "rswan (--keep_alive $KEEP_ALIVE) sent $ka_rw keepalives"; fi
    else
        TIMINGS+=("peer-keepalive=$ka_rw")
    fi
}

dpd_cell() {
    hr; echo "== rswan initiates, both sides with DPD (delay $DPD_DELAY s, timeout $DPD_TIMEOUT s, clear)"
    up rswan || finish 1 "no tunnel"
    on west ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || step_result ping FAIL "ping through the tunnel failed"
    local w0 e0 t inf_w inf_e
    w0=$(spis west | tr '\n' ' '); e0=$(spis east | tr '\n' ' ')
    capture_start west w0 "$LABRUN/w0.pcap" udp port 500 or udp port 4500 || finish 1 "tcpdump did not start"
    hr; echo "== idle $((4 * DPD_DELAY + 1)) s: R_U_THERE and ACKs both ways, nobody clears"
    sleep $((4 * DPD_DELAY + 1))
    capture_stop
    tcpdump -n -r "$LABRUN/w0.pcap" 2>/dev/null | tee "$LABRUN/w0.txt"
    inf_w=$(grep -c ' 192\.0\.2\.1\.500 > 192\.0\.2\.2\.500: .*inf' "$LABRUN/w0.txt")
    inf_e=$(grep -c ' 192\.0\.2\.2\.500 > 192\.0\.2\.1\.500: .*inf' "$LABRUN/w0.txt")
    echo "Informationals: rswan -> $PEER $inf_w, $PEER -> rswan $inf_e"
    TIMINGS+=("inf=$inf_w/$inf_e")
    if [ "$(spis west | tr '\n' ' ')" = "$w0" ] && [ "$(spis east | tr '\n' ' ')" = "$e0" ] &&
       [ "$inf_w" -ge 3 ] && [ "$inf_e" -ge 3 ]; then
        step_result alive ok
    else
        step_result alive FAIL "with both alive: SAs west [$w0] -> [$(spis west | tr '\n' ' ')], east [$e0] -> [$(spis east | tr '\n' ' ')]; Informationals rswan->$PEER $inf_w, $PEER->rswan $inf_e (expected >= 3 each)"
    fi
    hr; echo "== $PEER dies (kill -9): rswan must clear within $DPD_LIMIT s"
    peer_kill; t=$(date +%s.%N)
    if wait_until "$DPD_LIMIT" eval '[ "$(rswan_states)" = 0 ] && [ "$(esp_count west)" = 0 ]'; then
        step_result rswan-detects ok "$(secs_since "$t") s"; TIMINGS+=("rswan-detect=$(secs_since "$t")s")
    else
        step_result rswan-detects FAIL "rswan still has $(rswan_states) states, $(esp_count west) ESP SAs $DPD_LIMIT s after $PEER died"
    fi
    hr; echo "== $PEER comes back (empty kernel), rswan initiates again"
    on east ip xfrm state flush; on east ip xfrm policy flush
    peer_start || finish 1 "$PEER did not start again"
    rwhack --initiate --name "$CONN" || true
    wait_until 10 both_esp || { step_result up2 FAIL "no tunnel after $PEER came back"; finish; }
    step_result up2 ok
    hr; echo "== rswan dies (kill -9): $PEER must clear within $DPD_LIMIT s"
    show "[west]" kill -9 "$RSWAN_PID"; kill -9 "$RSWAN_PID"; wait "$RSWAN_PID" 2>/dev/null; t=$(date +%s.%N)
    if wait_until "$DPD_LIMIT" eval '[ "$(peer_sas)" = 0 ] && [ "$(esp_count east)" = 0 ]'; then
        step_result peer-detects ok "$(secs_since "$t") s"; TIMINGS+=("peer-detect=$(secs_since "$t")s")
    else
        step_result peer-detects FAIL "$PEER still has $(peer_sas) SAs, $(esp_count east) ESP SAs in its kernel $DPD_LIMIT s after rswan died"
        peer_status
    fi
}

[ "${VMRUN:-}" = 1 ] || { echo "FAIL: $NAME: run this inside lab/vm-run"; exit 1; }
[ -x "$IPSEC" ] || { echo "FAIL: $NAME: no $IPSEC (run make first)"; exit 1; }
trap 'finish 1 "aborted (signal)"' INT TERM
trap 'finish 1 "the script exited early"' EXIT
mkdir -p "$LABRUN"; mountpoint -q "$LABRUN" && umount "$LABRUN"
mount -t tmpfs -o mode=0755 interop "$LABRUN" || finish 1 "cannot mount a tmpfs on $LABRUN"
log "interop $NAME: rswan $("$IPSEC" --version 2>&1 | head -n 1) ($RSWAN_NS, $RSWAN_ROLE) <-> $PEER ($PEER_NS, $PEER_ROLE)"
ip netns del west 2>/dev/null; ip netns del nat 2>/dev/null; ip netns del east 2>/dev/null
if [ "$KIND" = dpd ]; then make_topology; else nat_topology; fi
hr; rswan_start || finish 1 "rswan did not start"
hr; peer_start || finish 1 "$PEER did not start"
if [ "$KIND" = dpd ]; then dpd_cell; else nat_cell; fi
finish
