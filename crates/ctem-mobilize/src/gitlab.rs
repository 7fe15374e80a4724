//! The GitLab Issues connector (REST API v4).
//!
//! | operation | endpoint |
//! | --- | --- |
//! | create | `POST /api/v4/projects/:id/issues` |
//! | update | `PUT /api/v4/projects/:id/issues/:iid` |
//! | comment | `POST /api/v4/projects/:id/issues/:iid/notes` |
//! | close, reopen | a note, then `PUT` with `state_event=close` or `reopen` |
//! | find by marker, changed since | `GET /api/v4/projects/:id/issues?labels=ctem` (with `updated_after`) |
//! | user id of an assignee | `GET /api/v4/users?username=NAME` |
//!
//! Lists are paged by `x-next-page`, or by the `Link` header when GitLab
//! leaves `x-next-page` out (keyset pagination, or more than 10,000
//! results). The marker sits in an HTML comment at the end of the
//! description, like on GitHub. It is found the same way too, in an index
//! built from one listing of the `ctem` issues per sync. A closed issue
//! with one of the configured `risk_accepted_labels` (default `wontfix`)
//! means the risk was accepted.
//! Authentication is a personal, project or group access token in the
//! `PRIVATE-TOKEN` header.
//!
//! The `assignees` table maps an owning team to GitLab usernames. The
//! issue endpoints take numeric `assignee_ids`, so each username is looked
//! up once per connector, and so once per sync. A username that GitLab
//! does not know is logged as a warning and left out.
//!
//! Reference: <https://docs.gitlab.com/api/issues/>,
//! <https://docs.gitlab.com/api/users/> and
//! <https://docs.gitlab.com/api/rest/#pagination>.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use reqwest::header::HeaderName;
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

/// Issues per list page, GitLab's maximum.
const PAGE_SIZE: u32 = 100;

/// The `[tickets.gitlab]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitLabConfig {
    /// The instance URL. Default `https://gitlab.com`.
    #[serde(default = "default_url")]
    pub url: String,
    /// The project: its numeric id or its full path, such as
    /// `acme/platform/api`.
    pub project: String,
    /// The environment variable with the access token (scope `api`).
    /// Default `GITLAB_TOKEN`.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// A file with the token, read when the variable is unset. Relative to
    /// the folder of the configuration file.
    pub token_file: Option<PathBuf>,
    /// Labels added to every issue, besides `ctem`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Labels that mean the risk was accepted on a closed issue. Default
    /// `wontfix`.
    #[serde(default = "default_risk_accepted_labels")]
    pub risk_accepted_labels: Vec<String>,
    /// GitLab usernames assigned to the issues of an owning team, by team.
    /// When the table is empty, ctem leaves the assignees of its issues
    /// alone.
    #[serde(default)]
    pub assignees: BTreeMap<String, Vec<String>>,
    /// Seconds a request may take before it is abandoned. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts per request, counting the first. Default 4.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The maximum wait for a rate limit, in seconds. Default 120.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_secs: u64,
    /// The first backoff between attempts, in milliseconds. Default 500.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
}

fn default_url() -> String {
    "https://gitlab.com".to_string()
}

fn default_token_env() -> String {
    "GITLAB_TOKEN".to_string()
}

fn default_risk_accepted_labels() -> Vec<String> {
    vec!["wontfix".to_string()]
}

impl GitLabConfig {
    /// Checks the values serde cannot. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        validate_url("tickets.gitlab.url", &self.url)?;
        let project = self.project.trim();
        if project.is_empty() || project.starts_with('/') || project.ends_with('/') || project.contains("..") {
            return Err(format!(
                "tickets.gitlab.project: invalid project {:?}; expected a numeric id or a path such as group/project",
                self.project
            ));
        }
        if self.token_env.trim().is_empty() {
            return Err("tickets.gitlab.token_env: must not be empty".to_string());
        }
        let labels = self.labels.iter().chain(&self.risk_accepted_labels);
        if let Some(label) = labels
            .into_iter()
            .find(|label| label.trim().is_empty() || label.contains(','))
        {
            return Err(format!(
                "tickets.gitlab.labels: invalid label {label:?}; labels are non-empty and have no commas"
            ));
        }
        for (team, usernames) in &self.assignees {
            if let Some(username) = usernames.iter().find(|username| !valid_username(username)) {
                return Err(format!(
                    "tickets.gitlab.assignees.{team}: invalid username {username:?}; expected a GitLab username without @"
                ));
            }
        }
        validate_retry("tickets.gitlab", self.timeout_secs, self.attempts)
    }
}

/// A GitLab project that ctem writes issues to.
#[derive(Debug)]
pub struct GitLabTracker {
    name: String,
    config: GitLabConfig,
    /// `{url}/api/v4/projects/{id}` with the id URL-encoded.
    project_url: String,
    http: HttpClient,
    index: MarkerIndex,
    /// User ids by username, `None` for a username GitLab does not know.
    user_ids: Mutex<HashMap<String, Option<u64>>>,
}

