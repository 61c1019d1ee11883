//! Exchanges with the running kernel, in a network namespace of their own
//! (so the host's tables are never touched). Needs root; skipped with a
//! message otherwise. ESP may be missing from the kernel: policies and
//! larval SAs (ALLOCSPI) need no transform, so those are what is checked.
#![allow(unsafe_code)]

use super::*;
use crate::xfrm::XfrmSocket;
use std::time::{Duration, Instant};

/// Runs `f` on a thread moved into a fresh network namespace (namespaces
/// are per thread: the test harness's other threads stay where they are).
/// Returns `false` when that is not possible (not root).
pub(crate) fn in_new_netns(f: impl FnOnce() + Send + 'static) -> bool {
    let t = std::thread::spawn(move || {
        // SAFETY: unshare(2) takes a flag word and only changes this
        // thread's namespaces; it touches no memory of ours.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            eprintln!("skipping the XFRM kernel test: unshare(CLONE_NEWNET): {e} (needs root)");
            return false;
        }
        f();
        true
    });
    t.join().unwrap()
}

#[test]
fn policies_and_larval_sas_in_a_private_namespace() {
    let ran = in_new_netns(|| {
        let mut s = match XfrmSocket::open() {
            Ok(s) => s,
            Err(e) => panic!("XFRM netlink socket: {e}"),
        };
        assert_ne!(s.port_id(), 0);
        let mut events = XfrmSocket::open().unwrap();
        events.subscribe(&[XFRMNLGRP_POLICY, XFRMNLGRP_SA]).unwrap();

        // A fresh namespace has no policies.
        assert!(s.request_dump(dump_policy()).unwrap().is_empty());
        let spec = out_policy();
        let ack = s.request(new_policy(&spec)).unwrap();
        assert_eq!(ack.errno(), Some(0));
        let err = s.request(new_policy(&spec)).unwrap_err();
        match &err {
            XfrmError::Kernel(k) => assert_eq!(k.kind(), KernelErrorKind::Exists, "{err}"),
            _ => panic!("{err}"),
        }
        // The mirrored inbound policy with an optional wildcard template.
        let inbound = PolicySpec {
            templates: vec![Tmpl {
                optional: true,
                ..Tmpl::new(IPPROTO_ESP, XFRM_MODE_TUNNEL, 0)
            }],
            ..PolicySpec::new(spec.selector.reversed(), XFRM_POLICY_IN, 122880)
        };
        s.request(new_policy(&inbound)).unwrap();

        let dump = s.request_dump(dump_policy()).unwrap();
        assert_eq!(
            dump.len(),
            2,
            "{:?}",
            dump.iter().map(Message::summary).collect::<Vec<_>>()
        );
        for m in &dump {
            assert_eq!(m.header.msg_type, XFRM_MSG_NEWPOLICY);
            assert_eq!(m.emit(), Message::parse(&m.emit()).unwrap().emit());
        }
        let got = s
            .request(get_policy(&spec.selector, XFRM_POLICY_OUT))
            .unwrap();
        let Body::Policy(p) = &got.body else {
            panic!("{}", got.summary())
        };
        assert_eq!(
            (p.sel, p.priority, p.dir),
            (spec.selector, 122880, XFRM_POLICY_OUT)
        );
        assert_eq!(got.tmpls(), &[spec.templates[0].to_user(AF_INET)][..]);

        // Non-blocking: send, then collect the answer by sequence number.
        let mut q = get_policy(&inbound.selector, XFRM_POLICY_IN);
        let seq = s.send(&mut q).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let reply = loop {
            match s.recv_any().unwrap() {
                Some(m) if m.header.seq == seq => break m,
                Some(_) => {}
                None => {
                    assert!(Instant::now() < deadline, "no reply to seq {seq}");
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        };
        let Body::Policy(p) = &reply.body else {
            panic!("{}", reply.summary())
        };
        assert_eq!(p.dir, XFRM_POLICY_IN);
        assert_eq!(reply.tmpls()[0].optional, 1);

        // A larval SA from ALLOCSPI: the SPI is in the range asked for.
        let (peer, us) = (v4(192, 0, 2, 2), v4(192, 0, 2, 1));
        let r = s
            .request(alloc_spi(IPPROTO_ESP, peer, us, 16, 0x1000, 0x1fff))
            .unwrap();
        let Body::Sa(sa) = &r.body else {
            panic!("{}", r.summary())
        };
        assert!((0x1000..=0x1fff).contains(&sa.id.spi), "{:#x}", sa.id.spi);
        let spi = sa.id.spi;
        let got = s.request(get_sa(IPPROTO_ESP, spi, peer, us)).unwrap();
        let Body::Sa(g) = &got.body else { panic!() };
        assert_eq!((g.id.spi, g.reqid), (spi, 16));
        assert_eq!(s.request_dump(dump_sa()).unwrap().len(), 1);

        // Completing it needs ESP in the kernel: either it works or the
        // refusal says an algorithm or transform is missing.
        let mut full = esp_spec();
        full.spi = spi;
        full.src = peer;
        full.dst = us;
        match s.request(update_sa(&full)) {
            Ok(m) => assert_eq!(m.errno(), Some(0)),
            Err(XfrmError::Kernel(k)) => {
                eprintln!("UPDSA refused as expected without ESP: {k}");
                assert_eq!(k.kind(), KernelErrorKind::AlgorithmMissing, "{k}");
            }
            Err(e) => panic!("{e}"),
        }
        s.request(del_sa(IPPROTO_ESP, spi, peer, us)).unwrap();
        let err = s.request(del_sa(IPPROTO_ESP, spi, peer, us)).unwrap_err();
        assert!(
            matches!(&err, XfrmError::Kernel(k) if k.kind() == KernelErrorKind::NotFound),
            "{err}"
        );

        s.request(del_policy(&spec.selector, XFRM_POLICY_OUT))
            .unwrap();
        assert_eq!(s.request_dump(dump_policy()).unwrap().len(), 1);
        s.request(flush_policy()).unwrap();
        s.request(flush_sa(0)).unwrap();
        assert!(s.request_dump(dump_policy()).unwrap().is_empty());

        // The listener saw the changes as multicast events (seq of the
        // request, our port id as sender... or 0): at least the two
        // NEWPOLICY and the DELPOLICY.
        let mut types = Vec::new();
        while let Some(m) = events.recv(Some(Duration::from_millis(200))).unwrap() {
            types.push(m.header.msg_type);
        }
        assert!(
            types.iter().filter(|&&t| t == XFRM_MSG_NEWPOLICY).count() >= 2,
            "{types:?}"
        );
        assert!(types.contains(&XFRM_MSG_DELPOLICY), "{types:?}");
        assert!(types.contains(&XFRM_MSG_FLUSHPOLICY), "{types:?}");
    });
    if !ran {
        eprintln!("XFRM kernel exchange not run (not root)");
    }
}
