//! The cost of an input does not grow with the number of states: with ten
//! states and with nine thousand of each kind (27 000), an MI1, a Quick Mode exchange and a
//! timer visit the same number of them (counted by the state tables, not
//! timed).

use super::dpd::tests::{endpoint, Pair, CONN};
use super::endpoint::Endpoint;
use super::state::{Role, StateKind, HALF_OPEN_DISCARD};
use super::Command;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// States visited by scans, index lookups and timer work so far.
fn visits(ep: &Endpoint) -> u64 {
    ep.p1.visits() + ep.p2.visits()
}

/// A pair with one established ISAKMP and IPsec SA, whose responder also
/// holds `n` more of each and `n` half-open ISAKMP states: copies of the
/// connection's own, with their own serials, cookies, peers and SPIs.
fn pair_with(n: u32) -> Pair {
    let mut p = Pair::new(None);
    let now = p.now;
    let ep = &mut p.eps[1];
    let (Some(p1), Some(p2)) = (
        ep.p1.values().next().cloned(),
        ep.p2.values().next().cloned(),
    ) else {
        panic!("no established states");
    };
    for i in 0..n {
        let s1 = ep.new_serial();
        let mut a = p1.clone();
        a.serial = s1;
        a.conn = CONN.into();
        a.icookie = s1.to_be_bytes();
        a.remote = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 500);
        ep.by_cookies.insert((a.icookie, a.rcookie), s1);
        ep.p1.insert(s1, a);
        let s2 = ep.new_serial();
        let mut b = p2.clone();
        b.serial = s2;
        b.parent = s1;
        b.conn = CONN.into();
        for sa in &mut b.installed {
            sa.spi = 0x4000_0000 + i;
        }
        ep.p2.insert(s2, b);
        // And a half-open responder state (MR1 sent) from yet another peer,
        // discarded an hour from now at the earliest.
        let s3 = ep.new_serial();
        let mut h = p1.clone();
        h.serial = s3;
        h.kind = StateKind::MainR1;
        h.role = Role::Responder;
        h.icookie = s3.to_be_bytes();
        h.remote = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)), 500);
        (h.replace, h.retransmit) = (None, None);
        h.expires = Some(now + Duration::from_secs(3600 + u64::from(i)));
        ep.by_cookies.insert((h.icookie, h.rcookie), s3);
        ep.half_open.insert(s3, h.icookie, h.remote, false);
        ep.p1.insert(s3, h);
    }
    ep.settle();
    p
}

/// What the responder's state tables visit for: a new MI1, a whole Quick
/// Mode exchange on the established ISAKMP SA, the timer that discards the
/// half-open state the MI1 made, and the kernel's hard expiry of an SA.
fn costs(n: u32) -> [u64; 4] {
    let mut p = pair_with(n);
    let now = p.now;
    // A new Main Mode from the peer's address: its MI1 only.
    let mut other = endpoint(1, 2, 99, None);
    assert!(other
        .handle_command(now, Command::Initiate(CONN.into()))
        .is_ok());
    let Some(mi1) = other.poll_transmit() else {
        panic!("no MI1");
    };
    let before = visits(&p.eps[1]);
    p.eps[1].handle_datagram(now, mi1.remote, mi1.local, &mi1.payload);
    let mi1_cost = visits(&p.eps[1]) - before;
    assert_eq!(p.eps[1].states().len(), 3 * n as usize + 3);
    while p.eps[1].poll_transmit().is_some() {}

    let before = visits(&p.eps[1]);
    assert!(p.eps[0]
        .handle_command(now, Command::Initiate(CONN.into()))
        .is_ok());
    p.pump();
    let qm_cost = visits(&p.eps[1]) - before;
    assert_eq!(p.eps[1].states().len(), 3 * n as usize + 4);

    let later = now + HALF_OPEN_DISCARD + Duration::from_secs(1);
    let before = visits(&p.eps[1]);
    assert!(p.eps[1].poll_timeout().is_some_and(|t| t <= later));
    p.eps[1].handle_timeout(later);
    assert!(p.eps[1].poll_timeout().is_some_and(|t| t > later));
    let timer_cost = visits(&p.eps[1]) - before;
    // The half-open state is gone, nothing else.
    assert_eq!(p.eps[1].states().len(), 3 * n as usize + 3);
    // The kernel deletes the new IPsec SA: its state goes, and its
    // policies go to the newest of the (many) others with the same ones.
    let Some(sa) = p.eps[1]
        .p2
        .values()
        .last()
        .and_then(|s| s.installed.first().cloned())
    else {
        panic!("no installed SA");
    };
    let before = visits(&p.eps[1]);
    p.eps[1].handle_sa_expire(later, sa.proto, sa.spi, sa.dst, true);
    let expire_cost = visits(&p.eps[1]) - before;
    assert_eq!(p.eps[1].states().len(), 3 * n as usize + 2);
    [mi1_cost, qm_cost, timer_cost, expire_cost]
}

