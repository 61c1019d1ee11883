#!/bin/bash
# lab/scenarios/expire.sh: lab test.  The kernel's SADB_EXPIRE reaches pluto:
#   1. west's outbound ESP SA is given a 3 s soft lifetime behind pluto's back (`ip xfrm
#      state update` with the same keys): the kernel's soft EXPIRE makes west replace the
#      IPsec SA at once (a second "IPsec SA established"), long before its own timer;
#   2. the new outbound SA gets a hard packet limit it has passed, and a packet: the
#      kernel deletes it and says so,
#      west deletes the IPsec state and tells east (east logs the Delete), and no SA of
#      that negotiation is left in either kernel;
#   3. the SPI west reserved (GETSPI) for a new IPsec SA expires before QR1 is handled
#      (net.core.xfrm_acq_expires 3 s in west, QR1 delayed 1.5 s by netem, west's pluto
#      stopped for 6 s as a busy one would be): west adds the SA whole under that SPI,
#      and the kernel's hard EXPIRE of the reserved SPI, which west reads after the
#      answers, does not delete the new SA; a ping crosses.  west runs --nhelpers 0 so
#      that QR1's computation and the install happen before the kernel's news is read,
#      as on a road warrior.
#     lab/vm-run lab/scenarios/expire.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --psk --esp aes128-sha1)

# out_spi [NOT]: the SPI of a west outbound ESP SA other than NOT
out_spi() {
    ip -n west xfrm state list src 192.0.2.1 dst 192.0.2.2 proto esp \
        | sed -n 's/.*proto esp spi \(0x[0-9a-f]*\).*/\1/p' | grep -vx "${1:-none}" | head -1
}
# limit_out SPI limit WHAT SECONDS...: re-install west's outbound SA SPI with its own keys
# and these limits
limit_out() {
    local spi=$1 st reqid auth akey alen enc ekey; shift
    st=$(ip -n west xfrm state get src 192.0.2.1 dst 192.0.2.2 proto esp spi "$spi") || return 1
    reqid=$(sed -n 's/.* reqid \([0-9]*\).*/\1/p' <<< "$st" | head -1)
    read -r _ auth akey alen < <(grep -E '^\s+auth-trunc ' <<< "$st")
    read -r _ enc ekey < <(grep -E '^\s+enc ' <<< "$st")
    run ip -n west xfrm state update src 192.0.2.1 dst 192.0.2.2 proto esp spi "$spi" reqid "$reqid" \
        mode tunnel auth-trunc "$auth" "$akey" "$alen" enc "$enc" "$ekey" "$@"
}
established_count() { grep -c "IPsec SA established" "$LABRUN/west/pluto.log"; }
pluto_opts_for() { [ "$1" = west ] && echo --nhelpers 0; }
on_finish() { tc -n east qdisc del dev e0 root 2>/dev/null; true; }

begin expire
start_plutos
add_connection
initiate
# East installs its outbound SA when QI2 arrives, after west's whack has returned:
# on a loaded host that can take longer than the ping's two seconds.
for _ in $(seq 50); do
    grep -q "IPsec SA established" "$LABRUN/east/pluto.log" && break
    sleep 0.2
done
on west ping -c 2 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null || fail "no ping across the first SA"

hr; echo "== 1. soft EXPIRE from the kernel: west replaces the SA now"
SPI1=$(out_spi); echo "west's outbound SA: $SPI1"
[ -n "$SPI1" ] || finish 1 "no outbound ESP SA in west"
limit_out "$SPI1" limit time-soft 3 limit time-hard 3600 || finish 1 "could not give the SA a soft lifetime"
two() { [ "$(established_count)" -ge 2 ]; }
wait_until 30 two || fail "no replacement IPsec SA within 30 s of the soft expiry"
grep "soft lifetime" "$LABRUN/west/pluto.log" | sed 's/^/   /'
grep -q "soft lifetime of ESP SA $SPI1" "$LABRUN/west/pluto.log" \
    || fail "pluto did not log the kernel's soft EXPIRE of $SPI1"
