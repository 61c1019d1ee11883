# bench/table.awk: the responder table of `make bench`, from the lines bench/native.sh and
# bench/vm-guest.sh write:   SECTION RESPONDER ROUND n=N ok=.. wall=.. cpu=.. drops=..
#                             retrans=.. rss_idle=KB rss_sas=KB rss_last=KB
# Per section and responder: mean (min-max) over the rounds of
#   cpu ms/neg   the responder's CPU (user+system, all threads) / negotiations established
#   wall s       first initiation to last CHILD_SA up, the burst (initiator's clock)
#   drops        UDP receive-buffer drops (RcvbufErrors) in the responder's namespace, per burst
#   retrans      the initiator's retransmissions, per burst
#   failed       negotiations not established within the limit, all rounds together
#   idle MB      the responder's RSS before the burst;  KB/SA  RSS growth per IKE+IPsec SA
#                pair with all of them held, once settled (bench/lib.sh: BENCH_SETTLE);
#                @last  the same at the moment the last was established
# and the ratios of cpu and wall to the reference responders named in REFS that ran in
# the same section (x charon, x libreswan).   awk -v REFS="charon libreswan" -f table.awk
function add(key, v) {
    sum[key] += v; cnt[key]++
    if (!(key in lo) || v < lo[key]) lo[key] = v
    if (!(key in hi) || v > hi[key]) hi[key] = v
}
function mean(key) { return cnt[key] ? sum[key] / cnt[key] : 0 }
function mmm(key, fmt) {
    return cnt[key] ? sprintf(fmt " (" fmt "-" fmt ")", mean(key), lo[key], hi[key]) : "-"
}
{
    sec = $1; resp = $2
    if (!((sec, resp) in seen)) {
        seen[sec, resp] = 1; order[sec] = order[sec] " " resp
        if (!(sec in secseen)) { secseen[sec] = 1; secs[++nsec] = sec }
    }
    delete f
    for (i = 4; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    k = sec SUBSEP resp
    rounds[k]++
    failed[k] += f["n"] - f["ok"]
    n[k] = f["n"]
    if (f["ok"] > 0) {
        add(k SUBSEP "cpu", 1000 * f["cpu"] / f["ok"])
        add(k SUBSEP "rsa", (f["rss_sas"] - f["rss_idle"]) / f["ok"])
        if ("rss_last" in f) add(k SUBSEP "rsl", (f["rss_last"] - f["rss_idle"]) / f["ok"])
    }
    if (f["ok"] == f["n"]) add(k SUBSEP "wall", f["wall"])
    add(k SUBSEP "drops", f["drops"]); add(k SUBSEP "re", f["retrans"])
    add(k SUBSEP "idle", f["rss_idle"] / 1024)
}
END {
    nref = split(REFS, refs, " ")
    for (s = 1; s <= nsec; s++) {
        sec = secs[s]; nr = split(order[sec], rs, " ")
        printf "\n%s: responder CPU and burst time, %d negotiations per burst (MM+QM, PSK, 3DES-SHA1-MODP1536, PFS)\n", sec, n[sec, rs[1]]
        printf "%-10s %6s %24s %24s %9s %9s %6s %8s %7s %7s", "responder", "rounds", "cpu ms/neg mean (min-max)", "wall s mean (min-max)", "drops", "retrans", "failed", "idle MB", "KB/SA", "@last"
        for (j = 1; j <= nref; j++) if ((sec, refs[j]) in seen) printf "  %-18s", "cpu, wall x " refs[j]
        printf "\n"
        for (i = 1; i <= nr; i++) {
            k = sec SUBSEP rs[i]
            printf "%-10s %6d %24s %24s %9.1f %9.1f %6d %8.1f %7.1f %7s", rs[i], rounds[k], mmm(k SUBSEP "cpu", "%.3f"),
                mmm(k SUBSEP "wall", "%.2f"), mean(k SUBSEP "drops"), mean(k SUBSEP "re"), failed[k],
                mean(k SUBSEP "idle"), mean(k SUBSEP "rsa"),
                cnt[k SUBSEP "rsl"] ? sprintf("%.1f", mean(k SUBSEP "rsl")) : "-"
            for (j = 1; j <= nref; j++) {
                if (!((sec, refs[j]) in seen)) continue
                r = sec SUBSEP refs[j]
                c = mean(r SUBSEP "cpu") ? sprintf("%.2f", mean(k SUBSEP "cpu") / mean(r SUBSEP "cpu")) : "-"
                w = mean(r SUBSEP "wall") && cnt[k SUBSEP "wall"] ? sprintf("%.2f", mean(k SUBSEP "wall") / mean(r SUBSEP "wall")) : "-"
                printf "  %-18s", c ", " w
            }
            printf "\n"
        }
    }
}
