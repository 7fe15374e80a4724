//! Number and date words for factor texts, written without the `format!`
//! machinery: scoring writes a dozen of them for every finding.
//!
//! Each function gives the same text as the `Display` or `{:.N}`
//! formatting of the standard library, and falls back to it where a fast
//! path could differ (a tie in the rounding, a negative or huge number).

use std::fmt::Write;

use chrono::{Datelike, NaiveDate};
use ctem_model::CompactString;

/// Appends `value` with `decimals` digits after the point, as
/// `format!("{value:.decimals$}")` writes it.
pub(crate) fn push_fixed(out: &mut CompactString, value: f64, decimals: u32) {
    if decimals > 6 {
        write!(out, "{value:.*}", decimals as usize).expect("writing to a string cannot fail");
        return;
    }
    let scale = 10u64.pow(decimals);
    let scaled = value * scale as f64;
    // The standard library rounds the exact binary value half to even; the
    // product above may round in the last bit. Away from a tie both give
    // the same digits; near one, the standard library decides.
    let near_tie = (scaled - scaled.floor() - 0.5).abs() < 1e-6;
    if !(0.0..1e15).contains(&scaled) || value.is_sign_negative() || near_tie {
        write!(out, "{value:.*}", decimals as usize).expect("writing to a string cannot fail");
        return;
    }
    let units = scaled.round() as u64;
    let mut digits = Digits::default();
    digits.integer(units / scale);
    if decimals > 0 {
        digits.push(b'.');
        digits.padded(units % scale, decimals);
    }
    out.push_str(digits.as_str());
}

/// Appends `value` as its `Display` writes it: the shortest text that reads
/// back to the same number.
pub(crate) fn push_shortest(out: &mut CompactString, value: f64) {
    const DECIMALS: u32 = 6;
    let scale = 10u64.pow(DECIMALS) as f64;
    let units = (value * scale).round();
    // A number with at most six decimals is exactly the quotient of its
    // units, and no other text of at most six decimals reads back to it
    // below 10^9, so its shortest text is those digits without the
    // trailing zeros.
    if !(0.0..1e15).contains(&units) || value.is_sign_negative() || units / scale != value {
        write!(out, "{value}").expect("writing to a string cannot fail");
        return;
    }
    let units = units as u64;
    let scale = scale as u64;
    let mut digits = Digits::default();
    digits.integer(units / scale);
    let mut fraction = units % scale;
    if fraction != 0 {
        let mut width = DECIMALS;
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            width -= 1;
        }
        digits.push(b'.');
        digits.padded(fraction, width);
    }
    out.push_str(digits.as_str());
}

/// Joins texts into one, with a single allocation where the result is too
/// long to keep inline.
pub(crate) fn concat(parts: &[&str]) -> CompactString {
    let mut out = CompactString::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// Appends an integer in decimal digits.
pub(crate) fn push_integer(out: &mut CompactString, value: u64) {
    let mut digits = Digits::default();
    digits.integer(value);
    out.push_str(digits.as_str());
}

/// Appends a date as `YYYY-MM-DD`, as its `Display` writes it.
pub(crate) fn push_date(out: &mut CompactString, date: NaiveDate) {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        write!(out, "{date}").expect("writing to a string cannot fail");
        return;
    }
    let mut digits = Digits::default();
    digits.padded(year as u64, 4);
    digits.push(b'-');
    digits.padded(u64::from(date.month()), 2);
    digits.push(b'-');
    digits.padded(u64::from(date.day()), 2);
    out.push_str(digits.as_str());
}

/// Returns a date as `YYYY-MM-DD`.
pub(crate) fn date_text(date: NaiveDate) -> CompactString {
    let mut out = CompactString::default();
    push_date(&mut out, date);
    out
}

/// ASCII digits and signs collected on the stack, so that a number
/// reaches its string in one copy.
#[derive(Default)]
struct Digits {
    bytes: [u8; 32],
    len: usize,
}

impl Digits {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// Appends an integer without leading zeros.
    fn integer(&mut self, value: u64) {
        let width = value.checked_ilog10().unwrap_or(0) + 1;
        self.padded(value, width);
    }

    /// Appends the last `width` digits of an integer, with leading zeros.
    fn padded(&mut self, value: u64, width: u32) {
        let mut rest = value;
        for slot in self.bytes[self.len..self.len + width as usize].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        self.len += width as usize;
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("digits and signs are ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::SplitMix64;

    /// Returns a number on [0, 1) from 53 random bits.
    fn unit(random: &mut SplitMix64) -> f64 {
        (random.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn fixed(value: f64, decimals: u32) -> String {
        let mut out = CompactString::default();
        push_fixed(&mut out, value, decimals);
        out.into()
    }

    fn shortest(value: f64) -> String {
        let mut out = CompactString::default();
        push_shortest(&mut out, value);
        out.into()
    }

    /// Hostile and edge values: ties, negative zero, infinities, NaN,
    /// subnormals, the largest finite number.
    const EDGES: [f64; 16] = [
        0.0,
        -0.0,
        0.125,
        0.375,
        0.25,
        2.675,
        1.005,
        9.95,
        1e-300,
        f64::MIN_POSITIVE / 2.0,
        -1.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        999_999_999.999_999,
    ];

    #[test]
    fn fixed_matches_std_formatting() {
        let mut random = SplitMix64::new(7);
        let mut values: Vec<f64> = EDGES.to_vec();
        for _ in 0..200_000 {
            let unit = unit(&mut random);
            values.push(unit);
            values.push(unit * 10.0);
            values.push((unit * 1000.0).round() / 1000.0);
            values.push((unit * 100.0).round() / 100.0 + 0.005);
        }
        for value in values {
            for decimals in 0..=8 {
                assert_eq!(
                    fixed(value, decimals),
                    format!("{value:.*}", decimals as usize),
                    "{value:e}"
                );
            }
        }
    }

    #[test]
    fn shortest_matches_std_display() {
        let mut random = SplitMix64::new(11);
        let mut values: Vec<f64> = EDGES.to_vec();
        values.extend([1.0, 0.1, 0.00001, 0.94, 100.0, 123_456.5, 1e9, 1e15, 0.3 + 0.6]);
        for _ in 0..200_000 {
            let unit = unit(&mut random);
            values.push(unit);
            // EPSS files give five decimals.
            values.push((unit * 100_000.0).round() / 100_000.0);
            values.push((unit * 1_000_000.0).round() / 1_000_000.0);
        }
        for value in values {
            assert_eq!(shortest(value), value.to_string(), "{value:e}");
        }
    }

    #[test]
    fn integers_and_dates_match_std() {
        for value in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = CompactString::default();
            push_integer(&mut out, value);
            assert_eq!(out, value.to_string());
        }
        let dates = [
            NaiveDate::from_ymd_opt(2024, 3, 1),
            NaiveDate::from_ymd_opt(1, 1, 9),
            NaiveDate::from_ymd_opt(9999, 12, 31),
            NaiveDate::from_ymd_opt(10_000, 1, 1),
            NaiveDate::from_ymd_opt(-44, 3, 15),
        ];
        for date in dates.into_iter().map(|date| date.expect("valid date")) {
            assert_eq!(date_text(date), date.to_string());
        }
    }
}
