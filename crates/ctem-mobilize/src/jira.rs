//! The Jira connector: Jira Cloud (REST API v3) and Jira Data Center or
//! Server (REST API v2).
//!
//! | operation | endpoint |
//! | --- | --- |
//! | create | `POST /rest/api/{v}/issue` |
//! | update | `PUT /rest/api/{v}/issue/{key}` |
//! | comment | `POST /rest/api/{v}/issue/{key}/comment` |
//! | close, reopen | `GET` then `POST /rest/api/{v}/issue/{key}/transitions` |
//! | find by marker, changed since | Cloud: `GET /rest/api/3/search/jql` (pages by `nextPageToken`); Data Center: `GET /rest/api/2/search` (pages by `startAt`) |
//!
//! Every ticket carries the labels `ctem` and its marker, which is how a
//! search finds it. Cloud descriptions and comments are Atlassian Document
//! Format; Data Center ones are wiki markup. Cloud authenticates with the
//! account's e-mail address and an API token (basic), Data Center with a
//! personal access token (bearer).
//!
//! References: <https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/>,
//! <https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/>
//! and <https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/>.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::config::{JiraConfig, JiraFlavor};
use crate::forge::retry_policy;
use crate::http::{Auth, HttpClient, Repeat};
use crate::jira_fields::{JiraFieldType, field_value};
use crate::tracker::{Created, RemoteTicket, StatusCategory, TicketDraft, Tracker, TrackerError, create_once};

/// The label every ticket of ctem carries.
pub const CTEM_LABEL: &str = "ctem";

/// Tickets per search page.
const PAGE_SIZE: u32 = 50;

/// The maximum number of search pages read in one listing: 500,000 tickets.
const MAX_PAGES: u32 = 10_000;

/// A Jira project that ctem writes tickets to.
#[derive(Debug)]
pub struct JiraTracker {
    name: String,
    config: JiraConfig,
    /// The base URL without a trailing `/`.
    base: String,
    http: HttpClient,
    /// Owners already warned about for having no Jira user, so that each
    /// is logged once per connector.
    owners_without_user: Mutex<BTreeSet<String>>,
}

