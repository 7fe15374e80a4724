//! Streaming helpers for JSON reports.
//!
//! Scanners write their results as one big array, either at the root of
//! the file (ESLint, trufflehog3) or under a key of the root object
//! (Bandit's `results`, gosec's `Issues`). These helpers hand each element
//! of such an array to a closure as it is read, so one result at a time is
//! in memory, and keep serde_json's line and column in every error.

use std::fmt;
use std::io::BufRead;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::{ParseContext, ParseError, Position};

/// The serde_json deserializer that the parsers read with.
pub(crate) type JsonDeserializer<'r> = serde_json::Deserializer<serde_json::de::IoRead<&'r mut dyn BufRead>>;

/// Reads one JSON document from `reader` with `read`, then checks that
/// nothing but whitespace follows it. A UTF-8 byte order mark, which
/// Windows tools write, is skipped first. Errors keep serde_json's line and
/// column and name the file and the format.
pub(crate) fn read_document<'r>(
    context: &ParseContext<'_>,
    format_id: &str,
    reader: &'r mut dyn BufRead,
    read: impl FnOnce(&mut JsonDeserializer<'r>) -> Result<(), serde_json::Error>,
) -> Result<(), ParseError> {
    let io_error =
        |error: std::io::Error| ParseError::new(context.path, format_id, None, format!("read failed: {error}"));
    skip_byte_order_mark(reader).map_err(io_error)?;

    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    read(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|error| ParseError::from_json(context.path, format_id, &error))
}

/// Consumes a UTF-8 byte order mark at the start of the reader, if any.
pub(crate) fn skip_byte_order_mark(reader: &mut dyn BufRead) -> std::io::Result<()> {
    if reader.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
        reader.consume(3);
    }
    Ok(())
}

/// The keys of a report's root object, each read by the report's parser.
pub(crate) trait RootFields<'de> {
    /// Reads (or skips) the value of `key`.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;

    /// Checks the report once every key is read, for example that the
    /// array of results was there. An error here gets the position of the
    /// end of the root object.
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Reads a root object key by key with `fields`. `expecting` describes the
/// format for the error a non-object root gets, such as "a Bandit report:
/// an object with a results array".
pub(crate) fn read_root_object<'de, D, F>(
    deserializer: D,
    expecting: &'static str,
    fields: &mut F,
) -> Result<(), D::Error>
where
    D: Deserializer<'de>,
    F: RootFields<'de>,
{
    deserializer.deserialize_any(RootObject { expecting, fields })
}

struct RootObject<'f, F> {
    expecting: &'static str,
    fields: &'f mut F,
}

impl<'de, F: RootFields<'de>> Visitor<'de> for RootObject<'_, F> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.expecting)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.fields.field(&key, &mut map)?;
        }
        self.fields.finish().map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(de::Error::custom(format!(
            "expected {}, found an array; is this another tool's report?",
            self.expecting
        )))
    }
}

/// A seed that reads an array of objects and hands each element to `each`
/// as it is read. `null` reads as an empty array. An element that is not a
/// JSON object is an error, because serde would otherwise read an array
/// into a struct field by field. An error that `each` returns stops the
/// parse at the element's position.
pub(crate) struct EachElement<T, F> {
    what: &'static str,
    element: &'static str,
    each: F,
    marker: PhantomData<fn() -> T>,
}

impl<T, F> EachElement<T, F> {
    /// `what` names the array and `element` its elements for errors, such
    /// as "an array of Bandit results" and "a Bandit result object".
    pub(crate) fn new(what: &'static str, element: &'static str, each: F) -> Self {
        EachElement {
            what,
            element,
            each,
            marker: PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.what)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let seed = ObjectOnly::new(self.element);
        while let Some(element) = seq.next_element_seed(seed)? {
            (self.each)(element).map_err(de::Error::custom)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // The first key is enough to say what the value is.
        let key: Option<String> = map.next_key()?;
        let found = key.map_or_else(
            || "an empty object".to_string(),
            |key| format!("an object with key {key:?}"),
        );
        Err(de::Error::custom(format!(
            "expected {}, found {found}; is this another tool's report?",
            self.what
        )))
    }
}

/// A seed that reads a `T` only from a JSON object.
pub(crate) struct ObjectOnly<T> {
    expecting: &'static str,
    marker: PhantomData<fn() -> T>,
}

impl<T> ObjectOnly<T> {
    /// `expecting` names the object for errors, such as "a TruffleHog result object".
    pub(crate) fn new(expecting: &'static str) -> Self {
        ObjectOnly {
            expecting,
            marker: PhantomData,
        }
    }
}

impl<T> Clone for ObjectOnly<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ObjectOnly<T> {}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ObjectOnly<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.expecting)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// How much whitespace [`skip_whitespace`] consumed, to correct the
/// positions of later errors.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Skipped {
    /// Newlines consumed.
    lines: u64,
    /// Bytes consumed after the last newline.
    columns: u64,
    /// Bytes consumed in all.
    bytes: u64,
}

