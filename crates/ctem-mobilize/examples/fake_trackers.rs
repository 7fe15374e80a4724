//! Runs the fake Jira, GitHub and GitLab servers on 127.0.0.1 until it is
//! stopped, to try `ctem tickets sync` without a real tracker:
//!
//! ```sh
//! cargo run -p ctem-mobilize --features fake-forge --example fake_trackers
//! ```
//!
//! The servers keep their issues in memory. They accept the credentials in
//! `JIRA_USER`, `JIRA_API_TOKEN`, `GITHUB_TOKEN` and `GITLAB_TOKEN`, or the
//! defaults printed at start. Each also accepts a second user, alice
//! (`alice@acme.example` on Jira) with the token `alice-token`, so that a
//! status change made as a person shows that person as its author.

use std::env;

use ctem_mobilize::fake_forge::FakeForge;
use ctem_mobilize::fake_jira::FakeJira;

fn main() {
    let jira_user = variable("JIRA_USER", "secops@acme.example");
    let jira_token = variable("JIRA_API_TOKEN", "jira-token");
    let github_token = variable("GITHUB_TOKEN", "github-token");
    let gitlab_token = variable("GITLAB_TOKEN", "gitlab-token");

    let jira = FakeJira::start("SEC", &basic(&jira_user, &jira_token));
    // Data Center sends the same token as a bearer token.
    jira.add_user(&format!("Bearer {jira_token}"), "ctem bot");
    jira.add_user(&basic("alice@acme.example", "alice-token"), "Alice Analyst");
    let github = FakeForge::github("acme/shop", &github_token);
    github.add_token("alice-token", "alice");
    let gitlab = FakeForge::gitlab("acme/platform/shop", &gitlab_token);
    gitlab.add_token("alice-token", "alice");
    for username in ["alice", "bob"] {
        gitlab.add_user(username);
    }

    println!("Jira (project SEC, Cloud and Data Center APIs): {}", jira.url());
    println!("  accepts JIRA_USER={jira_user} JIRA_API_TOKEN={jira_token} (flavor \"cloud\" or \"data_center\")");
    println!("  and alice@acme.example with the token alice-token");
    println!("GitHub (repository acme/shop): {}", github.url());
    println!("  accepts GITHUB_TOKEN={github_token}, and alice-token as the user alice");
    println!(
        "GitLab (project acme/platform/shop, users alice and bob): {}",
        gitlab.url()
    );
    println!("  accepts GITLAB_TOKEN={gitlab_token}, and alice-token as the user alice");
    println!("Stop with Ctrl-C; the issues are lost then.");

    loop {
        std::thread::park();
    }
}

/// Returns the variable `name`, or `default` when it is unset or not UTF-8.
fn variable(name: &str, default: &str) -> String {
    env::var(name).unwrap_or_else(|_| default.to_string())
}

/// Returns the `Authorization` header of HTTP basic authentication (RFC 7617).
fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut encoded = String::new();
    for chunk in input.chunks(3) {
        let bytes = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let group = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                encoded.push(char::from(ALPHABET[(group >> (18 - 6 * index) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    format!("Basic {encoded}")
}
