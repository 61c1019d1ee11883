//! Shared test support: a deterministic simulated network of IKE endpoints.
#![allow(dead_code)]

pub mod fake_kernel;
pub mod flood;
pub mod mutate;
pub mod netns;
pub mod pcap;
pub mod procfs;
pub mod rsa_keys;
pub mod shared_dh;
pub mod sim;
