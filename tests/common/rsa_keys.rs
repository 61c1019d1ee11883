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