impl Skipped {
    /// Moves an error's position from the reader's start after the skipped
    /// whitespace to the file's start.
    pub(crate) fn correct(self, mut error: ParseError) -> ParseError {
        error.position = error.position.map(|position| match position {
            Position::LineColumn { line: 1, column } => Position::LineColumn {
                line: 1 + self.lines,
                column: column + self.columns,
            },
            Position::LineColumn { line, column } => Position::LineColumn {
                line: line + self.lines,
                column,
            },
            Position::Byte(offset) => Position::Byte(offset + self.bytes),
        });
        error
    }
}

/// Consumes a byte order mark and the whitespace before the first value,
/// so that the caller can look at the value's first byte with `fill_buf`.
pub(crate) fn skip_whitespace(reader: &mut dyn BufRead) -> std::io::Result<Skipped> {
    skip_byte_order_mark(reader)?;
    let mut skipped = Skipped::default();
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(skipped);
        }
        let count = buffer.iter().take_while(|b| b.is_ascii_whitespace()).count();
        for &byte in &buffer[..count] {
            if byte == b'\n' {
                skipped.lines += 1;
                skipped.columns = 0;
            } else {
                skipped.columns += 1;
            }
        }
        skipped.bytes += count as u64;
        let done = count < buffer.len();
        reader.consume(count);
        if done {
            return Ok(skipped);
        }
    }
}

/// Deserializes a list of texts that reports write either as one string or
/// as an array of strings (Semgrep's `cwe`, `owasp` and `references`).
/// Numbers and booleans become text, and `null`, objects and nested arrays
/// are skipped. Use with
/// `#[serde(default, deserialize_with = "json_stream::text_list")]`.
pub(crate) fn text_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct TextList;

    impl<'de> Visitor<'de> for TextList {
        type Value = Vec<String>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a string or an array of strings")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut texts = Vec::new();
            while let Some(text) = seq.next_element::<Loose>()? {
                texts.extend(text.0);
            }
            Ok(texts)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
    }

    deserializer.deserialize_any(TextList)
}

/// A value read as [`crate::util::loose_text`] reads it, for maps and lists
/// whose values tools write as strings, numbers or booleans (TruffleHog's
/// `ExtraData`).
#[derive(Debug, Default)]
pub(crate) struct Loose(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Loose, D::Error> {
        crate::util::loose_text(deserializer).map(Loose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Texts {
        #[serde(default, deserialize_with = "text_list")]
        cwe: Vec<String>,
    }

    #[test]
    fn text_list_reads_string_or_array() {
        let one: Texts = serde_json::from_str(r#"{"cwe": "CWE-79: XSS"}"#).unwrap();
        assert_eq!(one.cwe, ["CWE-79: XSS"]);
        let many: Texts = serde_json::from_str(r#"{"cwe": ["CWE-1", null, 2, {"a": 1}]}"#).unwrap();
        assert_eq!(many.cwe, ["CWE-1", "2"]);
        let none: Texts = serde_json::from_str(r#"{"cwe": null}"#).unwrap();
        assert!(none.cwe.is_empty());
        let missing: Texts = serde_json::from_str("{}").unwrap();
        assert!(missing.cwe.is_empty());
    }

    #[test]
    fn whitespace_skip_counts_lines() {
        let mut input: &[u8] = b"\xef\xbb\xbf\n\n  {\"a\": 1}";
        let skipped = skip_whitespace(&mut input).unwrap();
        assert_eq!(input, b"{\"a\": 1}");
        assert_eq!((skipped.lines, skipped.columns, skipped.bytes), (2, 2, 4));

        let error = ParseError::new("x.json", "f", Some(Position::LineColumn { line: 1, column: 5 }), "bad");
        assert_eq!(
            skipped.correct(error).position,
            Some(Position::LineColumn { line: 3, column: 7 })
        );
    }

    #[test]
    fn whitespace_skip_handles_empty_input() {
        let mut input: &[u8] = b"  \n ";
        let skipped = skip_whitespace(&mut input).unwrap();
        assert!(input.is_empty());
        assert_eq!(skipped.lines, 1);
    }
}
