//! Tests of the control protocol: codec round trips and rejections, reply
//! lines and whack's exit-status rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::codec::*;
use super::*;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// A message with every field set to something non-default.
fn full_message() -> WhackMessage {
    let left = End {
        host: v4(10, 0, 0, 1),
        nexthop: v4(10, 0, 0, 254),
        srcip: Some(v4(10, 0, 1, 1)),
        client: Subnet::new(v4(10, 0, 1, 0), 24),
        client_wildcard: true,
        virt: Some("vhost:%no,%priv".into()),
        id: Some("@west.example".into()),
        cert: Some("/etc/ipsec.d/certs/west.pem".into()),
        ca: Some("C=CA, O=Example, CN=CA".into()),
        groups: Some("admins,ops".into()),
        updown: Some("ipsec _updown --special".into()),
        ikeport: 4500,
        protocol: 17,
        port: 1701,
        port_wildcard: true,
        dns_key_on_demand: true,
        xauth_server: true,
        xauth_client: true,
        modecfg_server: true,
        modecfg_client: true,
        sendcert: Some(SendCert::Forced),
        certtype: Some(7),
    };
    let right = End {
        host: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        nexthop: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        client: Subnet::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0)),
            48,
        ),
        id: Some("user@east.example".into()),
        sendcert: Some(SendCert::Never),
        ..End::default()
    };
    WhackMessage {
        name: Some("west-east".into()),
        debug: Some(DBG_ALL | DBG_PRIVATE | IMPAIR_JACOB_TWO_TWO),
        myid: Some("@west".into()),
        delete: true,
        delete_state: Some(u64::MAX),
        crash: Some(v4(192, 0, 2, 7)),
        connection: Some(Connection {
            left,
            right,
            policy: POLICY_PSK
                | POLICY_RSASIG
                | POLICY_ENCRYPT
                | POLICY_TUNNEL
                | POLICY_PFS
                | POLICY_SHUNT_REJECT
                | POLICY_FAIL_DROP
                | POLICY_AGGRESSIVE,
            addr_family: AddrFamily::Ipv6,
            tunnel_addr_family: AddrFamily::Ipv4,
            ike_lifetime: 7200,
            ipsec_lifetime: 3600,
            rekey_margin: 60,
            rekey_fuzz: 50,
            keying_tries: 0,
            dpd_delay: 30,
            dpd_timeout: 120,
            dpd_action: DpdAction::Restart,
            force_encaps: true,
            ike: Some("3des-sha1-modp1024".into()),
            esp: Some("aes128-sha1".into()),
            pfsgroup: Some("modp1536".into()),
        }),
        listen: true,
        unlisten: true,
        reread: REREAD_ALL,
        list: LIST_ALL | LIST_EVENTS,
        utc: true,
        purge_ocsp: true,
        key: Some(KeyRequest {
            keyid: "@east".into(),
            add: true,
            pubkey_rsa: Some(vec![1, 3, 0xc4, 0x11, 0x22]),
        }),
        route: true,
        unroute: true,
        initiate: true,
        asynchronous: true,
        oppo_initiate: Some(OppoInitiate {
            my_client: v4(10, 0, 1, 5),
            peer_client: v4(10, 0, 2, 5),
        }),
        terminate: true,
        status: true,
        shutdown: true,
        status_json: true,
        traffic_status: true,
    }
}

