//! Helpers that the DAST parsers (ZAP XML, Burp, Nuclei, Nikto) share: web
//! origins and their assets, credential masking in HTTP evidence, Burp's
//! HTML, base64, and a reader that bounds the size of one record.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::net::IpAddr;
use std::rc::Rc;

use ctem_model::{Asset, AssetKind, MaskedSecret};

/// The maximum size in bytes of the evidence a DAST finding keeps.
pub(crate) const EVIDENCE_BYTES: usize = 4096;

/// The maximum size in bytes of one record (an XML event, a JSON line, one
/// issue), so that a corrupt or hostile file cannot fill the memory with a
/// single string. Real records stay far below it: the largest part of a
/// DAST record is an HTTP response body of a few MiB.
pub(crate) const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// The text that replaces a masked value in evidence: the masked form that
/// [`ctem_model::MaskedSecret`] gives a short secret.
pub(crate) const MASK: &str = "********";

/// HTTP headers whose whole value is a credential.
const TOKEN_HEADERS: &[&str] = &[
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "x-access-token",
    "x-csrf-token",
    "x-xsrf-token",
    "x-amz-security-token",
    "x-goog-api-key",
    "private-token",
    "x-vault-token",
    "sessionid",
];

/// A web origin: scheme, host and port, as in `https://shop.example.test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// `http` or `https` (or another scheme), lowercase.
    pub scheme: String,
    /// The host name, lowercase, or an IP address (IPv6 without brackets).
    pub host: String,
    /// The port the URL names, if any.
    pub port: Option<u16>,
}

impl Origin {
    /// Reads the origin of an absolute URL (`scheme://[user@]host[:port]/...`).
    /// Returns `None` for text without a scheme or host. User information
    /// is dropped, because it may hold a password.
    pub fn parse(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.trim().split_once("://")?;
        if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
            return None;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = split_host_port(authority)?;
        Some(Origin {
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
        })
    }

    /// Reads `host`, `host:port` or a URL, with `scheme` where the text
    /// names none.
    pub fn parse_with_scheme(text: &str, scheme: &str) -> Option<Origin> {
        if text.contains("://") {
            return Origin::parse(text);
        }
        let authority = text.trim().split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = split_host_port(authority)?;
        Some(Origin {
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
        })
    }

    /// Returns the port the origin connects to: the named one, else the
    /// scheme's default (80 for http, 443 for https).
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or(match self.scheme.as_str() {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        })
    }

    /// Writes `scheme://host[:port]`, without the port where it is the
    /// scheme's default, as browsers and ZAP write site names.
    pub fn to_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = match self.scheme.as_str() {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        };
        match self.port {
            Some(port) if Some(port) != default => format!("{}://{host}:{port}", self.scheme),
            _ => format!("{}://{host}", self.scheme),
        }
    }

    /// Joins the origin and a path (`/login.jsp`), adding the slash that a
    /// path without one lacks.
    pub fn join(&self, path: &str) -> String {
        let path = path.trim();
        if path.is_empty() {
            return self.to_url();
        }
        if path.starts_with('/') {
            format!("{}{path}", self.to_url())
        } else {
            format!("{}/{path}", self.to_url())
        }
    }

    /// Builds the web application asset of the origin, keyed by
    /// [`Origin::to_url`], with `url`, `hostname` or `ip`, and `port`
    /// identifiers, and the `ip` the scanner resolved where it gives one.
    pub fn asset(&self, resolved_ip: Option<&str>) -> Asset {
        let url = self.to_url();
        let mut asset = Asset::new(AssetKind::WebApp, &url, url.clone());
        asset.add_identifier("url", url);
        let kind = if self.host.parse::<IpAddr>().is_ok() {
            "ip"
        } else {
            "hostname"
        };
        asset.add_identifier(kind, self.host.clone());
        if let Some(ip) = resolved_ip.and_then(valid_ip) {
            asset.add_identifier("ip", ip);
        }
        if let Some(port) = self.effective_port() {
            asset.add_identifier("port", port.to_string());
        }
        asset
    }
}

