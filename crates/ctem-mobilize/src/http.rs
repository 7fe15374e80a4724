//! JSON over HTTP with retries: backoff after timeouts and 5xx responses,
//! `Retry-After` after a 429 or 503, and no retry where it cannot help.
//!
//! | response | what happens |
//! | --- | --- |
//! | 2xx | the body is returned |
//! | 401, 403 | [`TrackerError::Unauthorized`], no retry |
//! | 429, 503 with `Retry-After` | wait that long (at most `max_retry_after`), then retry |
//! | 403, 429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` | wait until the reset (GitHub's rate limit), then retry |
//! | 5xx, 429 without `Retry-After`, timeout, connection error | back off (doubling), then retry |
//! | other 4xx | [`TrackerError::Status`] with the tracker's message, no retry |
//!
//! A request that is not safe to repeat (a create) is sent once when the
//! outcome is unknown: the caller checks what the tracker did first.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::tracker::TrackerError;

/// The largest response body read: far above any page of tickets.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// How to authenticate.
#[derive(Clone)]
pub enum Auth {
    Basic {
        user: String,
        token: String,
    },
    Bearer {
        token: String,
    },
    /// A token in a header of its own, such as GitLab's `PRIVATE-TOKEN`.
    Header {
        name: HeaderName,
        token: String,
    },
}

// The token never reaches a log or an error message.
impl std::fmt::Debug for Auth {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(formatter, "Basic {{ user: {user:?}, token: <redacted> }}"),
            Auth::Bearer { .. } => formatter.write_str("Bearer { token: <redacted> }"),
            Auth::Header { name, .. } => write!(formatter, "Header {{ name: {name:?}, token: <redacted> }}"),
        }
    }
}

/// Retry settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, counting the first.
    pub attempts: u32,
    /// The first backoff; it doubles with each retry.
    pub backoff: Duration,
    /// The longest `Retry-After` waited for.
    pub max_retry_after: Duration,
}

/// A JSON client bound to one tracker.
#[derive(Debug)]
pub struct HttpClient {
    client: Client,
    auth: Auth,
    retry: RetryPolicy,
    /// Headers sent with every request; an `Accept` here replaces the
    /// default `application/json`.
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Whether a request may be sent again when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Safe,
    /// Sent again only after responses that show it was not processed
    /// (429, or 503 with `Retry-After`).
    Unsafe,
}

impl HttpClient {
    /// Builds a client with a timeout per request and no redirects, so
    /// that credentials go only to the configured host.
    pub fn new(auth: Auth, timeout: Duration, retry: RetryPolicy) -> Result<HttpClient, String> {
        let client = Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ctem/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(HttpClient {
            client,
            auth,
            retry,
            headers: Vec::new(),
        })
    }

    /// Adds a header to every request, such as a media type or an API
    /// version.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> HttpClient {
        self.headers.push((name, value));
        self
    }

    /// Sends a request with an optional JSON body and returns the JSON
    /// response (`Value::Null` for an empty body).
    pub fn send(&self, method: Method, url: &str, body: Option<&Value>, repeat: Repeat) -> Result<Value, TrackerError> {
        self.send_for_headers(method, url, body, repeat).map(|(value, _)| value)
    }

    /// Sends a request like [`HttpClient::send`] and returns the response
    /// headers too, for paging by `Link` or `x-next-page`.
    pub fn send_for_headers(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<(Value, HeaderMap), TrackerError> {
        let mut backoff = self.retry.backoff;
        let mut last = String::new();
        let mut attempts_made = 0;
        for attempt in 1..=self.retry.attempts {
            attempts_made = attempt;
            let request = self.request(method.clone(), url, body);
            let wait = match request.send() {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        let headers = response.headers().clone();
                        return read_json(url, response).map(|value| (value, headers));
                    }
                    let retry_after = retry_after(response.headers()).or_else(|| rate_limit_reset(response.headers()));
                    let message = error_message(response);
                    match classify(status, retry_after) {
                        Answer::Unauthorized => {
                            return Err(TrackerError::Unauthorized {
                                url: url.to_string(),
                                status: status.as_u16(),
                            });
                        }
                        Answer::Final => {
                            return Err(TrackerError::Status {
                                url: url.to_string(),
                                status: status.as_u16(),
                                message,
                            });
                        }
                        Answer::WaitFor(seconds) => {
                            if Duration::from_secs(seconds) > self.retry.max_retry_after {
                                return Err(TrackerError::RateLimited {
                                    url: url.to_string(),
                                    seconds,
                                    max: self.retry.max_retry_after.as_secs(),
                                });
                            }
                            last = format!("HTTP {}", status.as_u16());
                            Duration::from_secs(seconds)
                        }
                        Answer::Backoff => {
                            last = format!("HTTP {}: {message}", status.as_u16());
                            if repeat == Repeat::Unsafe && status != StatusCode::TOO_MANY_REQUESTS {
                                break;
                            }
                            backoff
                        }
                    }
                }
                Err(error) => {
                    last = describe(&error);
                    if repeat == Repeat::Unsafe && !error.is_connect() {
                        break;
                    }
                    backoff
                }
            };
            if attempt < self.retry.attempts {
                tracing::warn!(url, attempt, wait_ms = wait.as_millis() as u64, reason = %last, "retrying a tracker request");
                std::thread::sleep(wait);
                backoff = backoff.saturating_mul(2);
            }
        }
        Err(TrackerError::Exhausted {
            url: url.to_string(),
            attempts: attempts_made,
            last,
        })
    }

    fn request(&self, method: Method, url: &str, body: Option<&Value>) -> RequestBuilder {
        let mut request = self.client.request(method, url);
        if !self.headers.iter().any(|(name, _)| name == reqwest::header::ACCEPT) {
            request = request.header(reqwest::header::ACCEPT, "application/json");
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request = match &self.auth {
            Auth::Basic { user, token } => request.basic_auth(user, Some(token)),
            Auth::Bearer { token } => request.bearer_auth(token),
            Auth::Header { name, token } => request.header(name, token),
        };
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        request
    }
}

