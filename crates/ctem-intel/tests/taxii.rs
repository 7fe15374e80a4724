//! The TAXII 2.1 client against a TAXII server on 127.0.0.1 written here:
//! discovery, paging, `added_after`, credentials, media types, and broken,
//! oversized, slow and endless responses.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use ctem_intel::{
    IntelError, StixRelationship, TAXII_MEDIA_TYPE, TaxiiAuth, TaxiiClient, TaxiiConfig, TaxiiError, TaxiiObjects,
};
use reqwest::Url;
use serde_json::{Value, json};

const THREATS: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
const BY_DATE: &str = "52892447-4d7e-4f70-b94d-d7f22742ff63";
const BASIC: &str = "Basic YW5hbHlzdDpodW50ZXIy";
const BEARER: &str = "Bearer tok-123";
const PAGE_LIMIT: u64 = 4096;

/// One request as the test server received it.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// False sends no Content-Length, so the body ends when the connection closes.
    content_length: bool,
}

impl Response {
    fn json(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
            content_length: true,
        }
    }
}

/// What the server requires of a request.
#[derive(Clone)]
struct Policy {
    authorization: Option<&'static str>,
    accept: &'static str,
}

/// A TAXII 2.1 server on 127.0.0.1 that serves one request at a time.
struct TestServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    fn start(policy: Policy) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    serve(stream, address, &policy, &requests);
                }
            })
        };
        TestServer {
            address,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, address: SocketAddr, policy: &Policy, requests: &Mutex<Vec<Request>>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let url = Url::parse(&format!("http://{address}{target}")).unwrap();
    let request = Request {
        path: url.path().to_string(),
        query: url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers,
    };
    requests.lock().unwrap().push(request.clone());

    let response = respond(&request, address, policy);
    write_response(stream, response);
}

fn write_response(mut stream: TcpStream, response: Response) {
    let mut head = format!(
        "HTTP/1.1 {} TEST\r\nContent-Type: {TAXII_MEDIA_TYPE}\r\nConnection: close\r\n",
        response.status
    );
    if response.content_length {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    for (key, value) in &response.headers {
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The client may hang up early on an oversized body; that is expected.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&response.body);
}

fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Builds the response of a TAXII 2.1 server with a few test collections.
fn respond(request: &Request, address: SocketAddr, policy: &Policy) -> Response {
    if let Some(expected) = policy.authorization
        && request.header("authorization") != Some(expected)
    {
        return Response::json(401, json!({"title": "Unauthorized", "http_status": "401"}));
    }
    if compact(request.header("accept").unwrap_or_default()) != policy.accept {
        return Response::json(406, json!({"title": "Not Acceptable", "http_status": "406"}));
    }

    let base = format!("http://{address}");
    let objects_of = |collection: &str| format!("/api1/collections/{collection}/objects/");
    match request.path.as_str() {
        "/taxii2/" => Response::json(
            200,
            json!({"title": "Test TAXII", "default": format!("{base}/api1/"), "api_roots": [format!("{base}/api1/"), "/api2/"]}),
        ),
        "/other/taxii2/" => Response::json(
            200,
            json!({"title": "Elsewhere", "api_roots": ["http://127.0.0.2:9/api1/"]}),
        ),
        "/api1/" => Response::json(
            200,
            json!({"title": "Threat feed", "versions": [TAXII_MEDIA_TYPE], "max_content_length": 10_485_760}),
        ),
        "/api1/collections/" => Response::json(
            200,
            json!({"collections": [
                {"id": THREATS, "title": "Threats", "can_read": true, "can_write": false, "media_types": [TAXII_MEDIA_TYPE]},
                {"id": BY_DATE, "title": "Threats by date", "can_read": true, "can_write": false}
            ]}),
        ),
        path if path == objects_of(THREATS) => objects_page(request, true),
        path if path == objects_of(BY_DATE) => objects_page(request, false),
        path if path == objects_of("malformed") => Response {
            status: 200,
            headers: Vec::new(),
            body: br#"{"more": false, "objects": [{"type": "malware", "id": "#.to_vec(),
            content_length: true,
        },
        path if path == objects_of("oversized") => oversized(true),
        path if path == objects_of("oversized-stream") => oversized(false),
        path if path == objects_of("slow") => {
            std::thread::sleep(Duration::from_millis(2500));
            Response::json(200, json!({"more": false}))
        }
        path if path == objects_of("stuck") => Response::json(200, json!({"more": true, "objects": []})),
        path if path == objects_of("endless") => {
            let page: u64 = request.param("next").and_then(|n| n.parse().ok()).unwrap_or(0);
            let object = json!({"type": "x-page", "id": format!("x-page--10000000-0000-4000-8000-{page:012}")});
            Response::json(
                200,
                json!({"more": true, "next": (page + 1).to_string(), "objects": [object]}),
            )
        }
        _ => Response::json(404, json!({"title": "Not Found", "http_status": "404"})),
    }
}

fn oversized(content_length: bool) -> Response {
    let padding = "x".repeat(PAGE_LIMIT as usize * 4);
    let mut response = Response::json(
        200,
        json!({"more": false, "objects": [{"type": "note", "content": padding}]}),
    );
    response.content_length = content_length;
    response
}

fn day(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).unwrap()
}