/// Splits `host[:port]` or `[v6]:port`; the host is lowercased. Returns
/// `None` for an empty host or a port that is no number.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim();
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else if authority.matches(':').count() > 1 {
        // A bare IPv6 address has no port.
        (authority, None)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let port = match port.map(str::trim).filter(|p| !p.is_empty()) {
        Some(port) => Some(port.parse().ok()?),
        None => None,
    };
    Some((host, port))
}

/// Returns the text as an IP address when it is one, so that a scanner's
/// odd value (`10.10.10.10.`) never becomes an identifier.
pub(crate) fn valid_ip(text: &str) -> Option<String> {
    text.trim().parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// Masks the values of the HTTP headers that carry credentials in a
/// request or response head, line by line. `Authorization` and
/// `Proxy-Authorization` keep their scheme word. `Cookie` and `Set-Cookie`
/// keep the cookie names and attributes, because findings are about them.
/// Token headers such as `X-Api-Key` lose their whole value. Other lines
/// are kept as written.
pub(crate) fn mask_http_credentials(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        output.push_str(&mask_header_line(content));
        output.push_str(&line[content.len()..]);
    }
    output
}

/// Masks one header line, or returns it unchanged when it is no header
/// that carries a credential.
fn mask_header_line(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let Some((name, value)) = line[indent..].split_once(':') else {
        return line.to_string();
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return line.to_string();
    }
    let lower = name.to_ascii_lowercase();
    let masked = match lower.as_str() {
        "authorization" | "proxy-authorization" => mask_authorization(value),
        "cookie" | "set-cookie" | "set-cookie2" => mask_cookie_pairs(value),
        _ if TOKEN_HEADERS.contains(&lower.as_str()) => mask_whole(value),
        _ => return line.to_string(),
    };
    format!("{}{name}:{masked}", &line[..indent])
}

/// `Bearer abc` becomes `Bearer ********`; a value of one word becomes
/// `********`.
fn mask_authorization(value: &str) -> String {
    let leading = &value[..value.len() - value.trim_start().len()];
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return value.to_string();
    }
    match trimmed.split_once(char::is_whitespace) {
        Some((scheme, _)) => format!("{leading}{scheme} {MASK}"),
        None => format!("{leading}{MASK}"),
    }
}

fn mask_whole(value: &str) -> String {
    let leading = &value[..value.len() - value.trim_start().len()];
    if value.trim().is_empty() {
        value.to_string()
    } else {
        format!("{leading}{MASK}")
    }
}

/// Cookie attributes of `Set-Cookie`, whose values are no secrets.
const COOKIE_ATTRIBUTES: &[&str] = &[
    "path",
    "domain",
    "expires",
    "max-age",
    "samesite",
    "secure",
    "httponly",
    "priority",
    "partitioned",
    "version",
    "comment",
];

/// Masks the cookie values in a `Cookie` or `Set-Cookie` value, or in a
/// list of them: every `name=value` whose name is no cookie attribute
/// (`a=1; b=2; Path=/` becomes `a=********; b=********; Path=/`). Parts
/// without a value are kept.
pub(crate) fn mask_cookie_pairs(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    for piece in text.split_inclusive(|c: char| c == ';' || c == ',' || c.is_whitespace()) {
        let token = piece.trim_end_matches(|c: char| c == ';' || c == ',' || c.is_whitespace());
        let separator = &piece[token.len()..];
        match token.split_once('=') {
            Some((name, value))
                if !value.is_empty() && !COOKIE_ATTRIBUTES.contains(&name.trim().to_ascii_lowercase().as_str()) =>
            {
                output.push_str(name);
                output.push('=');
                output.push_str(MASK);
            }
            _ => output.push_str(token),
        }
        output.push_str(separator);
    }
    output
}

