use super::*;
use crate::conf::{Host, Severity};
use crate::ctl::AddrFamily;

struct NoRoute;
impl Host for NoRoute {
    fn default_route(&self, _: AddrFamily) -> Option<crate::conf::DefaultRoute> {
        None
    }
}

const KEY: &str = "0sAQNwb9RUnQ5xy6WmSfuNRiwibOpmGH3hOlTmh/2KPNBdNBoDnaBDEu6iBGGJq9jwRAB2M4ySyohHpHb0JsM8+Eqd+EIIhGPqB4+g6hA15rYNGj3qCHchrGU+Lp6yy4ry0zpOk5LeOzm18sA/zTnNMHF+vQg0kyCRPKLhYjaXXxiLSPIAR0Cy5z4z6aztGobITrmFX03BRiRJ9lx7DY3CX08Fg8EkewJJEhhSV/5EOaw/RaR6jCHjXb8e+R4QiAEYPsb9CWmPIAf+f9OjAyD4G0rzz/BjAdk3pgmpVrk0bqvGuNxXJWI5Vlf9IdWn+v4xGv1gCSrm3c/+jDhRsEmgdhC7XfNh5LBdjKTDH43hOcrzrPgVe4nl";

fn config(text: &str) -> Config {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("rswan-auto-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("ipsec.conf");
    std::fs::write(&f, text).unwrap();
    let c = crate::conf::load(&f, &NoRoute).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    c
}

const FILE: &str = "\
version 2.0
config setup
\tmyid=@west
\tplutoopts=\"--ctlbase /tmp/p\"

conn %default
\tauthby=secret

conn routed
\tleft=192.0.2.1
\tright=192.0.2.2
\tauto=route

conn started
\tleft=192.0.2.1
\tleftsubnet=10.1.0.0/24
\tright=192.0.2.3
\tauto=start

conn added
\tleft=192.0.2.1
\tright=192.0.2.4
\tauto=add

conn ignored
\tleft=192.0.2.1
\tright=192.0.2.5

conn keyed
\tauthby=rsasig
\tleft=192.0.2.1
\tright=192.0.2.6
\trightrsasigkey=KEY
\tauto=add

conn many
\tleft=192.0.2.1
\tleftsubnets={10.1.0.0/24 10.3.0.0/24}
\tright=192.0.2.7
\trightsubnet=10.7.0.0/24

conn broken
\tleft=192.0.2.1
\tright=192.0.2.8
\tbogus=1
";

fn what(s: &Step) -> String {
    let m = &s.msg;
    let n = m.name.clone().unwrap_or_default();
    if m.myid.is_some() {
        "myid".into()
    } else if m.key.is_some() {
        format!("key {}", m.key.as_ref().unwrap().keyid)
    } else if m.connection.is_some() {
        format!("add {n}")
    } else if m.listen {
        "listen".into()
    } else if m.route {
        format!("route {n}")
    } else if m.initiate {
        format!("up {n}{}", if m.asynchronous { " async" } else { "" })
    } else if m.delete {
        format!("delete {n}")
    } else {
        format!("{m:?}")
    }
}

#[test]
fn setup_start_sends_in_openswans_order() {
    let c = config(&FILE.replace("KEY", KEY));
    let plan: Vec<String> = start_plan(&c).iter().map(what).collect();
    assert_eq!(
        plan,
        [
            "myid",
            "add routed",
            "add started",
            "add added",
            "key 192.0.2.6",
            "add keyed",
            "listen",
            "route routed",
            "route started",
            "up started async"
        ]
    );
    let mut waiting = c.clone();
    waiting.setup.pluto_wait = true;
    assert_eq!(what(start_plan(&waiting).last().unwrap()), "up started");
}

#[test]
fn auto_operations() {
    let c = config(&FILE.replace("KEY", KEY));
    let keyed = conns_named(&c, "keyed");
    let add: Vec<String> = plan(Op::Add, "keyed", &keyed, false)
        .iter()
        .map(what)
        .collect();
    assert_eq!(add, ["key 192.0.2.6", "add keyed"]);
    let replace = plan(Op::Replace, "keyed", &keyed, false);
    assert_eq!(what(&replace[0]), "delete keyed");
    assert!(replace[0].may_fail && !replace[2].may_fail);
    // leftsubnets= made one conn per subnet; the name stands for all of them
    let many: Vec<&str> = conns_named(&c, "many")
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(many, ["many/1x0", "many/2x0"]);
    let up: Vec<String> = plan(Op::Up, "many", &conns_named(&c, "many"), true)
        .iter()
        .map(what)
        .collect();
    assert_eq!(up, ["up many/1x0 async", "up many/2x0 async"]);
    // a conn pluto knows from whack alone is still named as given
    assert_eq!(what(&plan(Op::Up, "other", &[], false)[0]), "up other");
    assert!(conns_named(&c, "man").is_empty());
    let down = &plan(Op::Down, "added", &conns_named(&c, "added"), false)[0].msg;
    assert!(down.terminate && down.name.as_deref() == Some("added"));
    assert_eq!(
        plan(Op::RereadSecrets, "", &[], false)[0].msg.reread,
        REREAD_SECRETS
    );
    assert_eq!(
        plan(Op::ListPubkeys, "", &[], false)[0].msg.list,
        LIST_PUBKEYS
    );
}

#[test]
fn options_and_outcomes() {
    assert_eq!(Op::from_option("--up"), Some(Op::Up));
    assert_eq!(Op::from_option("--upp"), None);
    assert!(Op::Add.needs_name() && !Op::Status.needs_name());
    let up = plan(Op::Up, "x", &[], true).remove(0);
    assert!(!up.failed(0) && !up.failed(104) && up.failed(21));
    let sync = plan(Op::Up, "x", &[], false).remove(0);
    assert!(sync.failed(104) && !sync.failed(0));
}

#[test]
fn diagnostics_of_a_conn() {
    let c = config(&FILE.replace("KEY", KEY));
    let all = diagnostics_for(&c, None, true);
    assert!(all.iter().any(|d| d.contains("bogus")), "{all:?}");
    let broken = diagnostics_for(&c, Some("broken"), false);
    assert!(broken.iter().any(|d| d.contains("bogus")), "{broken:?}");
    assert!(c.conn("broken").is_none());
    let added = diagnostics_for(&c, Some("added"), true);
    assert!(added.iter().all(|d| !d.contains("bogus")), "{added:?}");
    assert!(c.diagnostics.iter().any(|d| d.severity == Severity::Error));
}