impl JiraTracker {
    /// Builds the connector. Credentials come from the environment
    /// variables the configuration names (read through `env`), else from
    /// `token_file` relative to `config_dir`.
    pub fn new(
        name: &str,
        config: &JiraConfig,
        config_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<JiraTracker, TrackerError> {
        let missing = |reason: String| TrackerError::Credentials {
            tracker: name.to_string(),
            reason,
        };
        let token = crate::secret::read_secret(
            name,
            "tickets.jira",
            "token_file",
            Some(&config.token_env),
            config.token_file.as_ref(),
            config_dir,
            env,
        )?;
        let auth = match config.flavor {
            JiraFlavor::Cloud => {
                let user = env(&config.user_env)
                    .filter(|user| !user.trim().is_empty())
                    .ok_or_else(|| {
                        missing(format!(
                            "set the environment variable {} to the Jira account's e-mail address",
                            config.user_env
                        ))
                    })?;
                Auth::Basic { user, token }
            }
            JiraFlavor::DataCenter => Auth::Bearer { token },
        };
        let retry = retry_policy(config.attempts, config.backoff_ms, config.max_retry_after_secs);
        let http = HttpClient::new(auth, config.timeout(), retry).map_err(missing)?;
        Ok(JiraTracker {
            name: name.to_string(),
            config: config.clone(),
            base: config.url.trim_end_matches('/').to_string(),
            http,
            owners_without_user: Mutex::new(BTreeSet::new()),
        })
    }

    fn api(&self, path: &str) -> String {
        let version = match self.config.flavor {
            JiraFlavor::Cloud => 3,
            JiraFlavor::DataCenter => 2,
        };
        format!("{}/rest/api/{version}{path}", self.base)
    }

    fn issue_url(&self, key: &str) -> String {
        self.api(&format!("/issue/{}", encode(key)))
    }

    /// Builds the `fields` object of a create (`with_project`) or an update.
    fn fields(&self, draft: &TicketDraft, with_project: bool) -> Value {
        let mut fields = Map::new();
        if with_project {
            fields.insert("project".into(), json!({ "key": self.config.project }));
            fields.insert("issuetype".into(), json!({ "name": self.config.issue_type }));
        }
        fields.insert("summary".into(), json!(truncate(&draft.summary, 255)));
        fields.insert("description".into(), self.document(draft));
        let mut labels = vec![CTEM_LABEL.to_string(), draft.marker.clone()];
        labels.extend(self.config.labels.iter().cloned());
        fields.insert("labels".into(), json!(labels));
        if let Some(priority) = self.config.priorities.get(&draft.tier) {
            fields.insert("priority".into(), json!({ "name": priority }));
        }
        if !self.config.components.is_empty() {
            let components: Vec<Value> = self
                .config
                .components
                .iter()
                .map(|name| json!({ "name": name }))
                .collect();
            fields.insert("components".into(), Value::Array(components));
        }

        if !self.config.fields.contains_key("due")
            && let Some(due) = draft.due
        {
            fields.insert("duedate".into(), json!(due.format("%Y-%m-%d").to_string()));
        }
        for (value, field) in &self.config.fields {
            let content = field_value(value, field, draft, self.config.flavor, &self.config.users);
            if content.is_none() && field.kind == JiraFieldType::User {
                self.warn_owner_without_user(draft, &field.field);
            }
            match content {
                Some(content) => {
                    fields.insert(field.field.clone(), content);
                }
                // An update clears a value that the subject no longer has,
                // such as the user of a team without one.
                None if !with_project => {
                    fields.insert(field.field.clone(), Value::Null);
                }
                None => {}
            }
        }
        Value::Object(fields)
    }

    fn warn_owner_without_user(&self, draft: &TicketDraft, field: &str) {
        let Some(owner) = draft.owner.as_deref() else {
            return;
        };
        let first = self
            .owners_without_user
            .lock()
            .expect("the warned owners are never poisoned")
            .insert(owner.to_string());
        if first {
            tracing::warn!(
                tracker = %self.name,
                owner,
                field,
                "no Jira user for this owner in [tickets.jira.users]; the field is left empty"
            );
        }
    }

    /// Renders the description: Atlassian Document Format for Cloud, wiki
    /// markup for Data Center.
    fn document(&self, draft: &TicketDraft) -> Value {
        match self.config.flavor {
            JiraFlavor::Cloud => {
                let mut content = vec![adf_paragraph(&draft.lead)];
                let facts: Vec<String> = draft
                    .facts
                    .iter()
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect();
                content.push(adf_list("bulletList", &facts));
                if !draft.findings.is_empty() {
                    content.push(json!({
                        "type": "heading",
                        "attrs": { "level": 3 },
                        "content": [adf_text("Findings")],
                    }));
                    content.push(adf_list("orderedList", &draft.findings));
                }
                json!({ "type": "doc", "version": 1, "content": content })
            }
            JiraFlavor::DataCenter => {
                let mut text = format!("{}\n\n", wiki_escape(&draft.lead));
                for (name, value) in &draft.facts {
                    text.push_str(&format!("* *{name}:* {}\n", wiki_escape(value)));
                }
                if !draft.findings.is_empty() {
                    text.push_str("\nh3. Findings\n");
                    for finding in &draft.findings {
                        text.push_str(&format!("# {}\n", wiki_escape(finding)));
                    }
                }
                Value::String(text)
            }
        }
    }

    fn comment_body(&self, text: &str) -> Value {
        match self.config.flavor {
            JiraFlavor::Cloud => json!({ "body": { "type": "doc", "version": 1, "content": [adf_paragraph(text)] } }),
            JiraFlavor::DataCenter => json!({ "body": wiki_escape(text) }),
        }
    }

    /// Moves an issue to the state named `state`, matched against the
    /// target status of each transition and then the transition's name.
    fn transition(&self, key: &str, state: &str) -> Result<(), TrackerError> {
        let url = format!("{}/transitions", self.issue_url(key));
        let answer = self.http.send(Method::GET, &url, None, Repeat::Safe)?;
        let transitions = array_at(&answer, "transitions", &url)?;
        let mut available = Vec::new();
        let mut chosen = None;
        for (index, transition) in transitions.iter().enumerate() {
            let place = format!("transitions[{index}]");
            let id = string_at(transition, "id", &url, &place)?;
            let name = transition["name"].as_str().unwrap_or_default();
            let to = transition["to"]["name"].as_str().unwrap_or(name);
            available.push(to.to_string());
            if chosen.is_none() && (to.eq_ignore_ascii_case(state) || name.eq_ignore_ascii_case(state)) {
                chosen = Some(id);
            }
        }
        let Some(id) = chosen else {
            return Err(TrackerError::Transition {
                key: key.to_string(),
                state: state.to_string(),
                available,
            });
        };
        self.http.send(
            Method::POST,
            &url,
            Some(&json!({ "transition": { "id": id } })),
            Repeat::Safe,
        )?;
        Ok(())
    }

    /// Runs a JQL search and reads every page.
    fn search(&self, jql: &str) -> Result<Vec<RemoteTicket>, TrackerError> {
        let fields = "status,resolution,labels,updated";
        let mut tickets = Vec::new();
        let mut next_token: Option<String> = None;
        let mut start_at: u64 = 0;
        for _ in 0..MAX_PAGES {
            let url = match self.config.flavor {
                JiraFlavor::Cloud => {
                    let mut url = reqwest::Url::parse(&self.api("/search/jql")).expect("the base URL was validated");
                    url.query_pairs_mut()
                        .append_pair("jql", jql)
                        .append_pair("fields", fields)
                        .append_pair("expand", "changelog")
                        .append_pair("maxResults", &PAGE_SIZE.to_string());
                    if let Some(token) = &next_token {
                        url.query_pairs_mut().append_pair("nextPageToken", token);
                    }
                    url
                }
                JiraFlavor::DataCenter => {
                    let mut url = reqwest::Url::parse(&self.api("/search")).expect("the base URL was validated");
                    url.query_pairs_mut()
                        .append_pair("jql", jql)
                        .append_pair("fields", fields)
                        .append_pair("expand", "changelog")
                        .append_pair("startAt", &start_at.to_string())
                        .append_pair("maxResults", &PAGE_SIZE.to_string());
                    url
                }
            };
            let url = url.to_string();
            let page = self.http.send(Method::GET, &url, None, Repeat::Safe)?;
            let issues = array_at(&page, "issues", &url)?;
            for (index, issue) in issues.iter().enumerate() {
                tickets.push(self.read_issue(issue, &url, &format!("issues[{index}]"))?);
            }

            match self.config.flavor {
                JiraFlavor::Cloud => {
                    let is_last = page["isLast"].as_bool().unwrap_or(true);
                    next_token = page["nextPageToken"].as_str().map(str::to_string);
                    if is_last || next_token.is_none() {
                        return Ok(tickets);
                    }
                }
                JiraFlavor::DataCenter => {
                    let total = page["total"]
                        .as_u64()
                        .ok_or_else(|| malformed(&url, "$.total", "expected a number"))?;
                    start_at += issues.len() as u64;
                    if issues.is_empty() || start_at >= total {
                        return Ok(tickets);
                    }
                }
            }
        }
        Err(malformed(
            &self.api("/search"),
            "$",
            &format!("more than {MAX_PAGES} pages of results"),
        ))
    }

    fn read_issue(&self, issue: &Value, url: &str, place: &str) -> Result<RemoteTicket, TrackerError> {
        let key = string_at(issue, "key", url, place)?;
        let fields = &issue["fields"];
        let status = fields["status"]["name"]
            .as_str()
            .ok_or_else(|| malformed(url, &format!("{place}.fields.status.name"), "expected a string"))?;
        let category = match fields["status"]["statusCategory"]["key"].as_str() {
            Some("done") => StatusCategory::Done,
            _ => StatusCategory::Open,
        };
        let labels = fields["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|label| label.as_str().map(str::to_string))
            .collect();
        let updated = fields["updated"].as_str().and_then(parse_jira_time);
        let status_changed_by = issue["changelog"]["histories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|history| {
                history["items"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|item| item["field"] == "status"))
            })
            .max_by_key(|history| history["created"].as_str().and_then(parse_jira_time))
            .and_then(|history| {
                let author = &history["author"];
                author["displayName"]
                    .as_str()
                    .or(author["name"].as_str())
                    .or(author["emailAddress"].as_str())
                    .or(author["accountId"].as_str())
                    .map(str::to_string)
            });
        Ok(RemoteTicket {
            url: format!("{}/browse/{key}", self.base),
            key,
            status: status.to_string(),
            category,
            resolution: fields["resolution"]["name"].as_str().map(str::to_string),
            labels,
            updated,
            status_changed_by,
        })
    }

