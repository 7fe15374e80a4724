//! The GitHub Issues connector (REST API, version 2022-11-28).
//!
//! | operation | endpoint |
//! | --- | --- |
//! | create | `POST /repos/{owner}/{repo}/issues` |
//! | update | `PATCH /repos/{owner}/{repo}/issues/{number}` |
//! | comment | `POST /repos/{owner}/{repo}/issues/{number}/comments` |
//! | close, reopen | a comment, then `PATCH` with `state` and `state_reason` |
//! | find by marker, changed since | `GET /repos/{owner}/{repo}/issues?labels=ctem&state=all` (with `since`), paged by the `Link` header |
//!
//! Every issue carries the label `ctem`, and its marker sits in an HTML
//! comment at the end of the body. [`RemoteTicket::labels`] lists the
//! marker as if it were a label, because ticket sync matches tickets by
//! their labels. The marker is found in an index built from one listing
//! of the `ctem` issues per sync, rather than by the search API, whose
//! index lags behind a create. Only a create whose outcome is unknown
//! lists the issues again.
//! An issue closed with `state_reason` `not_planned` means the risk was
//! accepted.
//!
//! Reference: <https://docs.github.com/en/rest/issues/issues?apiVersion=2022-11-28>.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use ctem_model::Tier;
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::forge::{
    MarkerIndex, default_attempts, default_backoff, default_max_retry_after, default_timeout, issue_number, next_link,
    read_labels, read_pages, read_updated, retry_policy, validate_retry, validate_url,
};
use crate::http::{Auth, HttpClient, Repeat};
use crate::jira::{CTEM_LABEL, malformed, string_at, truncate};
use crate::markdown;
use crate::tracker::{Created, RemoteTicket, StatusCategory, TicketDraft, Tracker, TrackerError, create_once};

/// Issues per list page, GitHub's maximum.
const PAGE_SIZE: u32 = 100;

/// The `[tickets.github]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubConfig {
    /// The API base URL. Default `https://api.github.com`; GitHub
    /// Enterprise Server uses `https://HOST/api/v3`.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The repository, as `owner/name`.
    pub repository: String,
    /// The environment variable with the token (a fine-grained personal
    /// access token or an app installation token with `issues: write`).
    /// Default `GITHUB_TOKEN`.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// A file with the token, read when the variable is unset. Relative to
    /// the folder of the configuration file.
    pub token_file: Option<PathBuf>,
    /// Labels added to every issue, besides `ctem`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// A label per tier, such as `P1 = "priority: critical"`.
    #[serde(default)]
    pub tier_labels: BTreeMap<Tier, String>,
    /// GitHub logins assigned to the issues of an owning team, by team.
    #[serde(default)]
    pub assignees: BTreeMap<String, Vec<String>>,
    /// Labels that mean the risk was accepted on a closed issue, besides
    /// `state_reason` `not_planned`.
    #[serde(default)]
    pub risk_accepted_labels: Vec<String>,
    /// Seconds a request may take before it is abandoned. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts per request, counting the first. Default 4.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The maximum wait for a rate limit (`Retry-After` or
    /// `x-ratelimit-reset`), in seconds. A longer one fails the request.
    /// Default 120.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_secs: u64,
    /// The first backoff between attempts, in milliseconds; it doubles
    /// with each retry. Default 500.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
}

fn default_api_url() -> String {
    "https://api.github.com".to_string()
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".to_string()
}

impl GitHubConfig {
    /// Checks the values serde cannot. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        validate_url("tickets.github.api_url", &self.api_url)?;
        let parts: Vec<&str> = self.repository.split('/').collect();
        let valid_part = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
        };
        if parts.len() != 2 || !parts.iter().all(|part| valid_part(part)) {
            return Err(format!(
                "tickets.github.repository: invalid repository {:?}; expected owner/name",
                self.repository
            ));
        }
        if self.token_env.trim().is_empty() {
            return Err("tickets.github.token_env: must not be empty".to_string());
        }
        let labels = self.labels.iter().chain(self.tier_labels.values());
        if let Some(label) = labels
            .into_iter()
            .find(|label| label.trim().is_empty() || label.contains(','))
        {
            return Err(format!(
                "tickets.github.labels: invalid label {label:?}; labels are non-empty and have no commas"
            ));
        }
        validate_retry("tickets.github", self.timeout_secs, self.attempts)
    }
}