fn stamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Returns the six objects of the threats collection with the day each was
/// added: a vulnerability, malware that exploits it and an intrusion set that uses it.
fn collection() -> Vec<(DateTime<Utc>, Value)> {
    let id = |kind: &str, n: u32| format!("{kind}--10000000-0000-4000-8000-{n:012}");
    let modified = "2024-01-01T00:00:00.000Z";
    let objects = [
        json!({"type": "identity", "id": id("identity", 1), "modified": modified, "name": "Feed Author"}),
        json!({"type": "vulnerability", "id": id("vulnerability", 2), "modified": modified, "created_by_ref": id("identity", 1),
               "external_references": [{"source_name": "cve", "external_id": "CVE-2021-44228"}]}),
        json!({"type": "malware", "id": id("malware", 3), "modified": modified, "name": "Khonsari", "is_family": true}),
        json!({"type": "relationship", "id": id("relationship", 4), "modified": modified, "created_by_ref": id("identity", 1),
               "relationship_type": "exploits", "source_ref": id("malware", 3), "target_ref": id("vulnerability", 2)}),
        json!({"type": "intrusion-set", "id": id("intrusion-set", 5), "modified": modified, "name": "APT Example"}),
        json!({"type": "relationship", "id": id("relationship", 6), "modified": modified,
               "relationship_type": "uses", "source_ref": id("intrusion-set", 5), "target_ref": id("malware", 3)}),
    ];
    objects
        .into_iter()
        .enumerate()
        .map(|(i, o)| (day(i as u32 + 1), o))
        .collect()
}

/// Serves the collection from `added_after`, `limit` objects a page. With
/// `with_next`, pages continue by a `next` offset; without it, by date only.
fn objects_page(request: &Request, with_next: bool) -> Response {
    let after = request.param("added_after").map(|text| {
        DateTime::parse_from_rfc3339(text)
            .expect("added_after is RFC 3339")
            .with_timezone(&Utc)
    });
    let matching: Vec<(DateTime<Utc>, Value)> = collection()
        .into_iter()
        .filter(|(added, _)| after.is_none_or(|after| *added > after))
        .collect();
    let start: usize = request
        .param("next")
        .map_or(0, |next| next.parse().expect("next is an offset"));
    let limit: usize = request.param("limit").map_or(100, |limit| limit.parse().unwrap());
    let end = (start + limit).min(matching.len());
    let page = &matching[start.min(end)..end];
    let more = end < matching.len();

    let mut body = json!({"more": more, "objects": page.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()});
    if more && with_next {
        body["next"] = json!(end.to_string());
    }
    let mut response = Response::json(200, body);
    if let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) {
        response
            .headers
            .push(("X-TAXII-Date-Added-First".into(), stamp(*first)));
        response.headers.push(("X-TAXII-Date-Added-Last".into(), stamp(*last)));
    }
    response
}

fn open_policy() -> Policy {
    Policy {
        authorization: None,
        accept: TAXII_MEDIA_TYPE,
    }
}

