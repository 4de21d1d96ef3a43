use std::io::Read;

use serde_json::{json, Value};
use vigil_stix::bundle::{BundleReader, Limits, RawObject};
use vigil_stix::Error;

const BUNDLE_ID: &str = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d";

fn read_all(bytes: &[u8]) -> Vec<Result<RawObject, Error>> {
    BundleReader::new(bytes).collect()
}

/// A reader handing out one byte per call, to exercise every buffer boundary.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn streams_every_indicator_corpus_like_a_whole_document_parse() {
    for path in super::indicator_files() {
        let bytes = std::fs::read(&path).unwrap();
        let whole: Value = serde_json::from_slice(&bytes).unwrap();
        let expected = whole["objects"].as_array().unwrap();
        let mut reader = BundleReader::new(std::fs::File::open(&path).unwrap());
        let got: Vec<RawObject> = reader
            .by_ref()
            .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .collect();
        assert_eq!(got.len(), expected.len(), "{}", path.display());
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert_eq!(g.index, i);
            assert_eq!(&g.value, e, "{} object {i}", path.display());
            // The offset points at the object's opening brace and `len` spans it.
            let start = g.offset as usize;
            assert_eq!(bytes[start], b'{');
            let slice: Value = serde_json::from_slice(&bytes[start..start + g.len]).unwrap();
            assert_eq!(&slice, e);
        }
        let header = reader.header();
        assert_eq!(header.bundle_type.as_deref(), Some("bundle"));
        assert_eq!(header.id.as_deref(), whole["id"].as_str());
        assert_eq!(reader.offset(), bytes.len() as u64);
    }
}

#[test]
fn byte_by_byte_input_gives_the_same_objects() {
    let doc = json!({"type": "bundle", "id": BUNDLE_ID, "objects": [
        {"type": "x-a", "s": "quote \" and \\ and ] } ,", "n": [1, [2, {"k": null}]]},
        {"type": "x-b", "e": "\u{e9}\u{1F600}"}
    ]});
    let bytes = serde_json::to_vec_pretty(&doc).unwrap();
    let got: Vec<Value> = BundleReader::new(Trickle(&bytes))
        .map(|r| r.unwrap().value)
        .collect();
    assert_eq!(&got, doc["objects"].as_array().unwrap());
}

#[test]
fn header_after_objects_is_known_at_the_end() {
    let text = format!(
        r#"{{"objects": [{{"type":"x-a"}}], "spec_version": "2.0", "id": "{BUNDLE_ID}", "type": "bundle", "x_note": 1}}"#
    );
    let mut reader = BundleReader::new(text.as_bytes());
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().is_none());
    let h = reader.header();
    assert_eq!(h.id.as_deref(), Some(BUNDLE_ID));
    assert_eq!(h.spec_version.as_deref(), Some("2.0"));
    assert_eq!(h.other["x_note"], json!(1));
}

#[test]
fn malformed_object_is_reported_and_reading_continues() {
    let text = br#"{"type":"bundle","objects":[{"type":"x-a"},{"type": x-b},{"type":"x-c"}]}"#;
    let items = read_all(text);
    assert_eq!(items.len(), 3);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.index(), Some(1));
    assert!(matches!(err, Error::Syntax { .. }), "{err}");
    // The offset points into the bad object, at the unquoted value.
    let at = err.offset().unwrap() as usize;
    assert_eq!(&text[at..at + 3], b"x-b");
    assert!(err.to_string().starts_with("object 1: byte"), "{err}");
    assert_eq!(items[2].as_ref().unwrap().object_type(), Some("x-c"));
}

#[test]
fn truncated_input_is_a_fatal_error_with_offset() {
    let text = br#"{"type":"bundle","objects":[{"type":"x-a"},{"type":"x-b","name":"cut"#;
    let items = read_all(text);
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let err = items[1].as_ref().unwrap_err();
    assert!(
        matches!(err, Error::Truncated { index: Some(1), .. }),
        "{err}"
    );
    assert_eq!(err.offset(), Some(text.len() as u64));
    assert!(err.is_fatal());

    for cut in [0, 1, 10, 27, 28] {
        let items = read_all(&text[..cut]);
        assert!(items.last().is_some_and(|r| r.is_err()), "cut at {cut}");
    }
}

#[test]
fn invalid_utf8_is_reported_with_its_offset() {
    let mut text = br#"{"type":"bundle","objects":[{"type":"x-a","name":"ab"#.to_vec();
    let bad_at = text.len();
    text.extend_from_slice(b"\xff\xfe\"},{\"type\":\"x-b\"}]}");
    let items = read_all(&text);
    assert_eq!(items.len(), 2);
    let err = items[0].as_ref().unwrap_err();
    assert_eq!(err.index(), Some(0));
    let off = err.offset().unwrap() as usize;
    assert!(
        (bad_at..=bad_at + 2).contains(&off),
        "offset {off}, bad byte at {bad_at}: {err}"
    );
    assert!(items[1].is_ok());
}

