//! The pluto daemon: the thin shell around the sans-IO engine. It owns the
//! sockets, the clock, the OS random generator, the files and the kernel.

pub mod ifaces;
pub mod kernel;
pub mod lock;
pub mod logger;
pub mod options;
pub mod signals;
