//! Builders shared by the integration tests: small findings, runs and
//! stores in temporary directories.

#![allow(dead_code)] // Each test file uses a different part.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use ctem_model::{AssetKey, AssetKind, Factor, Finding, FindingKind, RiskAssessment, Severity, Tier};
use ctem_store::{RunInput, Scope, ScoredFinding, Store};
use tempfile::TempDir;

/// A store in a fresh temporary directory, kept alive with it.
pub struct TestStore {
    pub dir: TempDir,
    pub store: Store,
}

impl TestStore {
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = Store::open(&dir.path().join("ctem.db")).expect("open a new store");
        TestStore { dir, store }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ctem.db")
    }

    /// Opens a second, plain SQLite connection to the same file.
    pub fn raw_connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path()).expect("open a raw connection")
    }
}

/// Midnight UTC on the given day of May 2024.
pub fn day(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, 0, 0, 0).unwrap()
}

/// Builds a Trivy vulnerability finding of `rule` on the image `target`.
pub fn vulnerability(target: &str, rule: &str) -> Finding {
    let mut finding = Finding::new(
        "trivy",
        rule,
        FindingKind::Vulnerability,
        format!("{rule} in {target}"),
        Severity::High,
        AssetKey::new(AssetKind::ContainerImage, target),
    );
    finding.target = Some(target.to_string());
    finding
}

/// Builds an assessment with one factor, its tier derived from the score.
pub fn risk(score: f64) -> RiskAssessment {
    let tier = match score {
        s if s >= 80.0 => Tier::P1,
        s if s >= 60.0 => Tier::P2,
        s if s >= 30.0 => Tier::P3,
        _ => Tier::P4,
    };
    RiskAssessment {
        score,
        tier,
        likelihood: score / 100.0,
        impact: 0.8,
        factors: vec![Factor {
            name: "severity".into(),
            value: "high".into(),
            contribution: score,
            source: "report".into(),
            weight: None,
            date: None,
        }],
        decision: None,
        deadline: None,
    }
}

pub fn scored(finding: Finding, score: f64) -> ScoredFinding {
    ScoredFinding {
        fingerprint: finding.fingerprint(),
        finding,
        risk: risk(score),
        published: None,
    }
}

pub fn scope(tool: &str, target: &str) -> Scope {
    Scope {
        tool: tool.into(),
        target: target.into(),
    }
}

/// Builds a run observed at `at` that covers `scopes` and saw `findings`.
pub fn run(at: DateTime<Utc>, scopes: &[Scope], findings: Vec<ScoredFinding>) -> RunInput {
    RunInput {
        observed_at: at,
        sources: Vec::new(),
        scopes: scopes.iter().cloned().collect::<BTreeSet<_>>(),
        assets: Vec::new(),
        relationships: Vec::new(),
        findings,
    }
}

/// Builds a Trivy scan of `target` at `at` that saw the rules `rules`,
/// each scored 50.
pub fn image_scan(at: DateTime<Utc>, target: &str, rules: &[&str]) -> RunInput {
    let findings = rules
        .iter()
        .map(|rule| scored(vulnerability(target, rule), 50.0))
        .collect();
    run(at, &[scope("trivy", target)], findings)
}

/// Dumps every row of every table as text, so that two states of a
/// database compare.
pub fn dump(conn: &rusqlite::Connection) -> Vec<String> {
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|name| !name.starts_with("sqlite_"));

    let mut lines = Vec::new();
    for table in tables {
        let mut select = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = select.column_count();
        let mut rows: Vec<String> = select
            .query_map([], |row| {
                let mut fields = Vec::with_capacity(columns);
                for index in 0..columns {
                    let value: rusqlite::types::Value = row.get(index)?;
                    fields.push(format!("{value:?}"));
                }
                Ok(format!("{table}: {}", fields.join(" | ")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        lines.extend(rows);
    }
    lines
}
