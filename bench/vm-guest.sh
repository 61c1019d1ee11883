#!/bin/bash
# bench/vm-guest.sh: the lab-VM half of `make bench` (run by lab/vm-run from bench/vm.sh),
# responders with real SAs in the lab kernel: BENCH_VM_ROUNDS rounds (default 5), in each
# a burst of BENCH_VM_N (default 200) negotiations against every responder in turn:
#   rswan      rswan's pluto, its default kernel interface (XFRM netlink), updown `true`
#   strongswan Debian's charon 5.9.8 (kernel-netlink) with a swanctl %any PSK connection
#   libreswan  libreswan 4.10's pluto (NETKEY/XFRM), leftupdown=%disabled
# The initiator is the load-tester (fake kernel) in the other namespace, as natively.
# Prints one line per burst:  vm RESPONDER ROUND n=... (bench/lib.sh bench_burst); after
# a burst that did not establish all, what the logs complain about (their copies go to
# $VMRUN_OUT/RESPONDER.ROUND/, and the exit status is 1).
set -uo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
. "$REPO/bench/lib.sh"
ROUNDS=${BENCH_VM_ROUNDS:-5}; N=${BENCH_VM_N:-200}
RESPONDERS=${BENCH_VM_RESPONDERS:-rswan strongswan libreswan}
IPSEC=$REPO/target/ipsec
CHARON_PREFIX=${LAB_DIR:-/tmp/rswan-lab}/loadtester/prefix
BENCH_DIR=/tmp/rswan-bench-vm.$$          # not under /run: charon's /run is a bind mount
BURST_LIMIT=${BURST_LIMIT:-240}
W=$BENCH_DIR
trap 'stop_responder; topo_down' EXIT

# the transforms now (not at the first SA): the kernel self-tests an algorithm on first
# use, seconds under TCG, which would land in the first burst
modprobe -a xfrm_user esp4 xfrm4_tunnel tunnel4 veth des3_ede authenc echainiv seqiv \
    || { echo "bench/vm-guest: modprobe failed"; exit 1; }
ip xfrm state add src 198.18.255.1 dst 198.18.255.2 proto esp spi 0x7e57 \
    enc 'cbc(des3_ede)' 0x000000000000000000000000000000000000000000000000 \
    auth 'hmac(sha1)' 0x0000000000000000000000000000000000000000 2>/dev/null
ip xfrm state flush
topo_up || { echo "bench/vm-guest: cannot build the topology"; exit 1; }
echo "bench/vm-guest: kernel $(uname -r), $(nproc) vCPUs, $ROUNDS x $N per responder: $RESPONDERS"

incomplete=0
for ((r = 1; r <= ROUNDS; r++)); do
    for resp in $RESPONDERS; do
        d=$W/$resp; rm -rf "$d"; mkdir -p "$d"
        case $resp in
            rswan)      RSWAN_CONN_OPTS="--updown true" start_rswan "$d" --use-auto ;;
            strongswan) start_strongswan "$d" ;;
            libreswan)  start_libreswan "$d" ;;
            *) echo "bench/vm-guest: unknown responder $resp"; exit 2 ;;
        esac || { echo "bench/vm-guest: $resp did not start"; stop_responder; continue; }
        line=$(bench_burst "$d/burst" "$N")
        stop_responder
        ip xfrm state flush; ip xfrm policy flush
        echo "vm $resp $r $line"
        case $line in *" ok=$N "*) ;; *)
            incomplete=$((incomplete + 1))
            echo "bench/vm-guest: $resp round $r: not all established:"
            burst_failures "$d/burst" "$d"
            mkdir -p "$VMRUN_OUT/$resp.$r"; cp "$d"/*.log "$d/burst/initiator.log" "$VMRUN_OUT/$resp.$r/" ;;
        esac
    done
done
# vm-run keeps its run directory (out/: the logs of every incomplete burst) on failure
[ "$incomplete" = 0 ]
