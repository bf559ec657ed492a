//! The one way both doors write an instant: RFC 3339 in UTC with exactly three fractional digits
//! and `Z` (`2024-05-01T12:00:00.000Z`), as the legacy service's JSON did.

use chrono::{DateTime, SecondsFormat, Utc};

/// `time` as RFC 3339, UTC, milliseconds (truncated), `Z`.
pub fn rfc3339_millis(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn whole_seconds_and_microseconds_have_the_same_shape() {
        let whole = Utc.with_ymd_and_hms(2024, 12, 29, 20, 8, 37).unwrap();
        assert_eq!(rfc3339_millis(whole), "2024-12-29T20:08:37.000Z");
        let micros = whole + chrono::Duration::microseconds(421_133);
        assert_eq!(rfc3339_millis(micros), "2024-12-29T20:08:37.421Z");
    }
}
