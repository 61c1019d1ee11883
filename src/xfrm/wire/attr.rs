//! XFRM attributes (`struct rtattr` / `nlattr`): a 4-byte header
//! `u16 len (header included, not rounded), u16 type`, the payload, then
//! zero padding to 4 bytes. Known types become typed values; every other
//! type (and a known number with the NESTED / NET_BYTEORDER flag bits) is
//! kept raw so it emits back unchanged.
use super::addr::{Addr, LifetimeCur};
use super::bytes::{exact, Put, Reader, NLA_ALIGNTO};
use super::consts::*;
use super::policy::{UserTmpl, UserpolicyInfo};
use super::sa::UsersaInfo;
use super::{Result, XfrmError};
use core::fmt;

/// Size of the attribute header.
pub const NLA_HDRLEN: usize = 4;

/// One attribute as it sits in the buffer: type and payload (padding excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttr<'a> {
    pub ty: u16,
    pub data: &'a [u8],
}

/// `struct xfrm_algo` (XFRMA_ALG_AUTH / CRYPT / COMP): a kernel crypto API
/// name ("cbc(aes)", "deflate"), the key length in bits and the key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Algo {
    pub name: String,
    pub key_bits: u32,
    pub key: Vec<u8>,
}

/// `struct xfrm_algo_auth` (XFRMA_ALG_AUTH_TRUNC): as [`Algo`] plus the
/// ICV length in bits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AlgoAuth {
    pub name: String,
    pub key_bits: u32,
    pub trunc_bits: u32,
    pub key: Vec<u8>,
}

impl Algo {
    /// `name` with `key` (its length in bits computed).
    pub fn new(name: &str, key: &[u8]) -> Algo {
        Algo {
            name: name.to_owned(),
            key_bits: key_bits(key),
            key: key.to_vec(),
        }
    }
}

impl AlgoAuth {
    pub fn new(name: &str, key: &[u8], trunc_bits: u32) -> AlgoAuth {
        AlgoAuth {
            name: name.to_owned(),
            key_bits: key_bits(key),
            trunc_bits,
            key: key.to_vec(),
        }
    }
}

fn key_bits(key: &[u8]) -> u32 {
    u32::try_from(key.len().saturating_mul(8)).unwrap_or(u32::MAX)
}

impl fmt::Debug for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Algo")
            .field("name", &self.name)
            .field("key_bits", &self.key_bits)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .finish()
    }
}

impl fmt::Debug for AlgoAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlgoAuth")
            .field("name", &self.name)
            .field("key_bits", &self.key_bits)
            .field("trunc_bits", &self.trunc_bits)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .finish()
    }
}

/// `char alg_name[64]`: a NUL inside, zeros after it (strncpy's padding).
fn parse_name(r: &mut Reader<'_>) -> Result<String> {
    let raw = r.array::<XFRM_ALG_NAME_LEN>()?;
    let end = raw
        .iter()
        .position(|&b| b == 0)
        .ok_or(XfrmError::BadField {
            what: "algorithm name without NUL, length",
            value: XFRM_ALG_NAME_LEN as u64,
        })?;
    let (name, tail) = raw.split_at(end);
    if tail.iter().any(|&b| b != 0) {
        return Err(XfrmError::BadField {
            what: "algorithm name garbage after NUL at",
            value: end as u64,
        });
    }
    String::from_utf8(name.to_vec()).map_err(|_| XfrmError::BadField {
        what: "algorithm name not UTF-8, length",
        value: end as u64,
    })
}

fn emit_name(name: &str, out: &mut Vec<u8>) {
    let bytes = name.as_bytes();
    let n = bytes.len().min(XFRM_ALG_NAME_LEN - 1);
    out.extend_from_slice(bytes.get(..n).unwrap_or(&[]));
    out.put_zeros(XFRM_ALG_NAME_LEN - n);
}

/// The key after a fixed part: exactly `ceil(bits / 8)` bytes.
fn parse_key(r: Reader<'_>, bits: u32) -> Result<Vec<u8>> {
    let rest = r.rest();
    let want = usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX);
    if rest.len() != want {
        return Err(XfrmError::BadLength {
            what: "algorithm key",
            len: rest.len(),
        });
    }
    Ok(rest.to_vec())
}

