//! The IAM credential report: one CSV row per IAM user and one for the
//! root account, inside the JSON of `iam get-credential-report` (plain or
//! base64) or as a bare CSV file.

use ctem_model::{Finding, FindingKind, Severity};

use super::keys;
use super::{Export, TOOL};

const COMMAND: &str = "iam-get-credential-report";

/// Access keys older than this many days are findings (CIS AWS
/// Foundations Benchmark: rotate access keys every 90 days or less).
pub(super) const MAX_KEY_AGE_DAYS: i64 = 90;

/// The user name the report gives the root account.
const ROOT_USER: &str = "<root_account>";

/// A credential report's CSV could not be read: what and at which line
/// of the CSV.
#[derive(Debug)]
pub(super) struct CsvError {
    pub line: Option<u64>,
    pub message: String,
}

/// One row of the report, by column name.
#[derive(Debug, Default)]
struct Row {
    user: String,
    arn: String,
    /// Every other column, as written (`N/A`, `not_supported` included).
    columns: Vec<(String, String)>,
}

impl Row {
    fn get(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !matches!(*value, "" | "N/A" | "not_supported" | "no_information"))
    }

    fn is_true(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }
}

/// Decodes the `Content` of the JSON report: plain CSV (as some tools save
/// it) or the base64 text that the CLI prints.
pub(super) fn decode_content(content: &str) -> Result<String, String> {
    let trimmed = content.trim_start();
    if trimmed.starts_with("user,") {
        return Ok(content.to_string());
    }
    let bytes = decode_base64(content)
        .ok_or_else(|| "the credential report Content is neither CSV nor base64 text".to_string())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "the credential report Content decodes from base64 to bytes that are not UTF-8".to_string())?;
    if !text.trim_start().starts_with("user,") {
        return Err("the credential report Content does not start with the header user,arn,...".to_string());
    }
    Ok(text)
}

/// Decodes standard base64 (RFC 4648, with or without padding), ignoring
/// whitespace; `None` for any other character.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut output = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    let mut padding = false;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding {
            return None;
        }
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            output.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(output)
}

/// Reads the rows of the CSV.
fn read_rows(reader: impl std::io::Read) -> Result<Vec<Row>, CsvError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|error| csv_error(&error))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect::<Vec<_>>();
    for required in ["user", "arn"] {
        if !headers.iter().any(|h| h == required) {
            return Err(CsvError {
                line: Some(1),
                message: format!(
                    "the credential report has no column {required:?}; expected the header of \
                     aws iam get-credential-report (user,arn,user_creation_time,...)"
                ),
            });
        }
    }

    let mut rows = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|error| csv_error(&error))?;
        let mut row = Row::default();
        for (header, value) in headers.iter().zip(record.iter()) {
            match header.as_str() {
                "user" => row.user = value.trim().to_string(),
                "arn" => row.arn = value.trim().to_string(),
                _ => row.columns.push((header.clone(), value.trim().to_string())),
            }
        }
        if !row.arn.is_empty() {
            rows.push(row);
        }
    }
    Ok(rows)
}

fn csv_error(error: &csv::Error) -> CsvError {
    let line = error.position().map(|position| position.line());
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "the credential report is not valid UTF-8".to_string(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!(
                "a credential report row has {len} fields where the header has {expected_len}; the file may be truncated"
            )
        }
        _ => format!("invalid credential report CSV: {error}"),
    };
    CsvError { line, message }
}