fn client(server: &TestServer, configure: impl FnOnce(&mut TaxiiConfig)) -> TaxiiClient {
    let mut config = TaxiiConfig {
        url: server.url("/taxii2/"),
        page_size: Some(2),
        max_page_bytes: PAGE_LIMIT,
        ..TaxiiConfig::default()
    };
    configure(&mut config);
    TaxiiClient::new(config).expect("valid configuration")
}

fn api_root(server: &TestServer) -> Url {
    Url::parse(&server.url("/api1/")).unwrap()
}

fn fetch(server: &TestServer, collection: &str) -> Result<TaxiiObjects, TaxiiError> {
    client(server, |_| {}).objects(&api_root(server), collection, None)
}

fn object_params(server: &TestServer, name: &str) -> Vec<Option<String>> {
    server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/objects/"))
        .map(|r| r.param(name).map(str::to_string))
        .collect()
}

#[test]
fn discovery_lists_api_roots() {
    let server = TestServer::start(open_policy());
    let discovery = client(&server, |_| {}).discover().unwrap();
    assert_eq!(discovery.title, "Test TAXII");
    assert_eq!(
        discovery.default.as_ref().map(Url::as_str),
        Some(server.url("/api1/").as_str())
    );
    let roots: Vec<&str> = discovery.api_roots.iter().map(Url::as_str).collect();
    assert_eq!(roots, [server.url("/api1/"), server.url("/api2/")]);
}

#[test]
fn discovery_path_defaults() {
    let server = TestServer::start(open_policy());
    let client = client(&server, |config| config.url = server.url(""));
    assert_eq!(client.discovery_url().as_str(), server.url("/taxii2/"));
    assert_eq!(client.discover().unwrap().api_roots.len(), 2);
}

#[test]
fn api_root_and_collections() {
    let server = TestServer::start(open_policy());
    let client = client(&server, |_| {});
    let root = client.api_root(&Url::parse(&server.url("/api1")).unwrap()).unwrap();
    assert_eq!(root.title, "Threat feed");
    assert_eq!(root.versions, [TAXII_MEDIA_TYPE]);
    assert_eq!(root.max_content_length, Some(10_485_760));

    let collections = client.collections(&api_root(&server)).unwrap();
    let ids: Vec<&str> = collections.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [THREATS, BY_DATE]);
    assert!(collections[0].can_read);
    assert!(!collections[0].can_write);
}

#[test]
fn objects_three_pages() {
    let server = TestServer::start(open_policy());
    let objects = fetch(&server, THREATS).unwrap();
    assert_eq!(objects.pages, 3);
    assert_eq!(objects.objects.len(), 6);
    assert!(objects.complete);
    assert_eq!(objects.added_last, Some(day(6)));
    assert!(objects.bytes > 0);
    assert_eq!(
        objects.url,
        server.url(&format!("/api1/collections/{THREATS}/objects/"))
    );

    assert_eq!(
        object_params(&server, "next"),
        [None, Some("2".into()), Some("4".into())]
    );
    assert_eq!(object_params(&server, "limit"), vec![Some("2".to_string()); 3]);
    for request in server.requests() {
        assert_eq!(request.header("accept"), Some(TAXII_MEDIA_TYPE));
        assert_eq!(request.header("authorization"), None);
    }
}

#[test]
fn objects_become_bundle() {
    let server = TestServer::start(open_policy());
    let bundle = fetch(&server, THREATS).unwrap().into_bundle().unwrap();
    let intel = bundle
        .get(&"CVE-2021-44228".parse().unwrap())
        .expect("the CVE is linked");
    let links: Vec<(&str, StixRelationship)> = intel
        .threats
        .iter()
        .map(|fact| (fact.value.threat.name.as_str(), fact.value.relationship))
        .collect();
    assert_eq!(
        links,
        [
            ("APT Example", StixRelationship::Uses),
            ("Khonsari", StixRelationship::Exploits)
        ]
    );
    assert_eq!(intel.threats[1].source.author.as_deref(), Some("Feed Author"));
    assert!(intel.threats[1].source.path.starts_with("http://127.0.0.1:"));
}

