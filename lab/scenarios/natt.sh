#!/bin/bash
# lab/scenarios/natt.sh: lab test.  NAT traversal (RFC 3947/3948) between two rswan plutos:
# a road warrior (west, 192.168.1.2) behind a masquerading NAT (lib.sh nat_topology: the
# NAT moves every source port, 500 and 4500 included) and a gateway (east, 192.0.2.2,
# client 10.2.0.0/24) that takes road warriors from anywhere:
#     west: pluto --nat_traversal --keep_alive 2
#           whack --name rw --host 192.168.1.2 --to --host 192.0.2.2 --client 10.2.0.0/24
#                 --encrypt --tunnel --pfs --psk --ipseclifetime 50 --dontrekey
#     east: pluto --nat_traversal --virtual_private %v4:10.0.0.0/8,%v4:192.168.0.0/16,...,%v4:!10.2.0.0/24
#           whack --name rw --host 192.0.2.2 --client 10.2.0.0/24 --nexthop 192.0.2.1 --to --host %any
#                 --client vhost:%priv --encrypt --tunnel --pfs --psk --rekeymargin 20 --rekeyfuzz 0
# Checks:
#   - the road warrior's Main Mode + Quick Mode through the NAT; both kernels' ESP SAs are
#     UDP-encapsulated (espinudp), the gateway's toward the NAT's mapped port;
#   - pings cross both ways (road warrior -> 10.2.0.1, and 10.2.0.1 -> the road warrior);
#   - the "IPsec SA established" lines (or whack --status) name the NAT-T endpoints as
#     Openswan did: NATD=192.0.2.1:<mapped port> at the gateway, NATD=192.0.2.2:4500 at
#     the road warrior;
#   - the outer wire (a capture on the NAT's outside, n1): UDP 500 only for Main Mode's
#     first two exchanges, then only UDP 4500 (IKE with the non-ESP marker, ESP in UDP),
#     never plain ESP; keepalives (one byte 0xff) from the road warrior every --keep_alive
#     seconds, none from the gateway (it is not behind NAT);
#   - a NAT mapping change is recovered: nat_change_port (new port range + conntrack -F)
#     and nat_flush (conntrack -F): the road warrior's next packets leave from a new port,
#     the gateway follows it (the kernel reports the new mapping; pluto updates the SAs)
#     and pings cross again;
#   - initiation from the gateway side: the NAT drops whatever the gateway would start on
#     its own and its connection is a %any template, so it cannot begin a Main Mode; what
#     it can start is a Quick Mode over the ISAKMP SA, to the road warrior's current
#     mapping: its rekey (lifetime 50 s, the road warrior --dontrekey, the gateway replaces
#     at 50 - 20/2 = 40 s, after the mapping changes) must bring new SAs, which carry the
#     next ping.
# Runs on both stacks (the ESP-in-UDP SAs and the mapping reports differ per backend).
#     lab/vm-run lab/scenarios/natt.sh      (or lab/run-tests natt)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

PSK='"a secret for road warriors"'
VIRTUAL_PRIVATE=%v4:10.0.0.0/8,%v4:192.168.0.0/16,%v4:172.16.0.0/12,%v4:!10.2.0.0/24
KEEP_ALIVE=2
secrets_for() {
    case $1 in
        west) echo "192.168.1.2 192.0.2.2 : PSK $PSK" ;;
        east) echo "192.0.2.2 %any : PSK $PSK" ;;
    esac
}
pluto_opts_for() {
    case $1 in
        west) echo --nat_traversal --keep_alive "$KEEP_ALIVE" ;;
        east) echo --nat_traversal --virtual_private "$VIRTUAL_PRIVATE" ;;
    esac
}
WEST_CONN=(--name rw --host 192.168.1.2 --to --host 192.0.2.2 --client 10.2.0.0/24
           --encrypt --tunnel --pfs --psk --ipseclifetime 50 --dontrekey)
EAST_CONN=(--name rw --host 192.0.2.2 --client 10.2.0.0/24 --nexthop 192.0.2.1 --to --host %any --client vhost:%priv
           --encrypt --tunnel --pfs --psk --rekeymargin 20 --rekeyfuzz 0)

spis()       { ip -n "$1" xfrm state | awk '/proto esp spi/ && $4 != "0x00000000" {print $4}' | sort; }
esp_count()  { spis "$1" | grep -c .; }
both_esp()   { [ "$(esp_count west)" -ge 2 ] && [ "$(esp_count east)" -ge 2 ]; }
# encap_of NS: "SRC>DST sport S dport D" for each ESP SA with UDP encapsulation
encap_of()   {
    ip -n "$1" xfrm state | awk '/^src / { sd = $2 ">" $4 } /encap type espinudp/ { print sd, "sport", $5, "dport", $7 }'
}
# east_out_dport: the destination port of the gateway's outbound SA(s) (the NAT's mapping)
east_out_dport() { encap_of east | awk '$1 == "192.0.2.2>192.0.2.1" {print $5}' | sort -u | tr '\n' ' '; }
ping_rw()    { ip netns exec west ping -c 1 -W 1 -I 192.168.1.2 10.2.0.1 > /dev/null 2>&1; }
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

