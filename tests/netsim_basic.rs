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