#[test]
fn added_after_filters_objects() {
    let server = TestServer::start(open_policy());
    let objects = client(&server, |_| {})
        .objects(&api_root(&server), THREATS, Some(day(4)))
        .unwrap();
    assert_eq!(objects.pages, 1);
    let types: Vec<&str> = objects.objects.iter().map(|o| o["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["intrusion-set", "relationship"]);
    assert_eq!(objects.added_last, Some(day(6)));
    assert_eq!(
        object_params(&server, "added_after"),
        [Some("2024-01-04T00:00:00.000Z".into())]
    );
}

#[test]
fn added_after_past_end_is_empty() {
    let server = TestServer::start(open_policy());
    let objects = client(&server, |_| {})
        .objects(&api_root(&server), THREATS, Some(day(20)))
        .unwrap();
    assert!(objects.objects.is_empty());
    assert!(objects.complete);
    assert_eq!(objects.added_last, None);
}

#[test]
fn paging_by_date_header() {
    let server = TestServer::start(open_policy());
    let objects = fetch(&server, BY_DATE).unwrap();
    assert_eq!(objects.pages, 3);
    assert_eq!(objects.objects.len(), 6);
    assert!(objects.complete);
    assert_eq!(
        object_params(&server, "added_after"),
        [
            None,
            Some("2024-01-02T00:00:00.000Z".into()),
            Some("2024-01-04T00:00:00.000Z".into())
        ]
    );
    assert_eq!(object_params(&server, "next"), [None, None, None]);
}

#[test]
fn basic_auth_required() {
    let server = TestServer::start(Policy {
        authorization: Some(BASIC),
        ..open_policy()
    });
    let error = client(&server, |_| {}).discover().unwrap_err();
    assert!(matches!(error, TaxiiError::Unauthorized { status: 401, .. }), "{error}");
    assert!(error.to_string().contains("check the username and password"), "{error}");

    let wrong = TaxiiAuth::Basic {
        username: "analyst".into(),
        password: "wrong".into(),
    };
    let error = client(&server, |config| config.auth = wrong).discover().unwrap_err();
    assert!(matches!(error, TaxiiError::Unauthorized { .. }), "{error}");

    let right = TaxiiAuth::Basic {
        username: "analyst".into(),
        password: "hunter2".into(),
    };
    let objects = client(&server, |config| config.auth = right)
        .objects(&api_root(&server), THREATS, None)
        .unwrap();
    assert_eq!(objects.objects.len(), 6);
}

#[test]
fn bearer_token_sent() {
    let server = TestServer::start(Policy {
        authorization: Some(BEARER),
        ..open_policy()
    });
    let error = client(&server, |_| {}).discover().unwrap_err();
    assert!(matches!(error, TaxiiError::Unauthorized { .. }), "{error}");

    let token = TaxiiAuth::Bearer {
        token: "tok-123".into(),
    };
    let discovery = client(&server, |config| config.auth = token).discover().unwrap();
    assert_eq!(discovery.api_roots.len(), 2);
}

#[test]
fn wrong_version_is_not_acceptable() {
    let server = TestServer::start(Policy {
        accept: "application/taxii+json;version=2.0",
        ..open_policy()
    });
    let error = client(&server, |_| {}).discover().unwrap_err();
    assert!(matches!(error, TaxiiError::NotAcceptable { .. }), "{error}");
    assert!(error.to_string().contains("status 406"), "{error}");
}

#[test]
fn missing_collection_is_status_error() {
    let server = TestServer::start(open_policy());
    let error = fetch(&server, "absent").unwrap_err();
    let TaxiiError::Status { status, message, .. } = &error else {
        panic!("expected a status error, got {error}");
    };
    assert_eq!(*status, 404);
    assert!(message.contains("Not Found"), "{message}");
}

#[test]
fn malformed_page_is_json_error() {
    let server = TestServer::start(open_policy());
    let error = fetch(&server, "malformed").unwrap_err();
    let TaxiiError::Invalid(IntelError::Json { path, message, .. }) = &error else {
        panic!("expected a JSON error, got {error}");
    };
    assert!(path.contains("/collections/malformed/objects/?limit=2"), "{path}");
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn oversized_page_is_rejected() {
    let server = TestServer::start(open_policy());
    for collection in ["oversized", "oversized-stream"] {
        let error = fetch(&server, collection).unwrap_err();
        assert!(
            matches!(error, TaxiiError::TooLarge { limit: PAGE_LIMIT, .. }),
            "{collection}: {error}"
        );
    }
}

#[test]
fn page_limit_stops_reading() {
    let server = TestServer::start(open_policy());
    let objects = client(&server, |config| config.max_pages = 3)
        .objects(&api_root(&server), "endless", None)
        .unwrap();
    assert_eq!(objects.pages, 3);
    assert_eq!(objects.objects.len(), 3);
    assert!(!objects.complete);
}

#[test]
fn byte_limit_stops_reading() {
    let server = TestServer::start(open_policy());
    let objects = client(&server, |config| config.max_total_bytes = 150)
        .objects(&api_root(&server), "endless", None)
        .unwrap();
    assert!(!objects.complete);
    assert!(objects.pages >= 1, "at least one page fits");
    assert!(objects.bytes <= 150, "read {} bytes", objects.bytes);
}

#[test]
fn more_without_next_is_protocol_error() {
    let server = TestServer::start(open_policy());
    let error = fetch(&server, "stuck").unwrap_err();
    assert!(matches!(error, TaxiiError::Protocol { .. }), "{error}");
    assert!(error.to_string().contains("no next value"), "{error}");
}

#[test]
fn slow_server_times_out() {
    let server = TestServer::start(open_policy());
    let error = client(&server, |config| config.timeout_seconds = 1)
        .objects(&api_root(&server), "slow", None)
        .unwrap_err();
    assert!(matches!(error, TaxiiError::Request { .. }), "{error}");
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[test]
fn other_origin_is_rejected() {
    let server = TestServer::start(open_policy());
    let error = client(&server, |config| config.url = server.url("/other/taxii2/"))
        .discover()
        .unwrap_err();
    assert!(matches!(error, TaxiiError::OtherOrigin { .. }), "{error}");
    assert_eq!(server.requests().len(), 1, "nothing is sent to the other origin");

    let elsewhere = Url::parse("http://127.0.0.2:9/api1/").unwrap();
    let error = client(&server, |_| {}).collections(&elsewhere).unwrap_err();
    assert!(matches!(error, TaxiiError::OtherOrigin { .. }), "{error}");
}

#[test]
fn refused_connection_is_request_error() {
    let address = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = TaxiiConfig {
        url: format!("http://{address}/taxii2/"),
        ..TaxiiConfig::default()
    };
    let error = TaxiiClient::new(config).unwrap().discover().unwrap_err();
    assert!(matches!(error, TaxiiError::Request { .. }), "{error}");
}

#[test]
fn invalid_configuration() {
    let cases = [
        (TaxiiConfig::default(), "invalid URL"),
        (
            TaxiiConfig {
                url: "file:///etc/passwd".into(),
                ..TaxiiConfig::default()
            },
            "expected an http or https URL",
        ),
        (
            TaxiiConfig {
                url: "http://127.0.0.1:1/".into(),
                max_pages: 0,
                ..TaxiiConfig::default()
            },
            "must be above 0",
        ),
        (
            TaxiiConfig {
                url: "http://127.0.0.1:1/".into(),
                timeout_seconds: 0,
                ..TaxiiConfig::default()
            },
            "at least 1 second",
        ),
    ];
    for (config, expected) in cases {
        let error = TaxiiClient::new(config).unwrap_err();
        assert!(matches!(error, TaxiiError::Config { .. }), "{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn invalid_collection_id() {
    let server = TestServer::start(open_policy());
    let error = fetch(&server, "../admin").unwrap_err();
    assert!(
        matches!(
            error,
            TaxiiError::Config {
                field: "collection",
                ..
            }
        ),
        "{error}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn configuration_from_json() {
    let config: TaxiiConfig = serde_json::from_value(json!({
        "url": "https://taxii.example/taxii2/",
        "auth": {"type": "basic", "username": "analyst", "password": "hunter2"},
        "page_size": 500
    }))
    .unwrap();
    assert_eq!(config.page_size, Some(500));
    assert_eq!(config.timeout_seconds, TaxiiConfig::default().timeout_seconds);
    assert!(!format!("{config:?}").contains("hunter2"), "Debug hides the password");

    let unknown = serde_json::from_value::<TaxiiConfig>(json!({"url": "https://taxii.example/", "pages": 3}));
    let message = unknown.unwrap_err().to_string();
    assert!(message.contains("unknown field `pages`"), "{message}");
}

/// Builds a cache source that reads the threats collection.
fn cache_source(server: &TestServer) -> ctem_intel::taxii_feed::TaxiiSource {
    ctem_intel::taxii_feed::TaxiiSource {
        name: "isac".into(),
        api_root: server.url("/api1/"),
        collection: THREATS.into(),
        server: TaxiiConfig {
            url: server.url("/taxii2/"),
            page_size: Some(4),
            max_page_bytes: PAGE_LIMIT,
            ..TaxiiConfig::default()
        },
    }
}

#[test]
fn pull_into_cache_then_resume() {
    use ctem_intel::IntelCache;
    use ctem_intel::taxii_feed::{collection_dir, pull_taxii};

    let server = TestServer::start(open_policy());
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    let source = cache_source(&server);

    let first = {
        let lock = cache.lock().unwrap();
        pull_taxii(&cache, &lock, &source).unwrap()
    };
    assert_eq!(first.objects, 6);
    assert!(first.complete);
    assert_eq!(first.added_last, Some(day(6)));
    assert!(first.file.as_ref().is_some_and(|file| file.is_file()));

    // Nothing was added since: no request without added_after, no new file.
    let second = {
        let lock = cache.lock().unwrap();
        pull_taxii(&cache, &lock, &source).unwrap()
    };
    assert_eq!(second.objects, 0);
    assert_eq!(second.file, None);
    let afters = object_params(&server, "added_after");
    assert_eq!(afters.last().unwrap().as_deref(), Some(stamp(day(6)).as_str()));

    let bundles: Vec<_> = std::fs::read_dir(collection_dir(&cache, "isac"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    assert_eq!(bundles.len(), 1, "{bundles:?}");

    // The cache's intelligence links the CVE to the malware and the intrusion set.
    let intel = cache.load_intel().unwrap();
    let facts = intel.facts(&"CVE-2021-44228".parse().unwrap());
    let names: Vec<&str> = facts.threats.iter().map(|t| t.value.threat.name.as_str()).collect();
    assert!(
        names.contains(&"Khonsari") && names.contains(&"APT Example"),
        "{names:?}"
    );
}

#[test]
fn pull_rejects_a_name_that_is_no_folder() {
    use ctem_intel::IntelCache;
    use ctem_intel::taxii_feed::pull_taxii;

    let server = TestServer::start(open_policy());
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    let mut source = cache_source(&server);
    source.name = "../escape".into();

    let lock = cache.lock().unwrap();
    let error = pull_taxii(&cache, &lock, &source).unwrap_err().to_string();
    assert!(error.contains("name must be"), "{error}");
    assert!(server.requests().is_empty());
    assert!(!dir.path().join("escape").exists());
}

#[test]
fn failed_pull_keeps_cursor_and_bundles() {
    use ctem_intel::IntelCache;
    use ctem_intel::taxii_feed::{collection_dir, pull_taxii};

    let server = TestServer::start(open_policy());
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    let source = cache_source(&server);
    {
        let lock = cache.lock().unwrap();
        pull_taxii(&cache, &lock, &source).unwrap();
    }
    let folder = collection_dir(&cache, "isac");
    let before: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
    let cursor = std::fs::read(folder.join(".cursor.json")).unwrap();

    let mut broken = source.clone();
    broken.collection = "missing".into();
    let lock = cache.lock().unwrap();
    assert!(pull_taxii(&cache, &lock, &broken).is_err());
    let after: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(before.len(), after.len());
    assert_eq!(std::fs::read(folder.join(".cursor.json")).unwrap(), cursor);
}
