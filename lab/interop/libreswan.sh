#!/bin/bash
# lab/interop/libreswan.sh: rswan (west) <-> libreswan 4.10 pluto (east), IKEv1 Main
# Mode, PSK or raw RSA keys, ESP tunnel 10.1.0.0/24 <-> 10.2.0.0/24.  One cell of the matrix:
#
#     lab/vm-run lab/interop/libreswan.sh [rswan-init|peer-init] [psk|rsa] [3des|aes] [pfs|nopfs]
#
# (needs `make` and lab/setup).  See common.sh for the two rounds and the checks.
# What libreswan 4.10 (Debian) needs for this, as configured below:
#   - `ikev1-policy=accept` in config setup: Debian's default is drop (IKEv1 conns are
#     not even loaded), and `ikev2=no` on the conn (4.10's way to say IKEv1);
#   - authby=secret; explicit ike= (MODP1024 is not compiled in: rswan's default IKE
#     list would only match on its MODP1536/2048 entries) and esp=;
#   - pfs=yes is libreswan's default and makes it refuse a Quick Mode without KE
#     ("we require PFS but Quick I1 SA specifies no GROUP_DESCRIPTION"): the nopfs cells
#     set pfs=no, the pfs cells pfs=yes (the PFS group is the phase-1 group, as rswan's);
#   - nothing keeps libreswan from negotiating anew after rswan's Deletes when it brought
#     the conn up itself (whack --initiate: "supposed to remain up"): 4.10 replaces the
#     deleted IPsec SA at once ("received Delete SA payload: replace IPsec State #2 now"),
#     and revives the connection when the ISAKMP SA goes ("deleting ISAKMP SA but
#     connection is supposed to remain up; schedule EVENT_REVIVE_CONNS"); rekey=no stops
#     only the latter.  So in the peer-init cells the rswan-del check (common.sh) only
#     requires that the SAs rswan deleted are gone on both sides (PEER_REVIVES=1);
#   - leftupdown=%disabled (lab/lib.sh's static routes), auto=add;
#   - RSA: authby=rsasig (RSA-SHA1 in IKEv1); libreswan's private key lives only in its NSS
#     database: its own rsasigkey makes it (3072 bits: it refuses keys under 2192 bits),
#     showhostkey --left --ckaid gives leftrsasigkey=0s... (also PEER_PUBKEY for rswan);
#     rightrsasigkey= is rswan's `ipsec showhostkey --key`.
# libreswan is not installed (its package conflicts with strongSwan's): lab/setup unpacks
# it into $LAB_DIR/libreswan, and pluto, which runs /usr/libexec/ipsec/addconn from a
# built-in path, gets a symlink there (the guest's root is a throw-away overlay).
# PLUTODEBUG (default none) goes to plutodebug=, e.g. PLUTODEBUG="all,private".
set -u
PEER=libreswan
HERE=$(dirname "$(readlink -f "$0")")
[ -f "$HERE/common.sh" ] || HERE=${VMRUN_SCRIPT_DIR:-.}

LS_EXEC=${LAB_DIR:-/tmp/rswan-lab}/libreswan/usr/libexec/ipsec
[ "${1:-}" = peer-init ] && PEER_REVIVES=1     # see above
PEER_COMPLAINTS='NO_PROPOSAL|no acceptable|not acceptable|require|mismatch|INVALID|malformed|dropping|ignor|reject|refus|fail|unexpected|retransmit|timeout|received Delete|deleting|delete|not supported|no suitable|no connection'

peer_version() { "$LS_EXEC/pluto" --version 2>&1 | awk 'NR==1{print $2}'; }

lwhack() {     # lwhack ARGS...: libreswan's whack for the east instance
    show "[east]" "$LS_EXEC/whack" --ctlsocket "$LABRUN/east/run/pluto.ctl" "$@"
    ip netns exec east timeout "$WHACK_TIMEOUT" "$LS_EXEC/whack" --ctlsocket "$LABRUN/east/run/pluto.ctl" "$@"
}

