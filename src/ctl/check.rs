//! Checks of a [`Connection`]'s numbers that every front end building one
//! makes (whack's command line, ipsec.conf), with whack's messages.

use super::{Connection, IKE_LIFETIME_MAXIMUM, IPSEC_LIFETIME_MAXIMUM, POLICY_DONT_REKEY};

/// Rekey margin and fuzz, both lifetimes, DPD delay and timeout: the
/// first problem, as whack words it.
pub fn times(c: &Connection) -> Result<(), String> {
    // Quick and dirty check for wild values (C arithmetic, modulo 2^64).
    let (margin, fuzz) = (c.rekey_margin, c.rekey_fuzz);
    if margin != 0 && fuzz.wrapping_mul(margin).wrapping_mul(4) / margin / 4 != fuzz {
        return Err("rekeymargin or rekeyfuzz values are so large that they cause oveflow".into());
    }
    life_time(c, c.ike_lifetime, IKE_LIFETIME_MAXIMUM, "ikelifetime")?;
    life_time(c, c.ipsec_lifetime, IPSEC_LIFETIME_MAXIMUM, "ipseclifetime")?;
    if c.dpd_delay != 0 && c.dpd_timeout == 0 {
        return Err("dpddelay specified, but dpdtimeout is zero, both should be specified".into());
    }
    if c.dpd_delay == 0 && c.dpd_timeout != 0 {
        return Err("dpdtimeout specified, but dpddelay is zero, both should be specified".into());
    }
    Ok(())
}

/// `check_life_time`: at most `limit`, and (unless rekeying is off) more
/// than rekeymargin*(100+rekeyfuzz)/100.
fn life_time(c: &Connection, life: u64, limit: u64, which: &str) -> Result<(), String> {
    let mint = c
        .rekey_margin
        .wrapping_mul(100u64.wrapping_add(c.rekey_fuzz))
        / 100;
    if life > limit {
        return Err(format!(
            "{which} [{life} seconds] must be less than {limit} seconds"
        ));
    }
    if c.policy & POLICY_DONT_REKEY == 0 && life <= mint {
        return Err(format!(
            "{which} [{life}] must be greater than rekeymargin*(100+rekeyfuzz)/100 [{}*(100+{})/100 = {mint}]",
            c.rekey_margin, c.rekey_fuzz
        ));
    }
    Ok(())
}
