//! A small stub resolver, so that host names work where Openswan took them
//! (`whack --host`, `--nexthop`, ipsec.conf's `left=`/`right=`) in a static
//! binary that cannot use glibc's (it needs its shared NSS modules): first
//! `/etc/hosts`, then the name servers of `/etc/resolv.conf` over UDP.
//! `wire` makes and reads the messages without any I/O; `client` asks.

mod client;
pub mod conf;
pub mod keys;
pub mod query;
pub mod wire;

pub use client::Resolver;

#[cfg(test)]
mod tests;
