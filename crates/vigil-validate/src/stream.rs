//! Reads a document and hands each STIX object to the checks, one at a
//! time: bundle members are deserialized and checked while the `objects`
//! list is being read, so a bundle never has to fit in memory.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::diag::{push_pointer, Sink};
use crate::{check, syntax, Diagnostic, Error, Report, Severity, Validator};

/// State shared while one document is read.
struct Run<'v> {
    validator: &'v Validator,
    report: Report,
    /// `(id, modified)` pairs seen so far, to spot duplicates.
    seen: HashSet<(String, String)>,
}

impl Run<'_> {
    fn member(&mut self, index: usize, value: &Value, ptr: &str) {
        self.report.objects += 1;
        let object_id = value.get("id").and_then(Value::as_str).map(str::to_string);
        let mut sink = Sink {
            out: &mut self.report.diagnostics,
            index: Some(index),
            object_id: object_id.clone(),
        };
        check::object(value, ptr, &mut sink, self.validator.options(), false);
        if let Some(id) = object_id {
            let version = value
                .get("modified")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !self.seen.insert((id.clone(), version)) {
                sink.warn(
                    "duplicate-ids",
                    &push_pointer(ptr, "id"),
                    format!("'{id}' appears more than once with the same 'modified'"),
                );
            }
        }
    }

    fn document_error(&mut self, code: &'static str, message: String) {
        self.report.diagnostics.push(Diagnostic {
            severity: Severity::Error,
            code,
            index: None,
            object_id: None,
            pointer: String::new(),
            message,
        });
    }
}

/// Counts bytes as they are read, for throughput figures.
struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

pub(crate) fn validate<R: Read>(validator: &Validator, reader: R) -> Result<Report, Error> {
    let mut run = Run {
        validator,
        report: Report {
            strict: validator.options().strict,
            ..Report::default()
        },
        seen: HashSet::new(),
    };
    let mut counting = Counting {
        inner: std::io::BufReader::with_capacity(1 << 16, reader),
        n: 0,
    };
    let outcome = {
        let mut de = serde_json::Deserializer::from_reader(&mut counting);
        let r = Top { run: &mut run }.deserialize(&mut de);
        r.and_then(|()| de.end())
    };
    run.report.bytes = counting.n;
    if let Err(e) = outcome {
        if e.is_io() {
            return Err(Error::Io(std::io::Error::other(e.to_string())));
        }
        run.document_error(
            "json",
            format!("not valid JSON: {e} (objects before this point were checked)"),
        );
    }
    Ok(run.report)
}

pub(crate) fn validate_value(validator: &Validator, doc: &Value) -> Report {
    let mut run = Run {
        validator,
        report: Report {
            strict: validator.options().strict,
            ..Report::default()
        },
        seen: HashSet::new(),
    };
    match doc {
        Value::Object(map) => {
            let mut meta = map.clone();
            let streamed = match meta.remove("objects") {
                Some(Value::Array(items)) if is_bundle(&meta) => {
                    for (i, item) in items.iter().enumerate() {
                        run.member(i, item, &format!("/objects/{i}"));
                    }
                    Some(items.len())
                }
                Some(other) => {
                    meta.insert("objects".into(), other);
                    None
                }
                None => None,
            };
            finish_object(&mut run, meta, streamed);
        }
        Value::Array(items) => list(&mut run, items.iter()),
        _ => run.document_error(
            "not-an-object",
            "a STIX document must be a JSON object (or a list of objects)".into(),
        ),
    }
    run.report
}

fn is_bundle(meta: &Map<String, Value>) -> bool {
    meta.get("type").and_then(Value::as_str) == Some("bundle")
}

fn list<'a>(run: &mut Run<'_>, items: impl Iterator<Item = &'a Value>) {
    for (i, item) in items.enumerate() {
        run.member(i, item, &format!("/{i}"));
    }
}