/// Builds a frame around a hand-made body.
fn frame_with(body: &[u8]) -> Vec<u8> {
    let mut f = MAGIC.to_vec();
    f.extend_from_slice(&VERSION.to_be_bytes());
    f.extend_from_slice(&(body.len() as u32).to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn item(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

/// xorshift64*: a small deterministic generator for the garbage tests.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn full_message_round_trips() {
    let msg = full_message();
    let frame = encode(&msg).unwrap();
    assert_eq!(&frame[..4], b"RSWK");
    assert_eq!(frame_len(&frame).unwrap(), Some(frame.len()));
    assert_eq!(decode(&frame).unwrap(), msg);
}

#[test]
fn default_and_small_messages_round_trip() {
    for msg in [
        WhackMessage::default(),
        WhackMessage {
            status: true,
            ..WhackMessage::default()
        },
        WhackMessage {
            name: Some(String::new()),
            connection: Some(Connection::default()),
            debug: Some(0),
            ..WhackMessage::default()
        },
    ] {
        assert_eq!(decode(&encode(&msg).unwrap()).unwrap(), msg);
    }
}

#[test]
fn every_truncation_is_an_error() {
    let frame = encode(&full_message()).unwrap();
    for cut in 0..frame.len() {
        assert!(
            decode(&frame[..cut]).is_err(),
            "prefix of {cut} bytes decoded"
        );
    }
    // Cutting the body and fixing the length: a cut inside an item (header or
    // value, nested ones included) is an error; a cut between top-level items
    // is a shorter message, valid unless it splits a pair of fields.
    let body = &frame[HEADER_LEN..];
    let mut boundaries = vec![0];
    let mut at = 0;
    while at < body.len() {
        at += 4 + u16::from_be_bytes([body[at + 2], body[at + 3]]) as usize;
        boundaries.push(at);
    }
    for cut in 0..body.len() {
        let r = decode(&frame_with(&body[..cut]));
        if boundaries.contains(&cut) {
            // Only a half of a pair (oppohere/oppothere, addkey/keyid) can be missing.
            assert!(
                matches!(r, Ok(_) | Err(DecodeError::Missing { .. })),
                "body cut at {cut}: {r:?}"
            );
        } else {
            assert!(r.is_err(), "body cut at {cut} decoded: {r:?}");
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut frame = encode(&full_message()).unwrap();
    frame.push(0);
    assert_eq!(decode(&frame), Err(DecodeError::TrailingBytes(1)));
}

#[test]
fn header_checks() {
    let frame = encode(&WhackMessage::default()).unwrap();
    assert_eq!(frame.len(), HEADER_LEN);
    assert_eq!(frame_len(b""), Ok(None));
    assert_eq!(frame_len(b"RS"), Ok(None));
    assert_eq!(frame_len(b"RX"), Err(DecodeError::BadMagic));
    assert_eq!(frame_len(b"whk\x18"), Err(DecodeError::BadMagic));

    let mut bad_version = frame.clone();
    bad_version[5] = 2;
    assert_eq!(
        decode(&bad_version),
        Err(DecodeError::UnsupportedVersion(2))
    );
    assert_eq!(
        frame_len(&bad_version[..6]),
        Err(DecodeError::UnsupportedVersion(2))
    );
}

#[test]
fn oversize_is_rejected() {
    // Announced length beyond the cap, before any body arrives.
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&VERSION.to_be_bytes());
    header.extend_from_slice(&(MAX_FRAME as u32).to_be_bytes());
    assert!(matches!(
        frame_len(&header),
        Err(DecodeError::FrameTooLarge(_))
    ));
    let mut header = header.clone();
    header[6..10].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        decode(&header),
        Err(DecodeError::FrameTooLarge(_))
    ));
    // A frame exactly at the cap decodes (optional filler items), one more byte does not.
    let mut body = Vec::new();
    while HEADER_LEN + body.len() + 4 + 4096 <= MAX_FRAME {
        let tag = 0x8000 + (body.len() / 4100) as u16;
        body.extend(item(tag, &[0u8; 4096]));
    }
    let room = MAX_FRAME - HEADER_LEN - body.len() - 4;
    body.extend(item(0xffff, &vec![0u8; room]));
    assert_eq!(HEADER_LEN + body.len(), MAX_FRAME);
    assert_eq!(decode(&frame_with(&body)), Ok(WhackMessage::default()));
    let mut too_big = frame_with(&body);
    too_big.push(0);
    assert!(matches!(
        decode(&too_big),
        Err(DecodeError::FrameTooLarge(_))
    ));
    // Strings over the cap are refused both ways.
    let long = "x".repeat(MAX_STRING + 1);
    let msg = WhackMessage {
        name: Some(long.clone()),
        ..WhackMessage::default()
    };
    assert!(matches!(
        encode(&msg),
        Err(EncodeError::ValueTooLong { .. })
    ));
    assert_eq!(
        decode(&frame_with(&item(MSG_NAME, long.as_bytes()))),
        Err(DecodeError::TooLong {
            tag: MSG_NAME,
            len: MAX_STRING + 1
        })
    );
    // Many maximal strings overflow the frame.
    let mut msg = full_message();
    let conn = msg.connection.as_mut().unwrap();
    for s in [
        &mut conn.left.id,
        &mut conn.left.cert,
        &mut conn.left.ca,
        &mut conn.left.groups,
        &mut conn.left.updown,
        &mut conn.right.id,
        &mut conn.right.cert,
        &mut conn.right.ca,
        &mut conn.right.groups,
        &mut conn.right.updown,
        &mut conn.ike,
        &mut conn.esp,
        &mut conn.pfsgroup,
    ] {
        *s = Some("y".repeat(MAX_STRING));
    }
    assert!(encode(&msg).is_ok());
    conn_strings_grow(&mut msg);
    assert!(encode(&msg).is_err());
}

fn conn_strings_grow(msg: &mut WhackMessage) {
    msg.name = Some("n".repeat(MAX_STRING));
    msg.myid = Some("m".repeat(MAX_STRING));
    msg.key.as_mut().unwrap().keyid = "k".repeat(MAX_STRING);
    let c = msg.connection.as_mut().unwrap();
    c.left.virt = Some("v".repeat(MAX_STRING));
    c.right.virt = Some("v".repeat(MAX_STRING));
}

#[test]
fn duplicate_and_unknown_tags() {
    let status = item(MSG_STATUS, &[]);
    let twice = [status.clone(), status.clone()].concat();
    assert_eq!(
        decode(&frame_with(&twice)),
        Err(DecodeError::DuplicateTag(MSG_STATUS))
    );
    // Unknown tags: rejected without the optional bit, skipped with it.
    assert_eq!(
        decode(&frame_with(&item(0x0777, b"x"))),
        Err(DecodeError::UnknownTag(0x0777))
    );
    let skipped = [item(0x8777, b"future"), status.clone()].concat();
    let m = decode(&frame_with(&skipped)).unwrap();
    assert!(m.status);
    let dup_optional = [item(0x8777, b""), item(0x8777, b"")].concat();
    assert_eq!(
        decode(&frame_with(&dup_optional)),
        Err(DecodeError::DuplicateTag(0x8777))
    );
    // A tag of another scope is unknown here.
    assert_eq!(
        decode(&frame_with(&item(END_HOST, &[4, 1, 2, 3, 4]))),
        Err(DecodeError::UnknownTag(END_HOST))
    );
}

#[test]
fn field_validation() {
    let bad = |body: Vec<u8>| decode(&frame_with(&body));
    assert_eq!(
        bad(item(MSG_STATUS, &[1])),
        Err(DecodeError::BadLength {
            tag: MSG_STATUS,
            len: 1
        })
    );
    assert_eq!(
        bad(item(MSG_DELETESTATE, &[0; 4])),
        Err(DecodeError::BadLength {
            tag: MSG_DELETESTATE,
            len: 4
        })
    );
    assert_eq!(
        bad(item(MSG_NAME, b"a\0b")),
        Err(DecodeError::NulInString { tag: MSG_NAME })
    );
    assert_eq!(
        bad(item(MSG_NAME, &[0xff, 0xfe])),
        Err(DecodeError::BadUtf8 { tag: MSG_NAME })
    );
    assert!(matches!(
        bad(item(MSG_CRASH, &[5, 1, 2, 3, 4])),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        bad(item(MSG_CRASH, &[6, 1, 2, 3, 4])),
        Err(DecodeError::BadLength { .. })
    ));
    assert!(matches!(
        bad(item(MSG_DEBUG, &(1u64 << 15).to_be_bytes())),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        bad(item(MSG_LIST, &0x800u32.to_be_bytes())),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        bad(item(MSG_REREAD, &[0x40])),
        Err(DecodeError::BadValue { .. })
    ));
    assert_eq!(
        bad(item(MSG_ADDKEY, &[])),
        Err(DecodeError::Missing { tag: MSG_KEYID })
    );
    assert_eq!(
        bad(item(MSG_OPPO_HERE, &[4, 1, 2, 3, 4])),
        Err(DecodeError::Missing {
            tag: MSG_OPPO_THERE
        })
    );
    assert!(matches!(
        bad([item(MSG_KEYID, b"@x"), item(MSG_PUBKEYRSA, &[])].concat()),
        Err(DecodeError::BadLength { .. })
    ));
}

/// Re-encodes the connection of `full_message` after `edit` on its body items.
fn conn_frame(edit: impl Fn(&mut Vec<(u16, Vec<u8>)>)) -> Vec<u8> {
    let mut msg = full_message();
    msg.key = None;
    let frame = encode(&WhackMessage {
        connection: msg.connection.take(),
        ..WhackMessage::default()
    })
    .unwrap();
    // The body is a single TAG_CONNECTION item.
    let conn = &frame[HEADER_LEN + 4..];
    let mut items = Vec::new();
    let mut rest = conn;
    while !rest.is_empty() {
        let tag = u16::from_be_bytes([rest[0], rest[1]]);
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        items.push((tag, rest[4..4 + len].to_vec()));
        rest = &rest[4 + len..];
    }
    edit(&mut items);
    let body: Vec<u8> = items.iter().flat_map(|(t, v)| item(*t, v)).collect();
    frame_with(&item(TAG_CONNECTION, &body))
}

#[test]
fn connection_validation() {
    assert!(decode(&conn_frame(|_| {})).is_ok());
    let set = |tag: u16, value: Vec<u8>| {
        decode(&conn_frame(move |items| {
            for (t, v) in items.iter_mut() {
                if *t == tag {
                    *v = value.clone();
                }
            }
        }))
    };
    let without = |tag: u16| decode(&conn_frame(move |items| items.retain(|(t, _)| *t != tag)));
    assert_eq!(
        without(CONN_POLICY),
        Err(DecodeError::Missing { tag: CONN_POLICY })
    );
    assert_eq!(
        without(CONN_LEFT),
        Err(DecodeError::Missing { tag: CONN_LEFT })
    );
    assert!(matches!(
        set(CONN_POLICY, (1u64 << 17).to_be_bytes().to_vec()),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        set(CONN_DPD_ACTION, vec![3]),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        set(CONN_ADDR_FAMILY, vec![5]),
        Err(DecodeError::BadValue { .. })
    ));
    // End checks: a subnet with host bits, a long prefix, port 0, sendcert 0.
    let end_with = |tag: u16, value: Vec<u8>| {
        let mut e = Vec::new();
        e.extend(item(END_HOST, &[4, 10, 0, 0, 1]));
        e.extend(item(END_NEXTHOP, &[4, 10, 0, 0, 2]));
        e.extend(item(END_IKEPORT, &500u16.to_be_bytes()));
        e.extend(item(END_PROTOCOL, &[0]));
        e.extend(item(END_PORT, &[0, 0]));
        e.extend(item(tag, &value));
        set(CONN_LEFT, e)
    };
    assert!(end_with(END_SRCIP, vec![4, 1, 1, 1, 1]).is_ok());
    assert!(matches!(
        end_with(END_CLIENT, vec![4, 10, 0, 1, 1, 24]),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        end_with(END_CLIENT, vec![4, 10, 0, 1, 0, 33]),
        Err(DecodeError::BadValue { .. })
    ));
    assert!(matches!(
        end_with(END_CLIENT, vec![4, 10, 0, 1]),
        Err(DecodeError::BadLength { .. })
    ));
    assert!(matches!(
        end_with(END_SENDCERT, vec![0]),
        Err(DecodeError::BadValue { .. })
    ));
    assert_eq!(
        end_with(END_IKEPORT, vec![0, 0]),
        Err(DecodeError::DuplicateTag(END_IKEPORT))
    );
    assert_eq!(
        set(CONN_LEFT, item(END_HOST, &[4, 10, 0, 0, 1])),
        Err(DecodeError::Missing { tag: END_IKEPORT })
    );
}

#[test]
fn garbage_never_panics() {
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let valid = encode(&full_message()).unwrap();
    let mut accepted = 0;
    for round in 0..20_000 {
        let buf: Vec<u8> = match round % 4 {
            // Pure noise.
            0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            // A valid header over a noise body.
            1 => {
                let body: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
                frame_with(&body)
            }
            // A valid frame with a few bytes flipped.
            2 => {
                let mut f = valid.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(f.len());
                    f[i] ^= 1 << rng.below(8);
                }
                f
            }
            // Noise items with plausible tags and lengths.
            _ => {
                let mut body = Vec::new();
                for _ in 0..rng.below(12) {
                    let tag = [0x0001, 0x0007, 0x0101, 0x0201, 0x8001][rng.below(5)]
                        + rng.below(0x1a) as u16;
                    let len = rng.below(24);
                    let value: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    body.extend(item(tag, &value));
                }
                frame_with(&body)
            }
        };
        if decode(&buf).is_ok() {
            accepted += 1;
        }
        let _ = frame_len(&buf);
    }
    // Flipped bits inside strings or flags still decode sometimes; noise rarely.
    assert!(accepted < 20_000);
}

