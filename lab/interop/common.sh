# lab/interop/common.sh: the driver shared by the interop scenarios (strongswan.sh,
# libreswan.sh).  Sourced inside the guest (lab/vm-run), after the scenario has defined its
# peer hooks:
#
#   PEER                 name of the peer ("strongswan", "libreswan")
#   peer_version         print the peer's version
#   peer_start           write the peer's configuration for $P1/$PFS, start it in netns east
#   peer_initiate        bring the connection up from the peer (returns non-zero on failure)
#   peer_terminate       the peer's own teardown of the connection (sends its Deletes)
#   peer_sa_ids          the ids of the peer's IKE (ISAKMP) / IPsec SAs, one a line
#   PEER_REVIVES         1 if the peer may negotiate anew after rswan's Deletes (its policy)
#   peer_status          show the peer's SAs
#   peer_stop            stop the peer
#   peer_logs            the files holding the peer's log (shown on failure)
#   peer_pfs_group       (optional) the DH group of the peer's current IPsec SA, "none"
#                        without PFS, "" if it cannot tell: checked against the cell's PFS
#   PEER_COMPLAINTS      egrep for the peer's log lines that explain a failure
#
# rswan (the one under test) always runs in west (W_HOST 192.0.2.1, client W_NET
# 10.1.0.0/24) as
#     ipsec pluto --nofork --stderrlog --ctlbase $LABRUN/west/pluto --secretsfile ...
#     ipsec whack --name rswan-peer --host 192.0.2.1 --client 10.1.0.0/24 --to --host 192.0.2.2
#                 --client 10.2.0.0/24 --encrypt --tunnel --psk|--rsasig [--pfs] --ike IKE --esp ESP
# and the peer in east (E_HOST 192.0.2.2, client E_NET 10.2.0.0/24).  With FAMILY ipv6
# both hosts and clients are IPv6 (lab/lib.sh's ipv6_topology: 2001:db8:2::1 and ::2,
# clients 2001:db8:a::/64 and 2001:db8:b::/64; whack --ipv6), and so is the wire check.
#
# A scenario is one cell of the matrix, given on the command line:
#     ROLE  rswan-init | peer-init      who initiates (both rounds)
#     AUTH  psk | rsa                   shared secret, or RSA signatures with raw keys:
#                                       rswan's key is made in the run by `ipsec rsasigkey
#                                       3072` (libreswan refuses keys under 2192 bits) and
#                                       given to the peer as `ipsec showhostkey --key`
#                                       (0s..., RSWAN_PUBKEY) or --pem (RSWAN_PEM, a file);
#                                       the peer's peer_start sets PEER_PUBKEY (0s...),
#                                       which rswan gets with whack --keyid --pubkeyrsa
#     P1    3des | aes                  IKE 3des-sha1-modp1536 + ESP 3des-sha1, or
#                                       IKE aes128-sha1-modp2048 + ESP aes128-sha1
#     PFS   pfs | nopfs                 Quick Mode with the phase-1 group, or without KE
#     FAMILY ipv4 | ipv6                (optional, default ipv4) the hosts' and clients'
# and runs two rounds:
#   1. initiate; both kernels get ESP SAs; ping W_IP -> E_IP passes with only ESP
#      on the wire and the ESP counters grow on both sides; then rswan's
#      `whack --terminate` must leave no SA on either side (the peer honoured rswan's
#      Deletes: no IKE SA, no ESP SA in its kernel);
#   2. initiate again, the same checks, then the PEER's own teardown must leave no SA on
#      rswan's side (rswan honoured the peer's Deletes) - nor on the peer's.
# Output: every command ("+ [ns] ..."), and finally `PASS: NAME` or `FAIL: NAME: REASONS`
# with exit status 0/1; NAME is PEER/ROLE/AUTH/IKE/pfs|nopfs, then /ipv6 for IPv6.  On failure both sides' logs are
# shown.  A line "@@RESULT NAME PASS|FAIL STEPS" is for lab/interop/all.sh.
# Artifacts (logs, configs, a capture of e0 for tshark) go to $VMRUN_OUT/<peer>-<cell>/.
set -u

