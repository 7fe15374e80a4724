//! A fake Jira on 127.0.0.1 for tests: an HTTP/1.1 server that keeps
//! issues in memory and serves the REST endpoints the connector uses, in
//! both API versions (v3 as Jira Cloud, v2 as Jira Data Center).
//!
//! It checks the `Authorization` header on every request, pages search
//! results (`nextPageToken` for v3, `startAt` for v2), evaluates the JQL
//! clauses ctem sends (`project`, `labels`, `updated >=`), and can be told
//! to answer the next matching requests with a fault: an error status, a
//! 429 with `Retry-After`, a malformed body or no answer at all.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

/// The largest request body the fake reads.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A fault for the next request that matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An error status with a Jira error body.
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    RateLimited(u64),
    /// 200 with this body.
    Body(String),
    /// No response: the connection stays silent for the duration, then closes.
    Silence(Duration),
}

/// An issue as the fake stores it.
#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub key: String,
    /// The `fields` of the create, updated by later edits.
    pub fields: Value,
    pub status: String,
    pub done: bool,
    pub resolution: Option<String>,
    pub comments: Vec<Value>,
    pub updated: DateTime<Utc>,
    /// Status changes: who and when.
    pub history: Vec<(String, DateTime<Utc>)>,
}

impl FakeIssue {
    pub fn labels(&self) -> Vec<String> {
        self.fields["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|label| label.as_str().map(str::to_string))
            .collect()
    }
}

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: String,
}

#[derive(Default)]
struct State {
    project: String,
    authorization: String,
    issues: Vec<FakeIssue>,
    faults: VecDeque<(String, String, Fault)>,
    requests: Vec<SeenRequest>,
    page_size: usize,
}

/// The server; it stops when dropped.
pub struct FakeJira {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The workflow states and their categories.
const STATES: [(&str, bool); 4] = [
    ("To Do", false),
    ("In Progress", false),
    ("Done", true),
    ("Risk Accepted", true),
];

impl FakeJira {
    /// Starts a fake of project `project` that accepts requests whose
    /// `Authorization` header is exactly `authorization`.
    pub fn start(project: &str, authorization: &str) -> FakeJira {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let state = Arc::new(Mutex::new(State {
            project: project.to_string(),
            authorization: authorization.to_string(),
            page_size: 2,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = state.clone();
                    std::thread::spawn(move || serve(stream, &state));
                }
            })
        };
        FakeJira {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// Returns the base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Fails the next request whose method is `method` and whose path
    /// contains `path` with `fault`. Faults queue in order.
    pub fn fail_next(&self, method: &str, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push_back((method.to_string(), path.to_string(), fault));
    }

    /// Returns every issue, in creation order.
    pub fn issues(&self) -> Vec<FakeIssue> {
        self.state.lock().unwrap().issues.clone()
    }

    /// Returns every request so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Counts the requests with a method whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.method == method && request.path.ends_with(suffix))
            .count()
    }

    /// Sets an issue's status as a person in Jira would, at `at`.
    pub fn set_status(&self, key: &str, status: &str, resolution: Option<&str>, by: &str, at: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap();
        let issue = state
            .issues
            .iter_mut()
            .find(|issue| issue.key == key)
            .unwrap_or_else(|| panic!("no issue {key}"));
        issue.status = status.to_string();
        issue.done = STATES.iter().any(|(name, done)| *name == status && *done);
        issue.resolution = resolution.map(str::to_string);
        issue.updated = at;
        issue.history.push((by.to_string(), at));
    }
}

impl Drop for FakeJira {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));

    let mut length = 0;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => authorization = Some(value.trim().to_string()),
            _ => {}
        }
    }
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        authorization,
        body,
    })
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let fault = {
        let mut state = state.lock().unwrap();
        state.requests.push(SeenRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
        });
        let position = state
            .faults
            .iter()
            .position(|(method, path, _)| *method == request.method && request.path.contains(path.as_str()));
        position
            .and_then(|index| state.faults.remove(index))
            .map(|(_, _, fault)| fault)
    };

    let (status, headers, body) = match fault {
        Some(Fault::Status(status)) => (status, vec![], error_body("fault injected by the test")),
        Some(Fault::RateLimited(seconds)) => (
            429,
            vec![("Retry-After".to_string(), seconds.to_string())],
            error_body("rate limit exceeded"),
        ),
        Some(Fault::Body(body)) => (200, vec![], body),
        Some(Fault::Silence(duration)) => {
            std::thread::sleep(duration);
            return;
        }
        None => {
            let mut state = state.lock().unwrap();
            if request.authorization.as_deref() != Some(state.authorization.as_str()) {
                (
                    401,
                    vec![],
                    error_body("You are not authenticated. Authentication required to perform this operation."),
                )
            } else {
                route(&mut state, &request)
            }
        }
    };

    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn error_body(message: &str) -> String {
    json!({ "errorMessages": [message], "errors": {} }).to_string()
}

