//! One Diffie-Hellman provider shared by a simulated node's engine and the
//! worker that runs its computations (`Net::compute_delay`).

use rswan::ike::crypto::{DhError, DhGroup, DhKeyPair, DhProvider};
use rswan::ike::rng::Rng;
use std::sync::Arc;

/// One provider for a node's engine and its simulated worker.
pub struct SharedDh(pub Arc<dyn DhProvider>);

impl DhProvider for SharedDh {
    fn generate(&self, group: DhGroup, rng: &mut dyn Rng) -> DhKeyPair {
        self.0.generate(group, rng)
    }
    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError> {
        self.0.shared(ours, peer_public)
    }
    fn seed_len(&self, group: DhGroup) -> usize {
        self.0.seed_len(group)
    }
}