impl Algo {
    fn parse(data: &[u8]) -> Result<Algo> {
        let mut r = Reader::new(data, "xfrm_algo");
        let name = parse_name(&mut r)?;
        let key_bits = r.u32()?;
        let key = parse_key(r, key_bits)?;
        Ok(Algo {
            name,
            key_bits,
            key,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) {
        emit_name(&self.name, out);
        out.put_u32(self.key_bits);
        out.extend_from_slice(&self.key);
    }
}

impl AlgoAuth {
    fn parse(data: &[u8]) -> Result<AlgoAuth> {
        let mut r = Reader::new(data, "xfrm_algo_auth");
        let name = parse_name(&mut r)?;
        let key_bits = r.u32()?;
        let trunc_bits = r.u32()?;
        let key = parse_key(r, key_bits)?;
        Ok(AlgoAuth {
            name,
            key_bits,
            trunc_bits,
            key,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) {
        emit_name(&self.name, out);
        out.put_u32(self.key_bits);
        out.put_u32(self.trunc_bits);
        out.extend_from_slice(&self.key);
    }
}

/// `struct xfrm_encap_tmpl` (24 bytes): UDP encapsulation of ESP (NAT
/// traversal): `0 encap_type(u16) 2 sport(be16) 4 dport(be16) 6 pad 8 oa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EncapTmpl {
    /// [`UDP_ENCAP_ESPINUDP`] (RFC 3948) or [`UDP_ENCAP_ESPINUDP_NON_IKE`].
    pub encap_type: u16,
    pub sport: u16,
    pub dport: u16,
    /// The peer's original address (NAT-OA), zero if unknown.
    pub oa: Addr,
}

/// `struct xfrm_mark` (8 bytes): value and mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mark {
    pub v: u32,
    pub m: u32,
}

/// `struct xfrm_replay_state` (12 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReplayState {
    pub oseq: u32,
    pub seq: u32,
    pub bitmap: u32,
}

/// `struct xfrm_replay_state_esn` (24 bytes + `bmp_len` words).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ReplayEsn {
    pub oseq: u32,
    pub seq: u32,
    pub oseq_hi: u32,
    pub seq_hi: u32,
    pub replay_window: u32,
    /// The bitmap; its length is `bmp_len` on the wire.
    pub bmp: Vec<u32>,
}

/// `struct xfrm_userpolicy_type` (6 bytes): `u8 type, pad, u16 reserved1,
/// u8 reserved2, pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PolicyType {
    /// [`XFRM_POLICY_TYPE_MAIN`] or [`XFRM_POLICY_TYPE_SUB`].
    pub ty: u8,
}

/// One attribute, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attr {
    AlgAuth(Algo),
    AlgCrypt(Algo),
    AlgComp(Algo),
    Encap(EncapTmpl),
    /// The templates of a policy (or of the policy an ACQUIRE is for).
    Tmpl(Vec<UserTmpl>),
    /// The SA of a DELSA notification.
    Sa(UsersaInfo),
    /// The policy of a DELPOLICY notification.
    Policy(UserpolicyInfo),
    LtimeVal(LifetimeCur),
    ReplayVal(ReplayState),
    /// The source address of the SA to delete or get.
    SrcAddr(Addr),
    CoAddr(Addr),
    PolicyType(PolicyType),
    AlgAuthTrunc(AlgoAuth),
    Mark(Mark),
    ReplayEsnVal(ReplayEsn),
    IfId(u32),
    /// Any other type, kept as it was.
    Unknown {
        ty: u16,
        data: Vec<u8>,
    },
}

