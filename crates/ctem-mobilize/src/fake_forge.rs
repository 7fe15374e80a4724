//! A fake GitHub or GitLab on 127.0.0.1 for tests: an HTTP/1.1 server that
//! keeps issues in memory and serves the issue endpoints the connectors
//! use, and a receiver that records webhook deliveries.
//!
//! The forge checks the credentials on every request (GitHub: `Bearer`
//! token, `Accept: application/vnd.github+json` and `X-GitHub-Api-Version`;
//! GitLab: `PRIVATE-TOKEN`), pages lists (GitHub by the `Link` header,
//! GitLab by `x-next-page`), filters by `labels`, `since`,
//! `updated_after` and `search`, and can be told to answer the next
//! matching requests with a fault. The GitLab fake also keeps users
//! ([`FakeForge::add_user`]). It serves `GET /api/v4/users?username=`
//! and stores an issue's `assignee_ids` as their usernames.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

pub use crate::fake_http::SeenRequest;
use crate::fake_http::{Answer, Recorder, Server, decode_query};

/// The API that the fake implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitHub,
    GitLab,
}

/// A fault for the next request that matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An error status with an error body.
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    RateLimited(u64),
    /// A spent quota with the reset this many seconds ahead: 403 with
    /// `x-ratelimit-remaining: 0` from GitHub, 429 with
    /// `RateLimit-Remaining: 0` from GitLab.
    RateLimitReset(u64),
    /// 200 with this body.
    Body(String),
    /// No response: the connection stays silent for the duration, then closes.
    Silence(Duration),
    /// The request is processed, then answered with this status, as when a
    /// proxy fails after the forge committed.
    StatusAfterProcessing(u16),
}

/// An issue as the fake stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForgeIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    /// GitHub logins, or GitLab usernames of the `assignee_ids`.
    pub assignees: Vec<String>,
    /// `open` or `closed`.
    pub open: bool,
    /// GitHub's `state_reason`.
    pub state_reason: Option<String>,
    pub comments: Vec<String>,
    pub updated: DateTime<Utc>,
    pub closed_by: Option<String>,
}

struct State {
    flavor: Flavor,
    token: String,
    /// The path prefix of the project: `/repos/acme/api` or
    /// `/api/v4/projects/acme%2Fapi`.
    prefix: String,
    issues: Vec<ForgeIssue>,
    /// GitLab users: id and username.
    users: Vec<(u64, String)>,
    recorder: Recorder<Fault>,
    page_size: usize,
    /// The status that a webhook receiver returns.
    receiver_status: u16,
    /// Other tokens that the forge accepts, with the login of each user.
    people: Vec<(String, String)>,
}

/// The login of the user whose token is given to [`FakeForge::github`] or
/// [`FakeForge::gitlab`].
const BOT: &str = "ctem-bot";

/// The server; it stops when dropped.
pub struct FakeForge {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeForge {
    /// Starts a fake GitHub for the repository `owner/name` that accepts the
    /// bearer token `token`.
    pub fn github(repository: &str, token: &str) -> FakeForge {
        FakeForge::start(Flavor::GitHub, format!("/repos/{repository}"), token)
    }

    /// Starts a fake GitLab for the project path `project` that accepts the
    /// access token `token`.
    pub fn gitlab(project: &str, token: &str) -> FakeForge {
        FakeForge::start(
            Flavor::GitLab,
            format!("/api/v4/projects/{}", project.replace('/', "%2F")),
            token,
        )
    }

    /// Starts a webhook receiver: it records every request, answers 401
    /// to a request whose `X-Ctem-Signature` does not match the body under
    /// `secret` (when one is given), and otherwise answers with the status
    /// set by [`FakeForge::set_receiver_status`] (200).
    pub fn receiver(secret: Option<&str>) -> FakeForge {
        FakeForge::start(Flavor::GitHub, "/hook-receiver".to_string(), secret.unwrap_or_default())
    }

    fn start(flavor: Flavor, prefix: String, token: &str) -> FakeForge {
        let state = Arc::new(Mutex::new(State {
            flavor,
            token: token.to_string(),
            prefix,
            issues: Vec::new(),
            users: Vec::new(),
            recorder: Recorder::default(),
            page_size: 2,
            receiver_status: 200,
            people: Vec::new(),
        }));
        let server = {
            let state = state.clone();
            Server::start(move |request, base| answer(&state, request, base))
        };
        FakeForge { server, state }
    }

