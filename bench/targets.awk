# bench/targets.awk: issue 13's targets against this run, one line each with the value and
# "met" or "NOT met".  Input: results.txt (the bursts, see bench/table.awk) and the
# machine lines of bench/facts.sh (startup ..., size bytes=...).
#   awk -f targets.awk results.txt facts.txt
function v(k) { return cnt[k] ? sum[k] / cnt[k] : "" }
function line(what, val, ok, fmt) {
    if (val == "") { printf "  %-62s %10s  (not measured)\n", what, "-"; return }
    printf "  %-62s " fmt "  %s\n", what, val, ok ? "met" : "NOT met"
}
$1 == "size" { split($2, kv, "="); size = kv[2]; next }
$1 == "native" || $1 == "vm" {
    delete f
    for (i = 4; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    k = $1 SUBSEP $2; seen[k] = 1
    if ($1 == "native" && $2 ~ /^rswan/) rs[$2] = 1
    if (f["ok"] > 0) {
        sum[k, "cpu"] += f["cpu"] / f["ok"]; cnt[k, "cpu"]++
        sum[k, "sa"] += (f["rss_sas"] - f["rss_idle"]) / f["ok"]; cnt[k, "sa"]++
    }
    if (f["ok"] == f["n"]) { sum[k, "wall"] += f["wall"]; cnt[k, "wall"]++ }
    sum[k, "idle"] += f["rss_idle"]; cnt[k, "idle"]++
    drops[k] += f["drops"]; re[k] += f["retrans"]; failed[k] += f["n"] - f["ok"]
}
END {
    print "issue 13 targets (this run):"
    c = v("native" SUBSEP "charon" SUBSEP "cpu"); w = v("native" SUBSEP "charon" SUBSEP "wall")
    for (r in rs) {
        k = "native" SUBSEP r
        x = (c && v(k SUBSEP "cpu") != "") ? v(k SUBSEP "cpu") / c : ""
        line("native CPU per negotiation " r " / charon <= 0.5", x, x <= 0.5, "%10.2f")
        x = (w && v(k SUBSEP "wall") != "") ? v(k SUBSEP "wall") / w : ""
        line("native burst wall time " r " / charon <= 0.8", x, x <= 0.8, "%10.2f")
        line("native receive-buffer drops " r ", all bursts = 0", drops[k], drops[k] == 0, "%10d")
        line("native initiator retransmissions " r ", all bursts = 0", re[k], re[k] == 0, "%10d")
        line("native failed negotiations " r " = 0", failed[k], failed[k] == 0, "%10d")
        x = v(k SUBSEP "sa"); line("RSS per IKE+IPsec SA pair " r " <= 4 KB", x, x <= 4, "%10.1f")
        x = v(k SUBSEP "idle"); line("idle RSS " r " <= 2 MB (2048 KB)", x, x <= 2048, "%10.0f")
    }
    if (("vm" SUBSEP "rswan") in seen)
        for (j = split("libreswan strongswan", ref, " "); j > 0; j--) {
            c = v("vm" SUBSEP ref[j] SUBSEP "cpu"); x = v("vm" SUBSEP "rswan" SUBSEP "cpu")
            line("lab VM CPU per negotiation rswan / " ref[j] " <= 0.5", (c && x != "") ? x / c : "", x / c <= 0.5, "%10.2f")
        }
    line("stripped static binary <= 2097152 bytes", size, size <= 2097152, "%10d")
}
