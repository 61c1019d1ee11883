#!/bin/bash
# lab/scenarios/kernel-refusal.sh: lab test.  The kernel refuses an algorithm pluto
# negotiated: 3DES is made unavailable in the guest (an `install ... /bin/false` line in
# /etc/modprobe.d for des_generic and des3_ede_x86_64, both unloaded; AES, SHA1, MD5 are
# built in, so 3DES is the one algorithm rswan's CLI can ask for that the kernel can be
# made to lack), and the connection asks for `--esp 3des-sha1`.  The kernel refusing it
# (checked first with `ip xfrm state add ... cbc(des3_ede)`) must be handled cleanly:
#   - whack --initiate must not report the IPsec SA as established;
#   - pluto logs the kernel's refusal and keeps running;
#   - no half-installed state: 3 s after the attempt neither kernel holds a policy or a
#     keyed SA of the connection, and after --terminate not even a larval SA;
# The guest's modprobe.d line is removed and 3DES loaded again at the end (even on failure).
#     lab/vm-run lab/scenarios/kernel-refusal.sh      (or lab/run-tests)
set -u
. "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/common.sh"

CONN=(--name secret --host 192.0.2.1 --client 10.1.0.0/24
      --to --host 192.0.2.2 --client 10.2.0.0/24 --encrypt --tunnel --pfs --psk
      --esp 3des-sha1)
NO3DES=/etc/modprobe.d/rswan-lab-no-3des.conf
DES_MODS="des3_ede_x86_64 des_generic"

loaded_des() { awk -v m=" $DES_MODS " 'index(m, " " $1 " ") { printf "%s ", $1 }' /proc/modules; }
unload_des() {
    local m; m=$(loaded_des)
    [ -z "$m" ] && return 0
    rmmod $m 2>/dev/null
    [ -z "$(loaded_des)" ]
}
on_finish() {
    rm -f "$NO3DES"
    modprobe -a des3_ede 2>/dev/null || echo "warning: modprobe des3_ede failed after the test"
}
# lib.sh's list without des3_ede
load_modules() {
    modprobe -a ${LAB_MODULES/des3_ede/} || die "modprobe failed"
    stack_modules
}
key() { echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
keyed_sas() { ip -n "$1" xfrm state | grep -cE '^[[:space:]]+(enc|auth|auth-trunc|aead|comp) '; }
report() {
    local ns
    for ns in west east; do
        echo "$ns: $(xfrm_count $ns state) SAs ($(keyed_sas $ns) keyed), $(xfrm_count $ns policy) policies"
    done
}

begin kernel-refusal
hr; echo "== make 3DES unavailable to the kernel"
show "printf 'install des_generic /bin/false\ninstall des3_ede_x86_64 /bin/false\n' > $NO3DES"
printf 'install des_generic /bin/false\ninstall des3_ede_x86_64 /bin/false\n' > "$NO3DES"
echo "3DES modules loaded now: $(loaded_des)"
[ -n "$(loaded_des)" ] && show rmmod $(loaded_des)
# (the SAs of earlier scenarios may take a moment to release the modules)
wait_until 15 unload_des || finish 1 "cannot unload $(loaded_des)(still in use)"
echo "3DES modules loaded now: none"
on west ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 reqid 1 mode tunnel \
    enc 'cbc(des3_ede)' "$(key 24)" auth-trunc 'hmac(sha1)' "$(key 20)" 96 \
    && finish 1 "the kernel still accepts cbc(des3_ede): cannot set up the refusal"
echo "ok: the kernel refuses cbc(des3_ede)"
[ "$(xfrm_count west state)" = 0 ] || finish 1 "ip xfrm left a state behind"

start_plutos
add_connection

hr; echo "== initiate from west: the kernel must refuse the 3DES SAs"
whack west --initiate --name secret > "$LABRUN/initiate.txt" 2>&1; RC=$?
cat "$LABRUN/initiate.txt"; echo "(whack --initiate exit status $RC)"
sleep 3
hr; report
dump_xfrm west east
hr; show_status

if [ "$RC" = 0 ] && grep -q 'IPsec SA established' "$LABRUN/initiate.txt"; then
    fail "whack --initiate reported the IPsec SA established (exit 0) although the kernel refused the SA"
fi
for ns in west east; do
    [ "$(xfrm_count $ns policy)" = 0 ] || fail "half-installed: $ns's kernel holds $(xfrm_count $ns policy) policies of the failed connection"
    [ "$(keyed_sas $ns)" = 0 ] || fail "half-installed: $ns's kernel holds keyed SAs of the failed connection"
    p=PLUTO_PID_$ns; kill -0 "${!p}" 2>/dev/null || fail "pluto in $ns died"
done
hr; echo "== what pluto logged"
grep -hiE 'error|refus|cannot|fail' "$LABRUN"/{west,east}/pluto.log | sed 's/^/   /'
grep -qiE 'cannot install|ERROR.*(SA|kernel)|kernel.*(refus|error)' "$LABRUN"/{west,east}/pluto.log \
    || fail "neither pluto logged the kernel's refusal"

hr; echo "== after --terminate no trace of the attempt may remain"
whack west --terminate --name secret
whack east --terminate --name secret
empty() { xfrm_empty west east; }
wait_until 10 empty || { report; dump_xfrm west east; fail "SAs or policies left after --terminate of the failed connection"; }
verdict "the kernel refused 3DES; pluto reported it and left no half-installed SA or policy"
