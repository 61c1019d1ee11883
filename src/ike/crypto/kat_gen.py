#!/usr/bin/env python3
"""Independent known answers for the RFC 2409 key schedule in keys.rs.

Uses only hashlib/hmac from the Python standard library, written straight from
RFC 2409 §5, §5.5, §5.7 and Appendix B, not from the Rust code. Prints Rust
`const` lines that are pasted into tests.rs (module `kat`). Run:

    python3 src/ike/crypto/kat_gen.py

The inputs are simple byte patterns, pat(len, mul, add)[i] = (i*mul + add) & 0xff,
rebuilt by the same helper in tests.rs.
"""
import hashlib
import hmac

H = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256}


def pat(n, mul, add):
    return bytes((i * mul + add) & 0xFF for i in range(n))


def prf(alg, key, *parts):
    return hmac.new(key, b"".join(parts), H[alg]).digest()


def hsh(alg, *parts):
    return H[alg](b"".join(parts)).digest()


def expand(alg, skeyid_e, key_len):
    # RFC 2409 Appendix B.
    if len(skeyid_e) >= key_len:
        return skeyid_e[:key_len]
    out = b""
    k = prf(alg, skeyid_e, b"\x00")
    while True:
        out += k
        if len(out) >= key_len:
            return out[:key_len]
        k = prf(alg, skeyid_e, k)


def derive(alg, skeyid, gxy, cky_i, cky_r, key_len):
    d = prf(alg, skeyid, gxy, cky_i, cky_r, b"\x00")
    a = prf(alg, skeyid, d, gxy, cky_i, cky_r, b"\x01")
    e = prf(alg, skeyid, a, gxy, cky_i, cky_r, b"\x02")
    return d, a, e, expand(alg, e, key_len)


def keymat(alg, skeyid_d, gqm, protocol, spi, ni, nr, n):
    seed = gqm + bytes([protocol]) + spi + ni + nr
    out = b""
    k = b""
    while len(out) < n:
        k = prf(alg, skeyid_d, k + seed)
        out += k
    return out[:n]


def be32(v):
    return v.to_bytes(4, "big")


# Fixed inputs (mirrored in tests.rs).
PSK = b"rswan kat pre-shared key"
NI = pat(16, 3, 1)
NR = pat(24, 5, 2)
GXY = pat(128, 7, 3)
CKY_I = pat(8, 11, 4)
CKY_R = pat(8, 13, 5)
GXI = pat(128, 17, 6)
GXR = pat(128, 19, 7)
SAI_B = pat(52, 23, 8)
IDII_B = pat(12, 29, 9)
IDIR_B = pat(12, 31, 10)
LAST8 = pat(8, 37, 11)
LAST16 = pat(16, 41, 12)
MSGID = 0xDEADBEEF  # top bit set: catches sign/endianness mistakes
REST = pat(100, 43, 13)
GQM = pat(128, 47, 14)
SPI = pat(4, 53, 15)
PROTO_ESP = 3

lines = []


def out(name, b):
    lines.append('pub const %s: &str = "%s";' % (name, b.hex()))


# Scenario A: MD5 PRF, 3DES (SKEYID_e 16 bytes < 24: Appendix B expansion).
sk = prf("md5", PSK, NI, NR)
out("MD5_SKEYID", sk)
d, a, e, k = derive("md5", sk, GXY, CKY_I, CKY_R, 24)
out("MD5_SKEYID_D", d)
out("MD5_SKEYID_A", a)
out("MD5_SKEYID_E", e)
out("MD5_3DES_KEY", k)
out("MD5_IV1_3DES", hsh("md5", GXI, GXR)[:8])
out("MD5_IV2_3DES", hsh("md5", LAST8, be32(MSGID))[:8])
out("MD5_KEYMAT_44", keymat("md5", d, b"", PROTO_ESP, SPI, NI, NR, 44))

# Scenario B: SHA1 PRF, AES-256 (SKEYID_e 20 bytes < 32: expansion).
sk = prf("sha1", PSK, NI, NR)
out("SHA1_SKEYID", sk)
d, a, e, k = derive("sha1", sk, GXY, CKY_I, CKY_R, 32)
out("SHA1_SKEYID_D", d)
out("SHA1_SKEYID_A", a)
out("SHA1_SKEYID_E", e)
out("SHA1_AES256_KEY", k)
# Same SKEYID_e, AES-128: 16 <= 20, leftmost bytes, no expansion.
out("SHA1_AES128_KEY", expand("sha1", e, 16))
out("SHA1_IV1_AES", hsh("sha1", GXI, GXR)[:16])
out("SHA1_IV2_AES", hsh("sha1", LAST16, be32(MSGID))[:16])
out("SHA1_HASH_I", prf("sha1", sk, GXI, GXR, CKY_I, CKY_R, SAI_B, IDII_B))
out("SHA1_HASH_R", prf("sha1", sk, GXR, GXI, CKY_R, CKY_I, SAI_B, IDIR_B))
out("SHA1_QM_HASH1", prf("sha1", a, be32(MSGID), REST))
out("SHA1_QM_HASH2", prf("sha1", a, be32(MSGID), NI, REST))
out("SHA1_QM_HASH3", prf("sha1", a, b"\x00", be32(MSGID), NI, NR))
out("SHA1_INFO_HASH", prf("sha1", a, be32(MSGID), REST))
out("SHA1_KEYMAT_72", keymat("sha1", d, b"", PROTO_ESP, SPI, NI, NR, 72))
out("SHA1_KEYMAT_72_PFS", keymat("sha1", d, GQM, PROTO_ESP, SPI, NI, NR, 72))

# Scenario C: SHA-256 PRF, signature-style SKEYID, AES-256 (32 == 32: no expansion).
sk = prf("sha256", NI + NR, GXY)
out("SHA256_SKEYID_SIG", sk)
d, a, e, k = derive("sha256", sk, GXY, CKY_I, CKY_R, 32)
out("SHA256_SKEYID_E", e)
out("SHA256_AES256_KEY", k)
out("SHA256_KEYMAT_100_PFS", keymat("sha256", d, GQM, PROTO_ESP, SPI, NI, NR, 100))

print("\n".join(lines))