type Answer = (u16, Vec<(String, String)>, String);

fn route(state: &mut State, request: &Request) -> Answer {
    let (version, rest) = if let Some(rest) = request.path.strip_prefix("/rest/api/3") {
        (3, rest)
    } else if let Some(rest) = request.path.strip_prefix("/rest/api/2") {
        (2, rest)
    } else {
        return (404, vec![], error_body("no such endpoint"));
    };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let body: Value = if request.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(body) => body,
            Err(error) => return (400, vec![], error_body(&format!("invalid JSON: {error}"))),
        }
    };
    let now = Utc::now();

    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["issue"]) => create(state, version, &body, now),
        ("PUT", ["issue", key]) => match find(state, key) {
            Some(issue) => {
                if let Some(fields) = body["fields"].as_object() {
                    for (name, value) in fields {
                        issue.fields[name] = value.clone();
                    }
                }
                issue.updated = now;
                (204, vec![], String::new())
            }
            None => (
                404,
                vec![],
                error_body("Issue does not exist or you do not have permission to see it."),
            ),
        },
        ("POST", ["issue", key, "comment"]) => match find(state, key) {
            Some(issue) => {
                let valid = if version == 3 {
                    body["body"]["type"] == "doc"
                } else {
                    body["body"].is_string()
                };
                if !valid {
                    return (
                        400,
                        vec![],
                        error_body("Comment body is not valid for this API version."),
                    );
                }
                issue.comments.push(body["body"].clone());
                (
                    201,
                    vec![],
                    json!({ "id": issue.comments.len().to_string() }).to_string(),
                )
            }
            None => (
                404,
                vec![],
                error_body("Issue does not exist or you do not have permission to see it."),
            ),
        },
        ("GET", ["issue", key, "transitions"]) => match find(state, key) {
            Some(issue) => {
                let transitions: Vec<Value> = STATES
                    .iter()
                    .enumerate()
                    .filter(|(_, (name, _))| *name != issue.status)
                    .map(|(index, (name, done))| {
                        json!({
                            "id": (index + 11).to_string(),
                            "name": format!("Move to {name}"),
                            "to": { "name": name, "statusCategory": { "key": if *done { "done" } else { "new" } } },
                        })
                    })
                    .collect();
                (200, vec![], json!({ "transitions": transitions }).to_string())
            }
            None => (
                404,
                vec![],
                error_body("Issue does not exist or you do not have permission to see it."),
            ),
        },
        ("POST", ["issue", key, "transitions"]) => {
            let id: usize = body["transition"]["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .unwrap_or(0);
            let Some((name, done)) = id.checked_sub(11).and_then(|index| STATES.get(index)).copied() else {
                return (400, vec![], error_body("Transition id is not valid for this issue."));
            };
            match find(state, key) {
                Some(issue) if issue.status != name => {
                    issue.status = name.to_string();
                    issue.done = done;
                    issue.resolution = done.then(|| "Done".to_string());
                    issue.updated = now;
                    issue.history.push(("ctem bot".to_string(), now));
                    (204, vec![], String::new())
                }
                Some(_) => (400, vec![], error_body("Transition id is not valid for this issue.")),
                None => (
                    404,
                    vec![],
                    error_body("Issue does not exist or you do not have permission to see it."),
                ),
            }
        }
        ("GET", ["search", "jql"]) if version == 3 => search(state, version, &request.query),
        ("GET", ["search"]) if version == 2 => search(state, version, &request.query),
        _ => (404, vec![], error_body("no such endpoint")),
    }
}

fn find<'s>(state: &'s mut State, key: &str) -> Option<&'s mut FakeIssue> {
    state.issues.iter_mut().find(|issue| issue.key == key)
}

fn create(state: &mut State, version: u8, body: &Value, now: DateTime<Utc>) -> Answer {
    let fields = &body["fields"];
    let mut errors = serde_json::Map::new();
    if fields["project"]["key"].as_str() != Some(state.project.as_str()) {
        errors.insert("project".into(), json!("valid project is required"));
    }
    if fields["issuetype"]["name"].as_str().is_none_or(str::is_empty) {
        errors.insert("issuetype".into(), json!("valid issue type is required"));
    }
    if fields["summary"].as_str().is_none_or(str::is_empty) {
        errors.insert("summary".into(), json!("You must specify a summary of the issue."));
    }
    let description_ok = match version {
        3 => fields["description"]["type"] == "doc" && fields["description"]["version"] == 1,
        _ => fields["description"].is_string(),
    };
    if !description_ok {
        errors.insert(
            "description".into(),
            json!("Operation value must be a valid document for this API version."),
        );
    }
    let labels_ok = fields["labels"].as_array().is_some_and(|labels| {
        labels
            .iter()
            .all(|label| label.as_str().is_some_and(|label| !label.contains(' ')))
    });
    if !labels_ok {
        errors.insert("labels".into(), json!("Labels are strings without spaces."));
    }
    if !errors.is_empty() {
        return (
            400,
            vec![],
            json!({ "errorMessages": [], "errors": errors }).to_string(),
        );
    }

    let key = format!("{}-{}", state.project, state.issues.len() + 1);
    state.issues.push(FakeIssue {
        key: key.clone(),
        fields: fields.clone(),
        status: "To Do".to_string(),
        done: false,
        resolution: None,
        comments: Vec::new(),
        updated: now,
        history: Vec::new(),
    });
    let id = 10_000 + state.issues.len();
    (
        201,
        vec![],
        json!({ "id": id.to_string(), "key": key, "self": format!("/rest/api/{version}/issue/{id}") }).to_string(),
    )
}