INTEROP_DIR=${INTEROP_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# Work files NOT under /run: charon gets a private /run (a bind mount in its mount
# namespace) and would not see them there.  In the guest this is a fresh tmpfs.
LABRUN=${INTEROP_RUN:-/var/tmp/rswan-interop}
. "$INTEROP_DIR/../lib.sh"
LAB_DIR=${LAB_DIR:-/tmp/rswan-lab}

PSK=${PSK:-"rswan-interop-shared-secret-0123456789"}
CONN=rswan-peer          # the connection's name on both sides
WHACK_TIMEOUT=${WHACK_TIMEOUT:-90}
UP_TIMEOUT=${UP_TIMEOUT:-60}          # seconds for one initiation
DOWN_TIMEOUT=${DOWN_TIMEOUT:-45}      # seconds for the Deletes to take effect (TCG on a busy host is slow)
RSWAN_PLUTO_OPTS=${RSWAN_PLUTO_OPTS:-}

USAGE="usage: $0 [rswan-init|peer-init|conf] [psk|rsa] [3des|aes] [pfs|nopfs] [ipv4|ipv6]"
ROLE=${1:-rswan-init}; AUTH=${2:-psk}; P1=${3:-3des}; PFS=${4:-pfs}; FAMILY=${5:-ipv4}
# conf: rswan initiates, configured by ipsec.conf (`ipsec setup start`, `ipsec auto`:
# lab/interop/conf.sh); the peer reads the same conn text
case $ROLE in rswan-init|conf) INITIATOR=rswan ;; peer-init) INITIATOR=peer ;; *) echo "$USAGE"; exit 2 ;; esac
case $AUTH in psk|rsa) ;; *) echo "$USAGE"; exit 2 ;; esac
case $P1 in
    3des) IKE=3des-sha1-modp1536;   ESP=3des-sha1;   GROUP=modp1536 ;;
    aes)  IKE=aes128-sha1-modp2048; ESP=aes128-sha1; GROUP=modp2048 ;;
    *) echo "$USAGE"; exit 2 ;;
esac
case $PFS in pfs|nopfs) ;; *) echo "$USAGE"; exit 2 ;; esac
# the two ends: hosts, clients, the clients' addresses the ping goes between, and what
# whack needs to read them
case $FAMILY in
    ipv4) W_HOST=192.0.2.1; E_HOST=192.0.2.2; W_NET=10.1.0.0/24; E_NET=10.2.0.0/24
          W_IP=10.1.0.1; E_IP=10.2.0.1; WHACK_FAMILY=(); SUFFIX= ;;
    ipv6) W_HOST=2001:db8:2::1; E_HOST=2001:db8:2::2; W_NET=2001:db8:a::/64; E_NET=2001:db8:b::/64
          W_IP=2001:db8:a::1; E_IP=2001:db8:b::1; WHACK_FAMILY=(--ipv6); SUFFIX=/ipv6 ;;
    *) echo "$USAGE"; exit 2 ;;
esac
NAME=$PEER/$ROLE/$AUTH/$IKE/$PFS$SUFFIX
OUTDIR=${VMRUN_OUT:+$VMRUN_OUT/$PEER-$ROLE-$AUTH-$P1-$PFS${SUFFIX:+-ipv6}}
RSA_BITS=${RSA_BITS:-3072}

STEPS=()        # "step=ok|FAIL|skip", in order
REASONS=()      # why it failed
FINISHED=0

step_result() {  # step_result STEP ok|FAIL|skip [REASON]
    STEPS+=("$1=$2")
    if [ "$2" = FAIL ]; then REASONS+=("${3:-$1 failed}"); log "step $1: FAIL: ${3:-}"
    else log "step $1: $2"; fi
}

# wait_until SECONDS CMD...: poll CMD (every 0.5 s) until it succeeds or SECONDS passed
wait_until() {
    local end=$((SECONDS + $1)); shift
    while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.5; done
    "$@"
}

# esp_sas NS: ESP states in NS's kernel (not counting the kernel's larval ACQUIRE
# entries, spi 0)
esp_sas() {
    ip -n "$1" xfrm state 2>/dev/null | grep 'proto esp spi' | grep -vc 'spi 0x00000000'
}

# ------------------------------------------------------------------------ rswan (west) ---
rwhack() {
    show "[west]" "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" "$@"
    ip netns exec west timeout "$WHACK_TIMEOUT" "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" "$@"
}

