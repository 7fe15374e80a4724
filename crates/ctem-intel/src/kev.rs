//! The CISA Known Exploited Vulnerabilities (KEV) catalog, JSON feed.
//!
//! CISA lists in KEV the CVEs that it has seen exploited in the wild. The
//! feed (<https://www.cisa.gov/known-exploited-vulnerabilities-catalog>,
//! schema in the `cisagov/kev-data` repository) is one JSON object with
//! `catalogVersion`, `dateReleased`, `count` and `vulnerabilities[]`; each
//! entry has `cveID`, `vendorProject`, `product`, `vulnerabilityName`,
//! `dateAdded`, `shortDescription`, `requiredAction`, `dueDate` and,
//! in later catalogs, `knownRansomwareCampaignUse`, `notes` and `cwes`.
//!
//! Validation: an entry whose CVE id or date is invalid rejects the whole
//! catalog with an error that names the entry and the field, because a
//! silently dropped entry would under-score a vulnerability that is being
//! exploited. Descriptive text fields that are missing read as empty
//! strings, since no score depends on them. Fields that ctem does not use
//! are ignored, so that new fields in the feed do not break loading.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::{CveId, Cwe};
use serde::{Deserialize, Serialize};

use crate::error::{IntelError, shorten};

/// The largest KEV file that [`KevCatalog::load`] reads. The catalog of
/// August 2025 (1,404 entries) is about 1.5 MB; the limit leaves room for
/// decades of growth and stops a wrong or hostile file before it fills memory.
pub const KEV_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// CWE placeholders that NVD and CISA use for "no CWE assigned"; they carry
/// no weakness and are left out of [`KevEntry::cwes`].
const CWE_PLACEHOLDERS: [&str; 2] = ["NVD-CWE-noinfo", "NVD-CWE-Other"];

/// One vulnerability of the KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevEntry {
    pub cve: CveId,
    /// `vendorProject`: the vendor or project of the product.
    pub vendor: String,
    pub product: String,
    /// `vulnerabilityName`, such as "Apache Log4j2 Remote Code Execution Vulnerability".
    pub name: String,
    /// The day CISA added the CVE to the catalog.
    pub date_added: NaiveDate,
    /// The remediation deadline for US federal agencies, where the entry has one.
    pub due_date: Option<NaiveDate>,
    /// Whether `knownRansomwareCampaignUse` is `Known`. `Unknown` or a
    /// missing field means that CISA has no confirmation, not that it is ruled out.
    pub known_ransomware_use: bool,
    pub required_action: String,
    pub short_description: String,
    pub notes: String,
    pub cwes: Vec<Cwe>,
}

/// A loaded KEV catalog, indexed by CVE id.
#[derive(Debug, Clone)]
pub struct KevCatalog {
    /// `catalogVersion`, such as `2025.08.25`.
    pub version: String,
    /// `dateReleased`: when CISA published this version.
    pub released: DateTime<Utc>,
    path: String,
    entries: Vec<KevEntry>,
    by_cve: HashMap<CveId, usize>,
}

/// The catalog as the JSON has it, before validation.
#[derive(Deserialize)]
struct RawCatalog {
    #[serde(rename = "catalogVersion")]
    catalog_version: Option<String>,
    #[serde(rename = "dateReleased")]
    date_released: Option<String>,
    count: Option<u64>,
    vulnerabilities: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: Option<String>,
    #[serde(rename = "vendorProject")]
    vendor_project: Option<String>,
    product: Option<String>,
    #[serde(rename = "vulnerabilityName")]
    vulnerability_name: Option<String>,
    #[serde(rename = "dateAdded")]
    date_added: Option<String>,
    #[serde(rename = "shortDescription")]
    short_description: Option<String>,
    #[serde(rename = "requiredAction")]
    required_action: Option<String>,
    #[serde(rename = "dueDate")]
    due_date: Option<String>,
    #[serde(rename = "knownRansomwareCampaignUse")]
    known_ransomware_campaign_use: Option<String>,
    notes: Option<String>,
    cwes: Option<Vec<String>>,
}

