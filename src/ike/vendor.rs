//! Vendor IDs: how IKEv1 peers announce extensions in the first Main Mode
//! exchange. We announce and recognise NAT traversal (RFC 3947 and the drafts
//! older peers still speak) and Dead Peer Detection (RFC 3706).

use super::wire::Payload;

/// The NAT traversal dialect both ends speak, best first when chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NattMethod {
    /// draft-ietf-ipsec-nat-t-ike-02.
    Draft02,
    /// draft-ietf-ipsec-nat-t-ike-02 with the newline its VID hash took by mistake.
    Draft02n,
    /// draft-ietf-ipsec-nat-t-ike-03.
    Draft03,
    /// RFC 3947.
    Rfc3947,
}

impl NattMethod {
    /// Every method, best first: MI1 offers them in this order.
    pub const ALL: [NattMethod; 4] = [
        NattMethod::Rfc3947,
        NattMethod::Draft03,
        NattMethod::Draft02n,
        NattMethod::Draft02,
    ];

    /// The vendor ID: MD5 of the document's name.
    pub fn vid(self) -> [u8; 16] {
        match self {
            // MD5("RFC 3947")
            NattMethod::Rfc3947 => hex16(0x4a131c81070358455c5728f20e95452f),
            // MD5("draft-ietf-ipsec-nat-t-ike-03")
            NattMethod::Draft03 => hex16(0x7d9419a65310ca6f2c179d9215529d56),
            // MD5("draft-ietf-ipsec-nat-t-ike-02\n")
            NattMethod::Draft02n => hex16(0x90cb80913ebb696e086381b5ec427b1f),
            // MD5("draft-ietf-ipsec-nat-t-ike-02")
            NattMethod::Draft02 => hex16(0xcd60464335df21f87cfdb2fc68b6a448),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            NattMethod::Rfc3947 => "RFC 3947",
            NattMethod::Draft03 => "draft-ietf-ipsec-nat-t-ike-03",
            NattMethod::Draft02n => "draft-ietf-ipsec-nat-t-ike-02_n",
            NattMethod::Draft02 => "draft-ietf-ipsec-nat-t-ike-02",
        }
    }

    /// The drafts number NAT-D and NAT-OA from the private range (130,
    /// 131) and the UDP-encapsulated modes 61443/61444; the RFC uses 20,
    /// 21 and 3/4.
    pub fn is_draft(self) -> bool {
        self != NattMethod::Rfc3947
    }
}

/// RFC 3706's vendor ID, version 1.0.
pub const DPD_VID: [u8; 16] = hex16(0xafcad71368a1f1c96b8696fc77570100);

const fn hex16(v: u128) -> [u8; 16] {
    v.to_be_bytes()
}

/// What a peer announced in its first message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerCaps {
    /// The best NAT traversal method the peer announced (and we speak:
    /// with NAT traversal off, `None`).
    pub natt: Option<NattMethod>,
    /// The peer answers R_U_THERE (RFC 3706).
    pub dpd: bool,
}

impl PeerCaps {
    /// The capabilities announced by `payloads` (MI1 or MR1); NAT-T only
    /// counts when we do it (`natt`).
    pub fn learn<'a>(payloads: impl IntoIterator<Item = &'a Payload>, natt: bool) -> PeerCaps {
        let mut caps = PeerCaps::default();
        for p in payloads {
            let Payload::Vid(v) = p else { continue };
            if v.as_slice() == DPD_VID {
                caps.dpd = true;
            } else if natt {
                if let Some(m) = NattMethod::ALL
                    .into_iter()
                    .find(|m| v.as_slice() == m.vid())
                {
                    caps.natt = caps.natt.max(Some(m));
                }
            }
        }
        caps
    }
}

/// The VIDs of MI1: DPD, and every NAT-T method when NAT-T is on.
pub fn initiator_vids(natt: bool) -> Vec<Payload> {
    let mut v = vec![Payload::Vid(DPD_VID.to_vec())];
    if natt {
        v.extend(NattMethod::ALL.map(|m| Payload::Vid(m.vid().to_vec())));
    }
    v
}

/// The VIDs of MR1: DPD, and the one NAT-T method chosen from the peer's.
pub fn responder_vids(chosen: Option<NattMethod>) -> Vec<Payload> {
    let mut v = vec![Payload::Vid(DPD_VID.to_vec())];
    v.extend(chosen.map(|m| Payload::Vid(m.vid().to_vec())));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vid(b: &[u8]) -> Payload {
        Payload::Vid(b.to_vec())
    }

    #[test]
    fn the_best_common_method_wins_whatever_the_order() {
        let p = [
            vid(&NattMethod::Draft02.vid()),
            vid(b"some other vendor"),
            vid(&NattMethod::Draft03.vid()),
            vid(&NattMethod::Draft02n.vid()),
        ];
        let c = PeerCaps::learn(&p, true);
        assert_eq!(c.natt, Some(NattMethod::Draft03));
        assert!(!c.dpd);
        let c = PeerCaps::learn(p.iter().rev(), true);
        assert_eq!(c.natt, Some(NattMethod::Draft03));
    }

    #[test]
    fn natt_off_ignores_natt_vids_but_not_dpd() {
        let p = [vid(&NattMethod::Rfc3947.vid()), vid(&DPD_VID)];
        assert_eq!(
            PeerCaps::learn(&p, false),
            PeerCaps {
                natt: None,
                dpd: true
            }
        );
        assert_eq!(PeerCaps::learn(&p, true).natt, Some(NattMethod::Rfc3947));
    }

    #[test]
    fn a_truncated_or_longer_vid_is_not_recognised() {
        let mut long = DPD_VID.to_vec();
        long.push(0);
        let p = [
            vid(&DPD_VID[..15]),
            vid(&long),
            vid(&NattMethod::Rfc3947.vid()[1..]),
        ];
        assert_eq!(PeerCaps::learn(&p, true), PeerCaps::default());
    }

    #[test]
    fn we_announce_what_we_recognise() {
        let mine = initiator_vids(true);
        let c = PeerCaps::learn(&mine, true);
        assert_eq!((c.natt, c.dpd), (Some(NattMethod::Rfc3947), true));
        let reply = responder_vids(c.natt);
        assert_eq!(reply.len(), 2);
        assert_eq!(PeerCaps::learn(&reply, true), c);
        assert_eq!(initiator_vids(false), vec![vid(&DPD_VID)]);
    }
}
