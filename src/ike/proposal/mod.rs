//! What we offer and what we accept: the seed's hard-wired tables (spec §6)
//! plus the modern extras, and the responder's choice among the peer's offers.

mod phase1;
mod phase2;

pub use phase1::{
    default_ike_transforms, ike_sa_payload, parse_ike_reply, select_ike, AuthMethod, IkeTransform,
    MAX_IKE_LIFETIME,
};
pub use phase2::{
    default_ipsec_proposals, ipsec_sa_payload, ipsec_sa_payload_udp, parse_ipsec_reply,
    select_ipsec, select_ipsec_udp, Chosen, ChosenProto, IpsecProposal, IpsecTransform,
    MAX_IPSEC_LIFETIME,
};

/// One-line description of a list of things, for "offered ... allowed ..." logs.
pub(crate) fn join<T: core::fmt::Display>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(|t| t.to_string()).collect();
    if v.is_empty() {
        "nothing".to_string()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests;