impl KevCatalog {
    /// Loads a KEV catalog from a JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<KevCatalog, IntelError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let file = File::open(path).map_err(|source| IntelError::Io {
            path: display.clone(),
            source,
        })?;
        KevCatalog::from_reader(&display, file)
    }

    /// Reads a KEV catalog from `reader`; `path_for_errors` names the
    /// source in errors and in [`KevCatalog::path`].
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<KevCatalog, IntelError> {
        let path = path_for_errors;
        let bytes = crate::json::read_limited(path, reader, KEV_MAX_BYTES, "KEV catalog")?;

        let raw: RawCatalog =
            serde_json::from_slice(&bytes).map_err(|error| crate::json::json_error(path, &error, "KEV catalog"))?;

        let version = raw
            .catalog_version
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| not_kev(path, "catalogVersion is missing or empty"))?;
        let released_text = raw
            .date_released
            .ok_or_else(|| not_kev(path, "dateReleased is missing"))?;
        let released = parse_released(&released_text).ok_or_else(|| IntelError::KevHeader {
            path: path.to_string(),
            field: "dateReleased",
            value: shorten(&released_text),
            reason: "expected an RFC 3339 date-time such as 2025-08-25T17:04:19.9796Z".into(),
        })?;
        let raw_entries = raw
            .vulnerabilities
            .ok_or_else(|| not_kev(path, "the vulnerabilities array is missing"))?;

        let mut entries = Vec::with_capacity(raw_entries.len());
        let mut by_cve = HashMap::with_capacity(raw_entries.len());
        let mut duplicates = 0usize;
        for (index, raw_entry) in raw_entries.into_iter().enumerate() {
            let entry = convert_entry(path, index, raw_entry)?;
            match by_cve.entry(entry.cve.clone()) {
                Entry::Occupied(_) => duplicates += 1,
                Entry::Vacant(slot) => {
                    slot.insert(entries.len());
                    entries.push(entry);
                }
            }
        }

        if duplicates > 0 {
            tracing::warn!(
                path,
                duplicates,
                "KEV catalog lists some CVEs more than once; the first entry of each is used"
            );
        }
        let listed = entries.len() + duplicates;
        if let Some(count) = raw.count
            && count != listed as u64
        {
            tracing::warn!(
                path,
                declared = count,
                found = listed,
                "KEV catalog count disagrees with its entries; the entries are used"
            );
        }

        Ok(KevCatalog {
            version,
            released,
            path: path.to_string(),
            entries,
            by_cve,
        })
    }

    /// Returns the entry of a CVE, if the catalog lists it.
    pub fn get(&self, cve: &CveId) -> Option<&KevEntry> {
        self.by_cve.get(cve).map(|&index| &self.entries[index])
    }

    /// Returns the number of distinct CVEs in the catalog.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns every entry in the order of the file, without duplicates.
    pub fn entries(&self) -> &[KevEntry] {
        &self.entries
    }

    /// Returns the path (or the name given to [`KevCatalog::from_reader`])
    /// that the catalog was read from.
    pub fn path(&self) -> &str {
        &self.path
    }
}

fn not_kev(path: &str, reason: &str) -> IntelError {
    IntelError::NotKev {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

/// Parses `dateReleased`: an RFC 3339 date-time as CISA publishes it, or a
/// bare date, read as midnight UTC.
fn parse_released(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

fn convert_entry(path: &str, index: usize, raw: RawEntry) -> Result<KevEntry, IntelError> {
    let invalid = |field: &str, value: &str, reason: &str| IntelError::KevEntry {
        path: path.to_string(),
        index,
        field: field.to_string(),
        value: shorten(value),
        reason: reason.to_string(),
    };
    let missing = |field: &'static str| IntelError::KevMissingField {
        path: path.to_string(),
        index,
        field,
    };

    let cve_text = raw.cve_id.ok_or_else(|| missing("cveID"))?;
    let cve: CveId = cve_text.parse().map_err(|_| {
        invalid(
            "cveID",
            &cve_text,
            "expected CVE-YYYY-NNNN with a four-digit year and at least four digits after it",
        )
    })?;

    let date_added_text = raw.date_added.ok_or_else(|| missing("dateAdded"))?;
    let date_added = parse_date(&date_added_text)
        .ok_or_else(|| invalid("dateAdded", &date_added_text, "expected a date YYYY-MM-DD"))?;

    // The schema requires dueDate, but an empty one is better read as "none"
    // than as an error: no score depends on it.
    let due_date = match raw.due_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            parse_date(text)
                .ok_or_else(|| invalid("dueDate", text, "expected a date YYYY-MM-DD or an empty string"))?,
        ),
    };

    let known_ransomware_use = match raw.known_ransomware_campaign_use.as_deref().map(str::trim) {
        None | Some("") => false,
        Some(word) if word.eq_ignore_ascii_case("known") => true,
        Some(word) if word.eq_ignore_ascii_case("unknown") => false,
        Some(word) => {
            return Err(invalid("knownRansomwareCampaignUse", word, "expected Known or Unknown"));
        }
    };

    let mut cwes = Vec::new();
    for (position, text) in raw.cwes.unwrap_or_default().iter().enumerate() {
        if CWE_PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(text.trim())) {
            continue;
        }
        let cwe: Cwe = text
            .parse()
            .map_err(|_| invalid(&format!("cwes[{position}]"), text, "expected CWE-N such as CWE-502"))?;
        if !cwes.contains(&cwe) {
            cwes.push(cwe);
        }
    }

    Ok(KevEntry {
        cve,
        vendor: raw.vendor_project.unwrap_or_default(),
        product: raw.product.unwrap_or_default(),
        name: raw.vulnerability_name.unwrap_or_default(),
        date_added,
        due_date,
        known_ransomware_use,
        required_action: raw.required_action.unwrap_or_default(),
        short_description: raw.short_description.unwrap_or_default(),
        notes: raw.notes.unwrap_or_default(),
        cwes,
    })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_accepts_rfc3339_and_date() {
        let full = parse_released("2025-08-25T17:04:19.9796Z").unwrap();
        assert_eq!(full.date_naive(), NaiveDate::from_ymd_opt(2025, 8, 25).unwrap());
        let bare = parse_released("2025-08-25").unwrap();
        assert_eq!(bare.to_rfc3339(), "2025-08-25T00:00:00+00:00");
        assert!(parse_released("yesterday").is_none());
    }

    #[test]
    fn oversized_input_is_rejected() {
        let huge = std::io::repeat(b' ').take(KEV_MAX_BYTES + 10);
        let error = KevCatalog::from_reader("huge.json", huge).unwrap_err();
        assert!(matches!(error, IntelError::TooLarge { .. }), "{error}");
    }
}
