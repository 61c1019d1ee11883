#!/bin/sh
# make fuzz: every target under AFL++ for FUZZ_SECONDS (default 1800), all at
# once and niced, then one line per target from AFL's fuzzer_stats.
#   fuzz/run.sh [SECONDS] [TARGET...]
#   fuzz/run.sh --summary [TARGET...]    the table of the last run only
# Findings: fuzz/out/<target>/default/{crashes,hangs}/ (a new run moves the
# previous out/ to out.prev/).
set -eu
cd "$(dirname "$0")"
all="isakmp pfkey xfrm whack secrets engine-mm1 engine-encrypted"

stat() { sed -n "s/^$2 *: *//p" "out/$1/default/fuzzer_stats" 2>/dev/null; }
summary() {
    printf '%-17s %12s %9s %17s %8s %8s %6s %7s\n' target execs_done execs/s \
        edges_found/total bitmap crashes hangs run_s
    for t in "$@"; do
        printf '%-17s %12s %9s %17s %8s %8s %6s %7s\n' "$t" "$(stat "$t" execs_done)" \
            "$(stat "$t" execs_per_sec)" "$(stat "$t" edges_found)/$(stat "$t" total_edges)" \
            "$(stat "$t" bitmap_cvg)" "$(stat "$t" saved_crashes)" "$(stat "$t" saved_hangs)" \
            "$(stat "$t" run_time)"
    done
}

if [ "${1:-}" = --summary ]; then
    shift
    summary ${*:-$all}
    exit 0
fi
secs=${1:-1800}
[ $# -gt 0 ] && shift
targets=${*:-$all}

if ! command -v cargo-afl >/dev/null 2>&1; then
    cargo install cargo-afl --locked
fi
# Builds AFL++ for this toolchain once; says so and fails when already built.
cargo afl config --build >/dev/null 2>&1 || true
cargo afl build --release --locked

rm -rf out.prev
[ -d out ] && mv out out.prev
mkdir -p out
# Several instances share two cores: no CPU pinning, and no refusal over the
# host's core_pattern or CPU governor. An input takes milliseconds; the 5 s
# timeout only keeps a starved instance from calling that a hang.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 \
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_FORKSRV_INIT_TMOUT=60000
for t in $targets; do
    nice -n 10 cargo afl fuzz -i "corpus/$t" -o "out/$t" -V "$secs" -t 5000 \
        -- target/release/fuzz "$t" >"out/$t.log" 2>&1 &
done
wait

summary $targets