/// Checks the top-level object: a bundle's own properties, or a lone object.
/// `streamed` is the number of members when `objects` was read as a list.
fn finish_object(run: &mut Run<'_>, meta: Map<String, Value>, streamed: Option<usize>) {
    let ty = meta.get("type").and_then(Value::as_str);
    if ty != Some("bundle") {
        if streamed.is_some() {
            run.document_error(
                "not-a-bundle",
                "'objects' is a list, but the top-level object is not a bundle".into(),
            );
        }
        let value = Value::Object(meta);
        run.member(0, &value, "");
        return;
    }
    let object_id = meta.get("id").and_then(Value::as_str).map(str::to_string);
    let mut sink = Sink {
        out: &mut run.report.diagnostics,
        index: None,
        object_id,
    };
    match meta.get("id") {
        Some(Value::String(id)) => match syntax::identifier(id) {
            Some(parsed) if parsed.ty == "bundle" => {}
            _ => sink.error(
                "id-format",
                "/id",
                format!("'{id}' is not a valid bundle identifier (bundle--UUID)"),
            ),
        },
        Some(_) => sink.error("property-type", "/id", "'id' must be a string"),
        None => sink.error("required-property", "", "a bundle needs an 'id'"),
    }
    if streamed == Some(0) {
        sink.error(
            "empty-list",
            "/objects",
            "'objects' must not be an empty list; omit it instead",
        );
    }
    if meta.contains_key("objects") {
        sink.error("property-type", "/objects", "'objects' must be a list");
    }
}

/// A top-level scalar is reported, not an error of the reader.
macro_rules! scalar {
    ($name:ident, $t:ty) => {
        fn $name<E>(self, _: $t) -> Result<(), E> {
            self.scalar();
            Ok(())
        }
    };
}

/// The top-level value.
struct Top<'a, 'v> {
    run: &'a mut Run<'v>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle, object or list of objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut meta = Map::new();
        let mut streamed = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "objects" && streamed.is_none() {
                match map.next_value_seed(Members { run: self.run })? {
                    MembersOutcome::Streamed(n) => streamed = Some(n),
                    MembersOutcome::Other(v) => {
                        meta.insert(key, v);
                    }
                }
            } else {
                let v: Value = map.next_value()?;
                meta.insert(key, v);
            }
        }
        finish_object(self.run, meta, streamed);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(item) = seq.next_element::<Value>()? {
            self.run.member(i, &item, &format!("/{i}"));
            i += 1;
        }
        Ok(())
    }

    scalar!(visit_bool, bool);
    scalar!(visit_i64, i64);
    scalar!(visit_u64, u64);
    scalar!(visit_f64, f64);
    scalar!(visit_str, &str);

    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar();
        Ok(())
    }
}

impl Top<'_, '_> {
    fn scalar(self) {
        self.run.document_error(
            "not-an-object",
            "a STIX document must be a JSON object (or a list of objects)".into(),
        );
    }
}

enum MembersOutcome {
    Streamed(usize),
    Other(Value),
}

/// The value of a top-level `objects` key: streamed when it is a list.
struct Members<'a, 'v> {
    run: &'a mut Run<'v>,
}

impl<'de> DeserializeSeed<'de> for Members<'_, '_> {
    type Value = MembersOutcome;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<MembersOutcome, D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! other {
    ($name:ident, $t:ty) => {
        fn $name<E: serde::de::Error>(self, v: $t) -> Result<MembersOutcome, E> {
            Ok(MembersOutcome::Other(Value::from(v)))
        }
    };
}

impl<'de> Visitor<'de> for Members<'_, '_> {
    type Value = MembersOutcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MembersOutcome, A::Error> {
        let mut i = 0;
        while let Some(item) = seq.next_element::<Value>()? {
            self.run.member(i, &item, &format!("/objects/{i}"));
            i += 1;
        }
        Ok(MembersOutcome::Streamed(i))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MembersOutcome, A::Error> {
        let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(MembersOutcome::Other(v))
    }

    other!(visit_bool, bool);
    other!(visit_i64, i64);
    other!(visit_u64, u64);
    other!(visit_f64, f64);
    other!(visit_str, &str);

    fn visit_unit<E: serde::de::Error>(self) -> Result<MembersOutcome, E> {
        Ok(MembersOutcome::Other(Value::Null))
    }
}

use serde::Deserialize;