    fn project_clause(&self) -> String {
        format!(
            "project = {} AND labels = {}",
            quote(&self.config.project),
            quote(CTEM_LABEL)
        )
    }
}

impl Tracker for JiraTracker {
    fn name(&self) -> &str {
        &self.name
    }

    fn create(&self, draft: &TicketDraft) -> Result<RemoteTicket, TrackerError> {
        let url = self.api("/issue");
        let body = json!({ "fields": self.fields(draft, true) });
        let created = create_once(
            &self.name,
            self.config.attempts,
            &draft.marker,
            || self.http.send(Method::POST, &url, Some(&body), Repeat::Unsafe),
            || self.find_by_marker(&draft.marker),
        )?;
        let answer = match created {
            Created::Answer(answer) => answer,
            Created::Found(existing) => return Ok(existing),
        };
        let key = string_at(&answer, "key", &url, "$")?;
        Ok(RemoteTicket {
            url: format!("{}/browse/{key}", self.base),
            key,
            status: String::new(),
            category: StatusCategory::Open,
            resolution: None,
            labels: vec![CTEM_LABEL.to_string(), draft.marker.clone()],
            updated: None,
            status_changed_by: None,
        })
    }

    fn update(&self, key: &str, draft: &TicketDraft) -> Result<(), TrackerError> {
        let body = json!({ "fields": self.fields(draft, false) });
        self.http
            .send(Method::PUT, &self.issue_url(key), Some(&body), Repeat::Safe)?;
        Ok(())
    }