# rswan_secrets: west's ipsec.secrets; for RSA a fresh key, whose public half goes to
# RSWAN_PUBKEY (0s...) and $LABRUN/west/rswan.pem (PEM), for the peer's configuration
rswan_secrets() {
    local d=$LABRUN/west
    if [ "$AUTH" = psk ]; then
        echo "$W_HOST $E_HOST : PSK \"$PSK\"" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
        return 0
    fi
    show "[west]" "$IPSEC" rsasigkey --hostname west "$RSA_BITS"
    "$IPSEC" rsasigkey --hostname west "$RSA_BITS" > "$d/rsasigkey.out" || { echo "rsasigkey failed"; return 1; }
    # what the report quotes: the header and the public key (not the private fields)
    echo "@@RSASIGKEY $NAME $(sed -n 's/^[[:space:]]*#pubkey=//p' "$d/rsasigkey.out")"
    head -n 3 "$d/rsasigkey.out"
    { echo "$W_HOST : RSA {"; cat "$d/rsasigkey.out"; printf '\t}\n'; } > "$d/ipsec.secrets"
    chmod 600 "$d/ipsec.secrets"
    RSWAN_PUBKEY=$("$IPSEC" showhostkey --file "$d/ipsec.secrets" --key) || { echo "showhostkey --key failed"; return 1; }
    "$IPSEC" showhostkey --file "$d/ipsec.secrets" --pem > "$d/rswan.pem" || { echo "showhostkey --pem failed"; return 1; }
    RSWAN_PEM=$d/rswan.pem
    # the 0s form and the rsasigkey's #pubkey line must be the same key
    grep -qF "#pubkey=$RSWAN_PUBKEY" "$d/rsasigkey.out" || { echo "showhostkey --key differs from rsasigkey's #pubkey"; return 1; }
}

# rswan_peer_key: give rswan the peer's public key (RSA cells; peer_start set PEER_PUBKEY)
rswan_peer_key() {
    [ "$AUTH" = rsa ] || return 0
    [ -n "${PEER_PUBKEY:-}" ] || { echo "$PEER gave no public key"; return 1; }
    echo "$PEER's public key: ${PEER_PUBKEY:0:40}..."
    rwhack --keyid "$E_HOST" --pubkeyrsa "$PEER_PUBKEY" || return 1
    rwhack --listpubkeys
}

rswan_start() {
    local d=$LABRUN/west i
    mkdir -p "$d"
    rswan_secrets || return 1
    show "[west]" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" \
        $RSWAN_PLUTO_OPTS "> $d/pluto.log 2>&1 &"
    ip netns exec west "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" $RSWAN_PLUTO_OPTS > "$d/pluto.log" 2>&1 &
    RSWAN_PID=$!; PIDS+=("$RSWAN_PID")
    for i in $(seq 100); do
        [ -S "$d/pluto.ctl" ] && break
        kill -0 "$RSWAN_PID" 2>/dev/null || { echo "rswan pluto exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/pluto.ctl" ] || { echo "rswan pluto: no control socket after 10 s"; return 1; }
    local pfs=(); [ "$PFS" = pfs ] && pfs=(--pfs)
    rwhack --name "$CONN" "${WHACK_FAMILY[@]}" --host "$W_HOST" --client "$W_NET" \
        --to --host "$E_HOST" --client "$E_NET" \
        --encrypt --tunnel "--$([ "$AUTH" = rsa ] && echo rsasig || echo psk)" "${pfs[@]}" \
        --ike "$IKE" --esp "$ESP" || return 1
    rwhack --listen || return 1
}

# rswan_states: how many states (ISAKMP + IPsec) rswan's whack --status lists
rswan_states() {
    ip netns exec west timeout 20 "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" --status 2>/dev/null \
        | grep -E '^000 #[0-9]+: "' | awk '{print $2}' | sort -u | grep -c .
}

# rswan_up / rswan_down: rswan brings the connection up / tears it down
rswan_up()   { rwhack --initiate --name "$CONN"; }
rswan_down() { rwhack --terminate --name "$CONN"; }

rswan_stop() {
    [ -S "$LABRUN/west/pluto.ctl" ] && kill -0 "${RSWAN_PID:-0}" 2>/dev/null && rwhack --shutdown
    local i
    for i in $(seq 50); do kill -0 "${RSWAN_PID:-0}" 2>/dev/null || return 0; sleep 0.1; done
    echo "rswan pluto still running 5 s after --shutdown"
    kill "$RSWAN_PID" 2>/dev/null
}

