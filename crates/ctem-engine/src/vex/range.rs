//! Version ranges in the `vers:` syntax of the package-url project.
//!
//! A range reads `vers:<scheme>/<constraints>`. The scheme names how the
//! ecosystem orders versions (`npm`, `maven`, `pypi`, ...). The
//! constraints are joined by `|`, and each is a comparator (`=`, `!=`,
//! `<`, `<=`, `>`, `>=`, where none means `=`) and a version, or `*` alone
//! for every version. Spaces are not significant. `vers:npm/>=1.0.0|<1.2.3` contains
//! 1.0.0 up to, not including, 1.2.3.
//!
//! A version is in a range as the specification's algorithm says: equal
//! to an `=` version, else not equal to a `!=` version and inside one of
//! the intervals that the remaining constraints, sorted by version, bound.
//!
//! # Version order
//!
//! - `semver`, `npm`, `cargo` and `golang` (a leading `v` dropped) follow
//!   SemVer 2.0 through the `semver` crate, and are exact. Build metadata
//!   (`+build`) does not count. A version that is not SemVer is not
//!   comparable there: in a range it makes the range invalid, on a
//!   component it matches nothing.
//! - Every other scheme uses one generic order, exact for versions made of
//!   dotted numbers with an optional qualifier. Trailing zero segments do
//!   not count (`1.0` equals `1.0.0`). A qualifier after the numbers is a
//!   pre-release that sorts before the release (`1.0-rc1`, `1.0.0.beta`,
//!   Debian's `1.0~rc1`), except a numeric one or one that starts with
//!   `post`, `p`, `pl`, `patch`, `r`, `rev` or `sp`, which is a revision
//!   that sorts after it (Debian's `1.0-2`, Alpine's `1.0-r1`, PEP 440's
//!   `1.0.post1`); `final`, `ga` and `release` alone are the release.
//!   Qualifiers compare part by part, numbers as numbers and below words.
//!   A leading Debian epoch (`1:2.0`) counts first. Known gaps: Maven's
//!   `-SNAPSHOT` and its other named qualifiers, PEP 440 `dev` releases
//!   (before pre-releases there), RPM's and Debian's full algorithms
//!   (letters against `~` and `+` within a segment).
//!
//! # Reference
//!
//! <https://github.com/package-url/purl-spec/blob/main/VERSION-RANGE-SPEC.rst>

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The error of a range that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version range {range:?}: {reason}")]
pub struct RangeError {
    /// The range as written, shortened.
    pub range: String,
    /// The reason it cannot be read.
    pub reason: String,
}

/// The comparison that a constraint makes between a version and its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// One constraint of a range: a comparator and a version.
#[derive(Debug, Clone)]
struct Constraint {
    comparator: Comparator,
    version: Version,
}

/// A parsed `vers:` range.
#[derive(Debug, Clone)]
pub struct VersRange {
    scheme: String,
    /// Sorted by version; empty for `*`.
    constraints: Vec<Constraint>,
    every: bool,
}

impl VersRange {
    /// Returns the versioning scheme, lowercased (`npm`, `maven`, ...).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Returns whether the scheme's order is exact (the SemVer schemes).
    /// The other schemes use the generic order of the module doc.
    pub fn is_exact(&self) -> bool {
        is_semver_scheme(&self.scheme)
    }

    /// Returns whether `version` is in the range. A version that cannot
    /// be read in the range's scheme is in no range but `*`.
    pub fn contains(&self, version: &str) -> bool {
        if self.every {
            return true;
        }
        let Some(version) = Version::parse(&self.scheme, version) else {
            return false;
        };

        for constraint in &self.constraints {
            let equal = constraint.version.cmp(&version) == Ordering::Equal;
            match constraint.comparator {
                Comparator::Equal if equal => return true,
                Comparator::NotEqual if equal => return false,
                _ => {}
            }
        }

        let bounds: Vec<&Constraint> = self
            .constraints
            .iter()
            .filter(|c| !matches!(c.comparator, Comparator::Equal | Comparator::NotEqual))
            .collect();
        for (index, current) in bounds.iter().enumerate() {
            let order = version.cmp(&current.version);
            let lower = matches!(current.comparator, Comparator::Less | Comparator::LessOrEqual);
            if index == 0 && lower && satisfies(order, current.comparator) {
                return true;
            }
            if index + 1 == bounds.len() && !lower && satisfies(order, current.comparator) {
                return true;
            }
            let Some(next) = bounds.get(index + 1) else { break };
            let next_is_upper = matches!(next.comparator, Comparator::Less | Comparator::LessOrEqual);
            if !lower
                && next_is_upper
                && satisfies(order, current.comparator)
                && satisfies(version.cmp(&next.version), next.comparator)
            {
                return true;
            }
        }
        false
    }
}

