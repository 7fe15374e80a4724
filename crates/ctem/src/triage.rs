//! `ctem triage` and `ctem redupe`: the changes that people make to stored
//! findings. The store applies each one in one transaction; this module
//! checks the arguments first and prints the outcome.

use std::collections::HashSet;
use std::io::BufRead;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ctem_model::{Fingerprint, LifecycleStatus, Validation};
use ctem_store::{Store, StoredFinding, TriageAction, TriageOutcome, TriageRequest};
use serde::Serialize;

use crate::cli::{OutputFormat, RedupeArgs, TriageArgs, TriageStatus, ValidationMark};
use crate::commands::open_existing_store;
use crate::output::printable;

/// The maximum length of a reason, in bytes. The history keeps the reason
/// with every finding it names, and tables print it. A longer text belongs
/// in a ticket that the reason links to.
pub const MAX_REASON_BYTES: usize = 4096;

/// The maximum length of an actor or approver name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// The maximum length of a fingerprint argument, in bytes. Fingerprints
/// are 35 bytes (`v1:` and 32 hex digits); the margin leaves room for
/// later schemes.
const MAX_FINGERPRINT_BYTES: usize = 128;

/// The maximum amount of standard input that `-` reads, in bytes: room
/// for about a million fingerprints.
const MAX_STDIN_BYTES: u64 = 64 * 1024 * 1024;

/// The maximum length of a relative `--expires`, in days (100 years).
const MAX_EXPIRES_DAYS: u32 = 36_500;

/// A fingerprint from the command line, with where it came from for error
/// messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamedFingerprint {
    pub fingerprint: Fingerprint,
    /// `FINGERPRINT 2` or `standard input line 7`.
    origin: String,
}

pub fn triage_command(args: TriageArgs) -> Result<u8> {
    let at = parse_at(args.at.as_deref())?;
    let reason = check_text("--reason", &args.reason, MAX_REASON_BYTES)?;
    let actor = match &args.actor {
        Some(actor) => check_text("--actor", actor, MAX_NAME_BYTES)?,
        None => default_actor()?,
    };
    let action = triage_action(&args, at)?;
    let named = collect_fingerprints(&args.fingerprints, std::io::stdin().lock())?;

    let mut store = open_existing_store(&args.db.db)?;
    let findings = resolve(&store, &named)?;
    // Before the triage, so that the statuses it starts from are current.
    store
        .expire_acceptances(Utc::now())
        .context("cannot reopen the ended risk acceptances before the triage")?;
    let request = TriageRequest {
        fingerprints: findings.iter().map(|stored| stored.fingerprint.clone()).collect(),
        action: action.clone(),
        reason: reason.clone(),
        actor: Some(actor.clone()),
        at,
    };
    let outcomes = store
        .triage(&request)
        .with_context(|| format!("no finding was changed by {}", describe_action(&action)))?;

    let changes: Vec<FindingChange> = outcomes
        .iter()
        .zip(&findings)
        .map(|(outcome, stored)| FindingChange::new(outcome, stored, &action))
        .collect();
    match args.format {
        OutputFormat::Json => {
            let (approver, expires_at) = match &action {
                TriageAction::AcceptRisk { approver, until } => (Some(approver.as_str()), Some(*until)),
                _ => (None, None),
            };
            let document = TriageJson {
                at,
                actor: &actor,
                reason: &reason,
                approver,
                expires_at,
                findings: &changes,
            };
            outln!("{}", serde_json::to_string_pretty(&document)?);
        }
        OutputFormat::Table => {
            for change in &changes {
                outln!("{}", change.line(&action));
            }
        }
    }
    Ok(0)
}

pub fn redupe_command(args: RedupeArgs) -> Result<u8> {
    let mut store = open_existing_store(&args.db.db)?;
    let summary = store.redupe()?;
    match args.format {
        OutputFormat::Json => {
            let document = serde_json::json!({
                "before": summary.before,
                "after": summary.after,
                "merged": summary.merged,
                "rekeyed": summary.rekeyed,
            });
            outln!("{}", serde_json::to_string_pretty(&document)?);
        }
        OutputFormat::Table => outln!(
            "{} findings before, {} after: {} merged into another finding, {} with a changed merge key",
            summary.before,
            summary.after,
            summary.merged,
            summary.rekeyed
        ),
    }
    Ok(0)
}

/// The document that `ctem triage --format json` prints.
#[derive(Debug, Serialize)]
struct TriageJson<'a> {
    at: DateTime<Utc>,
    actor: &'a str,
    reason: &'a str,
    approver: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
    findings: &'a [FindingChange],
}