/// Tells whether a text can be a GitLab username: letters, digits, `_`,
/// `-` and `.`, as GitLab allows.
fn valid_username(username: &str) -> bool {
    !username.is_empty()
        && username
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

impl GitLabTracker {
    /// Builds the connector. The token comes from the environment variable
    /// the configuration names (read through `env`), else from
    /// `token_file` relative to `config_dir`.
    pub fn new(
        name: &str,
        config: &GitLabConfig,
        config_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<GitLabTracker, TrackerError> {
        let token = crate::secret::read_secret(
            name,
            "tickets.gitlab",
            "token_file",
            Some(&config.token_env),
            config.token_file.as_ref(),
            config_dir,
            env,
        )?;
        let auth = Auth::Header {
            name: HeaderName::from_static("private-token"),
            token,
        };
        let retry = retry_policy(config.attempts, config.backoff_ms, config.max_retry_after_secs);
        let http = HttpClient::new(auth, Duration::from_secs(config.timeout_secs), retry).map_err(|reason| {
            TrackerError::Credentials {
                tracker: name.to_string(),
                reason,
            }
        })?;
        let project: String = reqwest::Url::parse("http://x/")
            .ok()
            .and_then(|mut url| {
                url.path_segments_mut().ok()?.push(config.project.trim());
                Some(url.path().trim_start_matches('/').to_string())
            })
            .unwrap_or_default();
        Ok(GitLabTracker {
            name: name.to_string(),
            project_url: format!("{}/api/v4/projects/{project}", config.url.trim_end_matches('/')),
            config: config.clone(),
            http,
            index: MarkerIndex::default(),
            user_ids: Mutex::new(HashMap::new()),
        })
    }

    fn issue_url(&self, key: &str) -> Result<String, TrackerError> {
        let iid = issue_number(key)
            .ok_or_else(|| malformed(&self.project_url, "$.iid", &format!("invalid issue key {key:?}")))?;
        Ok(format!("{}/issues/{iid}", self.project_url))
    }

    fn issue_body(&self, draft: &TicketDraft) -> Result<Value, TrackerError> {
        let mut labels = vec![CTEM_LABEL.to_string()];
        labels.extend(self.config.labels.iter().cloned());
        let mut body = json!({
            // GitLab rejects titles over 255 characters.
            "title": truncate(&draft.summary, 255),
            "description": markdown::render(draft),
            "labels": labels.join(","),
        });
        if !self.config.assignees.is_empty() {
            body["assignee_ids"] = json!(self.assignee_ids(draft)?);
        }
        Ok(body)
    }

    /// Returns the user ids of the usernames mapped to the draft's owner.
    /// An owner without usernames gets none, which clears the assignees.
    fn assignee_ids(&self, draft: &TicketDraft) -> Result<Vec<u64>, TrackerError> {
        let usernames = draft
            .owner
            .as_ref()
            .and_then(|owner| self.config.assignees.get(owner))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut ids = Vec::new();
        for username in usernames {
            if let Some(id) = self.user_id(username)? {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Looks a username up with `GET /users?username=`, once per connector.
    fn user_id(&self, username: &str) -> Result<Option<u64>, TrackerError> {
        if let Some(known) = self
            .user_ids
            .lock()
            .expect("the user cache is never poisoned")
            .get(username)
        {
            return Ok(*known);
        }

        let base = format!("{}/api/v4/users", self.config.url.trim_end_matches('/'));
        let mut url = reqwest::Url::parse(&base)
            .map_err(|error| malformed(&base, "$", &format!("invalid users URL: {error}")))?;
        url.query_pairs_mut().append_pair("username", username);
        let url = url.to_string();
        let answer = self.http.send(Method::GET, &url, None, Repeat::Safe)?;
        let Value::Array(users) = &answer else {
            return Err(malformed(&url, "$", "expected an array of users"));
        };
        // GitLab matches usernames without regard to case.
        let position = users.iter().position(|user| {
            user["username"]
                .as_str()
                .is_some_and(|name| name.eq_ignore_ascii_case(username))
        });
        let id = match position {
            Some(index) => Some(
                users[index]["id"]
                    .as_u64()
                    .ok_or_else(|| malformed(&url, &format!("$[{index}].id"), "expected a user id"))?,
            ),
            None => None,
        };
        if id.is_none() {
            tracing::warn!(
                tracker = %self.name,
                username,
                "GitLab has no user with this username; check [tickets.gitlab.assignees]; issues are not assigned to it"
            );
        }
        self.user_ids
            .lock()
            .expect("the user cache is never poisoned")
            .insert(username.to_string(), id);
        Ok(id)
    }

    /// Lists the `ctem` issues with extra query pairs, page by page.
    fn list(&self, extra: &[(&str, String)]) -> Result<Vec<RemoteTicket>, TrackerError> {
        let mut url = reqwest::Url::parse(&format!("{}/issues", self.project_url))
            .map_err(|error| malformed(&self.project_url, "$", &format!("invalid project URL: {error}")))?;
        url.query_pairs_mut()
            .append_pair("labels", CTEM_LABEL)
            .append_pair("scope", "all")
            .append_pair("order_by", "updated_at")
            .append_pair("sort", "asc")
            .append_pair("per_page", &PAGE_SIZE.to_string());
        for (name, value) in extra {
            url.query_pairs_mut().append_pair(name, value);
        }
        let base = url.clone();
        read_pages(&self.http, url.to_string(), |issues, headers, page_url, tickets| {
            for (index, issue) in issues.iter().enumerate() {
                tickets.push(read_issue(issue, page_url, &format!("$[{index}]"))?);
            }
            let next_page = headers
                .get("x-next-page")
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty());
            match next_page {
                Some(number) => {
                    let number: u64 = number.parse().map_err(|_| {
                        malformed(
                            page_url,
                            "x-next-page header",
                            &format!("expected a page number, found {number:?}"),
                        )
                    })?;
                    let mut url = base.clone();
                    url.query_pairs_mut().append_pair("page", &number.to_string());
                    Ok(Some(url.to_string()))
                }
                None if issues.is_empty() => Ok(None),
                None => next_link(headers, page_url, &self.config.url),
            }
        })
    }

    fn set_state(&self, key: &str, comment: &str, event: &str) -> Result<(), TrackerError> {
        self.comment(key, comment)?;
        let url = self.issue_url(key)?;
        self.http
            .send(Method::PUT, &url, Some(&json!({ "state_event": event })), Repeat::Safe)?;
        Ok(())
    }
}

impl Tracker for GitLabTracker {
    fn name(&self) -> &str {
        &self.name
    }

    fn create(&self, draft: &TicketDraft) -> Result<RemoteTicket, TrackerError> {
        let url = format!("{}/issues", self.project_url);
        let body = self.issue_body(draft)?;
        let ticket = create_once(
            &self.name,
            self.config.attempts,
            &draft.marker,
            || self.http.send(Method::POST, &url, Some(&body), Repeat::Unsafe),
            // The issue may have been created after the listing.
            || self.index.find(&draft.marker, true, || self.list(&[])),
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
            .send(Method::PUT, &url, Some(&self.issue_body(draft)?), Repeat::Safe)?;
        Ok(())
    }

    fn comment(&self, key: &str, text: &str) -> Result<(), TrackerError> {
        let url = format!("{}/notes", self.issue_url(key)?);
        self.http
            .send(Method::POST, &url, Some(&json!({ "body": text })), Repeat::Safe)?;
        Ok(())
    }

    fn close(&self, key: &str, comment: &str) -> Result<(), TrackerError> {
        self.set_state(key, comment, "close")
    }

    fn reopen(&self, key: &str, comment: &str) -> Result<(), TrackerError> {
        self.set_state(key, comment, "reopen")
    }

    fn find_by_marker(&self, marker: &str) -> Result<Option<RemoteTicket>, TrackerError> {
        self.index.find(marker, false, || self.list(&[]))
    }

    fn changed_since(&self, since: Option<DateTime<Utc>>) -> Result<Vec<RemoteTicket>, TrackerError> {
        let extra: Vec<(&str, String)> = since
            .map(|since| ("updated_after", since.to_rfc3339_opts(SecondsFormat::Secs, true)))
            .into_iter()
            .collect();
        let tickets = self.list(&extra)?;
        if since.is_none() {
            // Every `ctem` issue: the index needs no listing of its own.
            self.index.fill(&tickets);
        }
        Ok(tickets)
    }

    fn means_risk_accepted(&self, ticket: &RemoteTicket) -> bool {
        ticket.category == StatusCategory::Done
            && ticket
                .labels
                .iter()
                .any(|label| self.config.risk_accepted_labels.contains(label))
    }
}

/// Reads one issue of a response.
fn read_issue(issue: &Value, url: &str, place: &str) -> Result<RemoteTicket, TrackerError> {
    let iid = issue["iid"]
        .as_u64()
        .ok_or_else(|| malformed(url, &format!("{place}.iid"), "expected an issue number"))?;
    let web_url = string_at(issue, "web_url", url, place)?;
    let state = string_at(issue, "state", url, place)?;
    let category = match state.as_str() {
        "opened" => StatusCategory::Open,
        "closed" => StatusCategory::Done,
        other => {
            return Err(malformed(
                url,
                &format!("{place}.state"),
                &format!("unknown state {other:?}; expected opened or closed"),
            ));
        }
    };
    Ok(RemoteTicket {
        key: format!("#{iid}"),
        url: web_url,
        status: state,
        category,
        // GitLab issues have a state and labels but no resolution.
        resolution: None,
        labels: read_labels(issue, "description", url, place)?,
        updated: read_updated(issue, url, place)?,
        status_changed_by: issue["closed_by"]["username"].as_str().map(str::to_string),
    })
}
