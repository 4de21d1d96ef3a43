//! Reads a document and hands each STIX object to the checks, one at a
//! time: bundle members are deserialized and checked while the `objects`
//! list is being read, so a bundle never has to fit in memory.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::Read;

use serde_json::{Map, Value};
use vigil_stix::bundle::{Accept, BundleReader, Container};
use vigil_stix::Error as StixError;

use crate::diag::{Ptr, Sink};
use crate::{check, syntax, Diagnostic, Error, Report, Severity, Validator};

/// State shared while one document is read.
struct Run<'v> {
    validator: &'v Validator,
    report: Report,
    /// `(id, modified)` pairs seen so far, to spot duplicates, as 128-bit
    /// hashes: 16 bytes an object, so a bundle of millions fits in little memory.
    seen: HashSet<u128, BuildHasherDefault<Digest>>,
}

/// The set's hasher: its keys are already SipHash digests, so it passes
/// their low bits through instead of hashing them again.
#[derive(Default)]
struct Digest(u64);

impl Hasher for Digest {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached for `u128` keys; fold anything else in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

impl<'v> Run<'v> {
    fn new(validator: &'v Validator) -> Self {
        Run {
            validator,
            report: Report {
                strict: validator.options().strict,
                ..Report::default()
            },
            seen: HashSet::default(),
        }
    }

    /// Checks member `index`, which sits in `container`.
    fn member(&mut self, index: usize, value: &Value, container: Container) {
        let root = Ptr::Root;
        let objects = root.key("objects");
        let ptr = match container {
            Container::Objects => objects.index(index),
            Container::List => root.index(index),
            Container::TopLevel => root,
        };
        self.report.objects += 1;
        let object_id = value.get("id").and_then(Value::as_str);
        let mut sink = Sink {
            out: &mut self.report.diagnostics,
            index: Some(index),
            object_id,
        };
        check::object(value, &ptr, &mut sink, self.validator.options(), false);
        if let Some(id) = object_id {
            let version = value.get("modified").and_then(Value::as_str).unwrap_or("");
            if !self.seen.insert(version_key(id, version)) {
                sink.warn(
                    "duplicate-ids",
                    &ptr.key("id"),
                    format!("'{id}' appears more than once with the same 'modified'"),
                );
            }
        }
    }

