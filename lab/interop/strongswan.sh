#!/bin/bash
# lab/interop/strongswan.sh: rswan (west) <-> strongSwan 5.9 charon + swanctl (east),
# IKEv1 Main Mode, PSK or raw RSA keys, ESP tunnel 10.1.0.0/24 <-> 10.2.0.0/24 (or over
# IPv6: see common.sh).  One cell of the matrix:
#
#     lab/vm-run lab/interop/strongswan.sh [rswan-init|peer-init] [psk|rsa] [3des|aes] [pfs|nopfs] [ipv4|ipv6]
#
# (needs `make` and lab/setup).  See common.sh for the two rounds and the checks.
# strongSwan side, as configured below:
#   - version = 1 (IKEv1), aggressive = no; proposals = the IKE string (one algorithm
#     per kind: IKEv1 swanctl rule); esp_proposals = ESP with the group for PFS, without
#     it for no PFS;
#   - charon from the Debian package with a private strongswan.conf: explicit plugin
#     list (af-alg's probing costs ~10 s under TCG; 3DES comes from openssl, Debian
#     builds without the des plugin), file log, install_routes = no (lab/lib.sh's static
#     routes), and a private /run (bind mount in its mount namespace: charon hard-codes
#     /var/run/charon.pid and charon.vici);
#   - default lifetimes (never 0: IKEv1 would send a 0 s lifetime);
#   - RSA: auth = pubkey on both ends with raw public keys (no certificates): charon's own
#     key is made with `openssl genpkey` (3072 bits; Debian has no `pki` without the
#     strongswan-pki package) into swanctl/private, its public half in swanctl/pubkey and,
#     in RFC 3110 form (exponent length, exponent, modulus, base64), for rswan's
#     --pubkeyrsa; rswan's key is `ipsec showhostkey --pem` in swanctl/pubkey.
# CHARON_LOGLEVEL sets the ike/cfg/net/enc log levels (default 2/2/1/1; 4: keys too).
set -u
PEER=strongswan
HERE=$(dirname "$(readlink -f "$0")")
[ -f "$HERE/common.sh" ] || HERE=${VMRUN_SCRIPT_DIR:-.}

CHARON=/usr/lib/ipsec/charon
CHARON_PLUGINS="random nonce openssl pem pkcs1 pkcs8 pubkey x509 sha1 sha2 md5 hmac kdf gmp aes kernel-netlink socket-default vici"
PEER_COMPLAINTS='NO_PROPOSAL|no proposal|no acceptable|not acceptable|mismatch|invalid|INVALID|failed|error|unable|no matching|not found|verification|retransmit|giving up|received DELETE|deleting|closing|PAYLOAD_MALFORMED|parsing|ignor|unexpected'

peer_version() { dpkg-query -W -f '${Version}' strongswan-charon 2>/dev/null; }

swanctl_() {   # swanctl_ COMMAND ARGS...: swanctl for the east instance (command first!)
    local d=$LABRUN/east
    show "[east]" swanctl "$@" --uri "unix://$d/run/charon.vici"
    ip netns exec east env SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
        timeout "$WHACK_TIMEOUT" swanctl "$@" --uri "unix://$d/run/charon.vici"
}

# rsa_pem_to_0s PEM: the RFC 3110 "0s..." form of an RSA key in PEM (private or public)
rsa_pem_to_0s() {
    local n e
    n=$(openssl pkey -in "$1" -pubout 2>/dev/null | openssl rsa -pubin -noout -modulus 2>/dev/null | sed -n 's/^Modulus=//p')
    e=$(openssl pkey -in "$1" -pubout 2>/dev/null | openssl rsa -pubin -noout -text 2>/dev/null \
        | sed -n 's/^Exponent: \([0-9]*\) .*/\1/p')
    [ -n "$n" ] && [ "$e" = 65537 ] || return 1
    printf '0s%s' "$(printf '03010001%s' "$n" | xxd -r -p | base64 -w 0)"
}

# strongswan_keys: charon's RSA key (private/east.pem), rswan's public key
# (pubkey/west.pub), PEER_PUBKEY for rswan
strongswan_keys() {
    local d=$LABRUN/east/swanctl
    run openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$RSA_BITS" -out "$d/private/east.pem" 2>/dev/null \
        || { echo "openssl genpkey failed"; return 1; }
    openssl pkey -in "$d/private/east.pem" -pubout -out "$d/pubkey/east.pub" || return 1
    cp "$RSWAN_PEM" "$d/pubkey/west.pub" || return 1
    PEER_PUBKEY=$(rsa_pem_to_0s "$d/private/east.pem") || { echo "cannot convert charon's key to 0s form"; return 1; }
}

