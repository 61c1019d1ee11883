//! Traffic selectors and client IDs, KEYMAT and the kernel SAs and policies
//! of an IPsec SA, and the line announcing it.

use super::*;
use crate::ike::kernel::ProtoSet;
use crate::ike::natt::id_selector;

pub(super) fn selector_of(client: Option<Selector>, host: IpAddr) -> Selector {
    client.unwrap_or(Selector::host(host))
}

pub(super) fn id_of(sel: &Selector) -> IdPayload {
    let id = match sel.addr {
        IpAddr::V4(a) if sel.prefix >= 32 => Identity::Ipv4(a),
        IpAddr::V6(a) if sel.prefix >= 128 => Identity::Ipv6(a),
        IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(sel.prefix))
                .unwrap_or(0);
            Identity::Ipv4Subnet(a, mask.into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(sel.prefix))
                .unwrap_or(0);
            Identity::Ipv6Subnet(a, mask.into())
        }
    };
    IdPayload {
        protocol: sel.protocol,
        port: sel.port,
        id,
    }
}

pub(super) fn id_bytes(id: &IdPayload) -> Vec<u8> {
    let mut b = Vec::new();
    id.emit(&mut b);
    b
}

impl Endpoint {
    pub(super) fn ipsec_established(&mut self, now: Instant, serial: u64) {
        self.schedule_replace(now, serial, true);
        if let Some(st) = self.p2.get_mut(&serial) {
            st.forget_exchange();
        }
        let Some(st) = self.p2.get(&serial) else {
            return;
        };
        let Some(chosen) = &st.chosen else { return };
        let nat = self.natt_sa_info(serial);
        let mut parts = Vec::new();
        for c in &chosen.protos {
            let ours = st.our_spi(c.proto);
            let integ = |i: IntegAlg| match i {
                IntegAlg::HmacMd5_96 => "HMAC_MD5",
                IntegAlg::HmacSha1_96 => "HMAC_SHA1",
                IntegAlg::HmacSha2_256_128 => "HMAC_SHA2_256",
            };
            let xf = match c.transform {
                IpsecTransform::IpcompDeflate => String::new(),
                IpsecTransform::Ah { integ: i } => format!(" xfrm={}", integ(i)),
                IpsecTransform::Esp { cipher, integ: i } => {
                    let enc = if cipher == CipherAlg::Des3 {
                        "3DES"
                    } else {
                        "AES"
                    };
                    let auth = i.map_or("NONE", integ);
                    format!(" xfrm={enc}_{}-{auth}", cipher.key_len() * 8)
                }
            };
            let over_udp = if nat.encap && c.proto == IpsecProto::Esp {
                "/NAT"
            } else {
                ""
            };
            parts.push(format!(
                "{}{over_udp}=>{:#010x} <{:#010x}{xf}",
                c.proto.name(),
                c.peer_spi,
                ours
            ));
        }
        let dpd = self.dpd_text(st.parent);
        let details = format!(" {{{} {nat} DPD={dpd}}}", parts.join(" "));
        let (conn, kind) = (st.conn.clone(), st.kind);
        self.announce(&conn, serial, kind, &details);
    }

    /// With PFS, g^xy of the Quick Mode exchange must be known: it was
    /// computed once (`compute`) before the first direction's KEYMAT.
    fn pfs_ready(&self, serial: u64) -> Result<(), Reject> {
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let qx = st.qx();
        match (&qx.dh, &qx.peer_ke, &qx.gqm) {
            (Some(_), Some(_), None) => Err(Reject::Local("PFS secret not computed".into())),
            _ => Ok(()),
        }
    }

