//! The HTTP/1.1 plumbing that the fake trackers share: a server on
//! 127.0.0.1 that reads one request per connection and writes the
//! response of a handler, and a recorder of requests with a queue of
//! faults for the next matching requests.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The largest request body a fake reads.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A request as a fake saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A status, extra headers and a JSON body.
pub(crate) type Answer = (u16, Vec<(String, String)>, String);

/// Requests recorded in order, and faults waiting for a matching request.
pub(crate) struct Recorder<F> {
    pub requests: Vec<SeenRequest>,
    faults: VecDeque<(String, String, F)>,
}

impl<F> Default for Recorder<F> {
    fn default() -> Self {
        Recorder {
            requests: Vec::new(),
            faults: VecDeque::new(),
        }
    }
}

impl<F> Recorder<F> {
    /// Queues a fault for the next request whose method is `method` and
    /// whose path contains `path`.
    pub fn fail_next(&mut self, method: &str, path: &str, fault: F) {
        self.faults.push_back((method.to_string(), path.to_string(), fault));
    }

    /// Records a request and takes the first fault that matches it.
    pub fn record(&mut self, request: &SeenRequest) -> Option<F> {
        self.requests.push(request.clone());
        let position = self
            .faults
            .iter()
            .position(|(method, path, _)| *method == request.method && request.path.contains(path.as_str()))?;
        self.faults.remove(position).map(|(_, _, fault)| fault)
    }

    /// Counts the requests with a method whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests
            .iter()
            .filter(|request| request.method == method && request.path.ends_with(suffix))
            .count()
    }
}

/// A server on a free loopback port; it stops when dropped.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server that responds to each request with the response of
    /// `handle`, given the request and the server's base URL. When the
    /// handler returns `None`, the connection closes without a response.
    pub fn start<H>(handle: H) -> Server
    where
        H: Fn(&SeenRequest, &str) -> Option<Answer> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let base = format!("http://{addr}");
        let stop = Arc::new(AtomicBool::new(false));
        let handle = Arc::new(handle);
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handle, base) = (handle.clone(), base.clone());
                    std::thread::spawn(move || serve(stream, &base, handle.as_ref()));
                }
            })
        };
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// Returns the base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then reads the stop flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, base: &str, handle: &(dyn Fn(&SeenRequest, &str) -> Option<Answer> + Send + Sync)) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let Some((status, headers, body)) = handle(&request, base) else {
        return;
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

fn read_request(stream: &TcpStream) -> Option<SeenRequest> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));

    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = match headers.get("content-length") {
        Some(length) => length.parse().ok()?,
        None => 0,
    };
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(SeenRequest {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
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

/// Returns the first value of a query parameter.
pub(crate) fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}