/// The change that a triage made to one finding.
#[derive(Debug, Serialize)]
struct FindingChange {
    fingerprint: Fingerprint,
    status_before: LifecycleStatus,
    status_after: LifecycleStatus,
    validation_before: Option<Validation>,
    validation_after: Option<Validation>,
}

impl FindingChange {
    fn new(outcome: &TriageOutcome, stored: &StoredFinding, action: &TriageAction) -> FindingChange {
        let validation_after = match action {
            TriageAction::Validate(validation) => Some(*validation),
            _ => stored.validation,
        };
        FindingChange {
            fingerprint: outcome.fingerprint.clone(),
            status_before: outcome.before,
            status_after: outcome.after,
            validation_before: stored.validation,
            validation_after,
        }
    }

    /// Formats the change as one line: the fingerprint, then before → after.
    fn line(&self, action: &TriageAction) -> String {
        let fingerprint = printable(&self.fingerprint);
        if let TriageAction::Validate(_) = action {
            let name = |mark: Option<Validation>| mark.map_or("none", Validation::as_str);
            return format!(
                "{fingerprint}  validation {} → {} (status {})",
                name(self.validation_before),
                name(self.validation_after),
                self.status_after
            );
        }
        format!("{fingerprint}  {} → {}", self.status_before, self.status_after)
    }
}

/// Builds the store's action from --status or --validate and the options
/// that only a risk acceptance takes.
fn triage_action(args: &TriageArgs, at: DateTime<Utc>) -> Result<TriageAction> {
    let accepting = args.status == Some(TriageStatus::RiskAccepted);
    if !accepting {
        if args.approver.is_some() {
            bail!("--approver applies only to --status risk-accepted; leave it out");
        }
        if args.expires.is_some() {
            bail!("--expires applies only to --status risk-accepted; leave it out");
        }
    }

    let action = match (args.status, args.validate) {
        (Some(TriageStatus::RiskAccepted), None) => {
            let Some(approver) = &args.approver else {
                bail!("--status risk-accepted needs --approver: who approved the acceptance");
            };
            let Some(expires) = &args.expires else {
                bail!("--status risk-accepted needs --expires: when the acceptance ends and the finding reopens");
            };
            TriageAction::AcceptRisk {
                approver: check_text("--approver", approver, MAX_NAME_BYTES)?,
                until: parse_expires(expires, at)?,
            }
        }
        (Some(TriageStatus::FalsePositive), None) => TriageAction::FalsePositive,
        (Some(TriageStatus::NotAffected), None) => TriageAction::NotAffected,
        (Some(TriageStatus::Fixed), None) => TriageAction::Fixed,
        (Some(TriageStatus::Open), None) => TriageAction::Reopen,
        (None, Some(ValidationMark::Confirmed)) => TriageAction::Validate(Validation::Confirmed),
        (None, Some(ValidationMark::Refuted)) => TriageAction::Validate(Validation::Refuted),
        // clap's argument group requires exactly one of the two.
        _ => bail!("give exactly one of --status and --validate"),
    };
    Ok(action)
}

/// Names the action as the command line does, for error messages.
fn describe_action(action: &TriageAction) -> &'static str {
    match action {
        TriageAction::AcceptRisk { .. } => "--status risk-accepted",
        TriageAction::FalsePositive => "--status false-positive",
        TriageAction::NotAffected => "--status not-affected",
        TriageAction::Fixed => "--status fixed",
        TriageAction::Reopen => "--status open",
        TriageAction::Validate(Validation::Confirmed) => "--validate confirmed",
        TriageAction::Validate(Validation::Refuted) => "--validate refuted",
    }
}

/// Parses --at (RFC 3339), default now. A time more than a day ahead of
/// the clock is rejected as a typo.
fn parse_at(text: Option<&str>) -> Result<DateTime<Utc>> {
    let Some(text) = text else {
        return Ok(Utc::now());
    };
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map(|time| time.with_timezone(&Utc))
        .with_context(|| format!("invalid --at {text:?}: expected RFC 3339, such as 2026-11-30T08:00:00Z"))?;
    if at > Utc::now() + chrono::Duration::days(1) {
        bail!("invalid --at {text:?}: the time is in the future; --at is when the triage was made");
    }
    Ok(at)
}