    /// Computes KEYMAT and hands the kernel the SAs (inbound and/or
    /// outbound) and, once both directions exist, the policies. `then` runs
    /// when the kernel confirms ([`Endpoint::install_answered`]).
    pub(super) fn install(
        &mut self,
        now: Instant,
        serial: u64,
        inbound: bool,
        outbound: bool,
        then: AfterInstall,
    ) -> Result<(), Reject> {
        self.plan_replace(now, serial);
        self.pfs_ready(serial)?;
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let parent = self
            .p1
            .get(&st.parent)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        let c = parent
            .crypto
            .as_ref()
            .ok_or_else(|| Reject::Local("ISAKMP SA has no keys".into()))?;
        let conn = self
            .conn(&st.conn)
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        let chosen: &Chosen = st
            .chosen
            .as_ref()
            .ok_or_else(|| Reject::Local("nothing chosen".into()))?;
        let gqm = st.qx().gqm.as_deref();
        // The replace time, planned once for both directions: the kernel
        // gets it as the SAs' soft lifetime.
        let planned = st.planned;
        let (ni, nr) = (&st.ni, &st.nr);
        let (lip, rip) = (parent.local.ip(), parent.remote.ip());
        let (lsel, rsel) = (
            selector_of(conn.local.client, lip),
            selector_of(st.peer_client.or(conn.remote.client), rip),
        );
        let encap = |inbound: bool| {
            chosen.udp.and_then(|_| {
                crate::ike::natt::sa_encap(parent.local, parent.remote, inbound, st.nat_oa)
            })
        };
        let mut sas = Vec::new();
        for cp in &chosen.protos {
            let (cipher, integ, compress) = match cp.transform {
                IpsecTransform::Esp { cipher, integ } => (Some(cipher), integ, None),
                IpsecTransform::Ah { integ } => (None, Some(integ), None),
                IpsecTransform::IpcompDeflate => (None, None, Some(2u8)),
            };
            let need = cipher.map_or(0, |x| x.key_len()) + integ.map_or(0, |x| x.key_len());
            let dirs = [
                (true, inbound, st.our_spi(cp.proto)),
                (false, outbound, cp.peer_spi),
            ];
            for (is_in, wanted, spi) in dirs {
                if !wanted {
                    continue;
                }
                let spi_b = spi.to_be_bytes();
                let km = if need == 0 {
                    Vec::new()
                } else {
                    keymat(
                        c.prf(),
                        c.keys.skeyid_d(),
                        gqm,
                        cp.proto.doi_id(),
                        &spi_b,
                        ni,
                        nr,
                        need,
                    )
                };
                let (ek, ik) = km.split_at(cipher.map_or(0, |x| x.key_len()).min(km.len()));
                let (src, dst, src_sel, dst_sel) = if is_in {
                    (rip, lip, rsel, lsel)
                } else {
                    (lip, rip, lsel, rsel)
                };
                sas.push(SaInstall {
                    // RFC 3948 encapsulates ESP only.
                    encap: if cp.proto == IpsecProto::Esp {
                        encap(is_in)
                    } else {
                        None
                    },
                    proto: cp.proto,
                    inbound: is_in,
                    spi,
                    src,
                    dst,
                    mode: chosen.mode,
                    encrypt: cipher.map(|x| (x, ek.to_vec())),
                    integ: integ.map(|x| (x, ik.to_vec())),
                    compress,
                    lifetime_secs: chosen.lifetime,
                    soft_secs: planned.and_then(|(r, _)| r).map(|t| {
                        u32::try_from(t.saturating_duration_since(now).as_secs())
                            .unwrap_or(u32::MAX)
                    }),
                    reqid: st.reqid,
                    group: chosen.protos.iter().map(|c| c.proto).collect(),
                    src_sel,
                    dst_sel,
                    if_id: conn.if_id,
                });
            }
        }
        let mut policies = Vec::new();
        if outbound {
            let protos: ProtoSet = chosen.protos.iter().map(|c| c.proto).collect();
            for (inb, s, d, sg, dg) in [(false, lsel, rsel, lip, rip), (true, rsel, lsel, rip, lip)]
            {
                policies.push(PolicySpec {
                    src_sel: s,
                    dst_sel: d,
                    inbound: inb,
                    mode: chosen.mode,
                    src_gw: sg,
                    dst_gw: dg,
                    protos,
                    reqid: st.reqid,
                    action: PolicyAction::Ipsec,
                    if_id: conn.if_id,
                });
            }
        }
        let (conn_name, role) = (st.conn.clone(), st.role);
        let conflict = if let Some(why) = sas.iter().find_map(SaInstall::unusable) {
            Err(format!("the kernel could not use these SAs: {why}"))
        } else if policies.is_empty() {
            Ok(())
        } else {
            self.resolve_eroute_conflicts(now, serial, &conn_name, role, &policies)
        };
        let req = self.next_req;
        self.next_req += 1;
        if let Some(st) = self.p2.get_mut(&serial) {
            st.pending_install = Some(Box::new(PendingInstall {
                req,
                sas: sas.clone(),
                policies: policies.clone(),
                then,
            }));
        }
        if let Err(reason) = conflict {
            return self.install_answered(now, serial, Some(reason));
        }
        self.kernel_ops.push_back(KernelOp::Install {
            req,
            sas: sas.clone(),
            policies,
        });
        Ok(())
    }

    /// Plans (once) when state `serial`'s SAs are replaced and expire.
    fn plan_replace(&mut self, now: Instant, serial: u64) {
        let Some(st) = self.p2.get(&serial).filter(|s| s.planned.is_none()) else {
            return;
        };
        let Some(life) = st.chosen.as_ref().map(|c| c.lifetime) else {
            return;
        };
        let (conn, role) = (st.conn.clone(), st.role);
        let plan = self.plan_lifetime(now, &conn, role, life, true);
        if let Some(st) = self.p2.get_mut(&serial) {
            st.planned = Some(plan);
        }
    }

