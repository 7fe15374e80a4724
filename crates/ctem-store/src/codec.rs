//! Conversions between model values and their stored text.

use std::str::FromStr;

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use ctem_model::{LifecycleStatus, RelationshipKind};
use serde::de::DeserializeOwned;

use crate::StoreError;

/// Formats a time as stored: RFC 3339 in UTC with nine fractional digits,
/// so that every stored time has the same width and text order is time
/// order.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Rejects times that [`format_time`] cannot write with four year digits,
/// where text order would stop being time order.
pub(crate) fn check_storable_time(time: DateTime<Utc>) -> Result<(), StoreError> {
    if (0..=9999).contains(&time.year()) {
        Ok(())
    } else {
        Err(StoreError::InvalidRun {
            reason: format!("observed_at {time} is outside the years 0 to 9999"),
        })
    }
}

/// Parses a stored time, naming the row on failure.
pub(crate) fn parse_time(
    text: &str,
    table: &'static str,
    column: &'static str,
    key: &str,
) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| StoreError::Corrupt {
            table,
            column,
            key: key.to_string(),
            reason: format!("{text:?} is not an RFC 3339 time: {error}"),
        })
}

/// Parses a stored enumeration name (status, tier) through its `FromStr`.
pub(crate) fn parse_name<T>(text: &str, table: &'static str, column: &'static str, key: &str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error: T::Err| StoreError::Corrupt {
        table,
        column,
        key: key.to_string(),
        reason: error.to_string(),
    })
}

/// Deserializes a stored JSON column, naming the row on failure.
pub(crate) fn parse_json<T: DeserializeOwned>(
    text: &str,
    table: &'static str,
    column: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        table,
        column,
        key: key.to_string(),
        reason: format!("JSON does not match the model: {error}"),
    })
}

/// Reads a status as the store writes it, from text or its bytes. Unlike
/// `LifecycleStatus::from_str` it accepts only the exact names, and
/// allocates nothing.
pub(crate) fn status_from_sql(name: impl AsRef<[u8]>) -> Option<LifecycleStatus> {
    match name.as_ref() {
        b"new" => Some(LifecycleStatus::New),
        b"open" => Some(LifecycleStatus::Open),
        b"reopened" => Some(LifecycleStatus::Reopened),
        b"fixed" => Some(LifecycleStatus::Fixed),
        b"risk_accepted" => Some(LifecycleStatus::RiskAccepted),
        b"false_positive" => Some(LifecycleStatus::FalsePositive),
        b"not_affected" => Some(LifecycleStatus::NotAffected),
        _ => None,
    }
}

/// Names a relationship kind as its JSON form does (`network_reach`), so
/// the column and the model cannot drift apart.
pub(crate) fn relationship_kind_name(kind: RelationshipKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        // A unit variant always serializes to a string; Debug is a readable
        // fallback should that change.
        _ => format!("{kind:?}"),
    }
}

/// Parses a stored relationship kind, naming the row on failure.
pub(crate) fn parse_relationship_kind(text: &str, key: &str) -> Result<RelationshipKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|error| StoreError::Corrupt {
        table: "relationships",
        column: "kind",
        key: key.to_string(),
        reason: format!("{text:?} is not a relationship kind: {error}"),
    })
}

/// Hashes a finding's stored JSON for `findings.json_hash`: FNV-1a with
/// 64 bits over `data`, a 0xff byte (which UTF-8 text never contains) and
/// `risk`. The hash is stored, so it must not change between builds or
/// platforms, which rules out the standard library's hashers.
pub(crate) fn json_hash(data: &str, risk: &str) -> i64 {
    let hash = fnv1a(fnv1a(fnv1a(FNV_OFFSET, data.as_bytes()), &[0xff]), risk.as_bytes());
    i64::from_ne_bytes(hash.to_ne_bytes())
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Converts a count for an INTEGER column.
pub(crate) fn to_sql_count(count: u64) -> i64 {
    // A count above i64::MAX cannot come from memory-bound input.
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Converts a stored count back, treating a negative value as corrupt.
pub(crate) fn from_sql_count(
    value: i64,
    table: &'static str,
    column: &'static str,
    key: &str,
) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        table,
        column,
        key: key.to_string(),
        reason: format!("negative count {value}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_round_trips_with_nanoseconds() {
        let time = Utc.timestamp_opt(1_714_564_800, 123_456_789).unwrap();
        let text = format_time(time);
        assert_eq!(text, "2024-05-01T12:00:00.123456789Z");
        assert_eq!(parse_time(&text, "runs", "observed_at", "1").unwrap(), time);
    }

    #[test]
    fn time_text_order_is_time_order() {
        let early = Utc.timestamp_opt(9_999, 999_999_999).unwrap();
        let late = Utc.timestamp_opt(10_000, 0).unwrap();
        assert!(format_time(early) < format_time(late));
    }

    #[test]
    fn parse_time_names_the_row() {
        let error = parse_time("yesterday", "runs", "observed_at", "7").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("runs.observed_at"), "{message}");
        assert!(message.contains("for 7"), "{message}");
        assert!(message.contains("\"yesterday\""), "{message}");
    }

    #[test]
    fn relationship_kind_names_round_trip() {
        let name = relationship_kind_name(RelationshipKind::NetworkReach);
        assert_eq!(name, "network_reach");
        assert_eq!(
            parse_relationship_kind(&name, "edge").unwrap(),
            RelationshipKind::NetworkReach
        );
        assert!(parse_relationship_kind("teleports_to", "edge").is_err());
    }

    #[test]
    fn status_names_match_the_model() {
        for status in LifecycleStatus::ALL {
            assert_eq!(status_from_sql(status.as_str()), Some(status));
        }
        assert_eq!(status_from_sql("Open"), None);
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // FNV-1a 64 of "", "a" and "foobar", as other implementations give them.
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn json_hash_separates_data_from_risk() {
        assert_ne!(json_hash("{\"a\":1}", "{}"), json_hash("{\"a\":1}{", "}"));
        assert_eq!(json_hash("{}", "{}"), json_hash("{}", "{}"));
    }

    #[test]
    fn year_beyond_four_digits_is_rejected() {
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert!(check_storable_time(far).is_err());
        let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        assert!(check_storable_time(now).is_ok());
    }
}