/// Parses --expires: RFC 3339, a date (`2026-12-31`, the start of that
/// day in UTC) or a number of days after the triage time (`30d`). The end
/// must come after the triage time.
fn parse_expires(text: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let trimmed = text.trim();
    let invalid = || {
        format!(
            "invalid --expires {text:?}: expected RFC 3339 (2026-12-31T18:00:00Z), a date (2026-12-31) \
             or a number of days (30d)"
        )
    };

    let until = if let Some(days) = trimmed.strip_suffix('d').filter(|days| !days.is_empty()) {
        let days: u32 = days.parse().with_context(invalid)?;
        if !(1..=MAX_EXPIRES_DAYS).contains(&days) {
            bail!("invalid --expires {text:?}: give between 1 and {MAX_EXPIRES_DAYS} days");
        }
        at + chrono::Duration::days(i64::from(days))
    } else if trimmed.len() == "2026-12-31".len() && !trimmed.contains('T') {
        NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
            .with_context(invalid)?
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
    } else {
        DateTime::parse_from_rfc3339(trimmed)
            .with_context(invalid)?
            .with_timezone(&Utc)
    };

    if until <= at {
        bail!(
            "invalid --expires {text:?}: the acceptance would end at {}, which is not after the triage \
             time {}; give a later end",
            until.to_rfc3339_opts(SecondsFormat::Secs, true),
            at.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
    }
    Ok(until)
}

/// Checks a text option and returns it trimmed: not empty, at most `max`
/// bytes. Control characters are kept, because every output prints them
/// safely.
fn check_text(option: &str, text: &str, max: usize) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        bail!("invalid {option}: it is empty");
    }
    if trimmed.len() > max {
        bail!(
            "invalid {option}: {} bytes, more than the maximum of {max}; shorten it (a reason can link to a ticket)",
            trimmed.len()
        );
    }
    Ok(trimmed.to_string())
}

/// Returns the actor when --actor is not given: $USER, else `unknown`.
fn default_actor() -> Result<String> {
    match std::env::var("USER") {
        Ok(user) if !user.trim().is_empty() => check_text("$USER (the default of --actor)", &user, MAX_NAME_BYTES),
        _ => Ok("unknown".to_string()),
    }
}

/// Gathers the fingerprints of the arguments, reading those of standard
/// input in place of `-`. Blank lines are skipped, and a line may be in
/// double quotes, as `jq` prints strings without `-r`.
fn collect_fingerprints(arguments: &[String], stdin: impl BufRead) -> Result<Vec<NamedFingerprint>> {
    if arguments.iter().filter(|argument| argument.as_str() == "-").count() > 1 {
        bail!("FINGERPRINT `-` (standard input) is given more than once; give it once");
    }

    let mut named = Vec::new();
    let mut stdin = Some(stdin);
    for (index, argument) in arguments.iter().enumerate() {
        if argument != "-" {
            let origin = format!("FINGERPRINT {}", index + 1);
            named.push(check_fingerprint(argument, origin)?);
            continue;
        }
        let Some(reader) = stdin.take() else {
            unreachable!("`-` appears at most once");
        };
        let before = named.len();
        read_fingerprints(reader, &mut named)?;
        if named.len() == before {
            bail!("FINGERPRINT `-`: standard input contained no fingerprint");
        }
    }
    Ok(named)
}

/// Reads one fingerprint a line, up to [`MAX_STDIN_BYTES`].
fn read_fingerprints(reader: impl BufRead, named: &mut Vec<NamedFingerprint>) -> Result<()> {
    let mut limited = reader.take(MAX_STDIN_BYTES + 1);
    let mut line = Vec::new();
    let mut number = 0;
    let mut total = 0u64;
    loop {
        line.clear();
        let read = limited
            .read_until(b'\n', &mut line)
            .context("cannot read fingerprints from standard input")?;
        if read == 0 {
            return Ok(());
        }
        total += read as u64;
        if total > MAX_STDIN_BYTES {
            bail!("standard input is longer than {MAX_STDIN_BYTES} bytes; triage the fingerprints in smaller batches");
        }
        number += 1;
        let origin = format!("standard input line {number}");
        let Ok(text) = std::str::from_utf8(&line) else {
            bail!("{origin}: not valid UTF-8; give one fingerprint a line");
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let text = text
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or(text);
        named.push(check_fingerprint(text, origin)?);
    }
}

/// Checks the shape of a fingerprint: `v`, a version number, `:` and hex
/// digits, as [`Fingerprint::of`] writes it.
pub(crate) fn check_fingerprint(text: &str, origin: String) -> Result<NamedFingerprint> {
    let text = text.trim();
    let preview: String = text.chars().take(MAX_FINGERPRINT_BYTES).collect();
    let well_formed = text.len() <= MAX_FINGERPRINT_BYTES
        && text
            .strip_prefix('v')
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(version, digits)| {
                !version.is_empty()
                    && version.bytes().all(|byte| byte.is_ascii_digit())
                    && !digits.is_empty()
                    && digits.bytes().all(|byte| byte.is_ascii_hexdigit())
            });
    if !well_formed {
        bail!(
            "{origin}: invalid fingerprint {preview:?}: expected `v1:` and hex digits, as `ctem findings` prints them"
        );
    }
    Ok(NamedFingerprint {
        fingerprint: Fingerprint::from_stored(text.to_string()),
        origin,
    })
}

