//! Hand-computed Linux PF_KEY messages (little-endian host).
//!
//! Layouts from `<linux/pfkeyv2.h>`: `sadb_msg` 16 bytes, `sadb_sa` 16,
//! `sadb_lifetime` 32, `sadb_address` 8 + `sockaddr_in` 16 = 24, `sadb_key`
//! 8 + key padded to 8, `sadb_spirange` 16, `sadb_x_sa2` 16, `sadb_x_policy`
//! 16, `sadb_x_ipsecrequest` 16 (+ two sockaddrs in tunnel mode). Lengths
//! are in 64-bit words except `sadb_x_ipsecrequest_len` (bytes). The SPI and
//! the sockaddr port/address are big-endian, everything else host order.
//! Offsets below are from the start of the message.

/// `getspi(ESP, src 192.0.2.2, dst 192.0.2.1, 0x100, 0x0fffffff, seq 1, pid 1234)`:
/// 16 + 24 + 24 + 16 = 80 bytes = 10 words.
pub const GETSPI: &str = "
    02 01 00 03 0a00 0000 01000000 d2040000
    0300 0500 ff 20 0000  0200 0000 c0000202 0000000000000000
    0300 0600 ff 20 0000  0200 0000 c0000201 0000000000000000
    0200 1000 00010000 ffffff0f 00000000
";
// @0   sadb_msg: version 2, type GETSPI 1, errno 0, satype ESP 3, len 10,
//      reserved 0, seq 1, pid 1234 = 0x04d2.
// @16  ADDRESS_SRC: len 3, type 5, proto IPSEC_ULPROTO_ANY 255, prefixlen 32,
//      reserved; @24 sockaddr_in: family AF_INET 2 (host order), port 0 (BE),
//      192.0.2.2, 8 zero bytes.
// @40  ADDRESS_DST: same layout, type 6, 192.0.2.1.
// @64  SPIRANGE: len 2, type 16, min 0x100, max 0x0fffffff (host order), reserved.

/// `add_sa(ESP spi 0x12345678 192.0.2.1 -> 192.0.2.2, tunnel, reqid 16,
/// HMAC-SHA1 key 01..14, 3DES key 21..38, replay 32, soft 2700 s,
/// hard 3600 s, seq 2, pid 1234)`: 224 bytes = 28 words.
pub const ADD_ESP: &str = "
    02 03 00 03 1c00 0000 02000000 d2040000
    0200 0100 12345678 20 01 03 03 00000000
    0400 0300 00000000 0000000000000000 100e000000000000 0000000000000000
    0400 0400 00000000 0000000000000000 8c0a000000000000 0000000000000000
    0300 0500 ff 20 0000  0200 0000 c0000201 0000000000000000
    0300 0600 ff 20 0000  0200 0000 c0000202 0000000000000000
    0400 0800 a000 0000 0102030405060708090a0b0c0d0e0f1011121314 00000000
    0400 0900 c000 0000 2122232425262728292a2b2c2d2e2f303132333435363738
    0200 1300 02 00 0000 00000000 10000000
";
// @0   sadb_msg: type ADD 3, satype ESP 3, len 28, seq 2, pid 1234.
// @16  SA: len 2, type 1, spi 0x12345678 (BE), replay 32, state MATURE 1,
//      auth SADB_AALG_SHA1HMAC 3, encrypt SADB_EALG_3DESCBC 3, flags 0.
// @32  LIFETIME_HARD: len 4, type 3, allocations 0 @36, bytes 0 @40,
//      addtime 3600 = 0x0e10 @48, usetime 0 @56.
// @64  LIFETIME_SOFT: len 4, type 4, addtime 2700 = 0x0a8c @80.
// @96  ADDRESS_SRC 192.0.2.1, @120 ADDRESS_DST 192.0.2.2 (as in GETSPI).
// @144 KEY_AUTH: len 4 (8 + 20 key bytes padded to 24), type 8, bits 160 =
//      0xa0, reserved; key @152..172, 4 zero bytes of padding @172.
// @176 KEY_ENCRYPT: len 4 (8 + 24), type 9, bits 192 = 0xc0; key @184..208.
// @208 X_SA2: len 2, type 19, mode IPSEC_MODE_TUNNEL 2, reserved1,
//      reserved2, sequence 0 @212, reqid 16 @216.

/// `spd_add(out, 10.1.0.0/16 -> 10.2.0.0/16, priority 0x1e000, ESP tunnel
/// 192.0.2.1 -> 192.0.2.2, reqid 16, level unique, seq 3, pid 1234)`:
/// 16 + 24 + 24 + 64 = 128 bytes = 16 words.
pub const SPDADD_TUNNEL: &str = "
    02 0e 00 00 1000 0000 03000000 d2040000
    0300 0500 ff 10 0000  0200 0000 0a010000 0000000000000000
    0300 0600 ff 10 0000  0200 0000 0a020000 0000000000000000
    0800 1200 0200 02 00 00000000 00e00100
      3000 3200 02 03 0000 10000000 00000000
        0200 0000 c0000201 0000000000000000
        0200 0000 c0000202 0000000000000000
";
// @0   sadb_msg: type SADB_X_SPDADD 14, satype UNSPEC 0, len 16, seq 3.
// @16  ADDRESS_SRC: proto any 255, prefixlen 16, sockaddr_in 10.1.0.0 port 0.
// @40  ADDRESS_DST: prefixlen 16, 10.2.0.0.
// @64  X_POLICY: len 8 (16 + 48), type 18, policy type IPSEC_POLICY_IPSEC 2,
//      dir IPSEC_DIR_OUTBOUND 2, reserved, id 0 @72, priority 0x1e000 @76
//      (0x20000 - 256 * (16 + 16)).
// @80  ipsecrequest: len 48 BYTES (16 + 2 * sockaddr_in), proto IPPROTO_ESP
//      50 = 0x32, mode IPSEC_MODE_TUNNEL 2, level IPSEC_LEVEL_UNIQUE 3,
//      reserved1, reqid 16 @88, reserved2 @92;
// @96  tunnel source sockaddr_in 192.0.2.1, @112 destination 192.0.2.2.

/// `delete_sa(ESP, 0x12345678, 192.0.2.1, 192.0.2.2, seq 4, pid 1234)`:
/// 16 + 16 + 24 + 24 = 80 bytes = 10 words.
pub const DELETE: &str = "
    02 04 00 03 0a00 0000 04000000 d2040000
    0200 0100 12345678 00 00 00 00 00000000
    0300 0500 ff 20 0000  0200 0000 c0000201 0000000000000000
    0300 0600 ff 20 0000  0200 0000 c0000202 0000000000000000
";
// @0   sadb_msg: type DELETE 4, satype ESP 3, len 10, seq 4.
// @16  SA: spi 0x12345678 (BE); replay, state, algorithms and flags 0 (the
//      kernel looks the SA up by destination, SPI and protocol only).
// @32  ADDRESS_SRC 192.0.2.1, @56 ADDRESS_DST 192.0.2.2.