#[test]
fn ten_thousand_deep_nesting_is_refused_without_recursion() {
    let mut text = br#"{"type":"bundle","objects":[{"type":"x-a","deep":"#.to_vec();
    text.extend(std::iter::repeat_n(b'[', 10_000));
    text.extend(std::iter::repeat_n(b']', 10_000));
    text.extend_from_slice(br#"},{"type":"x-b"}]}"#);
    let items = read_all(&text);
    assert_eq!(items.len(), 2);
    let err = items[0].as_ref().unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooDeep {
                index: Some(0),
                limit: 64,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_fatal());
    assert_eq!(items[1].as_ref().unwrap().object_type(), Some("x-b"));

    // Unbalanced deep nesting at the top level ends in a truncation, not a crash.
    let deep = vec![b'['; 10_000];
    let items = read_all(&deep);
    assert_eq!(items.len(), 1);
    assert!(items[0].as_ref().unwrap_err().is_fatal());
}

/// A 100 MB string value generated on the fly, so the test itself stays small.
struct HugeString {
    head: Vec<u8>,
    body_left: usize,
    tail: Vec<u8>,
}

impl Read for HugeString {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.head.is_empty() {
            let n = self.head.len().min(buf.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            return Ok(n);
        }
        if self.body_left > 0 {
            let n = self.body_left.min(buf.len());
            buf[..n].fill(b'a');
            self.body_left -= n;
            return Ok(n);
        }
        let n = self.tail.len().min(buf.len());
        buf[..n].copy_from_slice(&self.tail[..n]);
        self.tail.drain(..n);
        Ok(n)
    }
}

#[test]
fn hundred_megabyte_string_is_skipped_within_the_limit() {
    let input = HugeString {
        head: br#"{"type":"bundle","objects":[{"type":"x-a"},{"type":"x-big","blob":""#.to_vec(),
        body_left: 100 << 20,
        tail: br#""},{"type":"x-c"}]}"#.to_vec(),
    };
    let limits = Limits {
        max_object_bytes: 1 << 20,
        ..Limits::default()
    };
    let items: Vec<_> = BundleReader::with_limits(input, limits).collect();
    assert_eq!(items.len(), 3);
    let err = items[1].as_ref().unwrap_err();
    assert!(
        matches!(
            err,
            Error::ObjectTooLarge {
                index: 1,
                limit: 1_048_576,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(items[2].as_ref().unwrap().object_type(), Some("x-c"));
}

#[test]
fn duplicate_keys_are_reported_with_a_pointer() {
    let text = br#"{"type":"bundle","objects":[{"type":"x-a","ext":{"e":[{"k":1,"k":2}]}},{"type":"x-b","type":"x-c"}]}"#;
    let items = read_all(text);
    let err = items[0].as_ref().unwrap_err();
    match err {
        Error::DuplicateKey {
            index,
            pointer,
            key,
            ..
        } => {
            assert_eq!(*index, Some(0));
            assert_eq!(pointer, "/ext/e/0");
            assert_eq!(key, "k");
        }
        other => panic!("expected a duplicate key, got {other}"),
    }
    let err = items[1].as_ref().unwrap_err();
    assert!(
        matches!(err, Error::DuplicateKey { key, pointer, .. } if key == "type" && pointer.is_empty())
    );
    assert!(err.to_string().contains("object 1"), "{err}");
}

#[test]
fn wrong_types_are_reported() {
    let items = read_all(br#"{"type":"bundle","objects":[42,"x",null,[],{"type":"x-a"}]}"#);
    assert_eq!(items.len(), 5);
    for (i, item) in items[..4].iter().enumerate() {
        let err = item.as_ref().unwrap_err();
        assert_eq!(err.pointer(), Some(format!("/objects/{i}").as_str()));
        assert!(err.to_string().contains("expected a JSON object"), "{err}");
    }
    assert!(items[4].is_ok());

    let items = read_all(br#"{"type":"bundle","objects":{"type":"x-a"}}"#);
    assert!(matches!(items[0], Err(Error::NotABundle { .. })));
    let items = read_all(br#"[{"type":"x-a"}]"#);
    assert!(matches!(items[0], Err(Error::NotABundle { .. })));
    let items = read_all(br#"{"type":"indicator","objects":[]}"#);
    assert!(matches!(items[0], Err(Error::NotABundle { .. })));
    let items = read_all(br#"{"type":"bundle","id":7,"objects":[]}"#);
    assert_eq!(items[0].as_ref().unwrap_err().pointer(), Some("/id"));
    let items = read_all(br#"{"type":"bundle","objects":[]} trailing"#);
    assert!(matches!(items[0], Err(Error::Syntax { index: None, .. })));
}

#[test]
fn empty_and_objectless_bundles() {
    assert!(read_all(br#"{"type":"bundle","objects":[]}"#).is_empty());
    let mut reader = BundleReader::new(
        &br#" {"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"} "#[..],
    );
    assert!(reader.next().is_none());
    assert!(!reader.header().has_objects);
    assert!(matches!(read_all(b"")[0], Err(Error::NotABundle { .. })));
}

#[test]
fn bundle_level_properties_are_bounded() {
    let mut text = String::from(r#"{"type":"bundle","objects":[{"type":"x-a"}]"#);
    for i in 0..3000 {
        text.push_str(&format!(r#","x_{i}":"{}""#, "v".repeat(500)));
    }
    text.push('}');
    let mut reader = BundleReader::new(text.as_bytes());
    let items: Vec<_> = reader.by_ref().collect();
    assert!(items[0].is_ok());
    let refused = items.iter().filter(|r| r.is_err()).count();
    assert!(refused > 0, "some properties are refused");
    assert!(items
        .iter()
        .skip(1)
        .all(|r| r.as_ref().is_err_and(|e| !e.is_fatal())));
    let kept = reader.header().other.len();
    assert_eq!(kept + refused, 3000);
    assert!(kept < 3000);
}

fn read_any(bytes: &[u8]) -> Vec<Result<RawObject, Error>> {
    BundleReader::new(Trickle(bytes))
        .accept(vigil_stix::bundle::Accept::Any)
        .collect()
}

#[test]
fn any_document_lists_and_single_objects() {
    use vigil_stix::bundle::Container;
    // A list: each element with its own pointer; a non-object is reported and skipped.
    let items = read_any(br#"[{"type":"x-a"}, 7, {"type":"x-b"}]"#);
    assert_eq!(items.len(), 3);
    let first = items[0].as_ref().unwrap();
    assert_eq!(
        (first.container, first.pointer()),
        (Container::List, "/0".into())
    );
    assert!(
        matches!(&items[1], Err(Error::NotAnObject { index: 1, pointer, found: "a number" }) if pointer == "/1")
    );
    assert_eq!(items[2].as_ref().unwrap().object_type(), Some("x-b"));

    // A single object, with a property after an `objects` list: the list's
    // members come first, then the object itself without `objects`.
    let items =
        read_any(br#"{"type":"observed-data","objects":[{"type":"file"}],"id":7,"x_after":[1]}"#);
    assert_eq!(items.len(), 2);
    let member = items[0].as_ref().unwrap();
    assert_eq!(member.pointer(), "/objects/0");
    let top = items[1].as_ref().unwrap();
    assert_eq!(top.container, Container::TopLevel);
    assert_eq!(top.pointer(), "");
    assert_eq!(
        top.value,
        json!({"type":"observed-data","id":7,"x_after":[1]})
    );

    // A bundle reads as in bundle mode; its properties stay in the header.
    let text = format!(r#"{{"type":"bundle","id":"{BUNDLE_ID}","objects":[{{"type":"x-a"}}]}}"#);
    let mut reader = BundleReader::new(text.as_bytes()).accept(vigil_stix::bundle::Accept::Any);
    assert_eq!(reader.by_ref().filter(Result::is_ok).count(), 1);
    assert!(reader.closed());
    assert_eq!(reader.header().id.as_deref(), Some(BUNDLE_ID));

    // Scalars and empty input end the stream.
    assert!(matches!(
        read_any(b"  42")[0],
        Err(Error::NotABundle { .. })
    ));
    assert!(matches!(read_any(b"")[0], Err(Error::NotABundle { .. })));
}

#[test]
fn errors_have_a_line_and_column() {
    let text = b"[\n  {\"type\": \"x-a\"},\n  {\"type\": tru}\n]";
    let mut reader = BundleReader::new(&text[..]).accept(vigil_stix::bundle::Accept::Any);
    assert!(reader.next().unwrap().is_ok());
    let err = reader.next().unwrap().unwrap_err();
    let offset = err.offset().unwrap() as usize;
    // The parser stops in `tru}` on the third line.
    let line_start = text[..offset].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(&text[line_start..line_start + 11], b"  {\"type\": ");
    assert!(offset >= line_start + 11 && offset <= line_start + 14);
    assert_eq!(
        reader.line_column(offset as u64),
        Some((3, (offset - line_start) as u64))
    );
    assert!(reader.next().is_none());
    // The end of the input, after the closing `]` on line 4.
    assert_eq!(reader.line_column(text.len() as u64), Some((4, 1)));
    assert!(reader.next().is_none());
    assert!(reader.closed());
}