/// Whether a version ordered `order` against a constraint's version
/// satisfies the constraint.
fn satisfies(order: Ordering, comparator: Comparator) -> bool {
    match comparator {
        Comparator::Equal => order == Ordering::Equal,
        Comparator::NotEqual => order != Ordering::Equal,
        Comparator::Less => order == Ordering::Less,
        Comparator::LessOrEqual => order != Ordering::Greater,
        Comparator::Greater => order == Ordering::Greater,
        Comparator::GreaterOrEqual => order != Ordering::Less,
    }
}

impl FromStr for VersRange {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<VersRange, RangeError> {
        let error = |reason: String| RangeError {
            range: shorten(text),
            reason,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(rest) = compact.strip_prefix("vers:") else {
            return Err(error(
                "expected the vers: syntax, such as vers:npm/>=1.0.0|<1.2.3".to_string(),
            ));
        };
        let Some((scheme, constraints)) = rest.split_once('/') else {
            return Err(error("expected a scheme and a slash after vers:".to_string()));
        };
        let scheme = scheme.to_ascii_lowercase();
        let scheme_ok = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
        if !scheme_ok {
            return Err(error(format!("the scheme {scheme:?} is not a package type")));
        }
        if constraints == "*" {
            return Ok(VersRange {
                scheme,
                constraints: Vec::new(),
                every: true,
            });
        }

        let mut parsed = Vec::new();
        for part in constraints.split('|') {
            let (comparator, version) = split_comparator(part);
            if version.is_empty() {
                return Err(error(format!("the constraint {part:?} names no version")));
            }
            if version == "*" {
                return Err(error("* must stand alone".to_string()));
            }
            let Some(version) = Version::parse(&scheme, version) else {
                let order = if is_semver_scheme(&scheme) {
                    "SemVer"
                } else {
                    "a version that starts with a number"
                };
                return Err(error(format!("{version:?} is not {order}")));
            };
            parsed.push(Constraint { comparator, version });
        }
        parsed.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(VersRange {
            scheme,
            constraints: parsed,
            every: false,
        })
    }
}

impl fmt::Display for VersRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vers:{}/", self.scheme)?;
        if self.every {
            return f.write_str("*");
        }
        for (index, constraint) in self.constraints.iter().enumerate() {
            if index > 0 {
                f.write_str("|")?;
            }
            let comparator = match constraint.comparator {
                Comparator::Equal => "",
                Comparator::NotEqual => "!=",
                Comparator::Less => "<",
                Comparator::LessOrEqual => "<=",
                Comparator::Greater => ">",
                Comparator::GreaterOrEqual => ">=",
            };
            write!(f, "{comparator}{}", constraint.version.text)?;
        }
        Ok(())
    }
}

fn split_comparator(part: &str) -> (Comparator, &str) {
    let comparators = [
        (">=", Comparator::GreaterOrEqual),
        ("<=", Comparator::LessOrEqual),
        ("!=", Comparator::NotEqual),
        ("<", Comparator::Less),
        (">", Comparator::Greater),
        ("=", Comparator::Equal),
    ];
    for (prefix, comparator) in comparators {
        if let Some(version) = part.strip_prefix(prefix) {
            return (comparator, version);
        }
    }
    (Comparator::Equal, part)
}

fn is_semver_scheme(scheme: &str) -> bool {
    matches!(scheme, "semver" | "npm" | "cargo" | "golang")
}

/// Shortens a range for error messages, so a huge one stays readable.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 120;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// Compares two versions in the generic order (see the module doc), or
/// returns `None` when either is not a version in that order.
pub fn compare_generic(a: &str, b: &str) -> Option<Ordering> {
    Some(GenericVersion::parse(a.trim())?.cmp(&GenericVersion::parse(b.trim())?))
}