/// Replaces every occurrence of each clear secret in a text with its
/// masked form ([`MaskedSecret::masked`]). Secrets shorter than three
/// characters are skipped, because replacing them would garble ordinary
/// words while hiding nothing.
pub(crate) fn mask_values(text: &str, secrets: &[String]) -> String {
    let mut output = text.to_string();
    for secret in secrets.iter().filter(|s| s.chars().count() >= 3) {
        if output.contains(secret.as_str()) {
            output = output.replace(secret.as_str(), &MaskedSecret::new(secret).masked);
        }
    }
    output
}

/// Decodes the start of a base64 text (standard or URL-safe alphabet,
/// whitespace ignored) into at most `max_bytes` bytes. Decoding stops at
/// padding or at the first byte outside the alphabet, so a damaged value
/// gives what could be read.
pub(crate) fn decode_base64_prefix(text: &str, max_bytes: usize) -> Vec<u8> {
    let mut output = Vec::with_capacity(max_bytes.min(text.len()));
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => break,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            output.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
            if output.len() >= max_bytes {
                break;
            }
        }
    }
    output
}

/// Returns the head of an HTTP message (the request or status line and
/// the headers, up to the first blank line) as text, with credentials
/// masked and at most `max_bytes` kept. The body is never kept.
pub(crate) fn http_head(message: &[u8], max_bytes: usize) -> String {
    let end = find(message, b"\r\n\r\n")
        .or_else(|| find(message, b"\n\n"))
        .unwrap_or(message.len());
    let head = String::from_utf8_lossy(&message[..end]).replace("\r\n", "\n");
    let head = truncate_at_char(head.trim_end(), max_bytes);
    mask_http_credentials(head)
}

/// Returns the first line of an HTTP message, such as `HTTP/1.1 200 OK`.
pub(crate) fn first_line(message: &[u8]) -> Option<String> {
    let end = find(message, b"\n").unwrap_or(message.len());
    let line = String::from_utf8_lossy(&message[..end]).trim().to_string();
    (!line.is_empty()).then_some(line)
}

