//! Main Mode + Quick Mode between two simulated endpoints.
mod common;
use common::sim::*;
use rswan::ike::kernel::KernelOp;
use rswan::ike::Command;
use std::time::Duration;

#[test]
fn psk_esp_tunnel_comes_up() {
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(1, true, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    eprintln!("{}{}", west.dump_logs(), east.dump_logs());
    assert_eq!(west.established(false), 1);
    assert_eq!(west.established(true), 1);
    assert_eq!(east.established(false), 1);
    assert_eq!(east.established(true), 1);
    assert_eq!(west.kernel.sas.len(), 2);
    assert_eq!(east.kernel.sas.len(), 2);
    let _ = KernelOp::DeleteSa {
        proto: rswan::ike::kernel::IpsecProto::Esp,
        spi: 0,
        src: ip(1),
        dst: ip(2),
    };
}

/// Counts modular exponentiations: key pairs made and shared secrets computed.
struct CountingDh(std::sync::Arc<std::sync::Mutex<(u32, u32)>>);

impl rswan::ike::crypto::DhProvider for CountingDh {
    fn generate(
        &self,
        group: rswan::ike::crypto::DhGroup,
        rng: &mut dyn rswan::ike::rng::Rng,
    ) -> rswan::ike::crypto::DhKeyPair {
        if let Ok(mut c) = self.0.lock() {
            c.0 += 1;
        }
        rswan::ike::crypto::NullDh.generate(group, rng)
    }

    fn shared(
        &self,
        ours: &rswan::ike::crypto::DhKeyPair,
        peer_public: &[u8],
    ) -> Result<Vec<u8>, rswan::ike::crypto::DhError> {
        if let Ok(mut c) = self.0.lock() {
            c.1 += 1;
        }
        rswan::ike::crypto::NullDh.shared(ours, peer_public)
    }

    fn seed_len(&self, group: rswan::ike::crypto::DhGroup) -> usize {
        rswan::ike::crypto::NullDh.seed_len(group)
    }
}

/// Main Mode + Quick Mode with PFS needs four exponentiations per side:
/// a key pair and a shared secret in each phase. The second direction's
/// KEYMAT must not compute the Quick Mode secret again.
#[test]
fn four_exponentiations_per_side_with_pfs() {
    let policy = rswan::ike::config::Policy {
        pfs: true,
        ..esp_tunnel_policy()
    };
    let (w, e) = conn_pair("west-east", policy);
    let counts = |_: ()| std::sync::Arc::new(std::sync::Mutex::new((0u32, 0u32)));
    let (cw, ce) = (counts(()), counts(()));
    let mut net = Net::new(7);
    let wi = net.add_node_dh(
        "west",
        ip(1),
        22,
        std::sync::Arc::new(CountingDh(cw.clone())),
    );
    let ei = net.add_node_dh(
        "east",
        ip(2),
        23,
        std::sync::Arc::new(CountingDh(ce.clone())),
    );
    net.command(wi, Command::AddConnection(Box::new(w)));
    net.command(ei, Command::AddConnection(Box::new(e)));
    net.command(wi, Command::LoadSecrets(psk_secrets("secret")));
    net.command(ei, Command::LoadSecrets(psk_secrets("secret")));
    net.command(wi, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    assert_eq!(
        net.nodes[1].established(true),
        1,
        "{}",
        net.nodes[1].dump_logs()
    );
    assert_eq!(net.nodes[0].established(true), 1);
    assert_eq!(
        *ce.lock().unwrap(),
        (2, 2),
        "responder: (key pairs, shared secrets)"
    );
    assert_eq!(
        *cw.lock().unwrap(),
        (2, 2),
        "initiator: (key pairs, shared secrets)"
    );
}