begin natt nat
capture_start nat n1 "$LABRUN/n1.pcap" || finish 1 "tcpdump did not start on nat's n1"
start_plutos
hr; echo "== the connections: road warrior (west), gateway for road warriors (east)"
whack west "${WEST_CONN[@]}" || finish 1 "whack could not add the road warrior's connection"
whack east "${EAST_CONN[@]}" || finish 1 "whack could not add the gateway's connection"
whack west --listen && whack east --listen || finish 1 "whack --listen failed"

hr; echo "== the road warrior initiates through the NAT"
T=$(date +%s.%N)
whack west --initiate --name rw || finish 1 "whack --initiate failed in the road warrior"
log "negotiated in $(secs_since "$T") s"
wait_until 10 both_esp || fail "ESP SAs missing after the initiation (west $(esp_count west), east $(esp_count east))"
hr; on west ip xfrm state; hr; on east ip xfrm state
echo "UDP encapsulation: west [$(encap_of west | tr '\n' ';')] east [$(encap_of east | tr '\n' ';')]"
[ "$(encap_of west | grep -c .)" -ge 2 ] || fail "the road warrior's ESP SAs are not UDP-encapsulated"
[ "$(encap_of east | grep -c .)" -ge 2 ] || fail "the gateway's ESP SAs are not UDP-encapsulated"
DPORT1=$(east_out_dport)
ORIG_SPIS=$(spis east | tr '\n' ' ')   # the road warrior's SAs: a mapping change keeps them
case $DPORT1 in 2[0-9][0-9][0-9][0-9]" ") ;; *) fail "the gateway's outbound SA does not go to the NAT's 4500 mapping (dport '$DPORT1', expected one of $NAT_PORTS)" ;; esac

hr; echo "== pings through the tunnel, both ways"
read -r WP0 _ < <(esp_counters west); read -r EP0 _ < <(esp_counters east)
on west ping -c 5 -i 0.2 -W 2 -I 192.168.1.2 10.2.0.1 || fail "ping road warrior -> 10.2.0.1 through the tunnel failed"
on east ping -c 3 -i 0.2 -W 2 -I 10.2.0.1 192.168.1.2 || fail "ping 10.2.0.1 -> road warrior through the tunnel failed"
read -r WP1 _ < <(esp_counters west); read -r EP1 _ < <(esp_counters east)
echo "ESP packets: west $WP0 -> $WP1, east $EP0 -> $EP1"
[ "$WP1" -gt "$WP0" ] && [ "$EP1" -gt "$EP0" ] || fail "ESP counters did not grow on both sides"
show_status
# Openswan names the peer's NAT-T endpoint in the "IPsec SA established" line (NATD=ip:port)
grep -ahoE 'NATOA=[^ ]+ NATD=[^ }]+' "$LABRUN"/{west,east}/pluto.log "$LABRUN/east/status.txt" | sort | uniq -c
grep -aqE 'NATD=192\.0\.2\.1:[0-9]+' "$LABRUN/east/status.txt" "$LABRUN/east/pluto.log" ||
    fail "the gateway does not name the road warrior's NAT endpoint (NATD=192.0.2.1:port) in its status or log"
grep -aqE 'NATD=192\.0\.2\.2:4500' "$LABRUN/west/pluto.log" ||
    fail "the road warrior does not name the gateway's NAT-T endpoint (NATD=192.0.2.2:4500) in its log"

hr; echo "== idle for $((2 * KEEP_ALIVE + 1)) s: the road warrior's keepalives keep the mapping"
T_IDLE0=$(date +%s.%N); sleep $((2 * KEEP_ALIVE + 1)); T_IDLE1=$(date +%s.%N)
on nat conntrack -L -p udp 2>/dev/null

recover() {   # recover WHAT: pings cross again after the NAT mapping change WHAT
    local t; t=$(date +%s.%N)
    if wait_until 30 ping_rw; then
        log "$1: traffic flows again after $(secs_since "$t") s; gateway's outbound encap dport now $(east_out_dport)"
        on west ping -c 3 -i 0.2 -W 2 -I 192.168.1.2 10.2.0.1 || fail "after $1: pings lost again"
    else
        fail "after $1: no ping crossed within 30 s"
        on nat conntrack -L -p udp; encap_of east
    fi
}
hr; echo "== NAT mapping change 1: another port range and conntrack -F"
nat_change_port
recover "nat_change_port"
DPORT2=$(east_out_dport)
case $DPORT2 in 3[0-9][0-9][0-9][0-9]" ") ;; *) fail "after nat_change_port the gateway's outbound SA still goes to '$DPORT2' (expected a port of $NAT_PORTS)" ;; esac
hr; echo "== NAT mapping change 2: conntrack -F"
nat_flush
recover "conntrack -F"

