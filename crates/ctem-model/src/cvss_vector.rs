//! CVSS vectors, validated and scored by the RustSec `cvss` crate.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The CVSS specification a vector follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V30,
    #[serde(rename = "3.1")]
    V31,
    #[serde(rename = "4.0")]
    V40,
}

impl CvssVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V30 => "3.0",
            CvssVersion::V31 => "3.1",
            CvssVersion::V40 => "4.0",
        }
    }
}

/// A CVSS vector that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CVSS vector {value:?}: {reason}")]
pub struct CvssError {
    pub value: String,
    pub reason: String,
}

/// A CVSS v2, v3.0, v3.1 or v4.0 vector with its scores.
///
/// v2 vectors are accepted with or without parentheses and a `CVSS:2.0/`
/// prefix, as NVD and scanners print them.
///
/// The canonical text and the scores are computed once, when the vector is
/// parsed: scoring reads them for every finding.
#[derive(Debug, Clone, PartialEq)]
pub struct CvssVector {
    parsed: cvss::Cvss,
    /// The vector as the `cvss` crate prints it.
    text: Box<str>,
    base_score: f64,
    exploitability: f64,
    impact: f64,
}

impl CvssVector {
    pub fn version(&self) -> CvssVersion {
        match &self.parsed {
            cvss::Cvss::CvssV20(_) => CvssVersion::V2,
            cvss::Cvss::CvssV30(_) => CvssVersion::V30,
            cvss::Cvss::CvssV31(_) => CvssVersion::V31,
            _ => CvssVersion::V40,
        }
    }

    /// The base score from 0.0 to 10.0 (for v4.0, the CVSS-B, -BT, -BE or
    /// -BTE score that the vector's metrics give).
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// Ease of exploitation from 0.0 to 1.0.
    ///
    /// v2 and v3 use the specification's exploitability sub-score divided by
    /// its maximum (10.0 for v2, 3.887 for v3). v4.0 defines no sub-score,
    /// so this is the product of the exploitability metric weights of the
    /// v3.1 formula (AV, AC, PR, UI), with Attack Requirements present
    /// weighted as high complexity; it is an approximation documented here.
    pub fn exploitability(&self) -> f64 {
        self.exploitability
    }

    /// Consequence of a successful exploit from 0.0 to 1.0.
    ///
    /// v2 uses the impact sub-score divided by 10.0; v3 the impact
    /// sub-score (ISS) divided by its maximum 0.9148; v4.0 the largest of the
    /// vulnerable and subsequent system impacts (High 1.0, Low 0.5).
    pub fn impact(&self) -> f64 {
        self.impact
    }

    /// Returns the vector in its canonical form, such as
    /// `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` (v2 vectors have no
    /// prefix).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the value of one metric, such as `N` for `AV`.
    pub fn metric(&self, name: &str) -> Option<&str> {
        self.metrics().find(|(key, _)| *key == name).map(|(_, value)| value)
    }

    /// Returns the metrics as name and value pairs, such as `("AV", "N")`, in the
    /// vector's order. The `CVSS:3.1` prefix comes first, as `("CVSS", "3.1")`.
    pub fn metrics(&self) -> Metrics<'_> {
        Metrics { rest: &self.text }
    }
}

/// The metrics of a CVSS vector, from [`CvssVector::metrics`].
#[derive(Debug, Clone)]
pub struct Metrics<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Metrics<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        // A byte search: the parts are a few bytes long, too short for the
        // string searcher to pay off.
        while !self.rest.is_empty() {
            let bytes = self.rest.as_bytes();
            let end = bytes.iter().position(|&byte| byte == b'/').unwrap_or(bytes.len());
            let part = &self.rest[..end];
            self.rest = self.rest.get(end + 1..).unwrap_or_default();
            if let Some(colon) = part.bytes().position(|byte| byte == b':') {
                return Some((&part[..colon], &part[colon + 1..]));
            }
        }
        None
    }
}

fn exploitability(parsed: &cvss::Cvss, text: &str) -> f64 {
    let value = match parsed {
        cvss::Cvss::CvssV20(v) => v.exploitability().value() / 10.0,
        cvss::Cvss::CvssV30(v) | cvss::Cvss::CvssV31(v) => v.exploitability().value() / 3.887,
        _ => v4_exploitability(text),
    };
    value.clamp(0.0, 1.0)
}

fn impact(parsed: &cvss::Cvss, text: &str) -> f64 {
    let value = match parsed {
        cvss::Cvss::CvssV20(v) => v.impact().value() / 10.0,
        cvss::Cvss::CvssV30(v) | cvss::Cvss::CvssV31(v) => v.impact().value() / 0.9148,
        _ => v4_impact(text),
    };
    value.clamp(0.0, 1.0)
}

fn v4_metrics(vector: &str) -> Metrics<'_> {
    Metrics { rest: vector }
}

