//! Positions in Postgres' write-ahead log, as the replicas' routing and the response cache
//! compare them.

/// A position in the primary's write-ahead log (`pg_lsn`), as a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Parses Postgres' text form, `16/B374D848`.
    pub fn parse(text: &str) -> Option<Lsn> {
        let (high, low) = text.split_once('/')?;
        let high = u64::from_str_radix(high, 16).ok()?;
        let low = u64::from_str_radix(low, 16).ok()?;
        (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some(Lsn(high << 32 | low))
    }

    /// Fixed-width hex, so that text order is numeric order (compared in Redis scripts).
    pub fn to_key_text(self) -> String {
        format!("{:016x}", self.0)
    }

    pub fn from_key_text(text: &str) -> Option<Lsn> {
        u64::from_str_radix(text, 16).ok().map(Lsn)
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_and_print_like_postgres() {
        assert_eq!(Lsn::parse("16/B374D848"), Some(Lsn(0x16_B374_D848)));
        assert_eq!(Lsn::parse("0/0"), Some(Lsn(0)));
        assert_eq!(Lsn::parse("nope"), None);
        assert_eq!(Lsn(0x16_B374_D848).to_string(), "16/B374D848");
        let a = Lsn(0x1_0000_0000);
        let b = Lsn(0xFFFF_FFFF);
        assert!(a.to_key_text() > b.to_key_text(), "text order is numeric order");
        assert_eq!(Lsn::from_key_text(&a.to_key_text()), Some(a));
    }
}
