//! kube-bench JSON reports: the CIS Kubernetes Benchmark checks that
//! kube-bench ran on one node.
//!
//! # Reads
//!
//! The output of `kube-bench --json` in the shapes kube-bench wrote over
//! its releases:
//!
//! - 0.4 and later: `{"Controls": [...], "Totals": {...}}`;
//! - 0.3.1 to 0.4: a JSON array of controls;
//! - before 0.3.1: control objects written one after the other, one per
//!   target (`master`, `node`, `etcd`...), which is not one JSON document
//!   but is read as a sequence.
//!
//! Each control has `id`, `version` (the benchmark, `cis-1.6`, `gke-1.2.0`),
//! `detected_version`, `text`, `node_type` and `tests`. Each group of
//! `tests` has `section`, `desc` and `results`. Each check has
//! `test_number`, `test_desc`, `audit`, `AuditConfig`, `type`,
//! `remediation`, `test_info`, `status` (`PASS`, `FAIL`, `WARN`, `INFO`),
//! `actual_value`, `scored`, `expected_result` and `reason`.
//!
//! kube-bench declares no format version, so none is rejected.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `test_number` | `rule_id` |
//! | `test_number - test_desc` (as DefectDojo titles it) | `title` |
//! | `status` `FAIL` | `severity` Medium |
//! | `status` `WARN`, unless the check is manual | `severity` Info |
//! | (always) | `kind` Misconfiguration |
//! | control `id text`, group `section desc`, `audit`, `reason`, `expected_result`, `actual_value` | `description` |
//! | `actual_value`, else `reason` | `evidence` |
//! | `remediation` | `fix.description` |
//! | `status`, `scored`, `type`, `section`, `audit`, `AuditConfig`, `reason`, control `version` and `node_type` | `attributes` |
//!
//! kube-bench rates no check, so the status sets the severity, as
//! DefectDojo does: a failed check is Medium, and a warning, which means
//! kube-bench could not decide (an audit command that failed to run, a
//! value it cannot judge), is Info. Manual checks (`type` `manual`,
//! reason `Test marked as a manual test`) are always WARN whatever the
//! node's state, so they give no finding. Passed checks and `INFO` results
//! (skipped checks) give none either.
//!
//! # Scope target
//!
//! The report names neither the node nor the cluster, so the scope is
//! [`ParseContext::default_target`]. Each node type of the report (`master`,
//! `etcd`, `controlplane`, `node`, `policies`) is an [`AssetKind::Other`]
//! asset keyed `<target>/<node type>`, because kube-bench runs the checks
//! of every node type that it finds on the machine, and the policies
//! section is about the cluster rather than the machine.
//!
//! # Fingerprint
//!
//! Tool, test number and the node type asset. Checks have no file or line.
//!
//! # Not read yet
//!
//! `Totals` and the per-control and per-group counters (kube-bench's own
//! summary), `AuditEnv`, `test_info` (it repeats the remediation) and
//! `IsMultiple`. kube-bench's JUnit and PostgreSQL outputs.
//!
//! # Memory
//!
//! Controls stream. One control is held with its groups and checks, which
//! is at most a few hundred checks.
//!
//! # Reference
//!
//! <https://github.com/aquasecurity/kube-bench/blob/main/docs/running.md>
//! (`--json`) and the `Controls`, `Group` and `Check` types of kube-bench's
//! `check` package.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::iac_shared::{self, EachElement, LooseText, Object, SeenKeys};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "kube-bench-json";
const TOOL: &str = "kube-bench";

/// The reason kube-bench gives to checks whose `type` is `manual`.
const MANUAL_REASON: &str = "Test marked as a manual test";

/// The kube-bench JSON report parser.
pub struct KubeBenchJson;