# --------------------------------------------------------------------------- the rounds ---
initiate() {   # initiate ROUND
    local r=$1 rc
    T_UP=$(date +%s.%N)
    if [ "$INITIATOR" = rswan ]; then
        rswan_up; rc=$?
    else
        peer_initiate; rc=$?
    fi
    T_UP=$(awk -v a="$T_UP" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
    [ $rc = 0 ] || { step_result "up$r" FAIL "round $r: initiation by $INITIATOR failed (exit $rc)"; return 1; }
    # the responder installs its SAs when the exchange ends: give it a moment
    if ! wait_until 10 both_have_esp; then
        step_result "up$r" FAIL "round $r: ESP SAs missing after initiation (west $(esp_sas west), east $(esp_sas east))"
        return 1
    fi
    step_result "up$r" ok
    log "round $r: negotiated in ${T_UP} s (initiator: $INITIATOR)"
    # the ISAKMP SA rswan established last used the cell's authentication method
    local want=OAKLEY_PRESHARED_KEY got; [ "$AUTH" = rsa ] && want=OAKLEY_RSA_SIG
    got=$(grep -ao '{auth=[A-Z_]*' "$LABRUN/west/pluto.log" | tail -n 1 | cut -d= -f2)
    if [ "$got" = "$want" ]; then step_result "auth$r" ok
    else step_result "auth$r" FAIL "round $r: rswan's ISAKMP SA used '${got:-nothing}', expected $want"; fi
    TIMINGS+=("up$r=${T_UP}s")
}
both_have_esp() { [ "$(esp_sas west)" -ge 2 ] && [ "$(esp_sas east)" -ge 2 ]; }

traffic() {    # traffic ROUND
    local r=$1 wire
    hr; echo "== round $r: SAs on both sides"
    rwhack --status | grep -E '^000 (#|"'"$CONN"'")'
    peer_status
    on west ip -s xfrm state
    on east ip -s xfrm state
    hr; echo "== round $r: ping $W_IP -> $E_IP through the tunnel"
    read -r WP0 WB0 WN0 < <(esp_counters west)
    read -r EP0 EB0 EN0 < <(esp_counters east)
    only_esp_on_wire 5; wire=$?
    read -r WP1 WB1 WN1 < <(esp_counters west)
    read -r EP1 EB1 EN1 < <(esp_counters east)
    echo "ESP counters before -> after the ping"
    echo "  west (rswan): $WN1 ESP SAs, $WP0 packets/$WB0 bytes -> $WP1 packets/$WB1 bytes"
    echo "  east ($PEER): $EN1 ESP SAs, $EP0 packets/$EB0 bytes -> $EP1 packets/$EB1 bytes"
    if [ $wire != 0 ]; then
        step_result "ping$r" FAIL "round $r: ping failed or non-ESP traffic on the wire"
    elif [ "$WP1" -le "$WP0" ] || [ "$EP1" -le "$EP0" ]; then
        step_result "ping$r" FAIL "round $r: ESP counters did not grow (west $WP0->$WP1, east $EP0->$EP1)"
    else
        step_result "ping$r" ok
    fi
    if declare -F peer_pfs_group > /dev/null; then
        local want=none got; [ "$PFS" = pfs ] && want=$GROUP
        got=$(peer_pfs_group)
        if [ -z "$got" ]; then :                  # the peer cannot tell in this cell
        elif [ "$got" = "$want" ]; then step_result "pfs$r" ok
        else step_result "pfs$r" FAIL "round $r: $PEER's IPsec SA has PFS group '$got', expected '$want'"; fi
    fi
}

# What exists, by identity: ESP SPIs per kernel, rswan's state numbers, the peer's SA ids.
spis()       { ip -n "$1" xfrm state 2>/dev/null | awk '/proto esp spi/ && $4 != "0x00000000" {print $4}' | sort; }
rswan_ids()  {
    ip netns exec west timeout 20 "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" --status 2>/dev/null \
        | grep -oE '^000 #[0-9]+: "' | awk '{print $2}' | tr -d : | sort -u
}
rswan_states() { rswan_ids | grep -c .; }
peer_sas()     { peer_sa_ids | grep -c .; }
# left OLD NOW: the lines of OLD still in NOW, space-separated
left() { comm -12 <(printf '%s\n' "$1" | grep . | sort) <(printf '%s\n' "$2" | grep . | sort) | tr '\n' ' '; }

# no_sas_left WHERE: nothing at all, WHERE = both | rswan
no_sas_left() {
    [ "$(esp_sas west)" = 0 ] && [ "$(rswan_states)" = 0 ] || return 1
    [ "$1" = rswan ] && return 0
    [ "$(esp_sas east)" = 0 ] && [ "$(peer_sas)" = 0 ]
}
sa_report() {
    echo "left: rswan: states [$(rswan_ids | tr '\n' ' ')], ESP SPIs in west [$(spis west | tr '\n' ' ')];" \
         "$PEER: SAs [$(peer_sa_ids | tr '\n' ' ')], ESP SPIs in east [$(spis east | tr '\n' ' ')]"
}
# snapshot: remember what exists before a teardown; old_gone WHERE: none of it is left
snapshot() { OLD_W=$(spis west); OLD_E=$(spis east); OLD_R=$(rswan_ids); OLD_P=$(peer_sa_ids); }
old_left() {   # old_left WHERE: describe what of the snapshot is still there ("" = nothing)
    local w e r p out=""
    w=$(left "$OLD_W" "$(spis west)"); r=$(left "$OLD_R" "$(rswan_ids)")
    [ -n "$r" ] && out+="rswan state(s) ${r% }; "
    [ -n "$w" ] && out+="SPI(s) ${w% } in west's kernel; "
    if [ "$1" = both ]; then
        p=$(left "$OLD_P" "$(peer_sa_ids)"); e=$(left "$OLD_E" "$(spis east)")
        [ -n "$p" ] && out+="$PEER SA(s) ${p% }; "
        [ -n "$e" ] && out+="SPI(s) ${e% } in east's kernel; "
    fi
    printf '%s' "${out%; }"
}
old_gone() { [ -z "$(old_left "$1")" ]; }

teardown() {   # teardown ROUND rswan|peer
    local r=$1 who=$2 t0 t what
    hr; echo "== round $r: teardown by $who"
    snapshot
    t0=$(date +%s.%N)
    if [ "$who" = rswan ]; then
        rswan_down
        if ! wait_until "$DOWN_TIMEOUT" old_gone both; then
            what=$(old_left both)
            case $what in
                rswan*|SPI*west*) step_result rswan-del FAIL "round $r: still there after rswan's --terminate: $what" ;;
                *) step_result rswan-del FAIL "round $r: $PEER did not honour rswan's Deletes: $what still there" ;;
            esac
        elif [ "${PEER_REVIVES:-0}" = 1 ] && ! no_sas_left both; then
            # the peer deleted what rswan deleted, then negotiated anew (its policy)
            step_result rswan-del 'ok*'
            log "note: $PEER honoured the Deletes and then negotiated new SAs, as its policy for a" \
                "connection it brought up says ($(sa_report))"
        elif wait_until 5 no_sas_left both; then
            step_result rswan-del ok
        else
            step_result rswan-del FAIL "round $r: new SAs after rswan's --terminate ($(sa_report))"
        fi
    else
        peer_terminate
        if ! wait_until "$DOWN_TIMEOUT" old_gone rswan; then
            step_result peer-del FAIL "round $r: rswan did not honour $PEER's Deletes: $(old_left rswan) still there"
        elif ! wait_until 5 no_sas_left rswan; then
            step_result peer-del FAIL "round $r: rswan has new SAs after $PEER's Deletes ($(sa_report))"
        elif ! wait_until 5 no_sas_left both; then
            step_result peer-del FAIL "round $r: $PEER kept its own SAs after its teardown ($(sa_report))"
        else
            step_result peer-del ok
        fi
    fi
    t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
    TIMINGS+=("${who}-del=${t}s")
    echo "after the teardown: $(sa_report)"
    rwhack --status | grep -E '^000 #' ; on west ip xfrm state; peer_status; on east ip xfrm state
}