enum Answer {
    Unauthorized,
    Final,
    WaitFor(u64),
    Backoff,
}

fn classify(status: StatusCode, retry_after: Option<u64>) -> Answer {
    match status.as_u16() {
        403 | 429 | 503 if retry_after.is_some() => Answer::WaitFor(retry_after.unwrap_or_default()),
        401 | 403 => Answer::Unauthorized,
        429 | 500..=599 => Answer::Backoff,
        _ => Answer::Final,
    }
}

/// Reads `Retry-After` in seconds. An HTTP date is turned into the seconds
/// from now; a value of neither form is ignored.
fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let seconds = (date.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(seconds.max(0) as u64)
}

/// Reads GitHub's and GitLab's rate limit headers: when no request is
/// left (`x-ratelimit-remaining` or `ratelimit-remaining` is 0), returns
/// the seconds until the reset time (`x-ratelimit-reset` or
/// `ratelimit-reset`, in Unix seconds).
fn rate_limit_reset(headers: &HeaderMap) -> Option<u64> {
    let number = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|name| headers.get(*name)?.to_str().ok()?.trim().parse::<i64>().ok())
    };
    if number(["x-ratelimit-remaining", "ratelimit-remaining"])? != 0 {
        return None;
    }
    let reset = number(["x-ratelimit-reset", "ratelimit-reset"])?;
    Some((reset - chrono::Utc::now().timestamp()).max(0) as u64)
}

/// Reads a JSON body of at most [`MAX_RESPONSE_BYTES`].
fn read_json(url: &str, response: reqwest::blocking::Response) -> Result<Value, TrackerError> {
    use std::io::Read;

    let mut bytes = Vec::new();
    response
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| TrackerError::Exhausted {
            url: url.to_string(),
            attempts: 1,
            last: format!("reading the response failed: {error}"),
        })?;
    if bytes.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(TrackerError::Malformed {
            url: url.to_string(),
            path: "$".to_string(),
            reason: format!("the response exceeds {MAX_RESPONSE_BYTES} bytes"),
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|error| TrackerError::Malformed {
        url: url.to_string(),
        path: format!("line {} column {}", error.line(), error.column()),
        reason: format!("invalid JSON: {error}"),
    })
}

/// Extracts Jira's `errorMessages` and `errors`, or GitHub's and GitLab's
/// `message`, from an error body, else the first 200 characters of the
/// body.
fn error_message(response: reqwest::blocking::Response) -> String {
    use std::io::Read;

    let mut bytes = Vec::new();
    let _ = response.take(64 * 1024).read_to_end(&mut bytes);
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        let mut messages: Vec<String> = value["errorMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|message| message.as_str().map(str::to_string))
            .collect();
        if let Some(errors) = value["errors"].as_object() {
            messages.extend(
                errors
                    .iter()
                    .map(|(field, message)| format!("{field}: {}", message.as_str().unwrap_or_default())),
            );
        }
        match &value["message"] {
            Value::String(message) => messages.push(message.clone()),
            Value::Null => {}
            other => messages.push(other.to_string()),
        }
        if !messages.is_empty() {
            return messages.join("; ");
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text.chars().take(200).collect();
    if text.trim().is_empty() {
        "no error message".to_string()
    } else {
        text
    }
}

/// Describes a reqwest error with its causes, which its `Display` leaves out.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