impl Parser for KubeBenchJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "kube-bench JSON",
            tool: "kube-bench",
            versions: "kube-bench 0.2 to 0.x (--json): Controls wrapper, array, or one object per target",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let has = |key: &[u8]| util::contains(head, key);
        let control = has(b"\"node_type\"") && has(b"\"tests\"");
        if control && (has(b"\"Controls\"") || has(b"\"test_number\"") || has(b"\"total_pass\"")) {
            Detection::Certain
        } else {
            Detection::No
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        sink.target(TOOL, context.default_target);
        let mut state = ReportState {
            sink,
            target: context.default_target.to_string(),
            assets: BTreeSet::new(),
        };

        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let to_error = |error: serde_json::Error| ParseError::from_json(context.path, FORMAT_ID, &error);
        loop {
            deserializer
                .deserialize_any(RootVisitor { state: &mut state })
                .map_err(to_error)?;
            match deserializer.end() {
                Ok(()) => return Ok(()),
                // kube-bench before 0.3.1 wrote one control object per
                // target, one after the other: read the next one. serde_json
                // reports more input after a value as "trailing characters"
                // and leaves it unread, so parsing can go on from there.
                Err(error) if error.to_string().starts_with("trailing characters") => continue,
                Err(error) => return Err(to_error(error)),
            }
        }
    }
}

/// State of one file's parse.
struct ReportState<'a> {
    sink: &'a mut dyn Sink,
    target: String,
    /// Keys of the node type assets already sent.
    assets: BTreeSet<AssetKey>,
}

/// Accepts a root value: the `Controls` wrapper, one control, or an array
/// of controls.
struct RootVisitor<'s, 'a> {
    state: &'s mut ReportState<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a kube-bench report: an object with Controls, a control, or an array of controls")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Object(control)) = seq.next_element::<Object<Control>>()? {
            self.state.emit_control(control);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // The object is either the wrapper or one control, so its keys are
        // read one by one into whichever it turns out to be.
        let mut control = Control::default();
        let mut is_control = false;
        let mut is_wrapper = false;
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            seen.push(&key);
            match key.as_str() {
                "Controls" => {
                    let state = &mut *self.state;
                    map.next_value_seed(EachElement::new("an array of kube-bench controls", |control| {
                        state.emit_control(control);
                        Ok(())
                    }))?;
                    is_wrapper = true;
                }
                "Totals" => {
                    map.next_value::<IgnoredAny>()?;
                    is_wrapper = true;
                }
                "id" => control.id = map.next_value()?,
                "version" => control.version = map.next_value()?,
                "detected_version" => control.detected_version = map.next_value()?,
                "text" => control.text = map.next_value()?,
                "node_type" => {
                    control.node_type = map.next_value()?;
                    is_control = true;
                }
                "tests" => {
                    control.tests = map.next_value()?;
                    is_control = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if is_control {
            self.state.emit_control(control);
        }
        if is_control || is_wrapper {
            Ok(())
        } else {
            Err(de::Error::custom(format!(
                "expected a kube-bench report (an object with Controls, or a control with node_type and \
                 tests), found {}; is this another tool's report?",
                seen.describe()
            )))
        }
    }
}

/// One benchmark section run for one node type.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Control {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    detected_version: Option<String>,
    text: Option<String>,
    node_type: Option<String>,
    tests: Option<Vec<Group>>,
}

/// A group of checks (`1.1 Master Node Configuration Files`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Group {
    #[serde(deserialize_with = "util::loose_text")]
    section: Option<String>,
    desc: Option<String>,
    results: Option<Vec<Check>>,
}

/// One check and its result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Check {
    #[serde(deserialize_with = "util::loose_text")]
    test_number: Option<String>,
    test_desc: Option<String>,
    audit: Option<String>,
    #[serde(rename = "AuditConfig")]
    audit_config: Option<String>,
    #[serde(rename = "type")]
    check_type: Option<String>,
    remediation: Option<String>,
    status: Option<String>,
    actual_value: Option<String>,
    scored: LooseText,
    expected_result: Option<String>,
    reason: Option<String>,
}

/// The facts of a control that every one of its findings shares.
struct ControlHead {
    asset: AssetKey,
    id_text: Option<String>,
    version: Option<String>,
    node_type: Option<String>,
}