SPI2=$(out_spi "$SPI1"); echo "west's new outbound SA: $SPI2"
[ -n "$SPI2" ] && [ "$SPI2" != "$SPI1" ] || fail "no new outbound SA after the replacement"
on west ping -c 2 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null || fail "no ping across the replacement SA"

hr; echo "== 2. hard EXPIRE from the kernel: the state goes, east is told"
# A hard packet limit the SA has already passed, and one more packet: a hard time
# limit would not do here, because the kernel's timer defers a passed hard time of an
# SA whose soft time (pluto sets one) was still pending (XFRM_SOFT_EXPIRE), forever.
limit_out "$SPI2" limit packet-hard 1 || finish 1 "could not give the SA a hard lifetime"
on west ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1
gone() { grep -q "the kernel ended ESP SA $SPI2" "$LABRUN/west/pluto.log"; }
wait_until 30 gone || fail "pluto did not log the kernel's hard EXPIRE of $SPI2"
grep "hard lifetime" "$LABRUN/west/pluto.log" | sed 's/^/   /'
told() { grep -q "received Delete SA" "$LABRUN/east/pluto.log"; }
wait_until 10 told || fail "east heard no Delete for the expired SA"
show_status
for ns in west east; do
    ip -n $ns xfrm state list | grep -q "spi $SPI2" && fail "$ns still holds SA $SPI2"
done
hr; echo "== 3. the SPI reserved for a new SA expires before QR1 is handled"
run ip netns exec west sysctl -w net.core.xfrm_acq_expires=3 || finish 1 "cannot set xfrm_acq_expires in west"
run tc -n east qdisc add dev e0 root netem delay 1500ms || finish 1 "cannot delay east's packets (sch_netem)"
N=$(established_count)
# West's SPI is reserved before QI1 goes out: once east answers QI1, QR1 is 1.5 s away.
R=$(grep -c "responding to Quick Mode" "$LABRUN/east/pluto.log")
whack west --initiate --name secret --asynchronous
qi1() { [ "$(grep -c "responding to Quick Mode" "$LABRUN/east/pluto.log")" -gt "$R" ]; }
wait_until 10 qi1 || finish 1 "east got no QI1"
kill -STOP "$PLUTO_PID_west"
log "west's pluto stopped: QR1 is on its way, the reserved SPI expires within 3 s"
sleep 6
kill -CONT "$PLUTO_PID_west"
three() { [ "$(established_count)" -gt "$N" ]; }
wait_until 30 three || fail "no IPsec SA after the reserved SPI expired"
sleep 2
grep -E "expired before its keys came|reserved SPI|the kernel ended" "$LABRUN/west/pluto.log" | sed 's/^/   /'
grep -q "expired before its keys came" "$LABRUN/west/pluto.log" \
    || fail "west did not log that the reserved SPI had expired (the case was not exercised)"
LAST=$(grep "IPsec SA established" "$LABRUN/west/pluto.log" | tail -n 1)
SPI3=$(sed -n 's/.*<\(0x[0-9a-f]*\).*/\1/p' <<< "$LAST")
S3=$(sed -n 's/^"secret" #\([0-9]*\):.*/\1/p' <<< "$LAST")
echo "west's new IPsec state: #$S3, inbound SA $SPI3"
grep -q "the kernel ended ESP SA $SPI3" "$LABRUN/west/pluto.log" \
    && fail "the reserved SPI's EXPIRE deleted the SA added in its place"
ip -n west xfrm state list | grep -q "spi $SPI3" || fail "west's kernel has no SA $SPI3"
whack west --status | grep -q "^000 #$S3: .*STATE_QUICK_I2" || fail "west's IPsec state #$S3 is gone"
on west ping -c 1 -W 5 -I 10.1.0.1 10.2.0.1 > /dev/null || fail "no ping across the SA added whole"
run tc -n east qdisc del dev e0 root
verdict "a kernel soft EXPIRE made west replace its SA ($SPI1 -> $SPI2), a hard EXPIRE removed the state and east's half, an expired reserved SPI was added whole ($SPI3)"
