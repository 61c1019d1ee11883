#!/usr/bin/env python3
"""Independent known answers for the IKEv1 RSA signature in rsa.rs.

Python 3 standard library only, written from PKCS#1 v1.5 (RFC 8017 §9.2 with
the DigestInfo left out, as IKEv1 does: spec §4.9), not from the Rust code.
Prints Rust `const` lines that are pasted into rsa.rs (module `tests::kat`).
Run:

    python3 src/ike/crypto/rsa_kat.py

The two 512-bit primes are found deterministically: the first prime at or
above a SHA-512-derived odd start with the top two bits set and p mod e != 1.
"""
import hashlib

E = 65537


def is_prime(n):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    # Deterministic-enough fixed bases for a known answer (not key generation).
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime_from(label):
    start = int.from_bytes(hashlib.sha512(label).digest(), "big")
    start |= 3 << 510
    start |= 1
    p = start
    while not (is_prime(p) and p % E != 1):
        p += 2
    assert p.bit_length() == 512
    return p


def main():
    p = prime_from(b"rswan rsa kat p")
    q = prime_from(b"rswan rsa kat q")
    if p < q:
        p, q = q, p
    n = p * q
    lam = (p - 1) * (q - 1) // __import__("math").gcd(p - 1, q - 1)
    d = pow(E, -1, lam)
    dp, dq, qinv = d % (p - 1), d % (q - 1), pow(q, -1, p)
    k = (n.bit_length() + 7) // 8
    h = hashlib.sha1(b"rswan IKEv1 RSA known answer").digest()
    em = b"\x00\x01" + b"\xff" * (k - 3 - len(h)) + b"\x00" + h
    s = pow(int.from_bytes(em, "big"), d, n)
    assert pow(s, E, n) == int.from_bytes(em, "big")
    hm = hashlib.md5(b"rswan IKEv1 RSA known answer").digest()
    emm = b"\x00\x01" + b"\xff" * (k - 3 - len(hm)) + b"\x00" + hm
    sm = pow(int.from_bytes(emm, "big"), d, n)

    def c(name, v):
        print('pub const %s: &str = "%x";' % (name, v))

    c("P", p)
    c("Q", q)
    c("N", n)
    c("D", d)
    c("DP", dp)
    c("DQ", dq)
    c("QINV", qinv)
    print('pub const HASH_SHA1: &str = "%s";' % h.hex())
    print('pub const SIG_SHA1: &str = "%s";' % s.to_bytes(k, "big").hex())
    print('pub const HASH_MD5: &str = "%s";' % hm.hex())
    print('pub const SIG_MD5: &str = "%s";' % sm.to_bytes(k, "big").hex())


main()