/// The JQL clauses the fake understands, joined by AND.
struct Query {
    project: Option<String>,
    labels: Vec<String>,
    updated_since: Option<DateTime<Utc>>,
}

fn parse_jql(jql: &str) -> Result<Query, String> {
    let jql = jql.split(" ORDER BY ").next().unwrap_or_default();
    let mut query = Query {
        project: None,
        labels: Vec::new(),
        updated_since: None,
    };
    for clause in jql.split(" AND ") {
        let clause = clause.trim();
        let (field, operator, value) = if let Some((field, value)) = clause.split_once(" >= ") {
            (field.trim(), ">=", value.trim())
        } else if let Some((field, value)) = clause.split_once(" = ") {
            (field.trim(), "=", value.trim())
        } else {
            return Err(format!("Error in the JQL Query: unexpected clause {clause:?}"));
        };
        let value = value
            .strip_prefix('"')
            .and_then(|value| value.strip_suffix('"'))
            .ok_or_else(|| format!("Error in the JQL Query: expected a quoted value in {clause:?}"))?
            .replace("\\\"", "\"")
            .replace("\\\\", "\\");
        match (field, operator) {
            ("project", "=") => query.project = Some(value),
            ("labels", "=") => query.labels.push(value),
            ("updated", ">=") => {
                let time = NaiveDateTime::parse_from_str(&value, "%Y/%m/%d %H:%M")
                    .map_err(|_| format!("Error in the JQL Query: invalid date {value:?}"))?;
                query.updated_since = Some(time.and_utc());
            }
            _ => return Err(format!("Error in the JQL Query: unsupported clause {clause:?}")),
        }
    }
    Ok(query)
}

fn search(state: &State, version: u8, query: &str) -> Answer {
    let params = decode_query(query);
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let jql = param("jql").unwrap_or_default();
    let parsed = match parse_jql(&jql) {
        Ok(parsed) => parsed,
        Err(message) => return (400, vec![], error_body(&message)),
    };
    let mut matching: Vec<&FakeIssue> = state
        .issues
        .iter()
        .filter(|issue| {
            parsed
                .project
                .as_deref()
                .is_none_or(|project| issue.key.starts_with(&format!("{project}-")))
        })
        .filter(|issue| {
            let labels = issue.labels();
            parsed.labels.iter().all(|label| labels.contains(label))
        })
        .filter(|issue| parsed.updated_since.is_none_or(|since| issue.updated >= since))
        .collect();
    matching.sort_by_key(|issue| issue.updated);

    let start: usize = match version {
        3 => param("nextPageToken").and_then(|token| token.parse().ok()).unwrap_or(0),
        _ => param("startAt").and_then(|start| start.parse().ok()).unwrap_or(0),
    };
    let requested: usize = param("maxResults").and_then(|max| max.parse().ok()).unwrap_or(50);
    let size = requested.min(state.page_size);
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(size)
        .map(|issue| issue_json(issue))
        .collect();
    let end = start + page.len();
    let body = match version {
        3 => {
            let mut body = json!({ "issues": page, "isLast": end >= matching.len() });
            if end < matching.len() {
                body["nextPageToken"] = json!(end.to_string());
            }
            body
        }
        _ => json!({ "startAt": start, "maxResults": size, "total": matching.len(), "issues": page }),
    };
    (200, vec![], body.to_string())
}

fn issue_json(issue: &FakeIssue) -> Value {
    let histories: Vec<Value> = issue
        .history
        .iter()
        .map(|(by, at)| {
            json!({
                "author": { "displayName": by },
                "created": at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
                "items": [{ "field": "status" }],
            })
        })
        .collect();
    json!({
        "key": issue.key,
        "fields": {
            "status": {
                "name": issue.status,
                "statusCategory": { "key": if issue.done { "done" } else { "new" } },
            },
            "resolution": issue.resolution.as_ref().map(|name| json!({ "name": name })),
            "labels": issue.labels(),
            "updated": issue.updated.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
        },
        "changelog": { "histories": histories },
    })
}

/// Decodes `application/x-www-form-urlencoded` pairs.
pub(crate) fn decode_query(query: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'+' => out.push(b' '),
                b'%' if index + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(byte) => {
                            out.push(byte);
                            index += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                byte => out.push(byte),
            }
            index += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}
