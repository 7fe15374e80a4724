//! End to end: `ctem assess` on the example environment, then `ctem
//! tickets sync` against a fake GitHub and a signed webhook receiver on
//! loopback.

mod common;

use common::copy_dir;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ctem_mobilize::fake_forge::FakeForge;
use ctem_mobilize::notify::verify_signature;
use serde_json::Value;

const TOKEN: &str = "github-secret-token";
const HOOK_SECRET: &str = "hook-secret";

fn ctem() -> Command {
    let mut command = common::ctem();
    command.env("GITHUB_TOKEN", TOKEN).env("CTEM_HOOK_SECRET", HOOK_SECRET);
    command
}

/// Copies the example environment and points its ctem.toml at `github`
/// and `receiver`.
fn example_with_github(dir: &Path, github: &FakeForge, receiver: &FakeForge) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
    let copy = dir.join("acme");
    copy_dir(&example, &copy);
    let config = copy.join("ctem.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[tickets]\ntracker = \"github\"\nmin_tier = \"P1\"\n\n[tickets.github]\napi_url = \"{}\"\nrepository = \"acme/shop\"\nbackoff_ms = 10\n\n[[tickets.notify]]\nname = \"soc\"\nkind = \"webhook\"\nurl = \"{}/hook\"\nsecret_env = \"CTEM_HOOK_SECRET\"\nbackoff_ms = 10\n",
        github.url(),
        receiver.url()
    ));
    std::fs::write(&config, text).unwrap();
    copy
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("ctem runs");
    if !output.status.success() {
        eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

#[test]
fn github_sync_and_notify_once() {
    let dir = tempfile::tempdir().unwrap();
    let github = FakeForge::github("acme/shop", TOKEN);
    let receiver = FakeForge::receiver(Some(HOOK_SECRET));
    let example = example_with_github(dir.path(), &github, &receiver);
    let config = example.join("ctem.toml");
    let db = dir.path().join("ctem.db");
    let assess = run(ctem().arg("assess").arg(&example).arg("--db").arg(&db));
    assert_eq!(assess.status.code(), Some(0), "assess failed");
    let sync = || {
        run(ctem()
            .args(["tickets", "sync", "--format", "json", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(&db))
    };

    let first = sync();

    assert_eq!(first.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&first.stdout).unwrap();
    let created = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["change"] == "create")
        .count();
    assert!(created > 0, "{report}");
    assert_eq!(github.issues().len(), created);
    let deliveries = receiver.requests();
    assert!(deliveries.len() > created, "one event per P1 finding and a digest");
    for delivery in &deliveries {
        let signature = delivery.headers.get("x-ctem-signature").unwrap();
        assert!(verify_signature(HOOK_SECRET.as_bytes(), &delivery.body, signature));
    }
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains(&format!("Notifications: {} sent", deliveries.len())),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");

    let second = sync();

    assert_eq!(second.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert!(report["changes"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(github.issues().len(), created);
    assert_eq!(receiver.requests().len(), deliveries.len());

    let status = run(ctem().args(["tickets", "status", "--format", "json", "--db"]).arg(&db));
    let rows: Value = serde_json::from_slice(&status.stdout).unwrap();
    let text = rows.to_string();
    assert!(!text.contains("notify:soc"), "{text}");
}
