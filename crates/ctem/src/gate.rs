//! `ctem gate`: a Rego gate policy over the findings of the inputs, for CI
//! pipelines.

use anyhow::{Context, Result, bail};
use ctem_engine::analyze;
use ctem_engine::policy::{GatePolicy, accepted_by_policy, finding_input};
use ctem_store::Store;

use crate::EXIT_GATE_DENIED;
use crate::cli::GateArgs;
use crate::commands::{TerminalProgress, folder_as_database, offline_request, print_problems};

pub fn gate_command(args: GateArgs) -> Result<u8> {
    // The policy first: a broken gate stops before any report is read.
    let gate = GatePolicy::load(&args.policy)?;
    let store = match &args.db {
        Some(path) if path.is_dir() => bail!("{}", folder_as_database(path)),
        // A missing or empty database contains no runs, so every finding is new.
        Some(path) if path.exists() => Store::open_read_only(path)?,
        _ => None,
    };
    let request = offline_request(&args.inputs)?;

    let progress = TerminalProgress::new();
    let outcome = analyze(&request, &progress);
    progress.finish();
    let outcome = outcome?;
    print_problems(
        outcome.failures(),
        &outcome.vex.warnings,
        &outcome.intel,
        "finding scores use no exploitation evidence",
    );
    // A gate that passed without the findings of a failed file would let
    // them through unseen.
    let failed = outcome.failures().count();
    if failed > 0 {
        bail!("{failed} report file(s) failed, so the gate cannot judge the run");
    }

    let mut findings = Vec::with_capacity(outcome.findings.len());
    let mut new = Vec::new();
    for scored in &outcome.findings {
        let mut input = finding_input(scored, outcome.assets.get(&scored.finding.asset));
        let stored = match &store {
            Some(store) => store
                .finding(&scored.fingerprint)
                .with_context(|| format!("reading finding {} from the database", scored.fingerprint))?,
            None => None,
        };
        // What the gate may exempt: a policy acceptance of this run, and a
        // triage decision that the database records (risk_accepted,
        // false_positive...).
        input["accepted_by_policy"] = serde_json::json!(accepted_by_policy(&scored.risk));
        input["lifecycle_status"] = serde_json::json!(stored.as_ref().map(|stored| stored.status));
        if stored.is_none() {
            new.push(input.clone());
        }
        findings.push(input);
    }

    let total = findings.len();
    let new_count = new.len();
    let messages = gate.deny(findings, new)?;
    if messages.is_empty() {
        println!("gate passed: {total} finding(s), {new_count} new");
        return Ok(0);
    }
    println!("gate denied: {total} finding(s), {new_count} new");
    for message in &messages {
        println!("  - {message}");
    }
    Ok(EXIT_GATE_DENIED)
}