/// Looks up every fingerprint and returns each finding once, in the order
/// first named. Every unknown fingerprint is reported, in one error.
fn resolve(store: &Store, named: &[NamedFingerprint]) -> Result<Vec<StoredFinding>> {
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    let mut unknown = Vec::new();
    for entry in named {
        match store.finding(&entry.fingerprint)? {
            Some(stored) => {
                if seen.insert(stored.fingerprint.clone()) {
                    findings.push(stored);
                }
            }
            None => unknown.push(format!("{} ({})", entry.fingerprint, entry.origin)),
        }
    }
    if !unknown.is_empty() {
        bail!(
            "no finding has the fingerprint {}; nothing was changed (`ctem findings --all` lists the findings)",
            unknown.join(", ")
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn expires_in_days_counts_from_at() {
        let until = parse_expires("30d", at()).unwrap();
        assert_eq!(until, "2026-05-31T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn expires_date_is_start_of_day() {
        let until = parse_expires("2026-06-01", at()).unwrap();
        assert_eq!(until, "2026-06-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn expires_rfc3339_keeps_offset() {
        let until = parse_expires("2026-06-01T08:00:00+02:00", at()).unwrap();
        assert_eq!(until, "2026-06-01T06:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn expires_rejects_bad_values() {
        for text in [
            "",
            "d",
            "0d",
            "-3d",
            "36501d",
            "99999999999999999999d",
            "2026-13-01",
            "2026-5-1",
            "tomorrow",
            "2026-05-01",
            "2026-05-01T11:00:00Z",
        ] {
            let error = parse_expires(text, at()).unwrap_err().to_string();
            assert!(error.contains("--expires"), "{text:?}: {error}");
        }
    }

    #[test]
    fn fingerprint_shape_is_checked() {
        let named = check_fingerprint(" v1:0123abcd ", "FINGERPRINT 1".into()).unwrap();
        assert_eq!(named.fingerprint.as_str(), "v1:0123abcd");

        let too_long = format!("v1:{}", "a".repeat(MAX_FINGERPRINT_BYTES));
        for text in [
            "",
            "v1:",
            "v:abcd",
            "1:abcd",
            "v1:xyz",
            "v1:ab cd",
            "title of a finding",
            too_long.as_str(),
        ] {
            let error = check_fingerprint(text, "FINGERPRINT 2".into()).unwrap_err().to_string();
            assert!(
                error.starts_with("FINGERPRINT 2: invalid fingerprint"),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn stdin_lines_become_fingerprints() {
        let input = "v1:aa\n\n  \"v1:bb\"  \r\nv1:cc";
        let arguments = ["v1:01".to_string(), "-".to_string()];
        let named = collect_fingerprints(&arguments, input.as_bytes()).unwrap();
        let texts: Vec<&str> = named.iter().map(|entry| entry.fingerprint.as_str()).collect();
        assert_eq!(texts, ["v1:01", "v1:aa", "v1:bb", "v1:cc"]);
        assert_eq!(named[2].origin, "standard input line 3");
    }

    #[test]
    fn stdin_errors_name_the_line() {
        let error = collect_fingerprints(&["-".to_string()], "v1:aa\nnot a fingerprint\n".as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("standard input line 2: invalid fingerprint"),
            "{error}"
        );

        let error = collect_fingerprints(&["-".to_string()], &b"v1:aa\n\xff\n"[..]).unwrap_err();
        assert!(
            error.to_string().starts_with("standard input line 2: not valid UTF-8"),
            "{error}"
        );

        let error = collect_fingerprints(&["-".to_string()], "\n\n".as_bytes()).unwrap_err();
        assert!(error.to_string().contains("no fingerprint"), "{error}");

        let twice = ["-".to_string(), "-".to_string()];
        let error = collect_fingerprints(&twice, "v1:aa\n".as_bytes()).unwrap_err();
        assert!(error.to_string().contains("more than once"), "{error}");
    }

    #[test]
    fn text_options_are_bounded() {
        assert_eq!(check_text("--reason", "  why \n", MAX_REASON_BYTES).unwrap(), "why");
        assert!(check_text("--reason", "a".repeat(MAX_REASON_BYTES).as_str(), MAX_REASON_BYTES).is_ok());

        let error = check_text("--reason", &"a".repeat(MAX_REASON_BYTES + 1), MAX_REASON_BYTES).unwrap_err();
        assert!(error.to_string().starts_with("invalid --reason: 4097 bytes"), "{error}");
        let error = check_text("--approver", " \t ", MAX_NAME_BYTES).unwrap_err();
        assert_eq!(error.to_string(), "invalid --approver: it is empty");
    }
}
