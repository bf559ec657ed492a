//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::Utc;

use crate::domain::time::rfc3339_millis;

/// An instant: RFC 3339 in UTC with millisecond precision (`2024-05-01T12:00:00.000Z`), the same
/// form the REST door writes. Accepts any RFC 3339 date-time as input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant: RFC 3339 in UTC with exactly three fractional digits and `Z`
/// (`2024-05-01T12:00:00.000Z`).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://scalars.graphql.org/andimarek/date-time"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|time| DateTime(time.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom("expected an RFC 3339 date-time")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(rfc3339_millis(self.0))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(time: chrono::DateTime<Utc>) -> Self {
        DateTime(time)
    }
}
