//! A fake Jira on 127.0.0.1 for tests: an HTTP/1.1 server that keeps
//! issues in memory and serves the REST endpoints the connector uses, in
//! both API versions (v3 as Jira Cloud, v2 as Jira Data Center).
//!
//! It checks the `Authorization` header on every request, pages search
//! results (`nextPageToken` for v3, `startAt` for v2), evaluates the JQL
//! clauses ctem sends (`project`, `labels`, `updated >=`), and can be told
//! to answer the next matching requests with a fault: an error status, a
//! 429 with `Retry-After`, a malformed body or no answer at all.
//!
//! Custom fields declared with [`FakeJira::define_field`] are checked on
//! create and edit the way Jira checks them: a value of the wrong JSON
//! shape gets a 400 with `{"errorMessages": [], "errors": {FIELD: MESSAGE}}`.
//! The messages resemble Jira's but are not copied from it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

pub use crate::fake_http::SeenRequest;
use crate::fake_http::{Answer, Recorder, Server, decode_query};
use crate::jira_fields::JiraFieldType;

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

#[derive(Default)]
struct State {
    project: String,
    authorization: String,
    issues: Vec<FakeIssue>,
    recorder: Recorder<Fault>,
    page_size: usize,
    /// The custom fields whose values are checked, with their types.
    field_types: BTreeMap<String, JiraFieldType>,
    /// Other `Authorization` headers that the fake accepts, with the
    /// display name of each user.
    users: BTreeMap<String, String>,
}

