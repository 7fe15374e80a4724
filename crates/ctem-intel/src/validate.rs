//! Validation of feed files before they enter the intelligence cache, and
//! detection of a file's kind for `ctem intel import`.
//!
//! Each [`SourceKind`] has one [`Validator`]: a function that reads the
//! whole file and returns what the feed states about itself ([`FeedInfo`]),
//! or the [`IntelError`] that rejects it. Every kind goes through its
//! loader, which reads and checks the whole file. A KEV catalog or EPSS
//! file without entries is rejected too, since it would replace the cached
//! one with nothing. A gzip stream is read to its end, so a truncated or
//! corrupt one (bad CRC or length in its trailer) is rejected for every
//! kind. [`Validators::set`] replaces the validator of a kind, so a loader
//! can be wired in without touching the cache or the downloader.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::attack::{AttackCatalog, CtidMappings};
use crate::cve5::Cve5Record;
use crate::epss::{EpssScores, open_text};
use crate::error::IntelError;
use crate::exploits::{Exploits, NUCLEI_MAX_TEMPLATE_BYTES};
use crate::kev::KevCatalog;
use crate::nvd::NvdFile;
use crate::osv::OsvRecord;
use crate::provenance::SourceKind;
use crate::sniff::{Detected, SNIFF_BYTES, detect};
use crate::stix::StixBundle;

/// The facts that a valid feed file states about itself, for `state.json`
/// and `ctem intel status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedInfo {
    /// Records in the file: KEV entries, EPSS scores, STIX objects, CSV rows.
    pub records: Option<u64>,
    /// The version the feed states, such as the KEV `catalogVersion`.
    pub version: Option<String>,
    /// The date the feed states, such as the KEV release day or the EPSS score date.
    pub date: Option<NaiveDate>,
}

/// Reads a whole file and accepts it with what it states, or rejects it.
/// `path_for_errors` names the file in errors; `file` is where it lies.
pub type Validator = fn(path_for_errors: &str, file: &Path) -> Result<FeedInfo, IntelError>;

/// The validator of every kind.
#[derive(Clone)]
pub struct Validators {
    by_kind: BTreeMap<SourceKind, Validator>,
}

impl fmt::Debug for Validators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.by_kind.keys()).finish()
    }
}

impl Default for Validators {
    /// KEV and EPSS through their loaders; every other kind by form (see the module doc).
    fn default() -> Validators {
        let by_kind = SourceKind::ALL
            .iter()
            .map(|&kind| {
                let validator: Validator = match kind {
                    SourceKind::Kev => validate_kev,
                    SourceKind::Epss => validate_epss,
                    SourceKind::Cve5 => validate_cve5,
                    SourceKind::Nvd => validate_nvd,
                    SourceKind::Osv => validate_osv,
                    SourceKind::Attack => validate_attack,
                    SourceKind::CtidMappings => validate_ctid,
                    SourceKind::Stix => validate_stix,
                    SourceKind::ExploitDb => validate_exploit_db,
                    SourceKind::Metasploit => validate_metasploit,
                    SourceKind::NucleiTemplates => validate_nuclei,
                };
                (kind, validator)
            })
            .collect();
        Validators { by_kind }
    }
}

impl Validators {
    /// Replaces the validator of `kind`, such as with a loader that reads its format.
    pub fn set(&mut self, kind: SourceKind, validator: Validator) {
        self.by_kind.insert(kind, validator);
    }

    /// Validates a file as `kind`.
    pub fn validate(&self, kind: SourceKind, path_for_errors: &str, file: &Path) -> Result<FeedInfo, IntelError> {
        let validator = self.by_kind.get(&kind).copied().unwrap_or(validate_json);
        validator(path_for_errors, file)
    }
}

/// The largest file that the form checks read: above any feed that ctem reads
/// (the ATT&CK enterprise bundle is about 50 MB, a full NVD page about 30 MB).
pub const FORM_CHECK_MAX_BYTES: u64 = 1024 * 1024 * 1024;

