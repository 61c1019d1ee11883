# lab/interop/conf.sh: the "conf" cells (sourced by common.sh when ROLE is conf).  rswan is
# configured the Openswan way: $LABRUN/west/ipsec.conf (the conn text of shared_conn under a
# `config setup`) and ipsec.secrets, found through IPSEC_CONFS; `ipsec setup start` starts
# pluto and loads the conn, `ipsec auto --up` / `--down` bring it up and down, `ipsec setup
# stop` ends it (and must leave west's kernel, /var/run and the process table clean).
# The peer reads the very same conn text (shared_conn) with only the keys it needs besides.
# rswan's /run is its own (a bind mount of $LABRUN/west/run in a mount namespace made for
# each ipsec command), so pluto uses its default /var/run/pluto.ctl and pluto.pid;
# $LABRUN/west/pluto.ctl links to the socket for the whack calls of common.sh.

# shared_conn: the conn both sides read; PSK, the cell's IKE/ESP/PFS
shared_conn() {
    cat <<EOC
conn $CONN
	left=192.0.2.1
	leftsubnet=10.1.0.0/24
	right=192.0.2.2
	rightsubnet=10.2.0.0/24
	authby=secret
	type=tunnel
	ike=$IKE
	esp=$ESP
	pfs=$([ "$PFS" = pfs ] && echo yes || echo no)
	auto=add
EOC
}

# rgw ARGS...: `ipsec ARGS...` as west: its netns, IPSEC_CONFS, its own /run
rgw() {
    show "[west]" IPSEC_CONFS="$LABRUN/west" ipsec "$@"
    ip netns exec west env IPSEC_CONFS="$LABRUN/west" \
        unshare -m sh -c 'mount --bind "$0" /run && exec "$@"' "$LABRUN/west/run" \
        timeout "$WHACK_TIMEOUT" "$IPSEC" "$@"
}

rswan_start() {
    local d=$LABRUN/west
    mkdir -p "$d/run"
    [ "$AUTH" = psk ] || { echo "conf cells use a pre-shared key"; return 1; }
    echo "192.0.2.1 192.0.2.2 : PSK \"$PSK\"" > "$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"
    { printf 'version 2.0\n\nconfig setup\n\tplutostderrlog=%s\n\n' "$d/pluto.log"; shared_conn; } > "$d/ipsec.conf"
    echo "== $d/ipsec.conf (rswan):"; sed 's/^/   /' "$d/ipsec.conf"
    rgw setup start || return 1
    ln -sfn "$d/run/pluto.ctl" "$d/pluto.ctl"
    RSWAN_PID=$(tr -dc 0-9 < "$d/run/pluto.pid")
    [ -n "$RSWAN_PID" ] && kill -0 "$RSWAN_PID" || { echo "no pluto after ipsec setup start"; return 1; }
    echo "pluto started by ipsec setup start: pid $RSWAN_PID"
    rgw auto --status | grep -F "\"$CONN\"" || { echo "ipsec setup start did not add \"$CONN\""; return 1; }
}

rswan_up()   { rgw auto --up "$CONN"; }
rswan_down() { rgw auto --down "$CONN"; }

rswan_stop() {
    [ -n "${RSWAN_PID:-}" ] && kill -0 "$RSWAN_PID" 2>/dev/null || return 0
    rgw setup stop
    local i
    for i in $(seq 50); do kill -0 "$RSWAN_PID" 2>/dev/null || return 0; sleep 0.1; done
    echo "rswan pluto still running 5 s after ipsec setup stop"; kill "$RSWAN_PID" 2>/dev/null
}

# rswan_stop_check: `ipsec setup stop` leaves no pluto, socket, lock, SA or policy in west
rswan_stop_check() {
    hr; echo "== ipsec setup stop (west)"
    rgw setup stop
    local left="" i
    for i in $(seq 50); do kill -0 "$RSWAN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$RSWAN_PID" 2>/dev/null && left+="pluto (pid $RSWAN_PID); "
    [ -e "$LABRUN/west/run/pluto.ctl" ] && left+="/var/run/pluto.ctl; "
    [ -e "$LABRUN/west/run/pluto.pid" ] && left+="/var/run/pluto.pid; "
    [ "$(ip -n west xfrm state | grep -c '^src ')" = 0 ] || left+="SAs in west's kernel; "
    [ "$(ip -n west xfrm policy | grep -c '^src ')" = 0 ] || left+="policies in west's kernel; "
    on west ip xfrm state; on west ip xfrm policy
    if [ -z "$left" ]; then step_result setup-stop ok
    else step_result setup-stop FAIL "left after ipsec setup stop: ${left%; }"; fi
}