/// The server; it stops when dropped.
pub struct FakeJira {
    server: Server,
    state: Arc<Mutex<State>>,
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
        let state = Arc::new(Mutex::new(State {
            project: project.to_string(),
            authorization: authorization.to_string(),
            page_size: 2,
            ..State::default()
        }));
        let server = {
            let state = state.clone();
            Server::start(move |request, _| answer(&state, request))
        };
        FakeJira { server, state }
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
    pub fn issues(&self) -> Vec<FakeIssue> {
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

    /// Declares a field of a type, so that create and edit reject a value
    /// of another shape. Undeclared fields take any value.
    pub fn define_field(&self, field: &str, kind: JiraFieldType) {
        self.state.lock().unwrap().field_types.insert(field.to_string(), kind);
    }

    /// Accepts requests whose `Authorization` header is `authorization`
    /// as those of the user `display_name`, so that a status change made
    /// through the API records that user in the changelog.
    pub fn add_user(&self, authorization: &str, display_name: &str) {
        let mut state = self.state.lock().unwrap();
        state.users.insert(authorization.to_string(), display_name.to_string());
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

/// Responds to one request with the first fault that matches it, else
/// with the API after checking the `Authorization` header.
fn answer(state: &Mutex<State>, request: &SeenRequest) -> Option<Answer> {
    let fault = state.lock().unwrap().recorder.record(request);
    let answer = match fault {
        Some(Fault::Status(status)) => (status, vec![], error_body("fault injected by the test")),
        Some(Fault::RateLimited(seconds)) => (
            429,
            vec![("Retry-After".to_string(), seconds.to_string())],
            error_body("rate limit exceeded"),
        ),
        Some(Fault::Body(body)) => (200, vec![], body),
        Some(Fault::Silence(duration)) => {
            std::thread::sleep(duration);
            return None;
        }
        None => {
            let mut state = state.lock().unwrap();
            let authorization = request.headers.get("authorization").map(String::as_str).unwrap_or("");
            let user = if authorization == state.authorization {
                Some(BOT.to_string())
            } else {
                state.users.get(authorization).cloned()
            };
            match user {
                Some(user) => route(&mut state, request, &user),
                None => (
                    401,
                    vec![],
                    error_body("You are not authenticated. Authentication required to perform this operation."),
                ),
            }
        }
    };
    Some(answer)
}

fn error_body(message: &str) -> String {
    json!({ "errorMessages": [message], "errors": {} }).to_string()
}

/// The display name of the user whose `Authorization` header is given to
/// [`FakeJira::start`].
const BOT: &str = "ctem bot";

/// Serves one authenticated request of the user `user`.
fn route(state: &mut State, request: &SeenRequest, user: &str) -> Answer {
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
        ("PUT", ["issue", key]) => {
            let errors = check_fields(&state.field_types, version, &body["fields"]);
            if !errors.is_empty() {
                return (
                    400,
                    vec![],
                    json!({ "errorMessages": [], "errors": errors }).to_string(),
                );
            }
            edit(state, key, &body, now)
        }
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
                    // Jira sets the resolution given on the transition screen,
                    // such as "Won't Do", and "Done" by default.
                    let resolution = body["fields"]["resolution"]["name"].as_str().unwrap_or("Done");
                    issue.status = name.to_string();
                    issue.done = done;
                    issue.resolution = done.then(|| resolution.to_string());
                    issue.updated = now;
                    issue.history.push((user.to_string(), now));
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

fn edit(state: &mut State, key: &str, body: &Value, now: DateTime<Utc>) -> Answer {
    let Some(issue) = find(state, key) else {
        return (
            404,
            vec![],
            error_body("Issue does not exist or you do not have permission to see it."),
        );
    };
    if let Some(fields) = body["fields"].as_object() {
        for (name, value) in fields {
            issue.fields[name] = value.clone();
        }
    }
    issue.updated = now;
    (204, vec![], String::new())
}

/// Checks the declared fields of a create or an edit and returns an error
/// message per field whose value has the wrong shape. `null` clears a
/// field and is always accepted.
fn check_fields(types: &BTreeMap<String, JiraFieldType>, version: u8, fields: &Value) -> Map<String, Value> {
    let mut errors = Map::new();
    for (field, kind) in types {
        let value = &fields[field.as_str()];
        if value.is_null() {
            continue;
        }
        if let Err(message) = check_shape(*kind, version, value) {
            errors.insert(field.clone(), json!(message));
        }
    }
    errors
}

fn check_shape(kind: JiraFieldType, version: u8, value: &Value) -> Result<(), String> {
    let option = |value: &Value| value["value"].as_str().is_some_and(|text| !text.is_empty());
    match kind {
        JiraFieldType::Text if value.is_string() => Ok(()),
        JiraFieldType::Text => Err("Operation value must be a string".to_string()),
        JiraFieldType::Number if value.is_number() => Ok(()),
        JiraFieldType::Number => Err("Operation value must be a number".to_string()),
        JiraFieldType::Date => match value.as_str() {
            Some(text) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => Ok(()),
            _ => Err(format!("Error parsing date string: {value}")),
        },
        JiraFieldType::Select if option(value) => Ok(()),
        JiraFieldType::Select => Err("Specify a valid 'id' or 'name' for the option".to_string()),
        JiraFieldType::MultiSelect => match value.as_array() {
            Some(options) if options.iter().all(option) => Ok(()),
            _ => Err("Specify an array of options, each with a valid 'id' or 'value'".to_string()),
        },
        JiraFieldType::Labels => {
            let Some(labels) = value.as_array() else {
                return Err("Operation value must be an array of labels".to_string());
            };
            match labels
                .iter()
                .find(|label| label.as_str().is_none_or(|label| label.contains(' ')))
            {
                Some(label) => Err(format!(
                    "The label {label} is invalid: labels are strings without spaces."
                )),
                None => Ok(()),
            }
        }
        JiraFieldType::User => {
            // Cloud names users by account id, Data Center by user name.
            let key = if version == 3 { "accountId" } else { "name" };
            if value[key].as_str().is_some_and(|user| !user.is_empty()) {
                Ok(())
            } else {
                Err(format!("Specify a valid user with '{key}'"))
            }
        }
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
    errors.extend(check_fields(&state.field_types, version, fields));
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
    let param = |name: &str| crate::fake_http::param(&params, name);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_shapes_are_checked() {
        let cases = [
            (JiraFieldType::Text, 3, json!("web-team"), true),
            (JiraFieldType::Text, 3, json!({ "value": "web-team" }), false),
            (JiraFieldType::Number, 3, json!(190.5), true),
            (JiraFieldType::Number, 3, json!("190.5"), false),
            (JiraFieldType::Date, 3, json!("2026-11-08"), true),
            (JiraFieldType::Date, 3, json!("08/11/2026"), false),
            (JiraFieldType::Select, 3, json!({ "value": "P1" }), true),
            (JiraFieldType::Select, 3, json!("P1"), false),
            (JiraFieldType::Select, 3, json!([{ "value": "P1" }]), false),
            (
                JiraFieldType::MultiSelect,
                3,
                json!([{ "value": "a" }, { "value": "b" }]),
                true,
            ),
            (JiraFieldType::MultiSelect, 3, json!({ "value": "a" }), false),
            (JiraFieldType::MultiSelect, 3, json!(["a"]), false),
            (JiraFieldType::Labels, 3, json!(["a", "b"]), true),
            (JiraFieldType::Labels, 3, json!(["a b"]), false),
            (JiraFieldType::Labels, 3, json!("a"), false),
            (JiraFieldType::User, 3, json!({ "accountId": "5b10" }), true),
            (JiraFieldType::User, 3, json!({ "name": "alice" }), false),
            (JiraFieldType::User, 2, json!({ "name": "alice" }), true),
            (JiraFieldType::User, 2, json!({ "accountId": "5b10" }), false),
        ];
        for (kind, version, value, valid) in cases {
            let result = check_shape(kind, version, &value);
            assert_eq!(result.is_ok(), valid, "{kind} v{version} {value}: {result:?}");
        }
    }

    #[test]
    fn wrong_shape_is_reported_by_field() {
        let types = BTreeMap::from([("customfield_1".to_string(), JiraFieldType::Number)]);
        let fields = json!({ "customfield_1": "7", "customfield_2": "free" });

        let errors = check_fields(&types, 3, &fields);

        assert_eq!(errors.len(), 1);
        assert_eq!(errors["customfield_1"], "Operation value must be a number");
        assert!(check_fields(&types, 3, &json!({ "customfield_1": null })).is_empty());
    }
}