/// Tells whether a text is a version in the generic order.
pub fn is_generic_version(text: &str) -> bool {
    GenericVersion::parse(text.trim()).is_some()
}

/// A version read in one scheme, with the text it came from.
#[derive(Debug, Clone)]
struct Version {
    text: String,
    order: Order,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Order {
    Semver(semver::Version),
    Generic(GenericVersion),
}

impl Version {
    fn parse(scheme: &str, text: &str) -> Option<Version> {
        let trimmed = text.trim();
        let order = if is_semver_scheme(scheme) {
            let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
            let mut version = semver::Version::parse(bare).ok()?;
            version.build = semver::BuildMetadata::EMPTY;
            Order::Semver(version)
        } else {
            Order::Generic(GenericVersion::parse(trimmed)?)
        };
        Some(Version {
            text: trimmed.to_string(),
            order,
        })
    }

    fn cmp(&self, other: &Version) -> Ordering {
        self.order.cmp(&other.order)
    }
}

/// The place of a generic version against its release, set by its qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    PreRelease,
    Release,
    Revision,
}

/// One part of a qualifier. Numbers sort below words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Number(u64),
    Word(String),
}

/// A version in the generic order (see the module doc). Field order is
/// comparison order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GenericVersion {
    epoch: u64,
    /// The dotted numbers, trailing zeros removed.
    release: Vec<u64>,
    stage: Stage,
    qualifier: Vec<Part>,
}

impl GenericVersion {
    fn parse(text: &str) -> Option<GenericVersion> {
        let text = match text.strip_prefix(['v', 'V']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => text,
        };
        let text = text.split('+').next().unwrap_or(text);
        let (epoch, text) = match text.split_once(':') {
            Some((epoch, rest)) if !epoch.is_empty() && epoch.chars().all(|c| c.is_ascii_digit()) => {
                (epoch.parse().ok()?, rest)
            }
            _ => (0, text),
        };
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }

        let mut release = Vec::new();
        let mut rest = text;
        loop {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            release.push(rest[..digits].parse::<u64>().ok()?);
            rest = &rest[digits..];
            match rest.strip_prefix('.') {
                Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
                _ => break,
            }
        }
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }

        let rest = rest.strip_prefix(['-', '.', '_', '~']).unwrap_or(rest);
        let mut qualifier = qualifier_parts(rest);
        let stage = match qualifier.first() {
            None => Stage::Release,
            Some(Part::Number(_)) => Stage::Revision,
            Some(Part::Word(word)) if qualifier.len() == 1 && matches!(word.as_str(), "final" | "ga" | "release") => {
                qualifier.clear();
                Stage::Release
            }
            Some(Part::Word(word)) if matches!(word.as_str(), "post" | "p" | "pl" | "patch" | "r" | "rev" | "sp") => {
                Stage::Revision
            }
            Some(Part::Word(_)) => Stage::PreRelease,
        };
        Some(GenericVersion {
            epoch,
            release,
            stage,
            qualifier,
        })
    }
}