fn v4_exploitability(vector: &str) -> f64 {
    let mut product = 1.0;
    for (metric, value) in v4_metrics(vector) {
        let weight = match (metric, value) {
            ("AV", "N") => 0.85,
            ("AV", "A") => 0.62,
            ("AV", "L") => 0.55,
            ("AV", "P") => 0.2,
            ("AC", "L") | ("AT", "N") => 1.0,
            ("AC", "H") => 0.44 / 0.77,
            ("AT", "P") => 0.44 / 0.77,
            ("PR", "N") => 0.85,
            ("PR", "L") => 0.62,
            ("PR", "H") => 0.27,
            ("UI", "N") => 0.85,
            ("UI", "P") => 0.62,
            ("UI", "A") => 0.5,
            _ => continue,
        };
        product *= weight;
    }
    // 0.85^3 is the largest product: AV:N, AC:L, AT:N, PR:N, UI:N.
    product / (0.85 * 0.85 * 0.85)
}

fn v4_impact(vector: &str) -> f64 {
    v4_metrics(vector)
        .filter(|(metric, _)| matches!(*metric, "VC" | "VI" | "VA" | "SC" | "SI" | "SA"))
        .map(|(_, value)| match value {
            "H" => 1.0,
            "L" => 0.5,
            _ => 0.0,
        })
        .fold(0.0, f64::max)
}

impl FromStr for CvssVector {
    type Err = CvssError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim().trim_start_matches('(').trim_end_matches(')');
        let text = trimmed.strip_prefix("CVSS:2.0/").unwrap_or(trimmed);
        let parsed = cvss::Cvss::from_str(text).map_err(|error| CvssError {
            value: s.to_string(),
            reason: error.to_string(),
        })?;
        let base_score = match &parsed {
            cvss::Cvss::CvssV30(v) | cvss::Cvss::CvssV31(v) => v.base_score().value(),
            other => other.score(),
        };
        let text: Box<str> = parsed.to_string().into();
        Ok(CvssVector {
            exploitability: exploitability(&parsed, &text),
            impact: impact(&parsed, &text),
            parsed,
            text,
            base_score,
        })
    }
}

impl fmt::Display for CvssVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for CvssVector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CvssVector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_canonical_text() {
        let vector: CvssVector = " (AV:N/AC:L/Au:N/C:P/I:P/A:P) ".parse().unwrap();
        assert_eq!(vector.as_str(), "AV:N/AC:L/Au:N/C:P/I:P/A:P");
        let pairs: Vec<(&str, &str)> = vector.metrics().collect();
        assert_eq!(pairs[0], ("AV", "N"));
        assert_eq!(pairs.len(), 6);

        let text = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P";
        let vector: CvssVector = text.parse().unwrap();
        assert_eq!(vector.to_string(), vector.as_str());
        assert_eq!(vector.metrics().next(), Some(("CVSS", "4.0")));
        assert_eq!(vector.metric("E"), Some("P"));
        assert_eq!(vector.metric("VC"), Some("H"));
        assert_eq!(vector.metric("MAV"), None);
        assert_eq!(vector.metric(""), None);
        // Parts without a colon and empty parts are skipped.
        let odd: Vec<(&str, &str)> = v4_metrics("/AV:N//junk/E:").collect();
        assert_eq!(odd, vec![("AV", "N"), ("E", "")]);
    }

    #[test]
    fn scores_each_version() {
        let cases = [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", CvssVersion::V2, 7.5),
            ("(AV:N/AC:L/Au:N/C:C/I:C/A:C)", CvssVersion::V2, 10.0),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", CvssVersion::V30, 5.3),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", CvssVersion::V31, 10.0),
            ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", CvssVersion::V31, 1.8),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                CvssVersion::V40,
                9.3,
            ),
        ];
        for (text, version, score) in cases {
            let vector: CvssVector = text.parse().unwrap();
            assert_eq!(vector.version(), version, "{text}");
            assert_eq!(vector.base_score(), score, "{text}");
        }
    }

    #[test]
    fn subscores_are_normalized() {
        let worst: CvssVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".parse().unwrap();
        assert!(worst.exploitability() > 0.99);
        assert!(worst.impact() > 0.99);
        let local: CvssVector = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N".parse().unwrap();
        assert!(local.exploitability() < 0.1);
        assert!(local.impact() < 0.3);
        let v4: CvssVector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
            .parse()
            .unwrap();
        assert!((v4.exploitability() - 1.0).abs() < 1e-9);
        assert_eq!(v4.impact(), 1.0);
    }

    #[test]
    fn rejects_malformed_vector() {
        for bad in ["CVSS:3.1/AV:X/AC:L", "CVSS:9.9/AV:N", "", "garbage"] {
            let error = bad.parse::<CvssVector>().unwrap_err();
            assert_eq!(error.value, bad);
        }
    }
}