    /// Returns the base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Fails the next request whose method is `method` and whose path
    /// contains `path` with `fault`. Faults queue in order.
    pub fn fail_next(&self, method: &str, path: &str, fault: Fault) {
        self.state.lock().unwrap().recorder.fail_next(method, path, fault);
    }

    /// Returns every issue, in creation order.
    pub fn issues(&self) -> Vec<ForgeIssue> {
        self.state.lock().unwrap().issues.clone()
    }

    /// Returns every request so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().recorder.requests.clone()
    }

    /// Counts the requests with a method whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.state.lock().unwrap().recorder.count(method, suffix)
    }

    /// Adds a GitLab user and returns its id.
    pub fn add_user(&self, username: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        let id = 100 + state.users.len() as u64;
        state.users.push((id, username.to_string()));
        id
    }

    /// Accepts requests with `token` as those of the user `login`, so that
    /// an issue closed through the API records that user in `closed_by`.
    pub fn add_token(&self, token: &str, login: &str) {
        let mut state = self.state.lock().unwrap();
        state.people.push((token.to_string(), login.to_string()));
    }

    /// Sets the number of issues per list page, 2 by default. A request
    /// with a smaller `per_page` gets that many.
    pub fn set_page_size(&self, size: usize) {
        self.state.lock().unwrap().page_size = size;
    }

    /// Sets the status the webhook receiver answers with.
    pub fn set_receiver_status(&self, status: u16) {
        self.state.lock().unwrap().receiver_status = status;
    }

    /// Closes or reopens an issue as a person would, at `at`. `reason` is
    /// GitHub's `state_reason`.
    pub fn set_state(&self, number: u64, open: bool, reason: Option<&str>, by: &str, at: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap();
        let issue = state
            .issues
            .iter_mut()
            .find(|issue| issue.number == number)
            .unwrap_or_else(|| panic!("no issue {number}"));
        issue.open = open;
        issue.state_reason = reason.map(str::to_string);
        issue.closed_by = (!open).then(|| by.to_string());
        issue.updated = at;
    }

    /// Adds a label to an issue, as a person would, at `at`.
    pub fn add_label(&self, number: u64, label: &str, at: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap();
        let issue = state
            .issues
            .iter_mut()
            .find(|issue| issue.number == number)
            .unwrap_or_else(|| panic!("no issue {number}"));
        issue.labels.push(label.to_string());
        issue.updated = at;
    }
}

/// Responds to one request with the first fault that matches it, else
/// with the API after checking the credentials.
fn answer(state: &Mutex<State>, request: &SeenRequest, base: &str) -> Option<Answer> {
    let fault = state.lock().unwrap().recorder.record(request);
    let answer = match fault {
        Some(Fault::Status(status)) => (status, vec![], error_body("fault injected by the test")),
        Some(Fault::RateLimited(seconds)) => (
            429,
            vec![("Retry-After".to_string(), seconds.to_string())],
            error_body("API rate limit exceeded"),
        ),
        Some(Fault::RateLimitReset(seconds)) => {
            // GitHub answers 403 with `x-ratelimit-*`, GitLab 429 with
            // `RateLimit-*`.
            let (status, prefix) = match state.lock().unwrap().flavor {
                Flavor::GitHub => (403, "x-ratelimit"),
                Flavor::GitLab => (429, "RateLimit"),
            };
            let reset = Utc::now().timestamp() + seconds as i64;
            (
                status,
                vec![
                    (format!("{prefix}-Remaining"), "0".to_string()),
                    (format!("{prefix}-Reset"), reset.to_string()),
                ],
                error_body("API rate limit exceeded"),
            )
        }
        Some(Fault::Body(body)) => (200, vec![], body),
        Some(Fault::Silence(duration)) => {
            std::thread::sleep(duration);
            return None;
        }
        Some(Fault::StatusAfterProcessing(status)) => {
            let mut state = state.lock().unwrap();
            let _ = authorized_route(&mut state, request, base);
            (
                status,
                vec![],
                error_body("fault injected by the test after processing"),
            )
        }
        None => {
            let mut state = state.lock().unwrap();
            authorized_route(&mut state, request, base)
        }
    };
    Some(answer)
}

fn error_body(message: &str) -> String {
    json!({ "message": message }).to_string()
}