/// Splits a qualifier at separators and between digits and letters.
fn qualifier_parts(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, parts: &mut Vec<Part>| {
        if current.is_empty() {
            return;
        }
        let part = match current.parse::<u64>() {
            Ok(number) => Part::Number(number),
            Err(_) => Part::Word(current.to_ascii_lowercase()),
        };
        parts.push(part);
        current.clear();
    };
    for c in text.chars() {
        if !c.is_alphanumeric() {
            flush(&mut current, &mut parts);
            continue;
        }
        let boundary = current
            .chars()
            .last()
            .is_some_and(|last| last.is_ascii_digit() != c.is_ascii_digit());
        if boundary {
            flush(&mut current, &mut parts);
        }
        current.push(c);
    }
    flush(&mut current, &mut parts);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> VersRange {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn npm_interval_inside_bounds_outside() {
        let r = range("vers:npm/>=1.0.0|<1.2.3");
        let cases = [
            ("0.9.9", false),
            ("1.0.0", true),
            ("1.1.7", true),
            ("1.2.3-rc.1", true),
            ("1.2.3", false),
            ("2.0.0", false),
            ("v1.1.0", true),
            ("1.1", false),
        ];
        for (version, expected) in cases {
            assert_eq!(r.contains(version), expected, "{version}");
        }
        assert!(r.is_exact());
    }

    #[test]
    fn inclusive_upper_and_open_lower() {
        let r = range("vers:semver/>2.2.0|<=2.4.0");
        assert!(!r.contains("2.2.0"));
        assert!(r.contains("2.2.1"));
        assert!(r.contains("2.4.0"));
        assert!(r.contains("2.4.0+build.7"), "build metadata does not count");
        assert!(!r.contains("2.4.1"));
    }

    #[test]
    fn several_intervals_and_exclusions() {
        let r = range("vers:pypi/<1.0|>=2.0|<2.5|!=2.1|>=3.0");
        let cases = [
            ("0.9", true),
            ("1.0", false),
            ("1.5", false),
            ("2.0", true),
            ("2.1", false),
            ("2.1.0", false),
            ("2.4.9", true),
            ("2.5", false),
            ("3.0", true),
            ("99", true),
        ];
        for (version, expected) in cases {
            assert_eq!(r.contains(version), expected, "{version}");
        }
    }

    #[test]
    fn equal_and_unordered_constraints() {
        let r = range("vers:maven/ 2.17.1 | 2.12.4 ");
        assert!(r.contains("2.17.1"));
        assert!(r.contains("2.12.4"));
        assert!(!r.contains("2.14.1"));
        let sorted = range("vers:maven/<2.15.0|>=2.0");
        assert!(sorted.contains("2.14.1"), "constraints are sorted before use");
        assert!(!sorted.contains("1.9"));
    }

    #[test]
    fn star_is_every_version() {
        let r = range("vers:deb/*");
        assert!(r.contains("1:2.3-4"));
        assert!(r.contains("anything"));
    }

    #[test]
    fn generic_order() {
        let ordered = [
            "1.0-alpha",
            "1.0-beta.2",
            "1.0-beta.11",
            "1.0-rc1",
            "1.0",
            "1.0-1",
            "1.0-r2",
            "1.0.1",
            "1.2",
            "1.10",
            "2:0.1",
        ];
        let versions: Vec<GenericVersion> = ordered.iter().map(|v| GenericVersion::parse(v).unwrap()).collect();
        for pair in versions.windows(2) {
            assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
        }
        assert_eq!(GenericVersion::parse("1.0"), GenericVersion::parse("1.0.0"));
        assert_eq!(GenericVersion::parse("1.0~rc1"), GenericVersion::parse("1.0-rc1"));
        assert_eq!(GenericVersion::parse("1.0.0.Final"), GenericVersion::parse("1.0"));
        assert_eq!(GenericVersion::parse("v2.1"), GenericVersion::parse("2.1"));
        assert_eq!(GenericVersion::parse("latest"), None);
    }

    #[test]
    fn unparseable_ranges() {
        let cases = [
            ("<2.0", "vers: syntax"),
            (">=1.0 <2.0", "vers: syntax"),
            ("vers:npm", "scheme and a slash"),
            ("vers:/1.0", "not a package type"),
            ("vers:npm/>=", "names no version"),
            ("vers:npm/>=1.0.0||<2.0.0", "names no version"),
            ("vers:npm/1.0", "not SemVer"),
            ("vers:maven/>=abc", "starts with a number"),
            ("vers:npm/*|<1.0.0", "stand alone"),
        ];
        for (text, reason) in cases {
            let error = text.parse::<VersRange>().unwrap_err();
            assert!(error.to_string().contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn display_is_sorted_form() {
        assert_eq!(range("vers:NPM/<1.2.3|>=1.0.0").to_string(), "vers:npm/>=1.0.0|<1.2.3");
        assert_eq!(range("vers:golang/*").to_string(), "vers:golang/*");
    }

    #[test]
    fn long_range_is_shortened() {
        let text = format!("vers:npm/{}", "9".repeat(500));
        let error = text.parse::<VersRange>().unwrap_err();
        assert!(error.range.len() < 200, "{}", error.range);
    }
}
