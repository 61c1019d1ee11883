//! Notification and Delete payloads (RFC 2408 §3.14-3.15).
use super::bytes::Reader;
use super::{Result, WireError};

/// Largest SPI any protocol uses (ISAKMP cookie pair).
const MAX_SPI_SIZE: u8 = 16;
/// Most SPIs accepted in one Delete payload.
const MAX_DELETE_SPIS: usize = 1024;

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
    pub fn parse(body: &[u8]) -> Result<NotifyPayload> {
        let mut r = Reader::new(body, "N");
        let doi = r.u32()?;
        let protocol = r.u8()?;
        let spi_size = r.u8()?;
        let msg_type = r.u16()?;
        if spi_size > MAX_SPI_SIZE {
            return Err(WireError::BadField {
                what: "SPI size",
                value: u32::from(spi_size),
            });
        }
        let spi = r.take(usize::from(spi_size))?.to_vec();
        let data = r.rest().to_vec();
        Ok(NotifyPayload {
            doi,
            protocol,
            spi,
            msg_type,
            data,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.doi.to_be_bytes());
        out.push(self.protocol);
        out.push(u8::try_from(self.spi.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.msg_type.to_be_bytes());
        out.extend_from_slice(&self.spi);
        out.extend_from_slice(&self.data);
    }
}

impl DeletePayload {
    /// Rejects: spi count * spi size != remaining bytes, spi_size 0 with count > 0,
    /// count == 0, count > 1024.
    pub fn parse(body: &[u8]) -> Result<DeletePayload> {
        let mut r = Reader::new(body, "D");
        let doi = r.u32()?;
        let protocol = r.u8()?;
        let spi_size = r.u8()?;
        let count = r.u16()?;
        let n = usize::from(count);
        if n == 0 || n > MAX_DELETE_SPIS {
            return Err(WireError::BadField {
                what: "SPI count",
                value: u32::from(count),
            });
        }
        if spi_size == 0 {
            return Err(WireError::BadField {
                what: "SPI size",
                value: 0,
            });
        }
        let list = r.rest();
        let size = usize::from(spi_size);
        if n.checked_mul(size) != Some(list.len()) {
            return Err(WireError::BadLength {
                what: "D SPI list",
                len: list.len(),
            });
        }
        let spis = list.chunks_exact(size).map(<[u8]>::to_vec).collect();
        Ok(DeletePayload {
            doi,
            protocol,
            spi_size,
            spis,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.doi.to_be_bytes());
        out.push(self.protocol);
        out.push(self.spi_size);
        let count = u16::try_from(self.spis.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for spi in self.spis.iter().take(usize::from(count)) {
            out.extend_from_slice(spi);
        }
    }
}
