//! Three 1024-bit RSA keys (the smallest accepted) for the simulated
//! network's RSA tests, made once per test binary: generation is slow in
//! debug builds.

use rswan::ike::crypto::rsa::{generate, RsaPrivateKeyParts};
use rswan::ike::rng::SeededRng;
use std::sync::OnceLock;

pub fn keys() -> &'static (RsaPrivateKeyParts, RsaPrivateKeyParts, RsaPrivateKeyParts) {
    static K: OnceLock<(RsaPrivateKeyParts, RsaPrivateKeyParts, RsaPrivateKeyParts)> =
        OnceLock::new();
    K.get_or_init(|| {
        let mut rng = SeededRng::new(42);
        let g = |r: &mut SeededRng| generate(1024, r).expect("key generation");
        (g(&mut rng), g(&mut rng), g(&mut rng))
    })
}

/// Secrets of the host at `me` holding `mine`, and the public keys of the
/// peers in `known` (address, their key pair).
pub fn rsa_secrets(
    me: std::net::IpAddr,
    mine: &RsaPrivateKeyParts,
    known: &[(std::net::IpAddr, &RsaPrivateKeyParts)],
) -> rswan::ike::Secrets {
    use rswan::ike::config::{PublicKey, RsaSecret};
    use rswan::ike::wire::Identity;
    let id = |a: std::net::IpAddr| match a {
        std::net::IpAddr::V4(v) => Identity::Ipv4(v),
        std::net::IpAddr::V6(v) => Identity::Ipv6(v),
    };
    rswan::ike::Secrets {
        rsa: vec![RsaSecret {
            indices: vec![rswan::ike::SecretIndex::Id(id(me))],
            key: mine.clone(),
        }],
        public_keys: known
            .iter()
            .map(|(a, k)| PublicKey {
                id: id(*a),
                key: k.public().expect("public half"),
            })
            .collect(),
        ..rswan::ike::Secrets::default()
    }
}

/// An ESP tunnel authenticated with RSA signatures.
pub fn rsa_tunnel_policy() -> rswan::ike::Policy {
    rswan::ike::Policy {
        rsasig: true,
        encrypt: true,
        tunnel: true,
        ..rswan::ike::Policy::default()
    }
}
