//! What whack asks of the engine, and the refusals it can get back (each
//! with the reply code whack shows).

use super::config::{ConnConfig, Secrets};
use crate::ctl::Rc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    AddConnection(Box<ConnConfig>),
    DeleteConnection(String),
    Initiate(String),
    Terminate(String),
    DeleteState(u64),
    LoadSecrets(Secrets),
    /// `--route`: the routed policy (%trap or the shunt) and updown route.
    Route(String),
    /// `--unroute`: refused while an IPsec SA uses the route.
    Unroute(String),
    /// Every state goes, then every route: pluto is stopping.
    Shutdown,
    /// `--crash`: the peer at this address rebooted. Every state with it
    /// goes, IPsec and ISAKMP, of whatever connection, with no Delete sent
    /// (it has nothing left to apply one to).
    Crash(std::net::IpAddr),
    /// `--oppohere A --oppothere B`: as if the kernel had caught a packet
    /// from A to B under the routed opportunistic template that covers them.
    OppoInitiate(std::net::IpAddr, std::net::IpAddr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// RC 20.
    DuplicateName(String),
    /// RC 21.
    UnknownName(String),
    /// RC 21.
    UnknownState(u64),
    /// RC 29: a template has no peer address to initiate to.
    NoPeerIp(String),
    /// RC 25: the connection cannot be routed (the reason says why).
    CannotRoute(String, String),
    /// RC 26: an IPsec SA uses the route.
    RouteBusy(String),
    /// RC 30: a shunt connection (`--pass`, no authentication...) is
    /// routed, never negotiated.
    InitShunt(String),
    /// RC 33: no routed opportunistic template covers the pair.
    NoOppo(std::net::IpAddr, std::net::IpAddr),
}

impl CommandError {
    pub fn rc(&self) -> Rc {
        match self {
            CommandError::DuplicateName(_) => Rc::DupName,
            CommandError::UnknownName(_) | CommandError::UnknownState(_) => Rc::UnknownName,
            CommandError::NoPeerIp(_) => Rc::NoPeerIp,
            CommandError::CannotRoute(..) => Rc::Route,
            CommandError::RouteBusy(_) => Rc::RtBusy,
            CommandError::InitShunt(_) => Rc::InitShunt,
            CommandError::NoOppo(..) => Rc::OppoFailure,
        }
    }
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandError::DuplicateName(n) => write!(f, "attempt to redefine connection \"{n}\""),
            CommandError::UnknownName(n) => write!(f, "no connection named \"{n}\""),
            CommandError::UnknownState(s) => write!(f, "no state #{s} to delete"),
            CommandError::NoPeerIp(n) => {
                write!(
                    f,
                    "cannot initiate connection \"{n}\": peer IP address is unknown"
                )
            }
            CommandError::CannotRoute(n, why) => write!(f, "\"{n}\": {why}"),
            CommandError::RouteBusy(_) => f.write_str("cannot unroute: route busy"),
            CommandError::InitShunt(n) => {
                write!(f, "\"{n}\": cannot initiate an authby=never connection")
            }
            CommandError::NoOppo(a, b) => {
                write!(f, "no routed opportunistic connection covers {a} -> {b}")
            }
        }
    }
}