fn validate_cve5(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let record = Cve5Record::from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(1),
        version: Some(record.data_version.clone()),
        date: record.date_updated.map(|d| d.date_naive()),
    })
}

fn validate_nvd(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let loaded = NvdFile::from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(loaded.cves.len() as u64),
        version: None,
        date: loaded.cves.iter().map(|cve| cve.last_modified.date_naive()).max(),
    })
}

fn validate_osv(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let record = OsvRecord::from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(1),
        version: None,
        date: record.provenance().date,
    })
}

fn validate_attack(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let catalog = AttackCatalog::from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(catalog.len() as u64),
        version: catalog.version().map(str::to_string),
        date: None,
    })
}

fn validate_ctid(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let mappings = CtidMappings::from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(mappings.mapping_count() as u64),
        version: Some(format!("ATT&CK {}", mappings.attack_version())),
        date: mappings.date(),
    })
}

fn validate_stix(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let bundle = StixBundle::from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(bundle.object_count() as u64),
        ..FeedInfo::default()
    })
}

fn validate_exploit_db(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let exploits = Exploits::exploit_db_from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(exploits.len() as u64),
        ..FeedInfo::default()
    })
}

fn validate_metasploit(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let exploits = Exploits::metasploit_from_reader(path, open_text(path, open(path, file)?)?)?;
    Ok(FeedInfo {
        records: Some(exploits.len() as u64),
        ..FeedInfo::default()
    })
}

fn validate_nuclei(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let mut text = Vec::new();
    open_text(path, open(path, file)?)?
        .take(NUCLEI_MAX_TEMPLATE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|source| IntelError::Io {
            path: path.to_string(),
            source,
        })?;
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(IntelError::NotFormat {
            path: path.to_string(),
            expected: "a Nuclei template",
            reason: "the file is empty".to_string(),
        });
    }
    let exploits = Exploits::nuclei_template_from_reader(path, text.as_slice())?;
    Ok(FeedInfo {
        records: Some(exploits.len() as u64),
        ..FeedInfo::default()
    })
}

fn validate_kev(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let catalog = KevCatalog::from_reader(path, open(path, file)?)?;
    // An empty catalog is valid JSON but would unlist every exploited CVE.
    if catalog.is_empty() {
        return Err(IntelError::NotFormat {
            path: path.to_string(),
            expected: "a usable CISA KEV catalog",
            reason: "it lists no vulnerability, so it would replace the cached catalog with nothing".into(),
        });
    }
    Ok(FeedInfo {
        records: Some(catalog.len() as u64),
        version: Some(catalog.version.clone()),
        date: Some(catalog.released.date_naive()),
    })
}

fn validate_epss(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let scores = EpssScores::from_reader(path, open(path, file)?)?;
    if scores.is_empty() {
        return Err(IntelError::NotFormat {
            path: path.to_string(),
            expected: "a usable FIRST EPSS file",
            reason: "it scores no CVE, so it would replace the cached scores with nothing".into(),
        });
    }
    let loaded = scores.files().first();
    Ok(FeedInfo {
        records: Some(scores.len() as u64),
        version: loaded.and_then(|f| f.model_version.clone()),
        date: loaded.and_then(|f| f.score_date),
    })
}

/// Checks that the file is one JSON document and counts its records. These
/// are the elements of a top-level array, else those of the largest array
/// among the top-level members (`objects` of a STIX bundle, `vulnerabilities`
/// of an NVD page), else the top-level members (Metasploit's module map).
pub(crate) fn validate_json(path: &str, file: &Path) -> Result<FeedInfo, IntelError> {
    let text = limited_text(path, file)?;
    let mut deserializer = serde_json::Deserializer::from_reader(text);
    let shape = Shape.deserialize(&mut deserializer).map_err(|e| json_error(path, &e))?;
    deserializer.end().map_err(|e| json_error(path, &e))?;
    Ok(FeedInfo {
        records: Some(shape),
        ..FeedInfo::default()
    })
}

