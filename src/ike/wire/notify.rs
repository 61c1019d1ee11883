//! Notification and Delete payloads (RFC 2408 §3.14-3.15).
use super::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyPayload {
    pub doi: u32,
    pub protocol: u8,
    pub spi: Vec<u8>,
    pub msg_type: u16,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePayload {
    pub doi: u32,
    pub protocol: u8,
    /// Every SPI has the same size: 16 for ISAKMP (the cookie pair), 4 for AH/ESP, 2 for IPCOMP.
    pub spi_size: u8,
    pub spis: Vec<Vec<u8>>,
}

impl NotifyPayload {
    /// Rejects SPI size past the body, etc.
    pub fn parse(body: &[u8]) -> Result<NotifyPayload> { todo!() }
    pub fn emit(&self, out: &mut Vec<u8>) { todo!() }
}

impl DeletePayload {
    /// Rejects: spi count * spi size != remaining bytes, spi_size 0 with count > 0,
    /// count == 0, count > 1024.
    pub fn parse(body: &[u8]) -> Result<DeletePayload> { todo!() }
    pub fn emit(&self, out: &mut Vec<u8>) { todo!() }
}