#[test]
fn inputs_cost_the_same_with_ten_and_with_nine_thousand_states_of_each_kind() {
    let small = costs(10);
    // Below the half-open limit, so that the MI1 evicts nothing.
    let large = costs(9_000);
    assert_eq!(small, large);
    assert!(small.iter().all(|c| *c < 100), "{small:?}");
}

/// Connections and states looked at by: adding a connection, a whole
/// Main Mode + Quick Mode exchange the responder answers, and deleting a
/// connection, with `n` more connections on the responder (peers of their
/// own, `%any` peers added after the one that fits, other local addresses).
fn conn_costs(n: u32) -> [u64; 3] {
    use super::config::{ConnConfig, End};
    let mut p = Pair::new(None);
    let now = p.now;
    // Start over: the exchange below is a new Main Mode.
    assert!(p.eps[0]
        .handle_command(now, Command::Terminate(CONN.into()))
        .is_ok());
    p.pump();
    assert!(p.eps.iter().all(|e| e.states().is_empty()));
    let ep = &mut p.eps[1];
    let Some(model) = ep.conn(CONN).cloned() else {
        panic!("no connection {CONN}");
    };
    let host = |a: u32| Some(IpAddr::V4(Ipv4Addr::from(a)));
    for i in 0..n {
        let mut c = ConnConfig::new(
            &format!("x{i}"),
            model.local.clone(),
            model.remote.clone(),
            model.policy,
        );
        match i % 3 {
            0 => c.remote.host = host(0x0a00_0000 + i),
            1 => c.remote.host = None,
            _ => c.local.host = host(0x0b00_0000 + i),
        }
        assert!(ep
            .handle_command(now, Command::AddConnection(Box::new(c)))
            .is_ok());
    }
    // The one that fits goes behind all of them.
    assert!(ep
        .handle_command(now, Command::DeleteConnection(CONN.into()))
        .is_ok());
    assert!(ep
        .handle_command(now, Command::AddConnection(Box::new(model.clone())))
        .is_ok());
    let seen = |ep: &Endpoint| visits(ep) + ep.conns.visits();
    let extra = ConnConfig::new(
        "extra",
        End {
            host: host(0x0c00_0001),
            ..model.local.clone()
        },
        model.remote.clone(),
        model.policy,
    );
    let before = seen(&p.eps[1]);
    assert!(p.eps[1]
        .handle_command(now, Command::AddConnection(Box::new(extra)))
        .is_ok());
    let add_cost = seen(&p.eps[1]) - before;

    let before = seen(&p.eps[1]);
    assert!(p.eps[0]
        .handle_command(now, Command::Initiate(CONN.into()))
        .is_ok());
    p.pump();
    let exchange_cost = seen(&p.eps[1]) - before;
    let kinds: Vec<StateKind> = p.eps[1].states().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StateKind::MainR3, StateKind::QuickR2], "{kinds:?}");
    assert!(p.eps[1].states().iter().all(|s| s.conn == CONN));

    let before = seen(&p.eps[1]);
    assert!(p.eps[1]
        .handle_command(now, Command::DeleteConnection("extra".into()))
        .is_ok());
    let delete_cost = seen(&p.eps[1]) - before;
    assert!(p.eps[1].conn("extra").is_none());
    [add_cost, exchange_cost, delete_cost]
}

#[test]
fn connections_cost_the_same_with_ten_and_with_ten_thousand() {
    let small = conn_costs(10);
    let large = conn_costs(10_000);
    assert_eq!(small, large);
    assert!(small.iter().all(|c| *c < 200), "{small:?}");
}