fn open(path: &str, file: &Path) -> Result<File, IntelError> {
    File::open(file).map_err(|source| IntelError::Io {
        path: path.to_string(),
        source,
    })
}

/// Opens a file as text (gunzipped when it starts with the gzip magic) and
/// fails with [`IntelError::TooLarge`] past [`FORM_CHECK_MAX_BYTES`].
fn limited_text(path: &str, file: &Path) -> Result<impl BufRead, IntelError> {
    let text = open_text(path, open(path, file)?)?;
    Ok(std::io::BufReader::new(Limited {
        inner: text,
        left: FORM_CHECK_MAX_BYTES,
    }))
}

/// A reader that fails, rather than stops, at its limit.
struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.left = self.left.checked_sub(read as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("more than {FORM_CHECK_MAX_BYTES} bytes"),
            )
        })?;
        Ok(read)
    }
}

fn json_error(path: &str, error: &serde_json::Error) -> IntelError {
    let text = error.to_string();
    let bare = text.rfind(" at line ").map_or(text.as_str(), |cut| &text[..cut]);
    let message = match error.classify() {
        serde_json::error::Category::Eof => "the JSON ends early, so the file is truncated".to_string(),
        serde_json::error::Category::Io => format!("read failed, the file may be corrupt or truncated: {bare}"),
        _ => format!("invalid JSON: {bare}"),
    };
    IntelError::Json {
        path: path.to_string(),
        line: error.line(),
        column: error.column(),
        message,
    }
}

/// Counts the records of a JSON document without keeping it in memory.
struct Shape;

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(TopLevel)
    }
}

struct TopLevel;

impl<'de> Visitor<'de> for TopLevel {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(count)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut members = 0;
        let mut largest_array = None;
        while map.next_key::<IgnoredAny>()?.is_some() {
            members += 1;
            if let Some(length) = map.next_value_seed(ArrayLength)? {
                largest_array = Some(largest_array.map_or(length, |l: u64| l.max(length)));
            }
        }
        Ok(largest_array.unwrap_or(members))
    }
}

/// The length of a value that is an array, `None` for any other value.
struct ArrayLength;

impl<'de> DeserializeSeed<'de> for ArrayLength {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u64>, D::Error> {
        deserializer.deserialize_any(ArrayLength)
    }
}

impl<'de> Visitor<'de> for ArrayLength {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<u64>, A::Error> {
        TopLevel.visit_seq(seq).map(Some)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u64>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }
}

/// Detects the kind of a file for import, from its name and first KiB.
/// Returns the reason when it is of no kind that the cache holds.
pub fn detect_kind(path: &Path) -> Result<Result<SourceKind, String>, IntelError> {
    match detect(path)? {
        Detected::Kev => return Ok(Ok(SourceKind::Kev)),
        Detected::Epss => return Ok(Ok(SourceKind::Epss)),
        Detected::Other(_) => {}
    }

    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let head = head_text(path)?;
    let has = |needle: &str| head.contains(needle);

    let kind = if name.ends_with(".json") || name.ends_with(".json.gz") {
        // Records of cvelistV5 and vulnrichment are named after their CVE,
        // and some writers sort keys, which puts `containers` (kilobytes
        // long) before `dataType` and `cveMetadata`.
        let named_as_record = name.starts_with("cve-") && (has("\"containers\"") || has("\"cveMetadata\""));
        if (has("\"CVE_RECORD\"") && has("\"cveMetadata\"")) || named_as_record {
            Some(SourceKind::Cve5)
        } else if has("\"NVD_CVE\"") || (has("\"resultsPerPage\"") && has("\"vulnerabilities\"")) {
            Some(SourceKind::Nvd)
        } else if has("\"mapping_framework\"") || has("\"mapping_objects\"") {
            Some(SourceKind::CtidMappings)
        } else if has("\"bundle\"") && has("x-mitre-") {
            Some(SourceKind::Attack)
        } else if has("\"bundle\"") && has("\"objects\"") {
            Some(SourceKind::Stix)
        } else if has("\"fullname\"") && has("\"disclosure_date\"") {
            Some(SourceKind::Metasploit)
        } else if has("\"schema_version\"") && has("\"modified\"") && has("\"id\"") {
            Some(SourceKind::Osv)
        } else {
            None
        }
    } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        let first = head.lines().next().unwrap_or_default().trim_start_matches('\u{feff}');
        first
            .starts_with("id,file,description,date_published")
            .then_some(SourceKind::ExploitDb)
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        (head.lines().any(|l| l.starts_with("id:")) && head.lines().any(|l| l.starts_with("info:")))
            .then_some(SourceKind::NucleiTemplates)
    } else {
        None
    };
    Ok(kind.ok_or_else(|| {
        "not a feed file ctem recognizes (KEV, EPSS, CVE JSON 5, NVD API 2.0, OSV, ATT&CK, CTID mappings, STIX, Exploit-DB, Metasploit, Nuclei template)".to_string()
    }))
}

