//! The reader on files shaped like the ones people have.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::*;
use crate::ctl::{self, AddrFamily, DpdAction, Subnet};

/// A machine whose IPv4 default route leaves eth0 (192.0.2.10) by 192.0.2.1.
pub struct FakeHost;

impl Host for FakeHost {
    fn default_route(&self, family: AddrFamily) -> Option<DefaultRoute> {
        (family == AddrFamily::Ipv4).then(|| DefaultRoute {
            addr: ip("192.0.2.10"),
            nexthop: ip("192.0.2.1"),
            iface: "eth0".into(),
        })
    }

    fn resolve(&self, name: &str, family: AddrFamily) -> Result<IpAddr, String> {
        match (name, family) {
            ("vpn.example.net", AddrFamily::Ipv4) => Ok(ip("203.0.113.20")),
            _ => Err(format!("\"{name}\": no such host")),
        }
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn net(s: &str) -> Subnet {
    let (a, p) = s.split_once('/').unwrap();
    Subnet::new(ip(a), p.parse().unwrap()).unwrap()
}

/// A fresh directory holding `files` (name, contents).
pub fn dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rswan-conf-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    for (name, text) in files {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

pub fn load_in(d: &Path) -> Config {
    load(&d.join("ipsec.conf"), &FakeHost).unwrap()
}

fn no_errors(c: &Config) {
    let errs: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(|d| d.to_string())
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");
}

/// A raw RSA public key in RFC 3110 layout (e=65537, a 64-byte modulus).
fn raw_key() -> Vec<u8> {
    let mut k = vec![3, 1, 0, 1];
    k.extend((0..64u8).map(|i| i.wrapping_mul(37) | 1));
    k
}

#[test]
fn openswan_test_suite_layout() {
    // The testing/baseconfigs style: the host's file includes common
    // sections and the conns of the test; %default gives the defaults.
    let key = format!("0s{}", crate::text::data::encode_base64(&raw_key()));
    let common = format!(
        "conn %default\n\
         \tkeyingtries=2\n\
         \tikelifetime=2h\n\
         \n\
         conn west\n\
         \tleft=192.1.2.45\n\
         \tleftid=@west.testing.libreswan.org\n\
         \tleftnexthop=192.1.2.254\n\
         \tleftrsasigkey={key}\n\
         \n\
         conn east\n\
         \tright=192.1.2.23\n\
         \trightid=@east.testing.libreswan.org\n\
         \trightnexthop=192.1.2.254\n\
         \trightrsasigkey=%none\n"
    );
    let d = dir(
        "suite",
        &[
            (
                "ipsec.conf",
                "# /etc/ipsec.conf - west\n\
                 version 2.0\n\
                 \n\
                 config setup\n\
                 \tinterfaces=%defaultroute\n\
                 \tplutodebug=\"control parsing\"\n\
                 \tnat_traversal=yes\n\
                 \tvirtual_private=%v4:10.0.0.0/8,%v4:!192.0.1.0/24\n\
                 \n\
                 include ipsec.d/common.conf\n\
                 include ipsec.d/conns/*.conf\n",
            ),
            ("ipsec.d/common.conf", &common),
            (
                "ipsec.d/conns/westnet-eastnet.conf",
                "conn westnet-eastnet\n\
                 \talso=west\n\
                 \talso=east\n\
                 \tleftsubnet=192.0.1.0/24\n\
                 \trightsubnet=192.0.2.0/24\n\
                 \tauto=start\n\
                 \tkeylife=30m\n",
            ),
            ("ipsec.d/conns/README", "not a conf file\n"),
        ],
    );
    let c = load_in(&d);
    no_errors(&c);
    assert_eq!(
        c.conns.len(),
        1,
        "west and east are fragments: {:?}",
        c.conns
    );
    let conn = c.conn("westnet-eastnet").unwrap();
    assert_eq!(conn.auto, Auto::Start);
    assert_eq!(conn.line, 1);
    assert!(conn.file.ends_with("ipsec.d/conns/westnet-eastnet.conf"));
    let k = &conn.connection;
    assert_eq!(k.left.host, ip("192.1.2.45"));
    assert_eq!(k.left.nexthop, ip("192.1.2.254"));
    assert_eq!(k.left.id.as_deref(), Some("@west.testing.libreswan.org"));
    assert_eq!(k.left.client, Some(net("192.0.1.0/24")));
    assert_eq!(k.right.client, Some(net("192.0.2.0/24")));
    assert_eq!(k.right.host, ip("192.1.2.23"));
    // ipsec.conf defaults: rsasig, tunnel, pfs, esp.
    assert_eq!(
        k.policy,
        ctl::POLICY_RSASIG | ctl::POLICY_TUNNEL | ctl::POLICY_PFS | ctl::POLICY_ENCRYPT
    );
    assert_eq!(k.keying_tries, 2, "from %default");
    assert_eq!(k.ike_lifetime, 7200, "from %default");
    assert_eq!(k.ipsec_lifetime, 1800);
    assert_eq!(k.rekey_margin, 540);
    assert_eq!(k.dpd_action, DpdAction::Hold);
    // The raw key is sent under the id.
    assert_eq!(conn.keys.len(), 1);
    assert_eq!(conn.keys[0].keyid, "@west.testing.libreswan.org");
    assert_eq!(conn.keys[0].pubkey_rsa, Some(raw_key()));
    // config setup.
    let a = &c.setup.pluto_args;
    assert_eq!(a[0], "--use-netkey");
    for w in [
        ["--interface", "eth0"],
        ["--debug-control", "--debug-parsing"],
        ["--virtual_private", "%v4:10.0.0.0/8,%v4:!192.0.1.0/24"],
    ] {
        assert!(a.windows(2).any(|x| x == w), "{w:?} in {a:?}");
    }
    assert!(a.contains(&"--nat_traversal".to_string()));
    assert!(crate::pluto::options::parse(a).is_ok());
}

#[test]
fn cloud_vpn_two_tunnels() {
    // What a cloud provider's "download configuration" gives: two tunnels
    // to two endpoints, PSK, DPD, explicit algorithms.
    let d = dir(
        "cloud",
        &[(
            "ipsec.conf",
            "config setup\n\
             \tprotostack=netkey\n\
             \tnat_traversal=yes\n\
             \tuniqueids=no\n\
             \n\
             conn Tunnel1\n\
             \tauthby=secret\n\
             \tauto=start\n\
             \tleft=%defaultroute\n\
             \tleftid = 198.51.100.7\n\
             \trightnexthop=%direct\n\
             \tright=203.0.113.10\n\
             \ttype=tunnel\n\
             \tikelifetime=8h\n\
             \tkeylife=1h\n\
             \tphase2alg=aes128-sha1;modp1024\n\
             \tike=aes128-sha1;modp1024\n\
             \tkeyingtries=%forever\n\
             \tleftsubnet=172.31.0.0/16\n\
             \trightsubnet=10.10.0.0/16\n\
             \tdpddelay=10\n\
             \tdpdtimeout=30\n\
             \tdpdaction=restart\n\
             \tforceencaps=yes\n\
             \n\
             conn Tunnel2\n\
             \talso=Tunnel1-common\n\
             \tright=vpn.example.net\n\
             \n\
             conn Tunnel1-common\n\
             \tauthby=secret\n\
             \tauto=add\n\
             \tleft=%defaultroute\n\
             \tleftsubnet=172.31.0.0/16\n\
             \trightsubnet=10.10.0.0/16\n\
             \tpfs=no\n\
             \tright=203.0.113.99\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    assert!(
        !c.setup.pluto_args.contains(&"--uniqueids".to_string()),
        "uniqueids=no: pluto runs without --uniqueids"
    );
    let t1 = &c.conn("Tunnel1").unwrap().connection;
    assert_eq!(t1.left.host, ip("192.0.2.10"), "%defaultroute");
    assert_eq!(t1.left.nexthop, ip("192.0.2.1"), "%defaultroute's gateway");
    assert_eq!(
        t1.right.nexthop,
        ip("192.0.2.10"),
        "%direct: the other host"
    );
    assert_eq!(
        t1.left.id.as_deref(),
        Some("198.51.100.7"),
        "blanks around ="
    );
    assert_eq!(t1.policy & ctl::POLICY_ID_AUTH_MASK, ctl::POLICY_PSK);
    assert_eq!(t1.esp.as_deref(), Some("aes128-sha1;modp1024"));
    assert_eq!(t1.ike.as_deref(), Some("aes128-sha1;modp1024"));
    assert_eq!((t1.ike_lifetime, t1.ipsec_lifetime), (28800, 3600));
    assert_eq!((t1.dpd_delay, t1.dpd_timeout), (10, 30));
    assert_eq!(t1.dpd_action, DpdAction::Restart);
    assert!(t1.force_encaps);
    assert_eq!(t1.keying_tries, 0);
    let t2 = c.conn("Tunnel2").unwrap();
    // Its own right= wins over the also= section's; a name is looked up.
    assert_eq!(t2.connection.right.host, ip("203.0.113.20"));
    assert_eq!(t2.connection.policy & ctl::POLICY_PFS, 0);
    assert_eq!(t2.auto, Auto::Add, "auto= from the also= section");
    // Tunnel1-common says auto=: a conn of its own too.
    assert!(c.conn("Tunnel1-common").is_some());
    assert_eq!(c.conns.len(), 3);
}

#[test]
fn road_warrior_server_with_subnets() {
    let d = dir(
        "rw",
        &[(
            "ipsec.conf",
            "version 2\n\
             config setup\n\
             \tprotostack=auto\n\
             \tplutostderrlog=/var/log/pluto.log\n\
             \tplutoopts=\"--nhelpers 0\"\n\
             conn roadwarriors\n\
             \tleft=192.0.2.10\n\
             \tleftsubnets={10.1.0.0/16 10.2.0.0/16}\n\
             \tright=%any\n\
             \trightid=@roadwarrior\n\
             \trightrsasigkey=0x0103010001\n\
             \tauthby=rsasig\n\
             \tauto=add   # waits for them\n\
             \trekey=no\n\
             \tleftupdown=\"/usr/local/lib/updown --verbose\"\n\
             \tleftprotoport=17/1701\n\
             \trightprotoport=17/%any\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    let names: Vec<&str> = c.conns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["roadwarriors/1x1", "roadwarriors/2x1"]);
    let rw = &c.conns[1].connection;
    assert_eq!(rw.left.client, Some(net("10.2.0.0/16")));
    assert_eq!(rw.right.client, None);
    assert!(rw.right.host.is_unspecified());
    // No nexthop towards %any: %direct.
    assert!(rw.left.nexthop.is_unspecified());
    assert_eq!(rw.right.nexthop, ip("192.0.2.10"));
    assert_ne!(rw.policy & ctl::POLICY_DONT_REKEY, 0);
    assert_eq!(
        rw.left.updown.as_deref(),
        Some("/usr/local/lib/updown --verbose")
    );
    assert_eq!((rw.left.protocol, rw.left.port), (17, 1701));
    assert!(rw.right.port_wildcard);
    assert_eq!(c.conns[0].keys[0].keyid, "@roadwarrior");
    assert_eq!(
        c.conns[0].keys[0].pubkey_rsa.as_deref(),
        Some(&[1u8, 3, 1, 0, 1][..])
    );
    assert_eq!(c.setup.pluto_args[0], "--use-auto");
    assert!(c.setup.pluto_args.contains(&"--stderrlog".to_string()));
    assert!(c
        .setup
        .pluto_args
        .windows(2)
        .any(|w| w == ["--nhelpers", "0"]));
    assert_eq!(
        c.setup.stderr_log.as_deref(),
        Some(Path::new("/var/log/pluto.log"))
    );
}

#[test]
fn subnet_and_subnets_numbered_as_openswan() {
    let d = dir(
        "multinet",
        &[(
            "ipsec.conf",
            "conn multi\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.2\n\
             \tleftsubnet=192.0.1.0/24\n\
             \tleftsubnets=192.0.11.0/24\n\
             \trightsubnets=\"192.0.2.0/24, 192.0.22.0/24\"\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    let got: Vec<(String, String, String)> = c
        .conns
        .iter()
        .map(|c| {
            let k = &c.connection;
            (
                c.name.clone(),
                k.left.client.unwrap().to_string(),
                k.right.client.unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("multi/0x1", "192.0.1.0/24", "192.0.2.0/24"),
        ("multi/0x2", "192.0.1.0/24", "192.0.22.0/24"),
        ("multi/1x1", "192.0.11.0/24", "192.0.2.0/24"),
        ("multi/1x2", "192.0.11.0/24", "192.0.22.0/24"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn also_chain_and_shunts() {
    let d = dir(
        "also",
        &[(
            "ipsec.conf",
            "conn base\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.2\n\
             conn mid\n\
             \talso=base\n\
             \tauthby=secret|rsasig\n\
             \tcompress=yes\n\
             conn top\n\
             \talso=mid\n\
             \ttype=transport\n\
             \tfailureshunt=drop\n\
             \tauto=route\n\
             conn pass\n\
             \talso=base\n\
             \ttype=passthrough\n\
             \tauthby=never\n\
             \tleftsubnet=10.9.0.0/24\n\
             \trightsubnet=10.8.0.0/24\n\
             \tauto=route\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    let top = &c.conn("top").unwrap().connection;
    assert_eq!(top.left.host, ip("10.0.0.1"));
    assert_eq!(
        top.policy,
        ctl::POLICY_PSK
            | ctl::POLICY_RSASIG
            | ctl::POLICY_ENCRYPT
            | ctl::POLICY_COMPRESS
            | ctl::POLICY_PFS
            | ctl::POLICY_FAIL_DROP
    );
    let pass = &c.conn("pass").unwrap().connection;
    assert_eq!(pass.policy & ctl::POLICY_SHUNT_MASK, ctl::POLICY_SHUNT_PASS);
    assert!(ctl::never_negotiate(pass.policy));
    assert!(c.conn("base").is_none() && c.conn("mid").is_none());
}

#[test]
fn ignored_keys_get_one_note() {
    let d = dir(
        "notes",
        &[(
            "ipsec.conf",
            "config setup\n\
             \tklipsdebug=none\n\
             conn %default\n\
             \tkeyexchange=ike\n\
             conn a\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.2\n\
             \tx-comment=\"mine\"\n\
             conn b\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.3\n",
        )],
    );
    let c = load_in(&d);
    let notes: Vec<String> = c.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(notes[0]
        .ends_with(":2: note: klipsdebug ignored: KLIPS tuning; rswan drives NETKEY (XFRM)"));
    assert!(notes[1].contains(":4: note: keyexchange ignored"));
    assert_eq!(c.conns.len(), 2);
}

#[test]
fn ipv6_conn() {
    let d = dir(
        "v6",
        &[(
            "ipsec.conf",
            "conn six\n\
             \tleft=2001:db8::1\n\
             \tright=2001:db8::2\n\
             \tleftsubnet=2001:db8:1::/48\n\
             \trightsubnet=2001:db8:2::/48\n\
             \tauthby=secret\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    let k = &c.conn("six").unwrap().connection;
    assert_eq!(k.addr_family, AddrFamily::Ipv6);
    assert_eq!(k.tunnel_addr_family, AddrFamily::Ipv6);
    assert_eq!(k.left.nexthop, ip("2001:db8::2"));
    assert_eq!(c.conn("six").unwrap().auto, Auto::Ignore);
}

#[test]
fn mixed_families_and_any6() {
    let d = dir(
        "v46",
        &[(
            "ipsec.conf",
            "conn v4-over-v6\n\
             \tleft=2001:db8::1\n\
             \tright=2001:db8::2\n\
             \tleftsubnet=10.1.0.0/24\n\
             \trightsubnet=10.2.0.0/24\n\
             conn v6-over-v4\n\
             \tleft=192.0.2.1\n\
             \tright=192.0.2.2\n\
             \tleftsubnet=2001:db8:a::/64\n\
             \trightsubnet=2001:db8:b::/64\n\
             conn road6\n\
             \tleft=2001:db8::1\n\
             \tleftsubnet=2001:db8:a::/64\n\
             \tright=%any6\n\
             conn road6-alone\n\
             \tleft=%any6\n\
             \tright=2001:db8::2\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    let families = |name: &str| {
        let k = &c.conn(name).unwrap().connection;
        (k.addr_family, k.tunnel_addr_family)
    };
    assert_eq!(families("v4-over-v6"), (AddrFamily::Ipv6, AddrFamily::Ipv4));
    assert_eq!(families("v6-over-v4"), (AddrFamily::Ipv4, AddrFamily::Ipv6));
    assert_eq!(families("road6"), (AddrFamily::Ipv6, AddrFamily::Ipv6));
    let k = &c.conn("road6").unwrap().connection;
    assert_eq!(k.right.host, ip("::"));
    assert_eq!(k.left.client, Some(net("2001:db8:a::/64")));
    let k = &c.conn("road6-alone").unwrap().connection;
    assert_eq!((k.addr_family, k.left.host), (AddrFamily::Ipv6, ip("::")));
}

#[test]
fn confs_dir_follows_ipsec_confs() {
    std::env::set_var(IPSEC_CONFS_ENV, "/tmp/some/where");
    assert_eq!(confs_dir(), PathBuf::from("/tmp/some/where"));
    std::env::remove_var(IPSEC_CONFS_ENV);
    assert_eq!(confs_dir(), PathBuf::from("/etc"));
}

#[test]
fn readme_lists_the_key_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = keys::markdown();
    assert!(
        doc.contains(&table),
        "README.md's ipsec.conf key list is out of date; it is:\n{table}"
    );
}

#[test]
fn opportunistic_conn() {
    let d = dir(
        "oe",
        &[(
            "ipsec.conf",
            "version 2\n\
             conn private-or-clear\n\
             \tleft=%defaultroute\n\
             \tleftsubnet=10.1.0.0/24\n\
             \tright=%opportunistic\n\
             \tfailureshunt=passthrough\n\
             \tauto=route\n",
        )],
    );
    let c = load_in(&d);
    no_errors(&c);
    let oe = &c.conns[0].connection;
    assert_eq!(oe.left.host, ip("192.0.2.10"));
    assert!(oe.right.host.is_unspecified());
    assert_eq!(
        oe.right.client,
        Some(net("0.0.0.0/0")),
        "anyone, by default"
    );
    assert!(oe.right.dns_key_on_demand);
    let want = ctl::POLICY_OPPO | ctl::POLICY_RSASIG | ctl::POLICY_PFS | ctl::POLICY_TUNNEL;
    assert_eq!(oe.policy & want, want);
    assert_eq!(oe.policy & ctl::POLICY_FAIL_MASK, ctl::POLICY_FAIL_PASS);
}
