#!/bin/bash
# lab/interop/all.sh: every interop scenario, one after the other, in ONE guest.
#
#     lab/vm-run -t 1800 lab/interop/all.sh [PATTERN...]      (lab/interop/run-all does this)
#
# The matrix: peer (strongswan, libreswan) x initiator (rswan-init, peer-init) x
# authentication (psk, rsa) x phase 1 (3des = 3des-sha1-modp1536, aes = aes128-sha1-modp2048)
# x PFS (pfs, nopfs): 32 cells; plus rswan <-> rswan (lab/interop/rswan.sh) with PSK and with
# RSA (rswan initiates, 3des, PFS: the pairing is symmetric, the rest of its matrix is the
# lab scenarios' job).  Every cell of both third-party peers runs: strongSwan 5.9.8 and
# libreswan 4.10 both do each of them (libreswan 4.10 lacks MODP1024, which no cell uses).
# Then per third-party peer the NAT traversal and DPD cells of lab/interop/natdpd.sh:
# PEER/nat-rswan (rswan the road warrior behind a NAT), PEER/nat-peer (the peer behind it,
# rswan the %any gateway), PEER/dpd (each answers and detects the other's death), named
# PEER/KIND/psk/aes128-sha1-modp2048/pfs.  Then over IPv6 (hosts and clients), per
# third-party peer both roles with PSK and RSA, aes, PFS: PEER/ROLE/AUTH/IKE/pfs/ipv6.
# Last libreswan/conf/psk/aes128-sha1-modp2048/pfs:
# the same conn text in rswan's ipsec.conf and in libreswan's (lab/interop/conf.sh).
# A cell is named PEER/ROLE/AUTH/IKE/PFS (e.g. strongswan/peer-init/rsa/aes128-sha1-modp2048/nopfs);
# with PATTERNs only the cells whose name contains one of them run.  Prints "@@PLAN NAME"
# for each cell first, then each scenario's output (also kept in $VMRUN_OUT/<cell>.log)
# with its "@@RESULT NAME PASS|FAIL STEPS TIMES" line.  Exit status 0 if every cell passed.
set -u
DIR=$(dirname "$(readlink -f "$0")")
[ -f "$DIR/common.sh" ] || DIR=${VMRUN_SCRIPT_DIR:-.}

ike_of() { case $1 in 3des) echo 3des-sha1-modp1536 ;; aes) echo aes128-sha1-modp2048 ;; esac; }
CELLS=()
add_cell() {   # add_cell PEER ROLE AUTH P1 PFS [ipv6], unless PATTERNs leave it out
    local fam=${6:-ipv4} name=$1/$2/$3/$(ike_of "$4")/$5${6:+/$6} keep pat
    if [ ${#PATTERNS[@]} -gt 0 ]; then
        keep=0; for pat in "${PATTERNS[@]}"; do case $name in *"$pat"*) keep=1 ;; esac; done
        [ $keep = 1 ] || return 0
    fi
    CELLS+=("$1 $2 $3 $4 $5 $fam $name")
}
PATTERNS=("$@")
for auth in psk rsa; do add_cell rswan rswan-init "$auth" 3des pfs; done
for peer in strongswan libreswan; do
    for role in rswan-init peer-init; do
        for auth in psk rsa; do
            for p1 in 3des aes; do
                for pfs in pfs nopfs; do add_cell "$peer" "$role" "$auth" "$p1" "$pfs"; done
            done
        done
    done
done
# NAT traversal and DPD (lab/interop/natdpd.sh): rswan as the road warrior behind a NAT,
# the peer as the road warrior behind it, DPD both ways; PSK, aes, PFS only
for peer in strongswan libreswan; do
    for kind in nat-rswan nat-peer dpd; do add_cell "$peer" "$kind" psk aes pfs; done
done
# IPv6 hosts and clients (common.sh's FAMILY): both roles, PSK and RSA, aes, PFS
for peer in strongswan libreswan; do
    for role in rswan-init peer-init; do
        for auth in psk rsa; do add_cell "$peer" "$role" "$auth" aes pfs ipv6; done
    done
done
# ipsec.conf (lab/interop/conf.sh): one conn text read by rswan (`ipsec setup start`,
# `ipsec auto --up/--down`, `ipsec setup stop`) and by libreswan, which reads that syntax too
add_cell libreswan conf psk aes pfs
[ ${#CELLS[@]} -gt 0 ] || { echo "all.sh: no cell matches: $*"; exit 2; }
for c in "${CELLS[@]}"; do echo "@@PLAN ${c##* }"; done

FAILED=0; N=0; T0=$(date +%s)
for c in "${CELLS[@]}"; do
    read -r peer role auth p1 pfs fam name <<< "$c"
    N=$((N + 1))
    echo "########################################################################"
    echo "#### [$N/${#CELLS[@]}] $name"
    echo "########################################################################"
    log=${VMRUN_OUT:-/tmp}/$peer-$role-$auth-$p1-$pfs$([ "$fam" = ipv6 ] && echo -ipv6).log
    case $role in
        nat-*|dpd) cmd=(bash "$DIR/natdpd.sh" "$peer" "$role") ;;
        *) cmd=(bash "$DIR/$peer.sh" "$role" "$auth" "$p1" "$pfs" "$fam") ;;
    esac
    timeout -k 10 "${CELL_TIMEOUT:-600}" "${cmd[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "@@RESULT $name FAIL timeout(${CELL_TIMEOUT:-600}s)"
        echo "FAIL: $name: the scenario timed out"
        ip netns del west 2>/dev/null; ip netns del nat 2>/dev/null; ip netns del east 2>/dev/null
    fi
    [ "$rc" = 0 ] || FAILED=$((FAILED + 1))
done
echo "all.sh: ${#CELLS[@]} cells in $(( $(date +%s) - T0 )) s, $FAILED failed"
[ $FAILED = 0 ]
