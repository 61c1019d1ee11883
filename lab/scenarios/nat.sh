#!/bin/bash
# lab/scenarios/nat.sh: lab test of the lab's NAT topology itself (lib.sh nat_topology),
# no IPsec: what natt.sh and the NAT interop cells rely on.
#   - the road warrior (west, 192.168.1.2) reaches the gateway (east, 192.0.2.2) through
#     the masquerading NAT; the gateway sees 192.0.2.1;
#   - without a tunnel neither reaches the other's private side: not the gateway's client
#     subnet 10.2.0.0/24 (the NAT has no route there), not the road warrior (the NAT drops
#     unsolicited packets from outside);
#   - UDP from ports 500 and 4500 leaves the NAT from other ports (NAT_PORTS), and the
#     gateway's answer to the mapped port reaches the road warrior's own port;
#   - nat_change_port gives the next datagram a mapping from another port range.
#     lab/vm-run lab/scenarios/nat.sh      (or lab/run-tests nat)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

begin nat nat
capture_start nat n1 "$LABRUN/n1.pcap" udp or icmp || finish 1 "tcpdump did not start on nat's n1"
capture_start west w0 "$LABRUN/w0.pcap" udp || finish 1 "tcpdump did not start on west's w0"
W0_CAP=$CAP_PID

hr; echo "== ping from the road warrior to the gateway and its client subnet"
on west ping -c 2 -i 0.2 -W 2 192.0.2.2 || fail "road warrior -> 192.0.2.2: no answer"
hr; echo "== without a tunnel, neither side reaches the other's private addresses"
# (the NAT has no route to 10.2.0.0/24: the gateway's client subnet is private too)
on west ping -c 1 -W 1 10.2.0.1 && fail "road warrior -> 10.2.0.1 answered without a tunnel"
on east ping -c 1 -W 1 -I 10.2.0.1 192.168.1.2 && fail "gateway -> 192.168.1.2 answered: the NAT forwards unsolicited packets"

hr; echo "== UDP 500 and 4500 from the road warrior, and the gateway's answers"
udp_send west 192.168.1.2 500 192.0.2.2 500 ike || fail "udp_send 500"
udp_send west 192.168.1.2 4500 192.0.2.2 4500 natt || fail "udp_send 4500"
sleep 0.3
on nat conntrack -L -p udp
read -r _ _ P500 _ < <(nat_mappings | awk '$1 == 500')
read -r _ _ P4500 _ < <(nat_mappings | awk '$1 == 4500')
echo "mapped: 500 -> ${P500:-none}, 4500 -> ${P4500:-none}"
case ${P500:-x} in 2[0-9][0-9][0-9][0-9]) ;; *) fail "port 500 was not mapped into 20000-29999 (${P500:-none})" ;; esac
case ${P4500:-x} in 2[0-9][0-9][0-9][0-9]) ;; *) fail "port 4500 was not mapped into 20000-29999 (${P4500:-none})" ;; esac
[ -n "${P4500:-}" ] && udp_send east 192.0.2.2 4500 192.0.2.1 "$P4500" reply
hr; echo "== nat_change_port: the next datagram from 4500 gets a new mapping"
nat_change_port
udp_send west 192.168.1.2 4500 192.0.2.2 4500 again || fail "udp_send 4500 after the change"
sleep 0.3
read -r _ _ Q4500 _ < <(nat_mappings | awk '$1 == 4500')
echo "mapped after the change: 4500 -> ${Q4500:-none}"
case ${Q4500:-x} in 3[0-9][0-9][0-9][0-9]) ;; *) fail "after nat_change_port, 4500 not mapped into 30000-39999 (${Q4500:-none})" ;; esac
capture_stop; capture_stop "$W0_CAP"

hr; echo "== the outer wire (nat's n1)"
tcpdump -n -r "$LABRUN/n1.pcap" 2>/dev/null | tee "$LABRUN/n1.txt"
grep -q " 192.0.2.1.$P500 > 192.0.2.2.500: " "$LABRUN/n1.txt" || fail "the gateway did not see 192.0.2.1:$P500 -> :500"
grep -q " 192.0.2.1.$Q4500 > 192.0.2.2.4500: " "$LABRUN/n1.txt" || fail "the gateway did not see 192.0.2.1:$Q4500 -> :4500"
grep -qE ' IP 192\.168\.[0-9.]+ > ' "$LABRUN/n1.txt" && fail "the road warrior's address left the NAT unchanged"
hr; echo "== the road warrior's side (west's w0)"
tcpdump -n -r "$LABRUN/w0.pcap" 2>/dev/null | tee "$LABRUN/w0.txt"
grep -q " 192.0.2.2.4500 > 192.168.1.2.4500: " "$LABRUN/w0.txt" || fail "the gateway's answer to :$P4500 did not reach 192.168.1.2:4500"
verdict "masquerading NAT: 500 -> $P500, 4500 -> $P4500, then $Q4500 after nat_change_port; replies reach the road warrior; unsolicited packets dropped"