/// Reads the first KiB of a file (after gzip) as lossy text.
fn head_text(path: &Path) -> Result<String, IntelError> {
    let display = path.display().to_string();
    let text = open_text(&display, open(&display, path)?)?;
    let mut head = Vec::new();
    // A corrupt gzip stream reads as a file of no known kind; its
    // validation, if it is imported as a named kind, gives the reason.
    let _ = text.take(SNIFF_BYTES).read_to_end(&mut head);
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(json: &str) -> Result<u64, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let shape = Shape.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(shape)
    }

    #[test]
    fn json_records_are_counted() {
        assert_eq!(count("[1, 2, 3]").unwrap(), 3);
        assert_eq!(
            count(r#"{"type": "bundle", "objects": [{}, {}], "x": [1]}"#).unwrap(),
            2
        );
        assert_eq!(count(r#"{"a": {"x": [1, 2, 3]}, "b": {}}"#).unwrap(), 2);
    }

    #[test]
    fn malformed_json_is_rejected() {
        assert!(count(r#"{"objects": [{}, "#).is_err());
        assert!(count(r#"{"a": 1} trailing"#).is_err());
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_read_to_end_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        let json = gzip(br#"{"objects": [{"type": "attack-pattern"}]}"#);
        let good = write(&dir, "bundle.json.gz", &json);
        let cut = write(&dir, "cut.json.gz", &json[..json.len() - 8]);
        let csv = gzip(EXPLOIT_DB.as_bytes());
        let good_csv = write(&dir, "files_exploits.csv.gz", &csv);
        let cut_csv = write(&dir, "cut.csv.gz", &csv[..csv.len() - 4]);
        let template =
            gzip(b"id: CVE-2021-44228\ninfo:\n  name: Log4j\n  classification:\n    cve-id: CVE-2021-44228\n");
        let cut_text = write(&dir, "cut.yaml.gz", &template[..template.len() - 4]);

        assert_eq!(validate_json("bundle", &good).unwrap().records, Some(1));
        assert!(validate_json("cut", &cut).is_err());
        assert_eq!(validate_exploit_db("good", &good_csv).unwrap().records, Some(1));
        assert!(validate_exploit_db("cut", &cut_csv).is_err());
        assert!(validate_nuclei("cut", &cut_text).is_err());
    }

    const EXPLOIT_DB: &str = "id,file,description,date_published,author,type,platform,port,date_added,date_updated,verified,codes,tags,aliases,screenshot_url,application_url,source_url\n50592,exploits/java/remote/50592.py,Apache Log4j2 2.14.1 - Information Disclosure,2021-12-14,leonjza,remote,java,,2021-12-14,2021-12-14,0,CVE-2021-44228,,,,,\n";

    #[test]
    fn exploit_db_rows_must_match_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(&dir, "good.csv", EXPLOIT_DB.as_bytes());
        let ragged = write(&dir, "ragged.csv", format!("{EXPLOIT_DB}1,a.py,extra\n").as_bytes());
        let other = write(&dir, "other.csv", b"id\n1\n");

        assert_eq!(validate_exploit_db("good", &good).unwrap().records, Some(1));
        let error = validate_exploit_db("ragged", &ragged).unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(validate_exploit_db("other", &other).is_err());
    }

    #[test]
    fn wrong_types_and_empty_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(&dir, "empty.json", b"");
        let scalar = write(&dir, "scalar.json", b"42");
        let binary = write(&dir, "binary.json", &[0xff, 0xfe, 0x00, 0x01]);
        let no_text = write(&dir, "empty.yaml", b"");

        for path in [&empty, &scalar, &binary] {
            assert!(validate_json("x", path).is_err(), "{}", path.display());
        }
        assert!(validate_nuclei("x", &no_text).is_err());
    }

    #[test]
    fn huge_string_is_counted_without_keeping_it() {
        let dir = tempfile::tempdir().unwrap();
        let body = format!(
            r#"{{"objects": [{{"description": "{}"}}]}}"#,
            "x".repeat(20 * 1024 * 1024)
        );
        let path = write(&dir, "huge.json", body.as_bytes());

        assert_eq!(validate_json("huge", &path).unwrap().records, Some(1));
    }

    #[test]
    fn kinds_are_detected_from_their_first_kib() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], Option<SourceKind>); 9] = [
            (
                "record.json",
                br#"{"dataType": "CVE_RECORD", "cveMetadata": {}}"#,
                Some(SourceKind::Cve5),
            ),
            (
                "page.json",
                br#"{"resultsPerPage": 1, "format": "NVD_CVE", "vulnerabilities": []}"#,
                Some(SourceKind::Nvd),
            ),
            (
                "map.json",
                br#"{"metadata": {"mapping_framework": "kev"}, "mapping_objects": []}"#,
                Some(SourceKind::CtidMappings),
            ),
            (
                "attack.json",
                br#"{"type": "bundle", "objects": [{"type": "x-mitre-collection"}]}"#,
                Some(SourceKind::Attack),
            ),
            (
                "intel.json",
                br#"{"type": "bundle", "objects": [{"type": "indicator"}]}"#,
                Some(SourceKind::Stix),
            ),
            (
                "msf.json",
                br#"{"exploit_x": {"fullname": "exploit/x", "disclosure_date": null}}"#,
                Some(SourceKind::Metasploit),
            ),
            (
                "GHSA-1.json",
                br#"{"schema_version": "1.6.0", "id": "GHSA-1", "modified": "2025-01-01T00:00:00Z"}"#,
                Some(SourceKind::Osv),
            ),
            (
                "files_exploits.csv",
                b"id,file,description,date_published,author\n",
                Some(SourceKind::ExploitDb),
            ),
            ("other.json", br#"{"hello": "world"}"#, None),
        ];
        for (name, bytes, expected) in cases {
            let path = write(&dir, name, bytes);
            assert_eq!(detect_kind(&path).unwrap().ok(), expected, "{name}");
        }
        let template = write(
            &dir,
            "CVE-2021-44228.yaml",
            b"id: CVE-2021-44228\n\ninfo:\n  name: Log4j\n",
        );
        assert_eq!(detect_kind(&template).unwrap().ok(), Some(SourceKind::NucleiTemplates));
    }

    #[test]
    fn deep_nesting_neither_overflows_nor_counts_inner_values() {
        // serde_json skips ignored values without recursion, so depth costs no stack.
        let depth = 1_000_000;
        let nested = format!("[{}{}]", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(count(&nested).unwrap(), 1);
        let truncated = format!("[{}", "[".repeat(depth));
        assert!(count(&truncated).is_err());
    }
}