impl ReportState<'_> {
    /// Sends the node type asset of a control and a finding per failed or
    /// warned check.
    fn emit_control(&mut self, control: Control) {
        let node_type = util::non_empty(control.node_type.as_deref());
        let asset = self.node_asset(node_type.as_deref(), &control);
        let head = ControlHead {
            asset,
            id_text: util::non_empty(Some(&join_words(&control.id, &control.text))),
            version: util::non_empty(control.version.as_deref()),
            node_type,
        };

        for group in control.tests.into_iter().flatten() {
            let section = util::non_empty(Some(&join_words(&group.section, &group.desc)));
            for check in group.results.into_iter().flatten() {
                if let Some(finding) = build_finding(&head, section.as_deref(), check, &self.target) {
                    self.sink.finding(finding);
                }
            }
        }
    }

    /// Sends the asset of a node type once and returns its key.
    fn node_asset(&mut self, node_type: Option<&str>, control: &Control) -> AssetKey {
        let (identifier, name) = match node_type {
            Some(node_type) => (
                format!("{}/{node_type}", self.target),
                format!("{}: kubernetes node ({node_type})", self.target),
            ),
            None => (self.target.clone(), format!("{}: kubernetes node", self.target)),
        };
        let mut asset = Asset::new(AssetKind::Other, &identifier, name);
        let key = asset.key.clone();
        if !self.assets.insert(key.clone()) {
            return key;
        }
        let attributes = [
            ("node_type", node_type.map(str::to_string)),
            ("benchmark", util::non_empty(control.version.as_deref())),
            ("detected_version", util::non_empty(control.detected_version.as_deref())),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                asset.attributes.insert(name.to_string(), value);
            }
        }
        self.sink.asset(asset);
        key
    }
}

/// Returns the finding of a failed or warned check, or `None` for checks
/// that passed, were skipped or are manual.
fn build_finding(head: &ControlHead, section: Option<&str>, check: Check, target: &str) -> Option<Finding> {
    let status = util::non_empty(check.status.as_deref())?.to_ascii_uppercase();
    let reason = util::non_empty(check.reason.as_deref());
    let manual = check
        .check_type
        .as_deref()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("manual"))
        || reason.as_deref() == Some(MANUAL_REASON);
    let severity = match status.as_str() {
        "FAIL" => Severity::Medium,
        "WARN" if !manual => Severity::Info,
        _ => return None,
    };

    let number = util::non_empty(check.test_number.as_deref());
    let description = util::non_empty(check.test_desc.as_deref());
    let rule_id = number.clone().unwrap_or_else(|| "unknown-check".to_string());
    let title = match (&number, &description) {
        (Some(number), Some(description)) => format!("{number} - {description}"),
        (_, Some(description)) => description.clone(),
        (_, None) => rule_id.clone(),
    };
    let mut finding = Finding::new(
        TOOL,
        rule_id,
        FindingKind::Misconfiguration,
        title,
        severity,
        head.asset.clone(),
    );

    let audit = util::non_empty(check.audit.as_deref());
    let expected = util::non_empty(check.expected_result.as_deref());
    let actual = util::non_empty(check.actual_value.as_deref());
    finding.description = iac_shared::paragraphs([
        head.id_text.clone(),
        section.map(str::to_string),
        description,
        audit.as_ref().map(|audit| format!("Audit: {audit}")),
        reason.as_ref().map(|reason| format!("Reason: {reason}")),
        expected.as_ref().map(|expected| format!("Expected result: {expected}")),
        actual.as_ref().map(|actual| format!("Actual value: {actual}")),
    ]);
    finding.evidence = actual
        .or_else(|| reason.clone())
        .map(|text| util::truncate_text(&text, iac_shared::MAX_EVIDENCE_BYTES));
    finding.fix.description = util::non_empty(check.remediation.as_deref());

    let attributes = [
        ("status", Some(status)),
        ("scored", check.scored.text()),
        ("type", util::non_empty(check.check_type.as_deref())),
        ("section", section.map(str::to_string)),
        ("audit", audit),
        ("audit_config", util::non_empty(check.audit_config.as_deref())),
        ("reason", reason),
        ("benchmark", head.version.clone()),
        ("node_type", head.node_type.clone()),
    ];
    finding.attributes = attributes
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
        .collect::<BTreeMap<_, _>>();
    finding.target = Some(target.to_string());
    Some(finding)
}

/// Joins an id and its text with a space (`1.1 Master Node Configuration
/// Files`), leaving out the parts that are missing.
fn join_words(id: &Option<String>, text: &Option<String>) -> String {
    [util::non_empty(id.as_deref()), util::non_empty(text.as_deref())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}