impl Attr {
    /// The attribute's type number.
    pub fn ty(&self) -> u16 {
        match self {
            Attr::AlgAuth(_) => XFRMA_ALG_AUTH,
            Attr::AlgCrypt(_) => XFRMA_ALG_CRYPT,
            Attr::AlgComp(_) => XFRMA_ALG_COMP,
            Attr::Encap(_) => XFRMA_ENCAP,
            Attr::Tmpl(_) => XFRMA_TMPL,
            Attr::Sa(_) => XFRMA_SA,
            Attr::Policy(_) => XFRMA_POLICY,
            Attr::LtimeVal(_) => XFRMA_LTIME_VAL,
            Attr::ReplayVal(_) => XFRMA_REPLAY_VAL,
            Attr::SrcAddr(_) => XFRMA_SRCADDR,
            Attr::CoAddr(_) => XFRMA_COADDR,
            Attr::PolicyType(_) => XFRMA_POLICY_TYPE,
            Attr::AlgAuthTrunc(_) => XFRMA_ALG_AUTH_TRUNC,
            Attr::Mark(_) => XFRMA_MARK,
            Attr::ReplayEsnVal(_) => XFRMA_REPLAY_ESN_VAL,
            Attr::IfId(_) => XFRMA_IF_ID,
            Attr::Unknown { ty, .. } => *ty,
        }
    }

    /// Whether `ty` is decoded (and so may appear only once).
    pub fn is_known(ty: u16) -> bool {
        matches!(
            ty,
            XFRMA_ALG_AUTH
                | XFRMA_ALG_CRYPT
                | XFRMA_ALG_COMP
                | XFRMA_ENCAP
                | XFRMA_TMPL
                | XFRMA_SA
                | XFRMA_POLICY
                | XFRMA_LTIME_VAL
                | XFRMA_REPLAY_VAL
                | XFRMA_SRCADDR
                | XFRMA_COADDR
                | XFRMA_POLICY_TYPE
                | XFRMA_ALG_AUTH_TRUNC
                | XFRMA_MARK
                | XFRMA_REPLAY_ESN_VAL
                | XFRMA_IF_ID
        )
    }

    /// Decodes the payload of an attribute of type `ty`.
    pub fn parse(ty: u16, data: &[u8]) -> Result<Attr> {
        Ok(match ty {
            XFRMA_ALG_AUTH => Attr::AlgAuth(Algo::parse(data)?),
            XFRMA_ALG_CRYPT => Attr::AlgCrypt(Algo::parse(data)?),
            XFRMA_ALG_COMP => Attr::AlgComp(Algo::parse(data)?),
            XFRMA_ALG_AUTH_TRUNC => Attr::AlgAuthTrunc(AlgoAuth::parse(data)?),
            XFRMA_ENCAP => Attr::Encap(exact(data, XFRM_ENCAP_TMPL_LEN, "xfrm_encap_tmpl", |r| {
                let encap_type = r.u16()?;
                let sport = r.u16_be()?;
                let dport = r.u16_be()?;
                r.skip(2)?;
                Ok(EncapTmpl {
                    encap_type,
                    sport,
                    dport,
                    oa: Addr::parse(r)?,
                })
            })?),
            XFRMA_TMPL => {
                if data.len() % XFRM_USER_TMPL_LEN != 0 {
                    return Err(XfrmError::BadLength {
                        what: "XFRMA_TMPL",
                        len: data.len(),
                    });
                }
                let mut r = Reader::new(data, "xfrm_user_tmpl");
                let mut v = Vec::with_capacity(data.len() / XFRM_USER_TMPL_LEN);
                while r.remaining() > 0 {
                    v.push(UserTmpl::parse(&mut r)?);
                }
                Attr::Tmpl(v)
            }
            XFRMA_SA => Attr::Sa(UsersaInfo::parse_exact(data)?),
            XFRMA_POLICY => Attr::Policy(UserpolicyInfo::parse_exact(data)?),
            XFRMA_LTIME_VAL => Attr::LtimeVal(exact(
                data,
                XFRM_LIFETIME_CUR_LEN,
                "XFRMA_LTIME_VAL",
                LifetimeCur::parse,
            )?),
            XFRMA_REPLAY_VAL => Attr::ReplayVal(exact(
                data,
                XFRM_REPLAY_STATE_LEN,
                "XFRMA_REPLAY_VAL",
                |r| {
                    Ok(ReplayState {
                        oseq: r.u32()?,
                        seq: r.u32()?,
                        bitmap: r.u32()?,
                    })
                },
            )?),
            XFRMA_SRCADDR => Attr::SrcAddr(exact(data, 16, "XFRMA_SRCADDR", Addr::parse)?),
            XFRMA_COADDR => Attr::CoAddr(exact(data, 16, "XFRMA_COADDR", Addr::parse)?),
            XFRMA_POLICY_TYPE => Attr::PolicyType(exact(
                data,
                XFRM_USERPOLICY_TYPE_LEN,
                "XFRMA_POLICY_TYPE",
                |r| {
                    let ty = r.u8()?;
                    r.skip(5)?;
                    Ok(PolicyType { ty })
                },
            )?),
            XFRMA_MARK => Attr::Mark(exact(data, XFRM_MARK_LEN, "XFRMA_MARK", |r| {
                Ok(Mark {
                    v: r.u32()?,
                    m: r.u32()?,
                })
            })?),
            XFRMA_IF_ID => Attr::IfId(exact(data, 4, "XFRMA_IF_ID", |r| r.u32())?),
            XFRMA_REPLAY_ESN_VAL => Attr::ReplayEsnVal(parse_esn(data)?),
            _ => Attr::Unknown {
                ty,
                data: data.to_vec(),
            },
        })
    }

