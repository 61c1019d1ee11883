#!/bin/bash
# lab/scenarios/smoke.sh: proves the lab works, without rswan.  Run by `make lab-smoke`:
#     lab/vm-run lab/scenarios/smoke.sh
# 1. PF_KEY: after `modprobe af_key`, /proc/net/pfkey exists (also inside a netns).
# 2. For 3des-sha1 and aes-sha1: manual ESP tunnel SAs + policies between west and east
#    (`ip xfrm state/policy`), then a ping 10.1.0.1 -> 10.2.0.1 from west must succeed,
#    the ESP counters must grow on both sides and only ESP may go over the wire.
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/../lib.sh"

key() { echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# esp_tunnel NAME ENC KEYBYTES: SAs and policies for a tunnel 10.1.0.0/24 <-> 10.2.0.0/24
esp_tunnel() {
    local name=$1 enc=$2 n=$3 ns
    local ke1 ke2 ka1 ka2
    ke1=$(key "$n"); ke2=$(key "$n"); ka1=$(key 20); ka2=$(key 20)
    for ns in west east; do
        # the same two SAs on both ends: west -> east uses SPI 0x1001, east -> west 0x1002
        on $ns ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 reqid 1 mode tunnel \
            enc "$enc" "$ke1" auth-trunc 'hmac(sha1)' "$ka1" 96 || return 1
        on $ns ip xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1002 reqid 2 mode tunnel \
            enc "$enc" "$ke2" auth-trunc 'hmac(sha1)' "$ka2" 96 || return 1
    done
    # policies: (out, in, fwd) for the local subnet's traffic, tunnelled between gateways
    local w="src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode tunnel"
    local e="src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode tunnel"
    on west ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out tmpl $w || return 1
    on west ip xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in  tmpl $e || return 1
    on west ip xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd tmpl $e || return 1
    on east ip xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir out tmpl $e || return 1
    on east ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir in  tmpl $w || return 1
    on east ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd tmpl $w || return 1
}

FAILED=()
fail() { echo "FAIL: $*"; FAILED+=("$*"); }

log "smoke test of the rswan lab: kernel $(uname -r)"
make_topology

hr; echo "== PF_KEY"
if run ls /proc/net/pfkey && on west ls /proc/net/pfkey; then echo "ok: PF_KEY is available"
else fail "no /proc/net/pfkey after modprobe af_key"; fi

for proposal in "3des-sha1 cbc(des3_ede) 24" "aes-sha1 cbc(aes) 16"; do
    set -- $proposal
    hr; echo "== ESP tunnel $1 ($2 + hmac(sha1)-96)"
    if ! esp_tunnel "$1" "$2" "$3"; then fail "$1: ip xfrm refused the SAs or policies"; continue; fi
    read -r WP0 WB0 WN0 < <(esp_counters west)
    read -r EP0 EB0 EN0 < <(esp_counters east)
    only_esp_on_wire 5; WIRE=$?
    read -r WP1 WB1 WN1 < <(esp_counters west)
    read -r EP1 EB1 EN1 < <(esp_counters east)
    on west ip -s xfrm state list spi 0x1001
    echo "ESP counters before -> after the ping"
    echo "  west: $WN1 SAs, $WP0 packets/$WB0 bytes -> $WP1 packets/$WB1 bytes"
    echo "  east: $EN1 SAs, $EP0 packets/$EB0 bytes -> $EP1 packets/$EB1 bytes"
    [ $WIRE = 0 ] || fail "$1: ping through the tunnel failed or non-ESP traffic on the wire"
    [ "$WP1" -gt "$WP0" ] || fail "$1: ESP counters did not grow in west"
    [ "$EP1" -gt "$EP0" ] || fail "$1: ESP counters did not grow in east"
    ip -n west xfrm state list | grep -qF "$2" || fail "$1: west's SAs do not use $2"
    for ns in west east; do ip -n $ns xfrm policy flush; ip -n $ns xfrm state flush; done
done

cleanup
hr
if [ ${#FAILED[@]} = 0 ]; then
    log "SMOKE PASS: PF_KEY present; ESP tunnels 3des-sha1 and aes-sha1 carry the ping, counters grow, only ESP on the wire"
    exit 0
fi
log "SMOKE FAIL: ${#FAILED[@]} check(s) failed:"; printf '  - %s\n' "${FAILED[@]}"
exit 1