    fn comment(&self, key: &str, text: &str) -> Result<(), TrackerError> {
        let url = format!("{}/comment", self.issue_url(key));
        // NOTE: a comment whose response was lost may be posted twice. A
        // repeated comment does no harm, so it is retried.
        self.http
            .send(Method::POST, &url, Some(&self.comment_body(text)), Repeat::Safe)?;
        Ok(())
    }

    fn close(&self, key: &str, comment: &str) -> Result<(), TrackerError> {
        let state = self.config.states.done.clone();
        self.transition(key, &state)?;
        self.comment(key, comment)
    }

    fn reopen(&self, key: &str, comment: &str) -> Result<(), TrackerError> {
        let state = self.config.states.reopen.clone();
        self.transition(key, &state)?;
        self.comment(key, comment)
    }

    fn find_by_marker(&self, marker: &str) -> Result<Option<RemoteTicket>, TrackerError> {
        // NOTE: Jira's search index can lag a create by a few seconds, so a
        // ticket created just before may not be found yet.
        let jql = format!("{} AND labels = {}", self.project_clause(), quote(marker));
        Ok(self.search(&jql)?.into_iter().next())
    }

    fn changed_since(&self, since: Option<DateTime<Utc>>) -> Result<Vec<RemoteTicket>, TrackerError> {
        let jql = match since {
            // JQL compares dates in the time zone of the Jira user, to the
            // minute, so the query reaches a day further back: reading a
            // change twice does nothing the second time.
            Some(since) => format!(
                "{} AND updated >= {} ORDER BY updated ASC",
                self.project_clause(),
                quote(&(since - Duration::days(1)).format("%Y/%m/%d %H:%M").to_string())
            ),
            None => format!("{} ORDER BY updated ASC", self.project_clause()),
        };
        self.search(&jql)
    }

