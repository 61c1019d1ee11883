//! Which connection an MI1 picks (spec §7.1), pinned down: a connection
//! for exactly these two addresses before one for a `%any` peer, and among
//! equals the one added first (a deleted and re-added one counts as new).

use crate::ike::config::{ConnConfig, End, Policy};
use crate::ike::crypto::NullDh;
use crate::ike::endpoint::Endpoint;
use crate::ike::rng::SeededRng;
use crate::ike::Command;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

fn end(host: Option<&str>) -> End {
    End {
        host: host.map(|h| h.parse::<IpAddr>().unwrap()),
        port: 500,
        id: None,
        client: None,
        virt: None,
    }
}

fn add(ep: &mut Endpoint, name: &str, local: Option<&str>, remote: Option<&str>) {
    let c = ConnConfig::new(name, end(local), end(remote), Policy::default());
    ep.handle_command(Instant::now(), Command::AddConnection(Box::new(c)))
        .unwrap();
}

fn delete(ep: &mut Endpoint, name: &str) {
    ep.handle_command(Instant::now(), Command::DeleteConnection(name.into()))
        .unwrap();
}

fn pick(ep: &Endpoint, local: &str, remote: &str) -> Option<String> {
    let sa = |a: &str| SocketAddr::new(a.parse().unwrap(), 500);
    ep.conn_for_mi1(sa(local), sa(remote)).map(|c| c.name)
}

#[test]
fn mi1_prefers_the_exact_pair_then_the_first_added() {
    let mut ep = Endpoint::new(Box::new(NullDh), Box::new(SeededRng::new(1)));
    let us = "192.0.2.1";
    // Added in this order; the names sort otherwise, on purpose.
    add(&mut ep, "z-any", Some(us), None);
    add(&mut ep, "y-any", Some(us), None);
    add(
        &mut ep,
        "x-other-local",
        Some("192.0.2.9"),
        Some("198.51.100.1"),
    );
    add(&mut ep, "w-no-local", None, Some("198.51.100.1"));
    add(&mut ep, "v-exact", Some(us), Some("198.51.100.1"));
    add(&mut ep, "u-exact", Some(us), Some("198.51.100.1"));
    add(&mut ep, "t-exact2", Some(us), Some("198.51.100.2"));

    // The exact pair wins over %any ones added before it; the first of two.
    assert_eq!(pick(&ep, us, "198.51.100.1").as_deref(), Some("v-exact"));
    assert_eq!(pick(&ep, us, "198.51.100.2").as_deref(), Some("t-exact2"));
    // A peer no connection names: the first %any one.
    assert_eq!(pick(&ep, us, "203.0.113.5").as_deref(), Some("z-any"));
    // Another local address: only what has that local address.
    assert_eq!(
        pick(&ep, "192.0.2.9", "198.51.100.1").as_deref(),
        Some("x-other-local")
    );
    assert_eq!(pick(&ep, "192.0.2.9", "198.51.100.2"), None);
    assert_eq!(pick(&ep, "192.0.2.77", "198.51.100.1"), None);

    // Deleted and added again, a connection goes behind its equals.
    delete(&mut ep, "v-exact");
    assert_eq!(pick(&ep, us, "198.51.100.1").as_deref(), Some("u-exact"));
    add(&mut ep, "v-exact", Some(us), Some("198.51.100.1"));
    assert_eq!(pick(&ep, us, "198.51.100.1").as_deref(), Some("u-exact"));
    delete(&mut ep, "z-any");
    assert_eq!(pick(&ep, us, "203.0.113.5").as_deref(), Some("y-any"));
    add(&mut ep, "z-any", Some(us), None);
    assert_eq!(pick(&ep, us, "203.0.113.5").as_deref(), Some("y-any"));
    // With every exact one gone, the peer falls to the %any ones.
    delete(&mut ep, "u-exact");
    delete(&mut ep, "v-exact");
    assert_eq!(pick(&ep, us, "198.51.100.1").as_deref(), Some("y-any"));
    delete(&mut ep, "y-any");
    delete(&mut ep, "z-any");
    assert_eq!(pick(&ep, us, "198.51.100.1"), None);
}
