//! The NETKEY sequences of `ipsec eroute` against the running kernel over
//! XFRM netlink (this host has no PF_KEY), in a private network namespace:
//! the KLIPS-era script (one `--add` per side), then with `--addin`, the
//! deletions, and the listing. Needs root; skipped otherwise.
use super::*;
use crate::xfrm::tests::kernel::in_new_netns;

fn req(action: &str, src: &str, dst: &str, said: Option<&str>) -> Request {
    Request::from_args(&Args {
        action: action.into(),
        eraf: Some("inet".into()),
        src: Some(src.into()),
        dst: Some(dst.into()),
        said: said.map(str::to_string),
        ..Args::default()
    })
    .unwrap()
}

/// (direction, is a mirror) of every policy, sorted.
fn spd() -> Vec<(u8, bool)> {
    let mut v: Vec<(u8, bool)> = Link::open(Stack::Xfrm)
        .unwrap()
        .dump_spd()
        .unwrap()
        .iter()
        .map(|m| (m.policy().unwrap().dir, netkey::is_mirror(m)))
        .collect();
    crate::sort::sort(&mut v);
    v
}

const OUT: u8 = crate::pfkey::consts::IPSEC_DIR_OUTBOUND;
const IN: u8 = IPSEC_DIR_INBOUND;
const FWD: u8 = IPSEC_DIR_FWD;

#[test]
fn eroute_sequences_over_xfrm() {
    let ran = in_new_netns(|| {
        let x = Stack::Xfrm;
        let (a, b) = ("10.1.0.0/24", "10.2.0.0/24");
        let run = |r: Request| apply(&r, x, false);

        // KLIPS-era: --add only; the mirrors accept the way back.
        run(req("add", a, b, Some("tun0x1001@192.0.2.2"))).unwrap();
        assert_eq!(spd(), vec![(IN, true), (OUT, false), (FWD, true)]);
        assert_eq!(
            list_lines(x).unwrap(),
            vec!["0          10.1.0.0/24        -> 10.2.0.0/24        => %trap"]
        );
        // --add again: refused, nothing changes.
        let e = run(req("add", a, b, Some("tun0x1001@192.0.2.2"))).unwrap_err();
        assert_eq!(e, "eroute already in use.  Delete old one first.");
        assert_eq!(spd().len(), 3);
        // --addin of the way back replaces the mirrors.
        run(req("addin", b, a, Some("esp0x1002@192.0.2.1"))).unwrap();
        assert_eq!(spd(), vec![(IN, false), (OUT, false), (FWD, false)]);
        // --del of the outbound leaves the --addin entries alone.
        run(req("del", a, b, None)).unwrap();
        assert_eq!(spd(), vec![(IN, false), (FWD, false)]);
        assert_eq!(
            run(req("del", a, b, None)).unwrap_err(),
            "eroute doesn't exist.  Can't delete."
        );
        // --add with the --addin entries there: they stay, no mirrors.
        run(req("add", a, b, Some("esp0x1001@192.0.2.2"))).unwrap();
        assert_eq!(spd(), vec![(IN, false), (OUT, false), (FWD, false)]);
        run(req("del", b, a, None)).unwrap();
        run(req("del", a, b, None)).unwrap();
        assert!(spd().is_empty());
        // --add then --del: the mirrors go with the eroute.
        run(req("add", a, b, Some("ah.1003@192.0.2.2"))).unwrap();
        assert_eq!(spd().len(), 3);
        run(req("del", a, b, None)).unwrap();
        assert!(spd().is_empty());
        // Shunts get no mirrors; --clear empties.
        run(req("add", a, "10.9.0.0/24", Some("%pass"))).unwrap();
        run(req("add", a, "10.7.0.0/24", Some("%trap"))).unwrap();
        assert_eq!(spd(), vec![(OUT, false), (OUT, false)]);
        let lines = list_lines(x).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("10.9.0.0/24        => %pass")),
            "{lines:?}"
        );
        run(Request::from_args(&Args {
            action: "clear".into(),
            ..Args::default()
        })
        .unwrap())
        .unwrap();
        assert!(spd().is_empty());
        // ipsec spi over XFRM: an empty listing, --clear, a missing SA.
        assert!(crate::spi::list_lines(x).unwrap().is_empty());
        let spi = |a: crate::spi::Args| {
            crate::spi::apply(&crate::spi::Request::from_args(&a).unwrap(), x, false)
        };
        spi(crate::spi::Args {
            action: "clear".into(),
            ..Default::default()
        })
        .unwrap();
        let e = spi(crate::spi::Args {
            action: "del".into(),
            said: Some("esp.1005@192.0.2.2".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.starts_with("SA esp0x1005@192.0.2.2 does not exist"),
            "{e}"
        );
    });
    if !ran {
        eprintln!("eroute over XFRM not run (not root)");
    }
}