fn authorized_route(state: &mut State, request: &SeenRequest, base: &str) -> Answer {
    if state.prefix == "/hook-receiver" {
        let signature = request
            .headers
            .get("x-ctem-signature")
            .map(String::as_str)
            .unwrap_or_default();
        let signed = crate::notify::verify_signature(state.token.as_bytes(), &request.body, signature);
        if !state.token.is_empty() && !signed {
            return (401, vec![], error_body("invalid signature"));
        }
        return (state.receiver_status, vec![], "{}".to_string());
    }
    let header = |name: &str| request.headers.get(name).map(String::as_str);
    let presented = match state.flavor {
        Flavor::GitHub => header("authorization").and_then(|value| value.strip_prefix("Bearer ")),
        Flavor::GitLab => header("private-token"),
    };
    let caller = match presented {
        Some(token) if token == state.token => Some(BOT.to_string()),
        Some(token) => state
            .people
            .iter()
            .find(|(known, _)| known == token)
            .map(|(_, login)| login.clone()),
        None => None,
    };
    match state.flavor {
        Flavor::GitHub => {
            if caller.is_none() {
                return (401, vec![], error_body("Bad credentials"));
            }
            if header("accept") != Some("application/vnd.github+json") {
                return (415, vec![], error_body("Unsupported media type"));
            }
            if header("x-github-api-version") != Some("2022-11-28") {
                return (400, vec![], error_body("Unsupported API version"));
            }
        }
        Flavor::GitLab => {
            if caller.is_none() {
                return (401, vec![], error_body("401 Unauthorized"));
            }
        }
    }
    route(state, request, base, caller.as_deref().unwrap_or(BOT))
}

/// Serves one authenticated request of the user `caller`.
fn route(state: &mut State, request: &SeenRequest, base: &str, caller: &str) -> Answer {
    if state.flavor == Flavor::GitLab && request.method == "GET" && request.path == "/api/v4/users" {
        return users(state, request);
    }
    let Some(rest) = request.path.strip_prefix(&state.prefix) else {
        return (404, vec![], error_body("404 Not Found"));
    };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let body: Value = if request.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(body) => body,
            Err(error) => return (400, vec![], error_body(&format!("Problems parsing JSON: {error}"))),
        }
    };
    let now = Utc::now();
    let comments = match state.flavor {
        Flavor::GitHub => "comments",
        Flavor::GitLab => "notes",
    };
    let edit = match state.flavor {
        Flavor::GitHub => "PATCH",
        Flavor::GitLab => "PUT",
    };

    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["issues"]) => create(state, &body, now),
        ("GET", ["issues"]) => list(state, request, base),
        ("GET", ["issues", number]) => match find(state, number).cloned() {
            Some(issue) => (200, vec![], issue_json(state.flavor, &issue).to_string()),
            None => (404, vec![], error_body("Not Found")),
        },
        (method, ["issues", number]) if method == edit => {
            let flavor = state.flavor;
            let assignees = match flavor {
                Flavor::GitLab if !body["assignee_ids"].is_null() => match assignees_of(state, &body["assignee_ids"]) {
                    Ok(assignees) => Some(assignees),
                    Err(message) => return (400, vec![], error_body(&message)),
                },
                Flavor::GitLab => None,
                Flavor::GitHub => (!body["assignees"].is_null()).then(|| strings(&body["assignees"])),
            };
            let Some(issue) = find(state, number) else {
                return (404, vec![], error_body("Not Found"));
            };
            if let Some(assignees) = assignees {
                issue.assignees = assignees;
            }
            if let Err(message) = edit_issue(flavor, issue, &body, caller, now) {
                return (422, vec![], error_body(&message));
            }
            (200, vec![], issue_json(flavor, issue).to_string())
        }
        ("POST", ["issues", number, kind]) if *kind == comments => {
            let Some(text) = body["body"].as_str().filter(|text| !text.is_empty()) else {
                return (422, vec![], error_body("body is missing"));
            };
            let text = text.to_string();
            match find(state, number) {
                Some(issue) => {
                    issue.comments.push(text);
                    issue.updated = now;
                    (201, vec![], json!({ "id": issue.comments.len() }).to_string())
                }
                None => (404, vec![], error_body("Not Found")),
            }
        }
        _ => (404, vec![], error_body("Not Found")),
    }
}