/// Returns the method of a request's first line (`GET / HTTP/1.1`), when
/// it is an uppercase token.
pub(crate) fn request_method(request: &[u8]) -> Option<String> {
    let line = first_line(request)?;
    let method = line.split_whitespace().next()?;
    (method.len() <= 16 && method.bytes().all(|b| b.is_ascii_uppercase())).then(|| method.to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Cuts text to at most `max_bytes` at a character boundary.
pub(crate) fn truncate_at_char(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Turns the HTML that Burp writes in issue texts (`<p>`, `<ul><li>`,
/// `<br>`, `<b>`, `<a href>`) into plain text: paragraphs and lists start
/// new lines, list items are marked `- `, every tag is dropped, and
/// entities are decoded. Text that is no tag (a `<` without `>`) is kept.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            text.push('<');
            rest = after;
            continue;
        };
        // A tag name follows `<` or `</` at once; `a < b` is text.
        let tag = after[..end].strip_prefix('/').unwrap_or(&after[..end]);
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match name.as_str() {
            "p" | "div" | "ul" | "ol" | "table" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "pre" => {
                text.push_str("\n\n")
            }
            "br" => text.push('\n'),
            "li" if !after.starts_with('/') => text.push_str("\n- "),
            "td" | "th" => text.push(' '),
            "" => {
                // `<` followed by no tag name (`a < b`): keep it as text.
                text.push('<');
                rest = after;
                continue;
            }
            _ => {}
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    let text = crate::util::xml_unescape(&text)
        .replace('\u{a0}', " ")
        .replace("&nbsp;", " ");
    normalize_paragraphs(&text)
}

/// Trims every line, drops empty lines inside a paragraph, and separates
/// paragraphs by one blank line.
pub(crate) fn normalize_paragraphs(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    paragraphs.join("\n\n")
}

/// Returns the targets of the `href` attributes of an HTML fragment.
pub(crate) fn html_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("href=") {
        let after = &rest[start + 5..];
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        let link = match quote {
            Some(quote) => after[1..].split(quote).next().unwrap_or_default(),
            None => after
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or_default(),
        };
        let link = crate::util::xml_unescape(link.trim()).into_owned();
        if !link.is_empty() && !links.contains(&link) {
            links.push(link);
        }
        rest = after;
    }
    links
}

/// Returns the numbers of the `CWE-n` names in a text, in order, once each.
pub(crate) fn cwe_numbers(text: &str) -> Vec<u32> {
    let mut numbers = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("CWE-") {
        let digits: String = rest[start + 4..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(number) = digits.parse::<u32>()
            && !numbers.contains(&number)
        {
            numbers.push(number);
        }
        rest = &rest[start + 4..];
    }
    numbers
}

/// The place where Burp inserted its payload, read from the bracket at the
/// end of an issue's location or caption: `/login.jsp [username parameter]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsertionPoint {
    /// The parameter, cookie or header name, or the whole description
    /// where Burp names no single one (`URL path filename`).
    pub name: String,
    /// `parameter`, `cookie`, `header`, or `other`.
    pub kind: &'static str,
}

/// Reads the insertion point of a Burp location (`/a [b_id cookie]`).
/// Returns `None` for a location without one.
pub(crate) fn insertion_point(location: &str) -> Option<InsertionPoint> {
    let location = location.trim();
    let inner = location.strip_suffix(']')?;
    let start = inner
        .rfind(" [")
        .map(|i| i + 2)
        .or_else(|| inner.strip_prefix('[').map(|_| 1))?;
    let inner = inner[start..].trim();
    if inner.is_empty() {
        return None;
    }
    let generic = inner.starts_with("name of ") || inner.starts_with("URL path");
    for (suffix, kind) in [
        (" cookie", "cookie"),
        (" HTTP header", "header"),
        (" parameter", "parameter"),
    ] {
        if let Some(name) = inner.strip_suffix(suffix).filter(|_| !generic) {
            return Some(InsertionPoint {
                name: name.trim().to_string(),
                kind,
            });
        }
    }
    Some(InsertionPoint {
        name: inner.to_string(),
        kind: "other",
    })
}

/// A record that deserializes only from a JSON object. Derived structs
/// also accept an array of their fields in order, which no report writes.
/// Taking one would turn a damaged file into empty findings instead of an
/// error.
#[derive(Debug)]
pub(crate) struct ObjectOnly<T>(pub T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("an object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// A reader that fails once one record grows past a limit: the parser
/// calls [`RecordLimit::reset`] at each record boundary, and a read that
/// would pass the limit since then returns an error instead. The limit
/// bounds the memory that one huge string (a line of gigabytes) needs.
pub(crate) struct LimitedReader<'r> {
    inner: &'r mut dyn BufRead,
    limit: RecordLimit,
}

/// The shared counter of a [`LimitedReader`], kept by the parser to reset
/// it and to tell a limit error from other read errors.
#[derive(Clone)]
pub(crate) struct RecordLimit {
    read: Rc<Cell<u64>>,
    exceeded: Rc<Cell<bool>>,
    max_bytes: u64,
}

impl RecordLimit {
    pub fn new(max_bytes: u64) -> RecordLimit {
        RecordLimit {
            read: Rc::new(Cell::new(0)),
            exceeded: Rc::new(Cell::new(false)),
            max_bytes,
        }
    }

    /// Starts a new record.
    pub fn reset(&self) {
        self.read.set(0);
    }

    /// Returns whether a read failed because a record passed the limit.
    pub fn exceeded(&self) -> bool {
        self.exceeded.get()
    }

    /// Returns the limit in MiB, for messages.
    pub fn max_mib(&self) -> u64 {
        self.max_bytes / (1024 * 1024)
    }

    fn allowed(&self) -> io::Result<u64> {
        let allowed = self.max_bytes.saturating_sub(self.read.get());
        if allowed == 0 {
            self.exceeded.set(true);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("one record is longer than {} MiB", self.max_mib()),
            ));
        }
        Ok(allowed)
    }
}

impl<'r> LimitedReader<'r> {
    pub fn new(inner: &'r mut dyn BufRead, limit: RecordLimit) -> LimitedReader<'r> {
        LimitedReader { inner, limit }
    }
}

impl Read for LimitedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl BufRead for LimitedReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let available = self.inner.fill_buf()?;
        if available.is_empty() {
            return Ok(available);
        }
        let allowed = self.limit.allowed()?;
        let count = usize::try_from(allowed).unwrap_or(usize::MAX).min(available.len());
        Ok(&available[..count])
    }

    fn consume(&mut self, amount: usize) {
        self.limit.read.set(self.limit.read.get() + amount as u64);
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_drops_default_port() {
        let origin = Origin::parse("HTTPS://Shop.Example.test:443/cart?id=1").unwrap();
        assert_eq!(origin.to_url(), "https://shop.example.test");
        assert_eq!(origin.effective_port(), Some(443));
        let origin = Origin::parse("http://10.20.30.40:8080/WebGoat").unwrap();
        assert_eq!(origin.to_url(), "http://10.20.30.40:8080");
        assert_eq!(origin.join("login"), "http://10.20.30.40:8080/login");
    }

    #[test]
    fn origin_drops_user_information() {
        let origin = Origin::parse("https://admin:hunter22@intranet.example.test/").unwrap();
        assert_eq!(origin.to_url(), "https://intranet.example.test");
    }

    #[test]
    fn origin_reads_host_and_port() {
        let origin = Origin::parse_with_scheme("db.example.test:3306", "tcp").unwrap();
        assert_eq!(origin.host, "db.example.test");
        assert_eq!(origin.port, Some(3306));
        let v6 = Origin::parse("http://[2001:db8::1]:8080/").unwrap();
        assert_eq!(v6.host, "2001:db8::1");
        assert_eq!(v6.to_url(), "http://[2001:db8::1]:8080");
        assert_eq!(Origin::parse("no scheme here"), None);
        assert_eq!(Origin::parse("http://host:notaport/"), None);
        assert_eq!(Origin::parse("http:///path"), None);
    }

    #[test]
    fn headers_are_masked() {
        let head = "GET / HTTP/1.1\r\nHost: shop.example.test\r\nAuthorization: Bearer eyJhbGciOi.abc\r\n\
                    Cookie: sid=8f2a91; theme=dark\r\nX-Api-Key: k-123456\r\n  set-cookie: sid=77aa; Path=/; HttpOnly\r\n";
        let masked = mask_http_credentials(head);
        assert_eq!(
            masked,
            "GET / HTTP/1.1\r\nHost: shop.example.test\r\nAuthorization: Bearer ********\r\n\
             Cookie: sid=********; theme=********\r\nX-Api-Key: ********\r\n  set-cookie: sid=********; Path=/; HttpOnly\r\n"
        );
    }

    #[test]
    fn header_names_only_stay() {
        assert_eq!(mask_http_credentials("Set-Cookie: opvc"), "Set-Cookie: opvc");
        assert_eq!(mask_http_credentials("Authorization: Basic"), "Authorization: ********");
        assert_eq!(
            mask_http_credentials("plain text: with colon"),
            "plain text: with colon"
        );
    }

    #[test]
    fn cookie_attributes_stay() {
        let text = "security=low; path=/ PHPSESSID=90af3b3f; expires=Tue, 13 Jan 2026 13:47:44 GMT; Max-Age=86400";
        assert_eq!(
            mask_cookie_pairs(text),
            "security=********; path=/ PHPSESSID=********; expires=Tue, 13 Jan 2026 13:47:44 GMT; Max-Age=86400"
        );
        assert_eq!(mask_cookie_pairs("theme"), "theme");
    }

    #[test]
    fn values_are_masked() {
        let text = mask_values("login admin / cisco worked", &["cisco".to_string(), "x".to_string()]);
        assert_eq!(text, "login admin / ******** worked");
        let token = mask_values("key=AKIAZZZZEXAMPLE7KEY1;", &["AKIAZZZZEXAMPLE7KEY1".to_string()]);
        assert_eq!(token, "key=AKIA********;");
    }

    #[test]
    fn base64_prefix_decodes() {
        assert_eq!(decode_base64_prefix("R0VUIC8gSFRUUC8xLjE=", 100), b"GET / HTTP/1.1");
        assert_eq!(decode_base64_prefix("R0VU\nIC8g", 100), b"GET / ");
        assert_eq!(decode_base64_prefix("R0VUIC8gSFRUUC8xLjE=", 3), b"GET");
        assert_eq!(decode_base64_prefix("R0V!garbage", 100), b"GE");
    }

    #[test]
    fn http_head_drops_body() {
        let message = b"POST /login HTTP/1.1\r\nCookie: sid=abc\r\n\r\nuser=admin&password=secret";
        assert_eq!(http_head(message, 1000), "POST /login HTTP/1.1\nCookie: sid=********");
        assert_eq!(request_method(message).as_deref(), Some("POST"));
        assert_eq!(request_method(b"garbage line"), None);
    }

    #[test]
    fn html_becomes_text() {
        let html = "<p>The cookie was set:</p><ul>\n<li>ipp_uid_tst</li><li>rerf</li></ul>See <a href=\"https://cwe.mitre.org/data/definitions/524.html\">CWE-524: Caching</a> &amp; more.<br>Next a &lt; b";
        assert_eq!(
            html_to_text(html),
            "The cookie was set:\n\n- ipp_uid_tst\n- rerf\n\nSee CWE-524: Caching & more.\nNext a < b"
        );
        assert_eq!(html_links(html), ["https://cwe.mitre.org/data/definitions/524.html"]);
        assert_eq!(cwe_numbers("CWE-524 and CWE-525, CWE-524 again, CWE-x"), [524, 525]);
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
    }

    #[test]
    fn insertion_points_read() {
        let point = |text: &str| insertion_point(text).map(|p| (p.name, p.kind));
        assert_eq!(
            point("/bodgeit/basket.jsp [b_id cookie]"),
            Some(("b_id".into(), "cookie"))
        );
        assert_eq!(
            point("/login.jsp [username parameter]"),
            Some(("username".into(), "parameter"))
        );
        assert_eq!(point("/ [Referer HTTP header]"), Some(("Referer".into(), "header")));
        assert_eq!(
            point("/cookie-policy [URL path filename]"),
            Some(("URL path filename".into(), "other"))
        );
        assert_eq!(
            point("/p/ [name of an arbitrarily supplied URL parameter]"),
            Some(("name of an arbitrarily supplied URL parameter".into(), "other"))
        );
        assert_eq!(point("/bodgeit/"), None);
    }

    #[test]
    fn limited_reader_stops_long_records() {
        let data = vec![b'a'; 100];
        let mut source: &[u8] = &data;
        let limit = RecordLimit::new(40);
        let mut reader = LimitedReader::new(&mut source, limit.clone());
        let mut first = [0u8; 30];
        reader.read_exact(&mut first).unwrap();
        limit.reset();
        let mut rest = Vec::new();
        let error = reader.read_to_end(&mut rest).unwrap_err();
        assert!(error.to_string().contains("longer than"), "{error}");
        assert!(limit.exceeded());
        assert_eq!(rest.len(), 40);
    }
}