    /// Appends header, payload and padding.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(self.ty());
        match self {
            Attr::AlgAuth(a) | Attr::AlgCrypt(a) | Attr::AlgComp(a) => a.emit(out),
            Attr::AlgAuthTrunc(a) => a.emit(out),
            Attr::Encap(e) => {
                out.put_u16(e.encap_type);
                out.put_u16_be(e.sport);
                out.put_u16_be(e.dport);
                out.put_zeros(2);
                e.oa.emit(out);
            }
            Attr::Tmpl(ts) => ts.iter().for_each(|t| t.emit(out)),
            Attr::Sa(s) => s.emit(out),
            Attr::Policy(p) => p.emit(out),
            Attr::LtimeVal(l) => l.emit(out),
            Attr::ReplayVal(r) => {
                out.put_u32(r.oseq);
                out.put_u32(r.seq);
                out.put_u32(r.bitmap);
            }
            Attr::SrcAddr(a) | Attr::CoAddr(a) => a.emit(out),
            Attr::PolicyType(p) => {
                out.put_u8(p.ty);
                out.put_zeros(5);
            }
            Attr::Mark(m) => {
                out.put_u32(m.v);
                out.put_u32(m.m);
            }
            Attr::ReplayEsnVal(e) => {
                out.put_u32(u32::try_from(e.bmp.len()).unwrap_or(u32::MAX));
                for v in [e.oseq, e.seq, e.oseq_hi, e.seq_hi, e.replay_window] {
                    out.put_u32(v);
                }
                e.bmp.iter().for_each(|w| out.put_u32(*w));
            }
            Attr::IfId(i) => out.put_u32(*i),
            Attr::Unknown { data, .. } => out.extend_from_slice(data),
        }
        let len = u16::try_from(out.len().saturating_sub(start)).unwrap_or(u16::MAX);
        super::bytes::patch_u16(out, start, len);
        out.pad_from(start, NLA_ALIGNTO);
    }
}

fn parse_esn(data: &[u8]) -> Result<ReplayEsn> {
    let mut r = Reader::new(data, "xfrm_replay_state_esn");
    let bmp_len = r.u32()?;
    let mut e = ReplayEsn {
        oseq: r.u32()?,
        seq: r.u32()?,
        oseq_hi: r.u32()?,
        seq_hi: r.u32()?,
        replay_window: r.u32()?,
        bmp: Vec::new(),
    };
    let words = usize::try_from(bmp_len).unwrap_or(usize::MAX);
    if r.remaining() != words.saturating_mul(4) {
        return Err(XfrmError::BadField {
            what: "replay ESN bmp_len",
            value: u64::from(bmp_len),
        });
    }
    while r.remaining() > 0 {
        e.bmp.push(r.u32()?);
    }
    Ok(e)
}
