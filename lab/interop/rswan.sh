#!/bin/bash
# lab/interop/rswan.sh: rswan (west) <-> rswan (east), the seed's own pairing ("other
# instances of pluto"), IKEv1 Main Mode, PSK or RSA, ESP tunnel 10.1.0.0/24 <-> 10.2.0.0/24.
# One cell of the matrix, the same two rounds and checks as the third-party peers
# (common.sh):
#
#     lab/vm-run lab/interop/rswan.sh [rswan-init|peer-init] [psk|rsa] [3des|aes] [pfs|nopfs]
#
# The peer is a second pluto of the same binary in east, configured with whack only:
#   - PSK: "192.0.2.2 192.0.2.1 : PSK" in its own secrets file;
#   - RSA: its own key from `ipsec rsasigkey` (same size as west's), the public half given
#     to west as `ipsec showhostkey --key` (PEER_PUBKEY), west's key given to it with
#     whack --keyid 192.0.2.1 --pubkeyrsa.
# It proves little about interoperability by itself (two copies of one bug agree); it is
# here so that the suite's table has the pairing next to the third-party cells.
set -u
PEER=rswan
HERE=$(dirname "$(readlink -f "$0")")
[ -f "$HERE/common.sh" ] || HERE=${VMRUN_SCRIPT_DIR:-.}

PEER_COMPLAINTS='refus|reject|fail|error|bad|invalid|INVALID|NO_PROPOSAL|no acceptable|no connection|retransmit|ignor|unexpected|delete|Delete|mismatch'

peer_version() { "$IPSEC" --version 2>&1 | head -n 1; }

ewhack() {     # ewhack ARGS...: whack for the east pluto
    show "[east]" "$IPSEC" whack --ctlbase "$LABRUN/east/pluto" "$@"
    ip netns exec east timeout "$WHACK_TIMEOUT" "$IPSEC" whack --ctlbase "$LABRUN/east/pluto" "$@"
}

peer_start() {
    local d=$LABRUN/east i pfs=()
    [ "$PFS" = pfs ] && pfs=(--pfs)
    mkdir -p "$d"
    if [ "$AUTH" = rsa ]; then
        "$IPSEC" rsasigkey --hostname east "$RSA_BITS" > "$d/rsasigkey.out" || { echo "east rsasigkey failed"; return 1; }
        { echo "$E_HOST : RSA {"; cat "$d/rsasigkey.out"; printf '\t}\n'; } > "$d/ipsec.secrets"
        PEER_PUBKEY=$("$IPSEC" showhostkey --file "$d/ipsec.secrets" --key) || { echo "east showhostkey failed"; return 1; }
    else
        echo "$E_HOST $W_HOST : PSK \"$PSK\"" > "$d/ipsec.secrets"
    fi
    chmod 600 "$d/ipsec.secrets"
    show "[east]" "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" "> $d/pluto.log 2>&1 &"
    ip netns exec east "$IPSEC" pluto --nofork --stderrlog --ctlbase "$d/pluto" \
        --secretsfile "$d/ipsec.secrets" > "$d/pluto.log" 2>&1 &
    PEER_PID=$!; PIDS+=("$PEER_PID")
    for i in $(seq 100); do
        [ -S "$d/pluto.ctl" ] && break
        kill -0 "$PEER_PID" 2>/dev/null || { echo "east pluto exited"; return 1; }
        sleep 0.1
    done
    [ -S "$d/pluto.ctl" ] || { echo "east pluto: no control socket after 10 s"; return 1; }
    if [ "$AUTH" = rsa ]; then
        ewhack --keyid "$W_HOST" --pubkeyrsa "$RSWAN_PUBKEY" || return 1
    fi
    ewhack --name "$CONN" "${WHACK_FAMILY[@]}" --host "$E_HOST" --client "$E_NET" \
        --to --host "$W_HOST" --client "$W_NET" \
        --encrypt --tunnel "--$([ "$AUTH" = rsa ] && echo rsasig || echo psk)" "${pfs[@]}" \
        --ike "$IKE" --esp "$ESP" || return 1
    ewhack --listen || return 1
}

peer_initiate() { ewhack --initiate --name "$CONN"; }

peer_terminate() { ewhack --terminate --name "$CONN"; }

peer_sa_ids() {
    ip netns exec east timeout 20 "$IPSEC" whack --ctlbase "$LABRUN/east/pluto" --status 2>/dev/null \
        | grep -oE '^000 #[0-9]+: "' | awk '{print $2}' | tr -d : | sort -u
}

peer_status() { ewhack --status | grep -E '^000 (#|"'"$CONN"'")'; }

peer_stop() {
    [ -n "${PEER_PID:-}" ] || return 0
    kill -0 "$PEER_PID" 2>/dev/null && [ -S "$LABRUN/east/pluto.ctl" ] && ewhack --shutdown > /dev/null 2>&1
    local i
    for i in $(seq 50); do kill -0 "$PEER_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill "$PEER_PID" 2>/dev/null
}

peer_logs() { echo "$LABRUN/east/pluto.log"; }

. "$HERE/common.sh"
run_scenario