/// A GitHub repository that ctem writes issues to.
#[derive(Debug)]
pub struct GitHubTracker {
    name: String,
    config: GitHubConfig,
    /// `{api_url}/repos/{owner}/{repo}`.
    repo_url: String,
    http: HttpClient,
    index: MarkerIndex,
}

impl GitHubTracker {
    /// Builds the connector. The token comes from the environment variable
    /// the configuration names (read through `env`), else from
    /// `token_file` relative to `config_dir`.
    pub fn new(
        name: &str,
        config: &GitHubConfig,
        config_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<GitHubTracker, TrackerError> {
        let token = crate::secret::read_secret(
            name,
            "tickets.github",
            "token_file",
            Some(&config.token_env),
            config.token_file.as_ref(),
            config_dir,
            env,
        )?;
        let retry = retry_policy(config.attempts, config.backoff_ms, config.max_retry_after_secs);
        let http = HttpClient::new(Auth::Bearer { token }, Duration::from_secs(config.timeout_secs), retry)
            .map_err(|reason| TrackerError::Credentials {
                tracker: name.to_string(),
                reason,
            })?
            .with_header(ACCEPT, HeaderValue::from_static("application/vnd.github+json"))
            .with_header(
                HeaderName::from_static("x-github-api-version"),
                HeaderValue::from_static("2022-11-28"),
            );
        Ok(GitHubTracker {
            name: name.to_string(),
            repo_url: format!("{}/repos/{}", config.api_url.trim_end_matches('/'), config.repository),
            config: config.clone(),
            http,
            index: MarkerIndex::default(),
        })
    }

    fn issue_url(&self, key: &str) -> Result<String, TrackerError> {
        let number = issue_number(key).ok_or_else(|| malformed(&self.repo_url, "$.number", "invalid issue key"))?;
        Ok(format!("{}/issues/{number}", self.repo_url))
    }

    fn labels(&self, draft: &TicketDraft) -> Vec<String> {
        let mut labels = vec![CTEM_LABEL.to_string()];
        labels.extend(self.config.labels.iter().cloned());
        if let Some(label) = self.config.tier_labels.get(&draft.tier) {
            labels.push(label.clone());
        }
        labels
    }

    fn issue_body(&self, draft: &TicketDraft) -> Value {
        let assignees: Vec<String> = draft
            .owner
            .as_ref()
            .and_then(|owner| self.config.assignees.get(owner))
            .cloned()
            .unwrap_or_default();
        json!({
            // GitHub rejects titles over 256 characters.
            "title": truncate(&draft.summary, 256),
            "body": markdown::render(draft),
            "labels": self.labels(draft),
            "assignees": assignees,
        })
    }

    /// Lists the `ctem` issues, optionally updated at or after `since`,
    /// following the `Link` header's `next` page.
    fn list(&self, since: Option<DateTime<Utc>>) -> Result<Vec<RemoteTicket>, TrackerError> {
        let mut url = reqwest::Url::parse(&format!("{}/issues", self.repo_url))
            .map_err(|error| malformed(&self.repo_url, "$", &format!("invalid repository URL: {error}")))?;
        url.query_pairs_mut()
            .append_pair("labels", CTEM_LABEL)
            .append_pair("state", "all")
            .append_pair("sort", "updated")
            .append_pair("direction", "asc")
            .append_pair("per_page", &PAGE_SIZE.to_string());
        if let Some(since) = since {
            url.query_pairs_mut()
                .append_pair("since", &since.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        read_pages(&self.http, url.to_string(), |issues, headers, url, tickets| {
            for (index, issue) in issues.iter().enumerate() {
                // The issues endpoint lists pull requests too.
                if issue.get("pull_request").is_some() {
                    continue;
                }
                tickets.push(read_issue(issue, url, &format!("$[{index}]"))?);
            }
            next_link(headers, url, &self.config.api_url)
        })
    }

    fn set_state(&self, key: &str, comment: &str, state: &str, reason: &str) -> Result<(), TrackerError> {
        self.comment(key, comment)?;
        let url = self.issue_url(key)?;
        self.http.send(
            Method::PATCH,
            &url,
            Some(&json!({ "state": state, "state_reason": reason })),
            Repeat::Safe,
        )?;
        Ok(())
    }
}

impl Tracker for GitHubTracker {
    fn name(&self) -> &str {
        &self.name
    }

    fn create(&self, draft: &TicketDraft) -> Result<RemoteTicket, TrackerError> {
        let url = format!("{}/issues", self.repo_url);
        let body = self.issue_body(draft);
        let ticket = create_once(
            &self.name,
            self.config.attempts,
            &draft.marker,
            || self.http.send(Method::POST, &url, Some(&body), Repeat::Unsafe),
            // The issue may have been created after the listing.
            || self.index.find(&draft.marker, true, || self.list(None)),
        )
        .and_then(|created| match created {
            Created::Answer(answer) => read_issue(&answer, &url, "$"),
            Created::Found(ticket) => Ok(ticket),
        })?;

        self.index.add(&draft.marker, &ticket);
        Ok(ticket)
    }

    fn update(&self, key: &str, draft: &TicketDraft) -> Result<(), TrackerError> {
        let url = self.issue_url(key)?;
        self.http
            .send(Method::PATCH, &url, Some(&self.issue_body(draft)), Repeat::Safe)?;
        Ok(())
    }

    fn comment(&self, key: &str, text: &str) -> Result<(), TrackerError> {
        let url = format!("{}/comments", self.issue_url(key)?);
        // A comment repeated after an unknown outcome is a harmless
        // duplicate, unlike a second issue.
        self.http
            .send(Method::POST, &url, Some(&json!({ "body": text })), Repeat::Safe)?;
        Ok(())
    }

    fn close(&self, key: &str, comment: &str) -> Result<(), TrackerError> {
        self.set_state(key, comment, "closed", "completed")
    }

    fn reopen(&self, key: &str, comment: &str) -> Result<(), TrackerError> {
        self.set_state(key, comment, "open", "reopened")
    }

    fn find_by_marker(&self, marker: &str) -> Result<Option<RemoteTicket>, TrackerError> {
        self.index.find(marker, false, || self.list(None))
    }

    fn changed_since(&self, since: Option<DateTime<Utc>>) -> Result<Vec<RemoteTicket>, TrackerError> {
        let tickets = self.list(since)?;
        if since.is_none() {
            // Every `ctem` issue: the index needs no listing of its own.
            self.index.fill(&tickets);
        }
        tickets.into_iter().map(|ticket| self.with_closer(ticket)).collect()
    }

    fn means_risk_accepted(&self, ticket: &RemoteTicket) -> bool {
        ticket.category == StatusCategory::Done
            && (ticket.resolution.as_deref() == Some("not_planned")
                || ticket
                    .labels
                    .iter()
                    .any(|label| self.config.risk_accepted_labels.contains(label)))
    }
}

impl GitHubTracker {
    /// Fills in who closed a closed issue: the list endpoint leaves out
    /// `closed_by`, which only the single issue endpoint returns.
    fn with_closer(&self, mut ticket: RemoteTicket) -> Result<RemoteTicket, TrackerError> {
        if ticket.category != StatusCategory::Done || ticket.status_changed_by.is_some() {
            return Ok(ticket);
        }
        let url = self.issue_url(&ticket.key)?;
        let issue = self.http.send(Method::GET, &url, None, Repeat::Safe)?;
        ticket.status_changed_by = issue["closed_by"]["login"].as_str().map(str::to_string);
        Ok(ticket)
    }
}

/// Reads one issue of a response.
fn read_issue(issue: &Value, url: &str, place: &str) -> Result<RemoteTicket, TrackerError> {
    let number = issue["number"]
        .as_u64()
        .ok_or_else(|| malformed(url, &format!("{place}.number"), "expected an issue number"))?;
    let html_url = string_at(issue, "html_url", url, place)?;
    let state = string_at(issue, "state", url, place)?;
    let category = match state.as_str() {
        "open" => StatusCategory::Open,
        "closed" => StatusCategory::Done,
        other => {
            return Err(malformed(
                url,
                &format!("{place}.state"),
                &format!("unknown state {other:?}; expected open or closed"),
            ));
        }
    };
    Ok(RemoteTicket {
        key: format!("#{number}"),
        url: html_url,
        status: state,
        category,
        resolution: issue["state_reason"].as_str().map(str::to_string),
        labels: read_labels(issue, "body", url, place)?,
        updated: read_updated(issue, url, place)?,
        status_changed_by: issue["closed_by"]["login"].as_str().map(str::to_string),
    })
}