hr; echo "== the gateway's Quick Mode (its rekey) over the ISAKMP SA, to the current mapping"
# (the gateway may already have replaced them while the mappings moved: compare with the
# SAs the road warrior negotiated)
OLD_SPIS=$ORIG_SPIS
new_sas() { [ "$(comm -13 <(echo "$OLD_SPIS" | tr ' ' '\n' | sort) <(spis east) | grep -c .)" -ge 2 ] &&
            [ "$(comm -13 <(echo "$OLD_SPIS" | tr ' ' '\n' | sort) <(spis west) | grep -c .)" -ge 2 ]; }
if wait_until 60 new_sas; then
    log "new SAs from the gateway's rekey: east [$(spis east | tr '\n' ' ')] (before: $OLD_SPIS)"
    on east ping -c 3 -i 0.2 -W 2 -I 10.2.0.1 192.168.1.2 || fail "ping over the gateway's new SAs failed"
    on west ping -c 3 -i 0.2 -W 2 -I 192.168.1.2 10.2.0.1 || fail "ping over the gateway's new SAs failed (road warrior side)"
else
    fail "no new SAs within 60 s: the gateway did not rekey (Quick Mode as initiator through the NAT)"
fi
show_status
capture_stop

hr; echo "== the outer wire (NAT's outside, n1)"
tcpdump -n -r "$LABRUN/n1.pcap" 2>/dev/null > "$LABRUN/n1.txt"
wire_summary "$LABRUN/n1.pcap" > "$LABRUN/n1.summary"
FIRST4500=$(grep -n '\.4500[ :]' "$LABRUN/n1.txt" | head -n 1 | cut -d: -f1)
N500=$(grep -cE '\.500[ :]' "$LABRUN/n1.txt")
echo "-- up to the first datagram on 4500 and 5 after it:"
head -n "$(( ${FIRST4500:-0} + 5 ))" "$LABRUN/n1.txt"
echo "-- keepalives (the first 4):"; grep 'isakmp-nat-keep-alive' "$LABRUN/n1.txt" | head -n 4
echo "-- ISAKMP on 4500 after Main Mode (Quick Modes, informationals):"
grep 'NONESP-encap' "$LABRUN/n1.txt" | sed -n '3,$p' | head -n 12
echo "-- tshark (wire_summary), first 16 packets:"; head -n 16 "$LABRUN/n1.summary"
if [ -z "$FIRST4500" ]; then
    fail "nothing on UDP 4500"
else
    [ "$N500" -ge 4 ] || fail "fewer than 4 Main Mode messages on UDP 500 ($N500)"
    tail -n +"$FIRST4500" "$LABRUN/n1.txt" | grep -E '\.500[ :]' | head -n 3 | sed 's/^/   on 500 after the switch: /'
    tail -n +"$FIRST4500" "$LABRUN/n1.txt" | grep -qE '\.500[ :]' && fail "UDP 500 after the switch to 4500"
    sed -n "${FIRST4500}p" "$LABRUN/n1.txt" | grep -q 'NONESP-encap: isakmp' || fail "the first datagram on 4500 is not IKE with the non-ESP marker"
fi
grep -E ': ESP\(' "$LABRUN/n1.txt" | grep -v 'UDP-encap' | head -n 3 | sed 's/^/   plain ESP: /'
grep -E ': ESP\(' "$LABRUN/n1.txt" | grep -qv 'UDP-encap' && fail "plain ESP (IP protocol 50) on the outer wire"
NESP=$(grep -c 'UDP-encap: ESP' "$LABRUN/n1.txt")
[ "$NESP" -gt 0 ] || fail "no ESP in UDP on the outer wire"
KA_RW=$(grep 'isakmp-nat-keep-alive' "$LABRUN/n1.txt" | grep -c ' 192\.0\.2\.1\.[0-9]* > 192\.0\.2\.2\.4500:')
KA_GW=$(grep 'isakmp-nat-keep-alive' "$LABRUN/n1.txt" | grep -c ' 192\.0\.2\.2\.4500 > ')
KA_IDLE=$(tcpdump -tt -n -r "$LABRUN/n1.pcap" 2>/dev/null | awk -v a="$T_IDLE0" -v b="$T_IDLE1" '
    /isakmp-nat-keep-alive/ && / 192\.0\.2\.1\.[0-9]* > / && $1 >= a && $1 <= b { n++ } END { print n + 0 }')
echo "keepalives: $KA_RW from the road warrior ($KA_IDLE in the $((2 * KEEP_ALIVE + 1)) s idle window), $KA_GW from the gateway"
[ "$KA_IDLE" -ge 2 ] || fail "fewer than 2 keepalives from the road warrior in $((2 * KEEP_ALIVE + 1)) idle seconds (--keep_alive $KEEP_ALIVE)"
[ "$KA_GW" = 0 ] || fail "the gateway (not behind NAT) sent $KA_GW keepalives"
verdict "road warrior behind NAT: MM+QM, UDP 500 for $N500 messages then only 4500 ($NESP ESP-in-UDP packets, no plain ESP), $KA_RW keepalives, gateway encap port $DPORT1-> $DPORT2 after a port change, conntrack flush recovered, gateway's Quick Mode through the NAT"
