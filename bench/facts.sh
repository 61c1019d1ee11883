#!/bin/bash
# bench/facts.sh: what `make bench` reports besides the bursts.  First the lines
# bench/targets.awk reads:
#   startup ms_mean=.. ms_min=.. ms_max=.. rss_kb=..   (bench/startup.sh)
#   size bytes=..                                      (target/ipsec as make builds it)
# then, after a line "facts:", the same for people, and which private-exponent length each
# implementation uses for MODP1536 (the cost of a modexp grows with it: read the CPU
# columns with it in mind).  Needs IPSEC, BENCH_DIR.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/rswan-bench}

st=$("$HERE/startup.sh"); echo "$st"
size=$(stat -c %s "$IPSEC"); echo "size bytes=$size"

# rswan: the exponent length in src/ike/crypto/dh.rs's table
rs=$(awk -F'|' '$2 ~ /MODP1536/ { gsub(/[^0-9]/, "", $4); print $4 }' "$REPO/src/ike/crypto/dh.rs")
# strongSwan: ask this host's OpenSSL with the openssl plugin's calls
p=$(awk '/const MODP1536_HEX/ { on = 1; next } on { s = s $0; if (/";/) exit }
         END { gsub(/[^0-9A-Fa-f]/, "", s); print s }' "$REPO/src/ike/crypto/dh.rs")
ss="not measured (gcc or libssl-dev missing)"
if gcc -O1 -o "$BENCH_DIR/dh-exponent" "$HERE/dh-exponent.c" -lcrypto 2> "$BENCH_DIR/dh-exponent.log"; then
    ss=$("$BENCH_DIR/dh-exponent" "$p" | awk '{ print ($1 == $2) ? $1 : $1 "-" $2 }')" bits"
fi

echo "facts:"
echo "  binary: target/ipsec (static, stripped) $size bytes; the target is <= 2097152 (2 MiB)"
echo "$st" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    printf "  startup: pluto --noklips until whack --status answers: %s ms mean (%s-%s), RSS then %d KB\n",
           f["ms_mean"], f["ms_min"], f["ms_max"], f["rss_kb"] }'
echo "  DH private exponent for MODP1536 (each modexp costs in proportion to it):"
echo "    rswan       ${rs:-?} bits: short exponents, src/ike/crypto/dh.rs (RFC 3526 section 8)"
echo "    strongSwan  $ss: its openssl plugin (dh_exponent_ansi_x9_42 = yes, the default) leaves"
echo "                the length to OpenSSL, and OpenSSL 3 ($(openssl version | cut -d' ' -f2)) gives the RFC 3526"
echo "                group its named-group length (measured with the plugin's calls, bench/dh-exponent.c);"
echo "                full length (1535 bits) only with the gmp plugin first, or OpenSSL 1.1"
echo "    libreswan   160 bits: NSS freebl's dh_GetSecretKeyLen for primes under 2048 bits (from the"
echo "                NSS source, not measured)"
