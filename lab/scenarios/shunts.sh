#!/bin/bash
# lab/scenarios/shunts.sh: lab test.  Shunt eroutes and routing stories:
#   1. a pure shunt connection with --pass, routed: the kernel has an outbound "allow"
#      policy for the clients, pings cross in the clear, --status says
#      "prospective erouted" and "+PASS";
#   2. a --drop connection for the same clients, routed: the eroute conflict unroutes the
#      --pass one (it has no SA), the policy becomes "block", pings fail;
#   3. a negotiating connection with --failpass and --keyingtries 1 whose peer does not
#      answer (east's pluto has no connection): --route installs the TRAP, a ping starts
#      the negotiation ("erouted HOLD" while it runs), and once pluto gives up the failure
#      shunt takes the TRAP's place ("fail erouted", policy "allow", pings cross);
#   4. --unroute removes it: no policy of these connections is left.
#     lab/vm-run lab/scenarios/shunts.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CLIENTS=(--host 192.0.2.1 --client 10.1.0.0/24 --to --host 192.0.2.2 --client 10.2.0.0/24)

# out_action NS: the action of NS's outbound policy for 10.1.0.0/24 -> 10.2.0.0/24
# (ip prints "action block", and nothing for the default "allow"); empty: no policy
out_action() {
    local p
    p=$(ip -n "$1" xfrm policy list dir out src 10.1.0.0/24 dst 10.2.0.0/24)
    [ -n "$p" ] || return 0
    case $p in *"action block"*) echo block ;; *) echo allow ;; esac
}
out_has_tmpl() { ip -n "$1" xfrm policy list dir out src 10.1.0.0/24 dst 10.2.0.0/24 | grep -q tmpl; }
pings() { on west ping -c "$1" -i 0.3 -W 1 -I 10.1.0.1 10.2.0.1 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
story() {
    ip netns exec west "$IPSEC" whack --ctlbase "$LABRUN/west/pluto" --status \
        | grep "^000 \"$1\": .*\.\.\." | sed -e 's/; eroute owner.*//' -e 's/.*; //'
}

begin shunts
start_plutos
whack west --listen || finish 1 "whack --listen failed in west"
whack east --listen || finish 1 "whack --listen failed in east"

hr; echo "== 1. a --pass shunt connection, routed"
whack west --name open "${CLIENTS[@]}" --pass || finish 1 "whack could not add the --pass connection"
whack west --route --name open || finish 1 "whack --route of the --pass connection failed"
on west ip xfrm policy list dir out
[ "$(out_action west)" = allow ] || fail "--pass: outbound policy action is '$(out_action west)', not allow"
out_has_tmpl west && fail "--pass: the policy has an IPsec template"
N=$(pings 3); echo "pings answered: ${N:-0} of 3"
[ "${N:-0}" -gt 0 ] || fail "--pass: pings did not cross in the clear"
S=$(story open); echo "routing story of \"open\": $S"
[ "$S" = "prospective erouted" ] || fail "--pass: story '$S', not 'prospective erouted'"
whack west --status | grep -q '"open":   policy: .*+PASS' || fail "--pass: the policy line lacks +PASS"
whack west --initiate --name open; RC=$?
[ "$RC" = 30 ] || fail "--initiate of a shunt connection exited $RC, not 30 (RC_INITSHUNT)"

hr; echo "== 2. a --drop connection for the same clients takes the route over"
whack west --name closed "${CLIENTS[@]}" --drop || finish 1 "whack could not add the --drop connection"
whack west --route --name closed > "$LABRUN/route-closed.txt" 2>&1 || fail "whack --route of the --drop connection failed"
cat "$LABRUN/route-closed.txt"
grep -q 'unrouting "open"' "$LABRUN/route-closed.txt" || fail "--route did not say it unrouted the conflicting \"open\""
on west ip xfrm policy list dir out
[ "$(out_action west)" = block ] || fail "--drop: outbound policy action is '$(out_action west)', not block"
N=$(pings 3); echo "pings answered: ${N:-0} of 3"
[ "${N:-0}" = 0 ] || fail "--drop: $N pings crossed"
S=$(story open); echo "routing story of \"open\": $S"
[ "$S" = unrouted ] || fail "the unrouted --pass connection's story is '$S'"
whack west --unroute --name closed || fail "--unroute of the --drop connection failed"
[ -z "$(out_action west)" ] || fail "a policy is left after --unroute: $(out_action west)"

hr; echo "== 3. --failpass: a failed negotiation leaves the failure shunt in place"
whack west --name secret "${CLIENTS[@]}" --encrypt --tunnel --psk --failpass --keyingtries 1 \
    || finish 1 "whack could not add the --failpass connection"
whack west --route --name secret || finish 1 "whack --route of the --failpass connection failed"
out_has_tmpl west || fail "--route of the negotiating connection installed no TRAP"
S=$(story secret); echo "routing story of \"secret\": $S"
[ "$S" = "prospective erouted" ] || fail "routed TRAP: story '$S'"
N=$(pings 2); echo "pings answered while the TRAP holds them: ${N:-0} of 2"
[ "${N:-0}" = 0 ] || fail "$N pings crossed in the clear through the TRAP"
grep -q "initiate on demand" "$LABRUN/west/pluto.log" || fail "the TRAP did not start a negotiation"
S=$(story secret); echo "routing story of \"secret\" while negotiating: $S"
[ "$S" = "erouted HOLD" ] || fail "negotiating on demand: story '$S', not 'erouted HOLD'"
fell_back() { grep -q "failure shunt %pass installed" "$LABRUN/west/pluto.log"; }
echo "(east does not answer: pluto gives up after its retransmissions, about 70 s)"
wait_until 120 fell_back || fail "no failure shunt after the negotiation failed"
on west ip xfrm policy list dir out
[ "$(out_action west)" = allow ] && ! out_has_tmpl west || fail "after the failure the policy is not the %pass shunt"
S=$(story secret); echo "routing story of \"secret\": $S"
[ "$S" = "fail erouted" ] || fail "after the failure: story '$S', not 'fail erouted'"
N=$(pings 3); echo "pings answered through the failure shunt: ${N:-0} of 3"
[ "${N:-0}" -gt 0 ] || fail "the %pass failure shunt let no ping through"

hr; echo "== 4. --unroute leaves nothing"
whack west --unroute --name secret || fail "--unroute failed"
on west ip xfrm policy list dir out
[ "$(xfrm_count west policy)" = 0 ] || fail "$(xfrm_count west policy) policies left in west"
S=$(story secret); [ "$S" = unrouted ] || fail "after --unroute: story '$S'"
verdict "--pass allows, --drop blocks (and took the route from --pass), --failpass replaced the TRAP after a failed negotiation; stories matched the kernel"