peer_start() {
    local d=$LABRUN/east i pfs=no
    [ "$PFS" = pfs ] && pfs=yes
    [ -x "$LS_EXEC/pluto" ] || { echo "no libreswan in $LS_EXEC: run lab/setup"; return 1; }
    if [ ! -e /usr/libexec/ipsec/pluto ]; then          # guest only (run_scenario checks)
        mkdir -p /usr/libexec && ln -sfn "$LS_EXEC" /usr/libexec/ipsec
    fi
    mkdir -p "$d/nss" "$d/ipsec.d" "$d/run"
    run certutil -N -d "sql:$d/nss" --empty-password || return 1
    local auth="authby=secret"
    if [ "$AUTH" = rsa ]; then
        local ckaid
        on east "$LS_EXEC/rsasigkey" --nssdir "$d/nss" "$RSA_BITS" > "$d/rsasigkey.out" 2>&1 \
            || { cat "$d/rsasigkey.out"; echo "libreswan rsasigkey failed"; return 1; }
        ckaid=$("$LS_EXEC/showhostkey" --nssdir "$d/nss" --list 2>/dev/null | awk '/ckaid:/{print $NF; exit}')
        [ -n "$ckaid" ] || { echo "libreswan showhostkey --list: no ckaid"; return 1; }
        PEER_PUBKEY=$("$LS_EXEC/showhostkey" --nssdir "$d/nss" --left --ckaid "$ckaid" 2>/dev/null \
                      | sed -n 's/^[[:space:]]*leftrsasigkey=//p')
        [ -n "$PEER_PUBKEY" ] || { echo "libreswan showhostkey --left gave no key"; return 1; }
        auth="authby=rsasig
    leftrsasigkey=$PEER_PUBKEY
    rightrsasigkey=$RSWAN_PUBKEY"
    fi
    if [ "$ROLE" = conf ]; then
        # the conn text rswan reads (lab/interop/conf.sh), and what libreswan needs besides:
        # IKEv1 allowed, the conn IKEv1, and no updown routes (lib.sh's static routes)
        { printf 'config setup\n\tikev1-policy=accept\n\tplutodebug=%s\n\n' "${PLUTODEBUG:-none}"
          shared_conn; printf '\tikev2=no\n\trightupdown=%%disabled\n'; } > "$d/ipsec.conf"
    else
    cat > "$d/ipsec.conf" <<EOF
config setup
    ikev1-policy=accept
    uniqueids=no
    plutodebug=${PLUTODEBUG:-none}

conn $CONN
    ikev2=no
    aggressive=no
    type=tunnel
    $auth
    left=$E_HOST
    leftid=$E_HOST
    leftsubnet=$E_NET
    right=$W_HOST
    rightid=$W_HOST
    rightsubnet=$W_NET
    ike=${IKE%-*};${IKE##*-}
    esp=$ESP
    pfs=$pfs
    leftupdown=%disabled
    auto=add
EOF
    fi
    # RSA: the private key is in the NSS database, nothing in ipsec.secrets
    if [ "$AUTH" = psk ]; then echo "$E_HOST $W_HOST : PSK \"$PSK\"" > "$d/ipsec.secrets"
    else : > "$d/ipsec.secrets"; fi
    chmod 600 "$d/ipsec.secrets"
    echo "== $d/ipsec.conf:"; sed 's/^/   /' "$d/ipsec.conf"
    local cmd=("$LS_EXEC/pluto" --config "$d/ipsec.conf" --nofork --secretsfile "$d/ipsec.secrets"
               --ipsecdir "$d/ipsec.d" --nssdir "$d/nss" --rundir "$d/run" --dumpdir "$d/run"
               --logfile "$d/pluto.log")
    show "[east]" "${cmd[@]}" "&"
    ip netns exec east "${cmd[@]}" > "$d/pluto.stdout" 2>&1 &
    PEER_PID=$!; PIDS+=("$PEER_PID")
    for i in $(seq 600); do
        [ -S "$d/run/pluto.ctl" ] && break
        kill -0 "$PEER_PID" 2>/dev/null || { cat "$d/pluto.stdout"; tail -n 20 "$d/pluto.log"; echo "libreswan pluto exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/run/pluto.ctl" ] || { echo "libreswan pluto: no control socket after 60 s"; return 1; }
    # pluto runs addconn --autoall itself, asynchronously: do it again so that the conn
    # is known to be loaded when we go on
    on east "$LS_EXEC/addconn" --config "$d/ipsec.conf" --ctlsocket "$d/run/pluto.ctl" --autoall || return 1
    lwhack --listen > /dev/null || return 1
}

peer_initiate() { lwhack --name "$CONN" --initiate; }

peer_terminate() { lwhack --name "$CONN" --terminate; }

peer_sa_ids() {   # the state numbers of whack --showstates
    ip netns exec east timeout 20 "$LS_EXEC/whack" --ctlsocket "$LABRUN/east/run/pluto.ctl" --showstates 2>/dev/null \
        | grep -oE '#[0-9]+: "' | tr -d ': "' | sort -u
}

# peer_pfs_group: libreswan logs its Quick Mode proposal only as the initiator:
# "initiating Quick Mode IKEv1+PSK+... {using isakmp#1 msgid:... pfsgroup=MODP1536}"
peer_pfs_group() {
    [ "$ROLE" = peer-init ] || return 0
    grep -a 'initiating Quick Mode' "$LABRUN/east/pluto.log" | tail -n 1 \
        | sed -n 's/.*pfsgroup=\([A-Za-z0-9-]*\).*/\1/p' | tr 'A-Z' 'a-z' | sed 's/^no-pfs$/none/'
}

peer_status() { lwhack --showstates; lwhack --trafficstatus; }

peer_stop() {
    [ -n "${PEER_PID:-}" ] || return 0
    kill -0 "$PEER_PID" 2>/dev/null && [ -S "$LABRUN/east/run/pluto.ctl" ] && lwhack --shutdown > /dev/null 2>&1
    local i
    for i in $(seq 50); do kill -0 "$PEER_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill "$PEER_PID" 2>/dev/null; sleep 0.5; kill -9 "$PEER_PID" 2>/dev/null
}

peer_logs() { echo "$LABRUN/east/pluto.log $LABRUN/east/pluto.stdout"; }

. "$HERE/common.sh"
run_scenario
