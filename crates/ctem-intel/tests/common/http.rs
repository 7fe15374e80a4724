//! A small HTTP/1.1 server on 127.0.0.1 for download tests. Each path has
//! a handler that chooses the reply, byte for byte: a normal response, one
//! without `Content-Length`, or one that stalls. Every request is recorded.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The path without the query.
    pub path: String,
    pub query: String,
    /// Header names in lowercase.
    pub headers: HashMap<String, String>,
}

impl Request {
    /// Returns the value of a query parameter, as sent (not percent-decoded).
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_string())
        })
    }
}

/// What the server sends back.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A response with a `Content-Length` that matches the body.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A response without `Content-Length`, ended by closing the connection.
    Unsized { body: Vec<u8> },
    /// Headers that promise `declared` bytes, then `sent`, then silence for
    /// `stall` before the connection closes.
    Stall {
        declared: usize,
        sent: Vec<u8>,
        stall: Duration,
    },
}

impl Reply {
    /// `200 OK` with a body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Builds a response with a status, headers and no body.
    pub fn status(status: u16, headers: &[(&str, &str)]) -> Reply {
        Reply::Full {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }
    }

    /// Adds a header to a full response.
    pub fn with(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

type Handler = Box<dyn FnMut(&Request) -> Reply + Send>;

/// The server; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    handlers: Arc<Mutex<HashMap<String, Handler>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let handlers: Arc<Mutex<HashMap<String, Handler>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));

        let thread = {
            let (handlers, requests, stop) = (handlers.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handlers, requests) = (handlers.clone(), requests.clone());
                    std::thread::spawn(move || serve(stream, &handlers, &requests));
                }
            })
        };
        Server {
            addr,
            handlers,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Returns the URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves requests to `path` with `handler`.
    pub fn route(&self, path: &str, handler: impl FnMut(&Request) -> Reply + Send + 'static) {
        self.handlers
            .lock()
            .unwrap()
            .insert(path.to_string(), Box::new(handler));
    }

    /// Serves requests to `path` with `replies` in turn, repeating the last.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        let mut replies = replies.into_iter().collect::<std::collections::VecDeque<_>>();
        self.route(path, move |_| {
            if replies.len() > 1 {
                replies.pop_front().unwrap()
            } else {
                replies.front().cloned().expect("a script has a reply")
            }
        });
    }

    /// Returns every request to `path` so far.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, handlers: &Mutex<HashMap<String, Handler>>, requests: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    requests.lock().unwrap().push(request.clone());
    let reply = match handlers.lock().unwrap().get_mut(&request.path) {
        Some(handler) => handler(&request),
        None => Reply::status(404, &[]),
    };

    match reply {
        Reply::Full { status, headers, body } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Unsized { body } => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(&body);
        }
        Reply::Stall { declared, sent, stall } => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&sent);
            let _ = stream.flush();
            std::thread::sleep(stall);
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    while !bytes.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 || bytes.len() > 64 * 1024 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_string();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (target, String::new()),
    };
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Some(Request { path, query, headers })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