# force_clean: make sure round 2 starts from nothing (after a failure, or a peer that
# negotiated anew after rswan's Deletes)
force_clean() {
    no_sas_left both && return 0
    log "cleaning up what round 1 left: $(sa_report)"
    peer_terminate > /dev/null 2>&1         # first: libreswan then stops keeping it up
    ip netns exec west timeout 20 "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" --terminate --name "$CONN" > /dev/null 2>&1
    wait_until 10 no_sas_left both && return 0
    log "still left: $(sa_report); flushing the kernels' SAs"
    ip -n west xfrm state flush; ip -n east xfrm state flush
}

show_logs() {
    local f
    hr; echo "== rswan (west) log: $LABRUN/west/pluto.log (last 80 lines)"
    tail -n 80 "$LABRUN/west/pluto.log"
    for f in $(peer_logs); do
        [ -s "$f" ] || continue
        hr; echo "== $PEER (east) complaints in $f"
        grep -aiE "$PEER_COMPLAINTS" "$f" | tail -n 40
        hr; echo "== $PEER (east) log: $f (last 80 lines)"
        tail -n 80 "$f"
    done
}

finish() {     # finish [STATUS]: logs on failure, stop everything, PASS/FAIL line
    [ $FINISHED = 1 ] && return; FINISHED=1
    local forced=${1:-}
    trap - EXIT INT TERM
    [ -n "$forced" ] && [ "$forced" != 0 ] && REASONS+=("${2:-aborted}")
    local rc=0; [ ${#REASONS[@]} -gt 0 ] && rc=1
    [ $rc != 0 ] && show_logs
    hr
    rswan_stop
    declare -F peer_stop > /dev/null && peer_stop
    [ -n "${CAP_PID:-}" ] && kill -INT "$CAP_PID" 2>/dev/null && wait "$CAP_PID" 2>/dev/null
    if [ -n "$OUTDIR" ]; then
        # regular files only: sockets on the 9p share upset qemu ("broken or compromised
        # client detected"), and the NSS databases are of no interest
        mkdir -p "$OUTDIR"
        (cd "$LABRUN" && find . -type f ! -name '*.db' -print0 | cpio -0pdm --quiet "$OUTDIR")
    fi
    cleanup
    hr
    local steps="${STEPS[*]}"
    echo "@@RESULT $NAME $([ $rc = 0 ] && echo PASS || echo FAIL) ${steps// /,} ${TIMINGS[*]:-}"
    if [ $rc = 0 ]; then
        log "PASS: $NAME"
    else
        local why; why=$(printf '%s; ' "${REASONS[@]}"); log "FAIL: $NAME: ${why%; }"
    fi
    exit $rc
}

run_scenario() {
    TIMINGS=()
    if [ "${VMRUN:-}" != 1 ]; then echo "FAIL: $NAME: run this inside lab/vm-run"; exit 1; fi
    [ -x "$IPSEC" ] || { echo "FAIL: $NAME: no $IPSEC (run make first)"; exit 1; }
    trap 'finish 1 "aborted (signal)"' INT TERM
    trap 'finish 1 "the script exited early"' EXIT
    # a fresh tmpfs for the work files (the guest's /var/tmp is the host's, overlaid)
    mkdir -p "$LABRUN"
    mountpoint -q "$LABRUN" && umount "$LABRUN"
    mount -t tmpfs -o mode=0755 interop "$LABRUN" || finish 1 "cannot mount a tmpfs on $LABRUN"
    log "interop $NAME: rswan $("$IPSEC" --version 2>&1 | head -n 1) (west) <-> $PEER $(peer_version) (east)"
    log "IKE $IKE, ESP $ESP, $([ "$PFS" = pfs ] && echo "PFS $GROUP" || echo "no PFS"), initiator: $INITIATOR," \
        "authentication: $([ "$AUTH" = rsa ] && echo "RSA signatures ($RSA_BITS-bit keys)" || echo "pre-shared key")"
    ip netns del west 2>/dev/null; ip netns del east 2>/dev/null
    make_topology
    if [ "$FAMILY" = ipv6 ]; then ipv6_topology || finish 1 "could not give the topology IPv6"; fi
    # the whole exchange on the wire, for tshark on the host
    ip netns exec east tcpdump -n -U -s 0 -i e0 -w "$LABRUN/e0.pcap" > /dev/null 2> "$LABRUN/e0.pcap.err" &
    CAP_PID=$!; PIDS+=("$CAP_PID")

    hr; echo "== rswan in west"
    rswan_start || finish 1 "rswan did not start"
    hr; echo "== $PEER in east"
    peer_start || finish 1 "$PEER did not start"
    rswan_peer_key || finish 1 "rswan did not take $PEER's public key"

    hr; echo "== round 1: $INITIATOR initiates; rswan's whack --terminate tears down"
    if initiate 1; then
        traffic 1
        teardown 1 rswan
    else
        step_result ping1 skip; step_result rswan-del skip
    fi
    force_clean

    hr; echo "== round 2: $INITIATOR initiates; $PEER's own teardown"
    if initiate 2; then
        traffic 2
        teardown 2 peer
    else
        step_result ping2 skip; step_result peer-del skip
    fi
    declare -F rswan_stop_check > /dev/null && rswan_stop_check
    finish
}

if [ "$ROLE" = conf ]; then . "$INTEROP_DIR/conf.sh"; fi
