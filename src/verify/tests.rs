use super::*;
use std::collections::HashMap;

#[derive(Default)]
struct Fake {
    files: HashMap<String, String>,
    owners: HashMap<String, (u32, u32)>,
    xfrm: bool,
    pluto: bool,
}

impl System for Fake {
    fn read(&self, path: &str) -> Option<String> {
        self.files.get(path).cloned()
    }
    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
    fn owner_mode(&self, path: &str) -> Option<(u32, u32)> {
        self.owners.get(path).copied()
    }
    fn xfrm_netlink(&self) -> bool {
        self.xfrm
    }
    fn pluto_answers(&self) -> bool {
        self.pluto
    }
    fn kernel_release(&self) -> String {
        "6.1.0-test".into()
    }
}

impl Fake {
    fn file(mut self, path: &str, text: &str) -> Fake {
        self.files.insert(path.into(), text.into());
        self
    }
}

fn subject<'a>(config: Result<&'a Config, String>) -> Subject<'a> {
    Subject {
        config,
        secrets: "/etc/ipsec.secrets",
        conf_file: "/etc/ipsec.conf",
    }
}

#[test]
fn kernel_stacks() {
    let none = Fake::default();
    assert_eq!(kernel_support(&none).outcome, Outcome::Failed);
    let xfrm = Fake {
        xfrm: true,
        ..Fake::default()
    };
    assert_eq!(kernel_support(&xfrm).outcome, Outcome::Ok);
    let pfkey = Fake::default().file("/proc/net/pfkey", "");
    let c = kernel_support(&pfkey);
    assert_eq!(c.outcome, Outcome::Ok);
    assert!(c.detail[0].contains("PF_KEY"), "{c:?}");
    let klips = Fake::default().file("/proc/net/ipsec_eroute", "");
    assert_eq!(kernel_support(&klips).outcome, Outcome::Failed);
}

#[test]
fn modules_built_in_loaded_or_loadable() {
    let s = subject(Err("no file".into()));
    let dep = "kernel/net/ipv4/esp4.ko.xz: kernel/net/xfrm/xfrm_algo.ko.xz\nkernel/crypto/des_generic.ko.xz:\n";
    let sys = Fake::default()
        .file("/lib/modules/6.1.0-test/modules.dep", dep)
        .file(
            "/lib/modules/6.1.0-test/modules.builtin",
            "kernel/crypto/md5.ko\n",
        )
        .file("/sys/module/aes", "")
        .file(
            "/proc/crypto",
            "name         : sha1\ndriver       : sha1-generic\nname         : des3_ede\n",
        );
    let c = algorithms(&sys, &s);
    assert_eq!(c.outcome, Outcome::Ok, "{c:?}");
    let bare = Fake::default().file("/proc/crypto", "name         : sha1\n");
    let c = algorithms(&bare, &s);
    assert_eq!(c.outcome, Outcome::Failed);
    assert!(
        c.detail[0].contains("esp4")
            && c.detail[0].contains("des3_ede")
            && !c.detail[0].contains("sha1 "),
        "{c:?}"
    );
}

const UDP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   1: 0100007F:01F4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
";

#[test]
fn ports_for_pluto() {
    let held = Fake::default().file("/proc/net/udp", UDP);
    let with = ports(&held, true);
    assert_eq!(with[0].outcome, Outcome::Ok);
    assert_eq!(with[1].outcome, Outcome::NotApplicable);
    let without = ports(&held, false);
    assert_eq!(without[0].outcome, Outcome::Failed, "{without:?}");
    assert_eq!(without[1].outcome, Outcome::Ok);
    assert_eq!(ports(&Fake::default(), true)[0].outcome, Outcome::Failed);
    assert_eq!(pluto_running(false).outcome, Outcome::Failed);
}

#[test]
fn sysctls() {
    let strict = Fake::default()
        .file("/proc/sys/net/ipv4/conf/all/rp_filter", "1\n")
        .file("/proc/sys/net/ipv4/conf/default/rp_filter", "0\n");
    let c = rp_filter(&strict);
    assert_eq!(c.outcome, Outcome::Warning);
    assert!(
        c.detail[0].contains("net.ipv4.conf.all.rp_filter=2"),
        "{c:?}"
    );
    assert_eq!(
        rp_filter(&Fake::default().file("/proc/sys/net/ipv4/conf/all/rp_filter", "2")).outcome,
        Outcome::Ok
    );
    let s = subject(Err("x".into()));
    assert_eq!(
        ip_forward(&Fake::default(), &s).outcome,
        Outcome::NotApplicable
    );
    assert_eq!(
        ip_forward(
            &Fake::default().file("/proc/sys/net/ipv4/ip_forward", "1\n"),
            &s
        )
        .outcome,
        Outcome::Ok
    );
    let mut conf = Config::default();
    let mut conn_with_subnet = crate::ctl::Connection::default();
    conn_with_subnet.left.client = crate::ctl::Subnet::new("10.0.0.0".parse().unwrap(), 8);
    conf.conns.push(crate::conf::Conn {
        name: "c".into(),
        auto: crate::conf::Auto::Add,
        connection: conn_with_subnet,
        keys: Vec::new(),
        file: "/etc/ipsec.conf".into(),
        line: 1,
    });
    let c = ip_forward(
        &Fake::default().file("/proc/sys/net/ipv4/ip_forward", "0\n"),
        &subject(Ok(&conf)),
    );
    assert_eq!(c.outcome, Outcome::Failed);
    assert!(c.detail[0].contains("ip_forward=1"));
}

#[test]
fn secrets_and_conf() {
    let mut sys = Fake::default();
    assert_eq!(secrets(&sys, "/etc/ipsec.secrets").outcome, Outcome::Failed);
    sys.owners
        .insert("/etc/ipsec.secrets".into(), (0, 0o100644));
    let c = secrets(&sys, "/etc/ipsec.secrets");
    assert_eq!(c.outcome, Outcome::Failed);
    assert!(c.detail[0].contains("mode 644"), "{c:?}");
    sys.owners
        .insert("/etc/ipsec.secrets".into(), (1000, 0o100600));
    assert_eq!(secrets(&sys, "/etc/ipsec.secrets").outcome, Outcome::Failed);
    sys.owners
        .insert("/etc/ipsec.secrets".into(), (0, 0o100600));
    assert_eq!(secrets(&sys, "/etc/ipsec.secrets").outcome, Outcome::Ok);

    assert_eq!(
        conf(&subject(Err("cannot read".into()))).outcome,
        Outcome::Failed
    );
    let mut c = Config::default();
    assert_eq!(conf(&subject(Ok(&c))).outcome, Outcome::Ok);
    c.diagnostics.push(crate::conf::Diagnostic::new(
        std::path::Path::new("/etc/ipsec.conf"),
        3,
        Severity::Error,
        "conn x: bad",
    ));
    let check = conf(&subject(Ok(&c)));
    assert_eq!(check.outcome, Outcome::Failed);
    assert_eq!(check.detail[0], "/etc/ipsec.conf:3: error: conn x: bad");
    assert_eq!(check.line().len(), 60 + "[FAILED]".len());
}
