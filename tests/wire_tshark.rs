mod common;
use common::sim::*;
use rswan::ike::Command;
use std::time::Duration;

#[test]
fn explore() {
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(1, true, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    common::pcap::write_pcap(std::path::Path::new("/tmp/explore.pcap"), net.start, &net.wire).unwrap();
}