    /// The kernel answered the install `req` of state `serial`: go on, or
    /// fail the state and take back what it holds.
    pub(super) fn install_answered(
        &mut self,
        now: Instant,
        serial: u64,
        refusal: Option<String>,
    ) -> Result<(), Reject> {
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let Some(done) = st.pending_install.take() else {
            return Ok(());
        };
        let done = *done;
        if let Some(reason) = refusal {
            // The peer holds SAs once it has our QI2 or sent its QR1 (it is
            // only told when it can have something to delete).
            let peer_has_sas = !matches!(done.then, AfterInstall::SendQr1(_));
            let text = format!("ERROR: cannot install the IPsec SA: {reason}");
            self.kernel_failed(now, serial, text, reason, peer_has_sas);
            return Ok(());
        }
        st.installed.extend(
            done.sas
                .into_iter()
                .map(crate::ike::kernel::InstalledSa::from),
        );
        st.policies.extend(done.policies.iter().cloned());
        self.policies_installed(serial, &done.policies);
        let Some(st) = self.p2.get_mut(&serial) else {
            return Ok(());
        };
        match done.then {
            AfterInstall::SendQi2(packet) => {
                st.retransmit = Some(Retransmit::new(packet.clone(), now, false));
                let (l, r) = self.p1_addrs(serial)?;
                self.send(l, r, packet);
                self.ipsec_established(now, serial);
            }
            AfterInstall::SendQr1(packet) => {
                st.retransmit = Some(Retransmit::new(packet.clone(), now, true));
                let conn = st.conn.clone();
                self.announce(&conn, serial, StateKind::QuickR1, "");
                let (l, r) = self.p1_addrs(serial)?;
                self.send(l, r, packet);
            }
            AfterInstall::Establish => self.ipsec_established(now, serial),
        }
        Ok(())
    }
}

/// Two ID payload bodies name the same selector (type, protocol, port, data).
pub(super) fn same_selector(a: &[u8], b: &[u8]) -> bool {
    let (Ok(x), Ok(y)) = (IdPayload::parse(a), IdPayload::parse(b)) else {
        return false;
    };
    // By the traffic they name: 10.0.0.0/255.255.255.0 is 10.0.0.0-10.0.0.255,
    // an address is its /32; a protocol or port of 0 is any.
    let (Some(s), Some(t)) = (id_selector(&x), id_selector(&y)) else {
        return x == y;
    };
    s.addr == t.addr
        && s.prefix == t.prefix
        && (s.protocol == t.protocol || s.protocol == 0 || t.protocol == 0)
        && (s.port == t.port || s.port == 0 || t.port == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(id: Identity, protocol: u8, port: u16) -> Vec<u8> {
        id_bytes(&IdPayload { protocol, port, id })
    }

    #[test]
    fn client_ids_are_compared_by_the_traffic_they_name() {
        let v4 = |t: &str| t.parse::<std::net::Ipv4Addr>().unwrap();
        let v6 = |t: &str| t.parse::<std::net::Ipv6Addr>().unwrap();
        let ours = bytes(
            Identity::Ipv4Subnet(v4("10.2.0.0"), v4("255.255.255.0")),
            0,
            0,
        );
        let range = bytes(Identity::Ipv4Range(v4("10.2.0.0"), v4("10.2.0.255")), 0, 0);
        assert!(same_selector(&range, &ours));
        let short = bytes(Identity::Ipv4Range(v4("10.2.0.0"), v4("10.2.0.127")), 0, 0);
        assert!(!same_selector(&short, &ours));
        let host = bytes(Identity::Ipv4(v4("10.2.0.1")), 0, 0);
        let host32 = bytes(
            Identity::Ipv4Subnet(v4("10.2.0.1"), v4("255.255.255.255")),
            6,
            0,
        );
        assert!(
            same_selector(&host, &host32),
            "a port or protocol of 0 is any"
        );
        assert!(!same_selector(
            &host32,
            &bytes(Identity::Ipv4(v4("10.2.0.1")), 17, 0)
        ));
        let net6 = bytes(
            Identity::Ipv6Subnet(v6("2001:db8:b::"), v6("ffff:ffff:ffff:ffff::")),
            0,
            0,
        );
        let range6 = Identity::Ipv6Range(v6("2001:db8:b::"), v6("2001:db8:b::ffff:ffff:ffff:ffff"));
        assert!(same_selector(&bytes(range6, 0, 0), &net6));
        let name = bytes(Identity::Fqdn(b"east".to_vec()), 0, 0);
        assert!(same_selector(&name, &name) && !same_selector(&name, &net6));
    }
}