    /// A finding of the reader about one member (skipped) or about a
    /// top-level property; reading goes on.
    fn reader_error<R: Read>(&mut self, reader: &BundleReader<R>, e: &StixError) {
        let message = json_message(reader, e);
        let (code, message) = match e {
            StixError::NotAnObject { .. } => (
                "not-an-object",
                "a STIX object must be a JSON object".to_string(),
            ),
            StixError::DuplicateKey { .. } => ("duplicate-key", message),
            _ => ("json", format!("not valid JSON: {message}")),
        };
        let Some(index) = e.index() else {
            let pointer = e.pointer().unwrap_or_default().to_string();
            self.report.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code,
                index: None,
                object_id: None,
                pointer,
                message,
            });
            return;
        };
        self.report.objects += 1;
        let container = if reader.header().has_objects {
            Container::Objects
        } else {
            Container::List
        };
        let pointer = match e {
            StixError::NotAnObject { pointer, .. } => pointer.clone(),
            StixError::DuplicateKey { pointer: inner, .. } => container.pointer(index) + inner,
            _ => container.pointer(index),
        };
        self.report.diagnostics.push(Diagnostic {
            severity: Severity::Error,
            code,
            index: Some(index),
            object_id: None,
            pointer,
            message,
        });
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

/// A 128-bit digest of an object version: two SipHash runs with different
/// prefixes. A false "duplicate" would need a 128-bit collision.
fn version_key(id: &str, modified: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (salt, id, modified).hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

pub(crate) fn validate<R: Read>(validator: &Validator, reader: R) -> Result<Report, Error> {
    let mut run = Run::new(validator);
    let mut reader = BundleReader::new(reader).accept(Accept::Any);
    let mut fatal = None;
    while let Some(item) = reader.next() {
        match item {
            Ok(raw) => {
                if raw.container == Container::TopLevel && reader.header().has_objects {
                    run.document_error(
                        "not-a-bundle",
                        "'objects' is a list, but the top-level object is not a bundle".into(),
                    );
                }
                run.member(raw.index, &raw.value, raw.container);
            }
            Err(StixError::Io { source, .. }) => return Err(Error::Io(source)),
            Err(e) if e.is_fatal() => fatal = Some(e),
            Err(e) => run.reader_error(&reader, &e),
        }
    }
    run.report.bytes = reader.offset();
    // A bundle's own properties are checked once its object is closed, even
    // when something follows it.
    let header = reader.header();
    if reader.closed() && header.bundle_type.as_deref() == Some("bundle") {
        let streamed = header.has_objects.then(|| reader.objects_seen());
        finish_object(&mut run, header.other.clone(), streamed);
    }
    if let Some(e) = fatal {
        // In `Accept::Any` mode the reader refuses only an empty input and a
        // top level that is neither an object nor a list.
        let empty = matches!(&e, StixError::NotABundle { reason, .. } if reason.contains("empty"));
        if matches!(e, StixError::NotABundle { .. }) && !empty {
            run.document_error(
                "not-an-object",
                "a STIX document must be a JSON object (or a list of objects)".into(),
            );
        } else {
            let message = json_message(&reader, &e);
            run.document_error(
                "json",
                format!("not valid JSON: {message} (objects before this point were checked)"),
            );
        }
    }
    Ok(run.report)
}

/// The reader's finding with the line and column where it was made, as a
/// JSON parser reports them (the column counts the offending byte; at the
/// end of the input, the bytes before it).
fn json_message<R: Read>(reader: &BundleReader<R>, e: &StixError) -> String {
    let what = match e {
        StixError::Syntax { message, .. } => message.clone(),
        StixError::Truncated { .. } | StixError::NotABundle { .. } => {
            "EOF while parsing a value".into()
        }
        StixError::TooDeep { limit, .. } => format!("nested deeper than {limit} levels"),
        StixError::ObjectTooLarge { limit, .. } => {
            format!("object larger than the limit of {limit} bytes")
        }
        StixError::DuplicateKey { key, pointer, .. } => {
            format!(
                "duplicate key {key:?}{}",
                if pointer.is_empty() {
                    String::new()
                } else {
                    format!(" in {pointer}")
                }
            )
        }
        other => other.to_string(),
    };
    let at_end = matches!(
        e,
        StixError::Truncated { .. } | StixError::NotABundle { .. }
    );
    match e.offset().and_then(|o| reader.line_column(o)) {
        Some((line, column)) => {
            let column = if at_end { column } else { column + 1 };
            format!("{what} at line {line} column {column}")
        }
        None => what,
    }
}

pub(crate) fn validate_value(validator: &Validator, doc: &Value) -> Report {
    let mut run = Run::new(validator);
    match doc {
        Value::Object(map) => {
            let mut meta = map.clone();
            let streamed = match meta.remove("objects") {
                Some(Value::Array(items)) if is_bundle(&meta) => {
                    for (i, item) in items.iter().enumerate() {
                        run.member(i, item, Container::Objects);
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

pub(crate) fn validate_object(validator: &Validator, object: &Value) -> Report {
    let mut run = Run::new(validator);
    run.member(0, object, Container::TopLevel);
    run.report
}

fn is_bundle(meta: &Map<String, Value>) -> bool {
    meta.get("type").and_then(Value::as_str) == Some("bundle")
}

fn list<'a>(run: &mut Run<'_>, items: impl Iterator<Item = &'a Value>) {
    for (i, item) in items.enumerate() {
        run.member(i, item, Container::List);
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
        run.member(0, &value, Container::TopLevel);
        return;
    }
    let object_id = meta.get("id").and_then(Value::as_str);
    let root = Ptr::Root;
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
                &root.key("id"),
                format!("'{id}' is not a valid bundle identifier (bundle--UUID)"),
            ),
        },
        Some(_) => sink.error("property-type", &root.key("id"), "'id' must be a string"),
        None => sink.error("required-property", &root, "a bundle needs an 'id'"),
    }
    if streamed == Some(0) {
        sink.error(
            "empty-list",
            &root.key("objects"),
            "'objects' must not be an empty list; omit it instead",
        );
    }
    if meta.contains_key("objects") {
        sink.error(
            "property-type",
            &root.key("objects"),
            "'objects' must be a list",
        );
    }
}