peer_start() {
    local d=$LABRUN/east i esp=$ESP local_auth remote_auth secrets
    [ "$PFS" = pfs ] && esp=$ESP-$GROUP
    mkdir -p "$d/run" "$d/swanctl"/{conf.d,x509,x509ca,x509aa,x509ac,x509crl,x509ocsp,private,rsa,ecdsa,bliss,pkcs8,pkcs12,pubkey}
    if [ "$AUTH" = rsa ]; then
        strongswan_keys || return 1
        local_auth="auth = pubkey
            pubkeys = east.pub"
        remote_auth="auth = pubkey
            pubkeys = west.pub"
        secrets=""
    else
        local_auth="auth = psk"; remote_auth="auth = psk"
        secrets="ike-rswan {
        id-1 = $W_HOST
        id-2 = $E_HOST
        secret = \"$PSK\"
    }"
    fi
    cat > "$d/strongswan.conf" <<EOF
charon {
    load_modular = no
    load = $CHARON_PLUGINS
    install_routes = no
    filelog {
        lab {
            path = $d/charon.log
            time_format = %H:%M:%S
            time_add_ms = yes
            default = 1
            ike = ${CHARON_LOGLEVEL:-2}
            cfg = ${CHARON_LOGLEVEL:-2}
            net = ${CHARON_LOGLEVEL:-1}
            enc = ${CHARON_LOGLEVEL:-1}
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
        local_addrs = $E_HOST
        remote_addrs = $W_HOST
        proposals = $IKE
        local {
            $local_auth
            id = $E_HOST
        }
        remote {
            $remote_auth
            id = $W_HOST
        }
        children {
            net {
                mode = tunnel
                local_ts = $E_NET
                remote_ts = $W_NET
                esp_proposals = $esp
                start_action = none
            }
        }
    }
}
secrets {
    $secrets
}
EOF
    echo "== $d/swanctl/swanctl.conf:"; sed 's/^/   /' "$d/swanctl/swanctl.conf"
    show "[east]" "sh -c \"mount --bind $d/run /run && exec env STRONGSWAN_CONF=$d/strongswan.conf $CHARON\" &"
    ip netns exec east sh -c "mount --bind '$d/run' /run && exec env STRONGSWAN_CONF='$d/strongswan.conf' $CHARON" \
        > "$d/charon.stdout" 2>&1 &
    PEER_PID=$!; PIDS+=("$PEER_PID")
    for i in $(seq 600); do
        [ -S "$d/run/charon.vici" ] && break
        kill -0 "$PEER_PID" 2>/dev/null || { cat "$d/charon.stdout"; echo "charon exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/run/charon.vici" ] || { echo "charon: no vici socket after 60 s"; return 1; }
    swanctl_ --load-all --noprompt || return 1
}

peer_initiate() {
    local d=$LABRUN/east rc
    swanctl_ --initiate --child net --timeout "$UP_TIMEOUT" > "$d/initiate.log" 2>&1; rc=$?
    tail -n 12 "$d/initiate.log"
    return $rc
}

peer_terminate() { swanctl_ --terminate --ike "$CONN" --timeout 20; }

peer_sa_ids() {   # "ike#N" per IKE_SA, "child#N" per CHILD_SA of swanctl --list-sas
    local d=$LABRUN/east
    ip netns exec east env SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
        timeout 20 swanctl --list-sas --uri "unix://$d/run/charon.vici" 2>/dev/null \
        | awk '/^[^ ]+: #[0-9]+, / { sub(/,/, "", $2); print "ike" $2 }
               /^  [^ ]+: #[0-9]+, reqid/ { sub(/,/, "", $2); print "child" $2 }'
}

peer_status() { swanctl_ --list-sas; }

# peer_pfs_group: from the CHILD_SA line "net: #1, ..., ESP:3DES_CBC/HMAC_SHA1_96/MODP_1536"
peer_pfs_group() {
    local d=$LABRUN/east
    ip netns exec east env SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
        timeout 20 swanctl --list-sas --uri "unix://$d/run/charon.vici" 2>/dev/null \
        | awk '/ ESP:/ { g = "none"; if (match($0, /MODP_[0-9]+/)) g = tolower(substr($0, RSTART, RLENGTH)); sub(/_/, "", g); print g; exit }'
}

peer_stop() {
    [ -n "${PEER_PID:-}" ] || return 0
    show "[east]" kill "$PEER_PID" "(charon)"
    kill "$PEER_PID" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$PEER_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$PEER_PID" 2>/dev/null
}

peer_logs() { echo "$LABRUN/east/charon.log $LABRUN/east/charon.stdout"; }

. "$HERE/common.sh"
run_scenario