fn find<'s>(state: &'s mut State, number: &str) -> Option<&'s mut ForgeIssue> {
    let number: u64 = number.parse().ok()?;
    state.issues.iter_mut().find(|issue| issue.number == number)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        Value::String(text) => text
            .split(',')
            .filter(|label| !label.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Serves `GET /api/v4/users?username=NAME`: the user with that username,
/// compared without regard to case, or an empty array.
fn users(state: &State, request: &SeenRequest) -> Answer {
    let params = decode_query(&request.query);
    let Some((_, username)) = params.iter().find(|(name, _)| name == "username") else {
        return (200, vec![], Value::Array(Vec::new()).to_string());
    };
    let found: Vec<Value> = state
        .users
        .iter()
        .filter(|(_, name)| name.eq_ignore_ascii_case(username))
        .map(|(id, name)| json!({ "id": id, "username": name, "name": name, "state": "active" }))
        .collect();
    (200, vec![], Value::Array(found).to_string())
}

/// Reads GitLab's `assignee_ids` as usernames. An id that is no user is
/// rejected.
fn assignees_of(state: &State, ids: &Value) -> Result<Vec<String>, String> {
    let Value::Array(ids) = ids else {
        return Err("assignee_ids is invalid".to_string());
    };
    ids.iter()
        .map(|id| {
            let id = id.as_u64().ok_or("assignee_ids is invalid")?;
            state
                .users
                .iter()
                .find(|(known, _)| *known == id)
                .map(|(_, name)| name.clone())
                .ok_or_else(|| format!("assignee_ids contains the unknown user {id}"))
        })
        .collect()
}

fn create(state: &mut State, body: &Value, now: DateTime<Utc>) -> Answer {
    let Some(title) = body["title"].as_str().filter(|title| !title.is_empty()) else {
        return (422, vec![], error_body("title is missing"));
    };
    let text_field = match state.flavor {
        Flavor::GitHub => "body",
        Flavor::GitLab => "description",
    };
    let labels_valid = match state.flavor {
        Flavor::GitHub => body["labels"].is_array() || body["labels"].is_null(),
        Flavor::GitLab => body["labels"].is_string() || body["labels"].is_null(),
    };
    if !labels_valid {
        return (422, vec![], error_body("labels has an invalid type"));
    }
    let assignees = match state.flavor {
        Flavor::GitHub => strings(&body["assignees"]),
        Flavor::GitLab if body["assignee_ids"].is_null() => Vec::new(),
        Flavor::GitLab => match assignees_of(state, &body["assignee_ids"]) {
            Ok(assignees) => assignees,
            Err(message) => return (400, vec![], error_body(&message)),
        },
    };
    let issue = ForgeIssue {
        number: state.issues.len() as u64 + 1,
        title: title.to_string(),
        body: body[text_field].as_str().unwrap_or_default().to_string(),
        labels: strings(&body["labels"]),
        assignees,
        open: true,
        state_reason: None,
        comments: Vec::new(),
        updated: now,
        closed_by: None,
    };
    let answer = issue_json(state.flavor, &issue).to_string();
    state.issues.push(issue);
    (201, vec![], answer)
}

fn edit_issue(
    flavor: Flavor,
    issue: &mut ForgeIssue,
    body: &Value,
    caller: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if let Some(title) = body["title"].as_str() {
        issue.title = title.to_string();
    }
    let text_field = match flavor {
        Flavor::GitHub => "body",
        Flavor::GitLab => "description",
    };
    if let Some(text) = body[text_field].as_str() {
        issue.body = text.to_string();
    }
    if !body["labels"].is_null() {
        issue.labels = strings(&body["labels"]);
    }
    // GitLab's `add_labels` and `remove_labels`: comma-separated names.
    if flavor == Flavor::GitLab {
        for label in strings(&body["add_labels"]) {
            if !issue.labels.contains(&label) {
                issue.labels.push(label);
            }
        }
        let removed = strings(&body["remove_labels"]);
        issue.labels.retain(|label| !removed.contains(label));
    }
    match flavor {
        Flavor::GitHub => match body["state"].as_str() {
            Some("closed") => {
                issue.open = false;
                issue.state_reason = Some(body["state_reason"].as_str().unwrap_or("completed").to_string());
                issue.closed_by = Some(caller.to_string());
            }
            Some("open") => {
                issue.open = true;
                issue.state_reason = body["state_reason"].as_str().map(str::to_string);
                issue.closed_by = None;
            }
            Some(other) => return Err(format!("state {other:?} is not open or closed")),
            None => {}
        },
        Flavor::GitLab => match body["state_event"].as_str() {
            Some("close") => {
                issue.open = false;
                issue.closed_by = Some(caller.to_string());
            }
            Some("reopen") => {
                issue.open = true;
                issue.closed_by = None;
            }
            Some(other) => return Err(format!("state_event {other:?} is not close or reopen")),
            None => {}
        },
    }
    issue.updated = now;
    Ok(())
}

fn list(state: &State, request: &SeenRequest, base: &str) -> Answer {
    let params = decode_query(&request.query);
    let param = |name: &str| crate::fake_http::param(&params, name);
    let labels: Vec<String> = param("labels")
        .map(|labels| labels.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let since_name = match state.flavor {
        Flavor::GitHub => "since",
        Flavor::GitLab => "updated_after",
    };
    let since = match param(since_name) {
        Some(text) => match DateTime::parse_from_rfc3339(&text) {
            Ok(time) => Some(time.with_timezone(&Utc)),
            Err(_) => return (422, vec![], error_body(&format!("{since_name} is invalid"))),
        },
        None => None,
    };
    let search = param("search");
    let mut matching: Vec<&ForgeIssue> = state
        .issues
        .iter()
        .filter(|issue| labels.iter().all(|label| issue.labels.contains(label)))
        .filter(|issue| since.is_none_or(|since| issue.updated >= since))
        .filter(|issue| {
            search
                .as_deref()
                .is_none_or(|text| issue.body.contains(text) || issue.title.contains(text))
        })
        .collect();
    matching.sort_by_key(|issue| issue.updated);

    let page: usize = param("page").and_then(|page| page.parse().ok()).unwrap_or(1).max(1);
    let requested: usize = param("per_page").and_then(|size| size.parse().ok()).unwrap_or(30);
    let size = requested.min(state.page_size);
    let items: Vec<Value> = matching
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|issue| {
            let mut item = issue_json(state.flavor, issue);
            // GitHub's list endpoint leaves out `closed_by`.
            if state.flavor == Flavor::GitHub {
                item.as_object_mut().map(|item| item.remove("closed_by"));
            }
            item
        })
        .collect();
    let has_next = page * size < matching.len();
    let mut headers = Vec::new();
    if has_next {
        match state.flavor {
            Flavor::GitHub => {
                let query: Vec<String> = request
                    .query
                    .split('&')
                    .filter(|pair| !pair.starts_with("page="))
                    .map(str::to_string)
                    .collect();
                let next = format!("{base}{}?{}&page={}", request.path, query.join("&"), page + 1);
                headers.push(("Link".to_string(), format!("<{next}>; rel=\"next\"")));
            }
            Flavor::GitLab => headers.push(("x-next-page".to_string(), (page + 1).to_string())),
        }
    } else if state.flavor == Flavor::GitLab {
        headers.push(("x-next-page".to_string(), String::new()));
    }
    (200, headers, Value::Array(items).to_string())
}

fn issue_json(flavor: Flavor, issue: &ForgeIssue) -> Value {
    let updated = issue.updated.to_rfc3339_opts(SecondsFormat::Secs, true);
    match flavor {
        Flavor::GitHub => json!({
            "number": issue.number,
            "html_url": format!("https://github.example/issues/{}", issue.number),
            "title": issue.title,
            "body": issue.body,
            "state": if issue.open { "open" } else { "closed" },
            "state_reason": issue.state_reason,
            "labels": issue.labels.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
            "assignees": issue.assignees.iter().map(|login| json!({ "login": login })).collect::<Vec<_>>(),
            "updated_at": updated,
            "closed_by": issue.closed_by.as_ref().map(|login| json!({ "login": login })),
        }),
        Flavor::GitLab => json!({
            "iid": issue.number,
            "web_url": format!("https://gitlab.example/-/issues/{}", issue.number),
            "title": issue.title,
            "description": issue.body,
            "state": if issue.open { "opened" } else { "closed" },
            "labels": issue.labels,
            "assignees": issue.assignees.iter().map(|username| json!({ "username": username })).collect::<Vec<_>>(),
            "updated_at": updated,
            "closed_by": issue.closed_by.as_ref().map(|username| json!({ "username": username })),
        }),
    }
}