#[test]
fn reply_lines_format_and_parse() {
    assert_eq!(format_line(Rc::Comment, "status line"), "000 status line\n");
    assert_eq!(
        format_line(Rc::NewState(4), "\"x\" #1: STATE_MAIN_I1: initiate"),
        "104 \"x\" #1: STATE_MAIN_I1: initiate\n"
    );
    assert_eq!(
        format_line(Rc::Notification(14), "x"),
        "214 x\n".to_string()
    );
    assert_eq!(format_line(Rc::Success, "a\nb"), "004 a b\n");
    assert_eq!(
        parse_line("031 \"x\" #1: max number of retransmissions (2) reached\n"),
        Some(ReplyLine {
            code: 31,
            text: "\"x\" #1: max number of retransmissions (2) reached".into()
        })
    );
    assert_eq!(
        parse_line("000"),
        Some(ReplyLine {
            code: 0,
            text: String::new()
        })
    );
    assert_eq!(parse_line("no number"), None);
    assert_eq!(parse_line("12x y"), None);
}

#[test]
fn rc_codes_and_collisions() {
    assert_eq!(Rc::InitShunt.code(), 30);
    assert_eq!(Rc::BadWhackMessage.code(), 30);
    assert_eq!(Rc::Wildcard.code(), 31);
    assert_eq!(Rc::NoRetransmission.code(), 31);
    assert_eq!(Rc::NoValidPin.code(), 32);
    assert_eq!(Rc::InternalErr.code(), 32);
    assert_eq!(Rc::Fatal.code(), 37);
    assert_eq!(Rc::EnterSecret.code(), 40);
    assert_eq!(Rc::XauthPrompt.code(), 41);
    assert_eq!(Rc::from_code(31), Some(Rc::Wildcard));
    assert_eq!(Rc::from_code(117), Some(Rc::NewState(17)));
    assert_eq!(Rc::from_code(224), Some(Rc::Notification(24)));
    assert_eq!(Rc::from_code(5), None);
    assert_eq!(Rc::NoRetransmission.name(), "RC_NORETRANSMISSION");
    for code in [0, 1, 2, 3, 4, 10, 20, 29, 33, 37, 40, 41, 150, 299] {
        assert_eq!(Rc::from_code(code).unwrap().code(), code);
    }
}