/// Days since 1970-01-01 of the date that starts an ISO 8601 timestamp
/// (`2019-05-07T15:35:55+00:00`). The time and offset are left out: an
/// age in days is off by at most one.
pub(super) fn days(timestamp: &str) -> Option<i64> {
    let date = timestamp.get(..10)?;
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil, after Howard Hinnant's public domain algorithm.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// Sends the users of a report and its findings. The age of access keys
/// is measured from `generated` (the report's `GeneratedTime`); a bare CSV
/// has none, so its latest date stands in, which makes no age larger than
/// it is.
pub(super) fn report(
    export: &mut Export<'_>,
    csv: impl std::io::Read,
    generated: Option<&str>,
) -> Result<(), CsvError> {
    let rows = read_rows(csv)?;
    let now = generated.and_then(days).or_else(|| {
        rows.iter()
            .flat_map(|row| row.columns.iter().filter_map(|(_, value)| days(value)))
            .max()
    });
    for row in &rows {
        user(export, row, now);
    }
    Ok(())
}

fn user(export: &mut Export<'_>, row: &Row, now: Option<i64>) {
    let root = row.user == ROOT_USER;
    let account = keys::Arn::parse(&row.arn)
        .and_then(|arn| arn.account())
        .map(str::to_string);
    let target = account.as_deref().map(|account| keys::global_target(account, COMMAND));
    if let Some(target) = &target {
        export.records.target(target);
    }

    let mut asset = keys::arn_stub(&row.arn, if root { "iam-root" } else { "iam-user" });
    asset.name = if root {
        "root account".to_string()
    } else {
        row.user.clone()
    };
    keys::identify(&mut asset, "account", account.as_deref());
    if !root {
        keys::identify(&mut asset, "user_name", Some(&row.user));
    }
    for column in [
        "user_creation_time",
        "password_enabled",
        "password_last_used",
        "mfa_active",
        "access_key_1_active",
        "access_key_1_last_rotated",
        "access_key_1_last_used_date",
        "access_key_2_active",
        "access_key_2_last_rotated",
        "access_key_2_last_used_date",
    ] {
        keys::set(&mut asset, column, row.get(column));
    }
    let key = asset.key.clone();
    let label = asset.name.clone();
    export.records.asset(asset);

    let new = |rule: &str, title: String, severity: Severity| {
        let mut finding = Finding::new(TOOL, rule, FindingKind::Misconfiguration, title, severity, key.clone());
        finding.target = target.clone();
        finding
            .references
            .push("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html".to_string());
        finding
    };

    if root && !row.is_true("mfa_active") {
        let mut finding = new(
            "aws-iam-root-without-mfa",
            "The root account has no MFA device".to_string(),
            Severity::Critical,
        );
        finding.description =
            Some("The root account can do anything in the account and signs in with a password alone.".to_string());
        finding.fix.description = Some("Enable a hardware or virtual MFA device for the root account.".to_string());
        export.records.finding(finding);
    }
    if !root && row.is_true("password_enabled") && !row.is_true("mfa_active") {
        let mut finding = new(
            "aws-iam-user-console-without-mfa",
            format!("IAM user {label} signs in to the console without MFA"),
            Severity::High,
        );
        finding.description = Some(format!(
            "IAM user {label} has a console password and no MFA device, so a phished or reused password is \
             enough to sign in."
        ));
        finding.fix.description = Some("Enable MFA for the user, or remove the console password.".to_string());
        export.records.finding(finding);
    }

    for number in [1, 2] {
        if !row.is_true(&format!("access_key_{number}_active")) {
            continue;
        }
        let parameter = format!("access_key_{number}");
        if root {
            let mut finding = new(
                "aws-iam-root-access-key",
                format!("The root account has an active access key ({parameter})"),
                Severity::Critical,
            );
            finding.location.parameter = Some(parameter.clone());
            finding.description = Some(
                "An access key of the root account gives programmatic access with no limit on what it can do."
                    .to_string(),
            );
            finding.fix.description =
                Some("Delete the root account's access keys and use IAM roles instead.".to_string());
            export.records.finding(finding);
        }
        let rotated = row.get(&format!("access_key_{number}_last_rotated")).and_then(days);
        let Some(age) = now.zip(rotated).map(|(now, rotated)| now - rotated) else {
            continue;
        };
        if age > MAX_KEY_AGE_DAYS {
            let mut finding = new(
                "aws-iam-access-key-not-rotated",
                format!("Access key {number} of {label} was last rotated {age} days ago"),
                Severity::Medium,
            );
            finding.location.parameter = Some(parameter);
            finding.attributes.insert("age_days".into(), age.to_string());
            finding.description = Some(format!(
                "Access key {number} of {label} is active and older than {MAX_KEY_AGE_DAYS} days; an old key \
                 has had more time to leak into scripts, logs and laptops."
            ));
            finding.fix.description = Some(
                "Create a new access key, move its users to it, then deactivate and delete the old one.".to_string(),
            );
            export.records.finding(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days() {
        assert_eq!(days("1970-01-01T00:00:00+00:00"), Some(0));
        assert_eq!(days("2019-05-07T15:35:55+00:00"), Some(18023));
        assert_eq!(days("2000-03-01"), Some(11017));
        assert_eq!(days("N/A"), None);
        assert_eq!(days("2019-13-01"), None);
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("dXNlcixhcm4K").unwrap(), b"user,arn\n");
        assert_eq!(decode_base64("dXNl\ncg==").unwrap(), b"user");
        assert_eq!(decode_base64("dXNl*"), None);
        assert_eq!(decode_content("dXNlcixhcm4K").unwrap(), "user,arn\n");
        assert!(decode_content("aGVsbG8=").unwrap_err().contains("header"));
    }
}