    fn means_risk_accepted(&self, ticket: &RemoteTicket) -> bool {
        let states = &self.config.states;
        let in_state = states
            .risk_accepted
            .iter()
            .any(|state| state.eq_ignore_ascii_case(&ticket.status));
        let wont_fix = ticket.category == StatusCategory::Done
            && ticket
                .resolution
                .as_deref()
                .is_some_and(|resolution| states.wont_fix.iter().any(|name| name.eq_ignore_ascii_case(resolution)));
        in_state || wont_fix
    }
}

fn adf_text(text: &str) -> Value {
    // ADF rejects empty text nodes.
    let text = if text.is_empty() { "-" } else { text };
    json!({ "type": "text", "text": text })
}

fn adf_paragraph(text: &str) -> Value {
    json!({ "type": "paragraph", "content": [adf_text(text)] })
}

fn adf_list(kind: &str, items: &[String]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|item| json!({ "type": "listItem", "content": [adf_paragraph(item)] }))
        .collect();
    json!({ "type": kind, "content": items })
}

/// Escapes the characters that start wiki markup effects, so that finding
/// titles show as written.
fn wiki_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(
            ch,
            '{' | '}' | '[' | ']' | '|' | '*' | '_' | '^' | '~' | '+' | '!' | '#'
        ) {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped
}

/// Quotes a JQL string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Percent-encodes an issue key for a URL path. Keys are `PROJECT-123`,
/// but a tracker reply is untrusted.
fn encode(key: &str) -> String {
    key.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Parses Jira's time format, `2026-12-01T09:00:00.000+0000`.
fn parse_jira_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

pub(crate) fn malformed(url: &str, path: &str, reason: &str) -> TrackerError {
    TrackerError::Malformed {
        url: url.to_string(),
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

pub(crate) fn string_at(value: &Value, field: &str, url: &str, place: &str) -> Result<String, TrackerError> {
    match &value[field] {
        Value::String(text) if !text.is_empty() => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Null => Err(malformed(url, &format!("{place}.{field}"), "missing")),
        other => Err(malformed(
            url,
            &format!("{place}.{field}"),
            &format!("expected a non-empty string, found {}", type_name(other)),
        )),
    }
}

pub(crate) fn array_at<'v>(value: &'v Value, field: &str, url: &str) -> Result<&'v Vec<Value>, TrackerError> {
    match &value[field] {
        Value::Array(items) => Ok(items),
        Value::Null => Err(malformed(url, &format!("$.{field}"), "missing")),
        other => Err(malformed(
            url,
            &format!("$.{field}"),
            &format!("expected an array, found {}", type_name(other)),
        )),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_quotes_are_escaped() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn keys_are_encoded() {
        assert_eq!(encode("SEC-12"), "SEC-12");
        assert_eq!(encode("../admin?x"), "..%2Fadmin%3Fx");
    }

    #[test]
    fn jira_times_parse() {
        let time = parse_jira_time("2026-12-01T10:00:00.000+0100").unwrap();
        assert_eq!(time.to_rfc3339(), "2026-12-01T09:00:00+00:00");
        assert_eq!(parse_jira_time("yesterday"), None);
    }

    #[test]
    fn wiki_markup_is_escaped() {
        assert_eq!(wiki_escape("a*b* [x|y]"), "a\\*b\\* \\[x\\|y\\]");
    }
}