#[test]
fn exit_status_rule() {
    // Comments and log lines do not count; nothing else seen: 0.
    assert_eq!(exit_status(["000 status line\n", "002 log\n"]), 0);
    assert_eq!(exit_status(Vec::<&[u8]>::new()), 0);
    // Success resets, the last significant code wins.
    assert_eq!(
        exit_status([
            "104 \"x\" #1: STATE_MAIN_I1: initiate",
            "004 \"x\" #2: STATE_QUICK_I2: sent QI2, IPsec SA established",
        ]),
        0
    );
    assert_eq!(
        exit_status([
            "104 \"x\" #1: STATE_MAIN_I1: initiate",
            "010 \"x\" #1: STATE_MAIN_I1: retransmission; will wait 20s for response",
            "031 \"x\" #1: max number of retransmissions (2) reached STATE_MAIN_I1",
            "000 \"x\" #1: starting keying attempt 2 of at most 3, but releasing whack",
        ]),
        31
    );
    assert_eq!(exit_status(["003 serious"]), 3);
    assert_eq!(exit_status(["004 ok", "000 x", "002 y"]), 0);
    assert_eq!(exit_status(["021 no state #9 to delete"]), 21);
    // Prompts are answered, not counted.
    assert_eq!(
        exit_status(["023 clash", "040 Enter secret", "041 Name"]),
        23
    );
    // Notifications keep their number (low 8 bits of the status).
    assert_eq!(exit_status(["214 NO_PROPOSAL_CHOSEN"]), 214);
    assert_eq!(exit_status(["224 AUTHENTICATION_FAILED"]), 224);
    assert_eq!(exit_status(["300 too big"]), 300 & 0xff);
    // A line without a number counts as 0 (ignored); strtoul skips blanks.
    assert_eq!(exit_status(["031 x", "garbage"]), 31);
    assert_eq!(exit_status(["  22 spaced"]), 22);
    assert_eq!(update_status(7, b"004 x"), 0);
    assert_eq!(reply::leading_number(b"99999999999999999999999"), u64::MAX);
    assert_eq!(exit_code(u64::MAX), 255);
}

#[test]
fn debug_names_and_masks() {
    assert_eq!(debug_names(0), "none");
    assert_eq!(debug_names(DBG_RAW | DBG_PRIVATE), "raw+private");
    assert_eq!(DBG_ALL & DBG_PRIVATE, 0);
    assert_eq!(DBG_ALL & DBG_DPD, 0);
    assert_eq!(DBG_KNOWN & (1 << 14), 0);
    assert_ne!(DBG_KNOWN & IMPAIR_JACOB_TWO_TWO, 0);
    assert!(never_negotiate(POLICY_ENCRYPT));
    assert!(never_negotiate(POLICY_PSK | POLICY_SHUNT_PASS));
    assert!(!never_negotiate(POLICY_PSK));
    assert_eq!(POLICY_KNOWN & (1 << 17), 0);
}
