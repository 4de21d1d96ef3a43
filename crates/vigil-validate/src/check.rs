//! Checks one STIX object (as JSON) against the specification.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::diag::{Ptr, Sink};
use vigil_stix::{category_of, Category};

use crate::spec::{self, Kind, Prop, MARKING_COMMON};
use crate::syntax;
use crate::vocab::{Vocab, COMMON_RELATIONSHIPS, RELATIONSHIPS};
use crate::Options;

/// What family an object belongs to, which decides its common properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// A spec-defined SDO, SRO, language content or extension definition.
    Domain,
    /// A spec-defined cyber observable.
    Observable,
    /// The marking definition (its own common properties).
    Marking,
    /// A custom object with `created`/`modified` (handled like an SDO).
    CustomDomain,
    /// A custom object without them (handled like an SCO).
    CustomObservable,
}

/// Property names that STIX 2.0 reserved and 2.1 still forbids at top level.
const RESERVED_PROPERTIES: &[&str] = &["severity", "action", "username", "phone_numbers"];

/// The TLP 1.0 marking definitions as the specification publishes them (section 7.2.1.4).
const TLP1: &[(&str, &str)] = &[
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "white",
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "green",
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "amber",
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "red",
    ),
];

/// Checks one object at `ptr`; `embedded` is true inside `observed-data.objects`.
pub(crate) fn object(
    v: &Value,
    ptr: &Ptr<'_>,
    sink: &mut Sink<'_>,
    opts: &Options,
    embedded: bool,
) {
    let Some(obj) = v.as_object() else {
        sink.error("not-an-object", ptr, "a STIX object must be a JSON object");
        return;
    };
    let Some(ty_v) = obj.get("type") else {
        sink.error("required-property", ptr, "missing required property 'type'");
        return;
    };
    let Some(ty) = ty_v.as_str() else {
        sink.error("property-type", &ptr.key("type"), "'type' must be a string");
        return;
    };
    let ty_ptr = ptr.key("type");
    if !syntax::type_name(ty) {
        sink.error(
            "type-format",
            &ty_ptr,
            format!("'{ty}' is not a valid type name (a-z, 0-9 and single hyphens, 3 to 250 characters, starting with a letter)"),
        );
    }
    if ty == "bundle" {
        sink.error(
            "bundle-nested",
            &ty_ptr,
            "a bundle cannot be an object inside another bundle or observed-data",
        );
        return;
    }
    if ty == "action" {
        sink.error("type-format", &ty_ptr, "'action' is a reserved type name");
    }
    let family = match category_of(ty) {
        Some(Category::Meta) if ty == "marking-definition" => Family::Marking,
        Some(Category::Sco) => Family::Observable,
        Some(_) => Family::Domain,
        None if obj.contains_key("created") || obj.contains_key("modified") => Family::CustomDomain,
        None => Family::CustomObservable,
    };
    if embedded && !matches!(family, Family::Observable | Family::CustomObservable) {
        sink.error(
            "observed-data-objects",
            &ty_ptr,
            format!("'{ty}' objects cannot be embedded in observed-data objects"),
        );
        return;
    }

    // The id: format and agreement with the type.
    let id_ptr = ptr.key("id");
    let mut id_info = None;
    match obj.get("id") {
        None if embedded => {}
        None => sink.error("required-property", ptr, "missing required property 'id'"),
        Some(Value::String(id)) => match syntax::identifier(id) {
            Some(parsed) => {
                if parsed.ty != ty {
                    sink.error(
                        "id-type",
                        &id_ptr,
                        format!("id '{id}' must start with the object's type '{ty}--'"),
                    );
                }
                id_info = Some(parsed);
            }
            None => sink.error(
                "id-format",
                &id_ptr,
                format!("'{id}' is not a valid identifier (type--UUID, UUID version 1-5 with the RFC 4122 variant)"),
            ),
        },
        Some(_) => sink.error("property-type", &id_ptr, "'id' must be a string"),
    }

    // Property names, values that must not be null or empty, reserved names.
    for (name, value) in obj {
        let empty = match value {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        let valid_name = syntax::property_name(name);
        let reserved = RESERVED_PROPERTIES.contains(&name.as_str());
        // The pointer is built only for a property with something to report.
        if valid_name && !reserved && !empty {
            continue;
        }
        let p = ptr.key(name);
        if !valid_name {
            sink.error(
                "property-name",
                &p,
                format!("'{name}' is not a valid property name (a-z, 0-9 and _, 3 to 250 characters, starting with a letter)"),
            );
        }
        if reserved {
            sink.error(
                "reserved-property",
                &p,
                format!("'{name}' is a reserved property name"),
            );
        }
        empty_or_null(value, &p, name, sink);
    }

    // Common properties, then the type's own.
    let common: &[Prop] = match family {
        Family::Domain | Family::CustomDomain => spec::SDO_COMMON,
        Family::Observable | Family::CustomObservable => spec::SCO_COMMON,
        Family::Marking => MARKING_COMMON,
    };
    let own = spec::type_props(ty).unwrap_or(&[]);
    // How many of the object's properties the tables define.
    let mut defined = 0;
    for prop in common.iter().chain(own) {
        let value = obj.get(prop.name);
        defined += usize::from(value.is_some());
        if embedded && prop.name == "id" {
            continue;
        }
        match value {
            // A null was reported above; its type would only repeat that.
            Some(Value::Null) => {}
            Some(value) => value_of(prop, value, &ptr.key(prop.name), sink, embedded),
            None if prop.required && prop.name != "type" && prop.name != "id" => sink.error(
                "required-property",
                ptr,
                format!("missing required property '{}'", prop.name),
            ),
            None => {}
        }
    }

    // Custom properties and custom types: allowed, but best practice is a prefix.
    match family {
        Family::CustomDomain | Family::CustomObservable => {
            if !ty.starts_with("x-") {
                sink.warn(
                    "custom-prefix",
                    &ty_ptr,
                    format!("custom object type '{ty}' should start with 'x-' (or be defined by an extension definition)"),
                );
            }
        }
        // Nothing to say when every property is a defined one.
        _ if defined == obj.len() => {}
        _ => {
            for name in obj.keys() {
                let known = common.iter().chain(own).any(|p| p.name == name)
                    || matches!(name.as_str(), "description" | "name") && family == Family::Marking;
                if !known && !name.starts_with("x_") && syntax::property_name(name) {
                    sink.warn(
                        "custom-prefix",
                        &ptr.key(name),
                        format!("custom property '{name}' should start with 'x_' (or be defined by an extension definition)"),
                    );
                }
            }
        }
    }

    // Ordering of timestamps.
    if matches!(family, Family::Domain | Family::CustomDomain) {
        order(obj, "modified", "created", false, ptr, sink);
    }
    for (later, earlier, strict) in spec::timestamp_order(ty) {
        order(obj, later, earlier, *strict, ptr, sink);
    }

    // Marking rules that apply to every object.
    if let Some(Value::Array(markings)) = obj.get("granular_markings") {
        selectors(obj, markings, &ptr.key("granular_markings"), sink);
    }
    if let Some(Value::String(lang)) = obj.get("lang") {
        if !syntax::language_tag(lang) {
            sink.error(
                "language",
                &ptr.key("lang"),
                format!("'{lang}' is not an RFC 5646 language code"),
            );
        }
    }

    type_rules(ty, obj, ptr, sink, opts, embedded, id_info);
}

fn empty_or_null(value: &Value, p: &Ptr<'_>, name: &str, sink: &mut Sink<'_>) {
    match value {
        Value::Null => sink.error(
            "null-value",
            p,
            format!("'{name}' must not be null; omit the property instead"),
        ),
        Value::Array(a) if a.is_empty() => sink.error(
            "empty-list",
            p,
            format!("'{name}' must not be an empty list; omit the property instead"),
        ),
        _ => {}
    }
}

fn order(
    obj: &Map<String, Value>,
    later: &str,
    earlier: &str,
    strict: bool,
    ptr: &Ptr<'_>,
    sink: &mut Sink<'_>,
) {
    let (Some(Value::String(l)), Some(Value::String(e))) = (obj.get(later), obj.get(earlier))
    else {
        return;
    };
    if syntax::timestamp(l).is_err() || syntax::timestamp(e).is_err() {
        return;
    }
    let ord = syntax::compare_timestamps(l, e);
    let bad = if strict {
        ord != Ordering::Greater
    } else {
        ord == Ordering::Less
    };
    if bad {
        sink.error(
            "timestamp-order",
            &ptr.key(later),
            format!(
                "'{later}' ({l}) must be {} '{earlier}' ({e})",
                if strict {
                    "later than"
                } else {
                    "later than or equal to"
                }
            ),
        );
    }
}

/// Checks one property value against its kind.
fn value_of(prop: &Prop, v: &Value, p: &Ptr<'_>, sink: &mut Sink<'_>, embedded: bool) {
    let name = prop.name;
    let type_err = |sink: &mut Sink<'_>, what: &str| {
        sink.error("property-type", p, format!("'{name}' must be {what}"));
    };
    match prop.kind {
        Kind::Str => {
            if !v.is_string() {
                type_err(sink, "a string");
            }
        }
        Kind::Bool => {
            if !v.is_boolean() {
                type_err(sink, "a boolean");
            }
        }
        Kind::Int(min, max) => match v.as_i64() {
            Some(n) if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) => sink.error(
                "property-range",
                p,
                format!("'{name}' ({n}) is out of range"),
            ),
            Some(_) => {}
            None if v.as_u64().is_some() && max.is_none() => {}
            None => type_err(sink, "an integer"),
        },
        Kind::Num(min, max) => match v.as_f64() {
            Some(n) if n < min || n > max => sink.error(
                "property-range",
                p,
                format!("'{name}' ({n}) is out of range {min}..{max}"),
            ),
            Some(_) => {}
            None => type_err(sink, "a number"),
        },
        Kind::Ts | Kind::TsMillis => {
            let Some(s) = v.as_str() else {
                type_err(sink, "a timestamp string");
                return;
            };
            match syntax::timestamp(s) {
                Err(why) => sink.error(
                    "timestamp",
                    p,
                    format!("'{name}': '{s}' is not a valid timestamp: {why}"),
                ),
                Ok(prec) => {
                    if matches!(prop.kind, Kind::TsMillis) && prec.fraction_digits < 3 {
                        sink.error(
                            "timestamp-precision",
                            p,
                            format!("'{name}': '{s}' must be precise to at least the millisecond"),
                        );
                    }
                }
            }
        }
        Kind::Ref(types) => reference(v, p, name, types, false, sink),
        Kind::RefNot(types) => reference(v, p, name, types, true, sink),
        Kind::Refs(types) => match v.as_array() {
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    reference(item, &p.index(i), name, types, false, sink);
                }
            }
            None => type_err(sink, "a list of identifiers"),
        },
        Kind::ScoRef(types) => sco_ref(v, p, name, types, embedded, sink),
        Kind::ScoRefs(types) => match v.as_array() {
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    sco_ref(item, &p.index(i), name, types, embedded, sink);
                }
            }
            None => type_err(sink, "a list of references"),
        },
        Kind::StrList | Kind::StrListMaybeEmpty => {
            string_list(v, p, name, sink);
        }
        Kind::Ov(vocab) => match v.as_str() {
            Some(s) => open_vocab(s, vocab, p, name, sink),
            None => type_err(sink, "a string"),
        },
        Kind::OvList(vocab) => {
            if string_list(v, p, name, sink) {
                for (i, s) in v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .enumerate()
                {
                    open_vocab(s, vocab, &p.index(i), name, sink);
                }
            }
        }
        Kind::Enum(values) => match v.as_str() {
            Some(s) if values.contains(&s) => {}
            Some(s) => sink.error(
                "enum",
                p,
                format!("'{name}': '{s}' is not one of {}", values.join(", ")),
            ),
            None => type_err(sink, "a string"),
        },
        Kind::KillChain => match v.as_array() {
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    kill_chain_phase(item, &p.index(i), sink);
                }
            }
            None => type_err(sink, "a list of kill-chain phases"),
        },
        Kind::ExtRefs => match v.as_array() {
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    external_reference(item, &p.index(i), sink);
                }
            }
            None => type_err(sink, "a list of external references"),
        },
        Kind::Granular => match v.as_array() {
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    granular_marking(item, &p.index(i), sink);
                }
            }
            None => type_err(sink, "a list of granular markings"),
        },
        Kind::Hashes => hashes(v, p, name, sink),
        Kind::Dict => dictionary(v, p, name, sink),
        Kind::Extensions => extensions(v, p, sink),
        Kind::Bin => {
            if !v.as_str().is_some_and(syntax::base64) {
                type_err(sink, "base64-encoded binary");
            }
        }
        Kind::Hex => {
            if !v.as_str().is_some_and(syntax::hex) {
                type_err(sink, "hexadecimal octets");
            }
        }
        Kind::Url => match v.as_str() {
            Some(s) if syntax::uri(s) => {}
            Some(s) => sink.error("url", p, format!("'{name}': '{s}' is not a valid URL")),
            None => type_err(sink, "a URL string"),
        },
        Kind::Obj => {
            if !v.is_object() {
                type_err(sink, "an object");
            }
        }
        Kind::List => {
            if !v.is_array() {
                type_err(sink, "a list");
            }
        }
        Kind::Any => {}
    }
}

fn string_list(v: &Value, p: &Ptr<'_>, name: &str, sink: &mut Sink<'_>) -> bool {
    match v.as_array() {
        Some(list) => {
            let mut ok = true;
            for (i, item) in list.iter().enumerate() {
                if !item.is_string() {
                    ok = false;
                    sink.error(
                        "property-type",
                        &p.index(i),
                        format!("every item of '{name}' must be a string"),
                    );
                }
            }
            ok
        }
        None => {
            sink.error(
                "property-type",
                p,
                format!("'{name}' must be a list of strings"),
            );
            false
        }
    }
}

fn open_vocab(s: &str, vocab: Vocab, p: &Ptr<'_>, name: &str, sink: &mut Sink<'_>) {
    if !vocab.contains(s) {
        sink.warn(
            "open-vocab",
            p,
            format!("'{name}': '{s}' is not a value of {}", vocab.name()),
        );
    }
}

fn reference(
    v: &Value,
    p: &Ptr<'_>,
    name: &str,
    types: &[&str],
    negate: bool,
    sink: &mut Sink<'_>,
) {
    let Some(s) = v.as_str() else {
        sink.error(
            "property-type",
            p,
            format!("'{name}' must be an identifier string"),
        );
        return;
    };
    let Some(id) = syntax::identifier(s) else {
        sink.error(
            "id-format",
            p,
            format!("'{name}': '{s}' is not a valid identifier"),
        );
        return;
    };
    if types.is_empty() {
        return;
    }
    let listed = types.contains(&id.ty);
    if negate && listed {
        sink.error(
            "ref-type",
            p,
            format!("'{name}' must not refer to a '{}' object", id.ty),
        );
    } else if !negate && !listed {
        sink.error(
            "ref-type",
            p,
            format!(
                "'{name}' must refer to an object of type {}, not '{}'",
                types.join(" or "),
                id.ty
            ),
        );
    }
}

fn sco_ref(
    v: &Value,
    p: &Ptr<'_>,
    name: &str,
    types: &[&str],
    embedded: bool,
    sink: &mut Sink<'_>,
) {
    let Some(s) = v.as_str() else {
        sink.error(
            "property-type",
            p,
            format!("'{name}' must be a reference string"),
        );
        return;
    };
    if embedded {
        // Inside observed-data the references are keys of `objects`; checked there.
        return;
    }
    match syntax::identifier(s) {
        None => sink.error(
            "id-format",
            p,
            format!("'{name}': '{s}' is not a valid identifier"),
        ),
        Some(id) if !types.is_empty() && !types.contains(&id.ty) => sink.warn(
            "ref-type",
            p,
            format!(
                "'{name}' should refer to an object of type {}, not '{}'",
                types.join(" or "),
                id.ty
            ),
        ),
        Some(_) => {}
    }
}

fn kill_chain_phase(v: &Value, p: &Ptr<'_>, sink: &mut Sink<'_>) {
    let Some(o) = v.as_object() else {
        sink.error("property-type", p, "a kill-chain phase must be an object");
        return;
    };
    for key in ["kill_chain_name", "phase_name"] {
        match o.get(key) {
            Some(Value::String(s)) => {
                let lower = s
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
                if !lower {
                    sink.warn(
                        "kill-chain-names",
                        &p.key(key),
                        format!("'{key}' ('{s}') should be all lowercase and use hyphens instead of spaces or underscores"),
                    );
                }
            }
            Some(_) => sink.error(
                "property-type",
                &p.key(key),
                format!("'{key}' must be a string"),
            ),
            None => sink.error(
                "required-property",
                p,
                format!("kill-chain phase is missing '{key}'"),
            ),
        }
    }
}

fn is_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|c| c.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|c| c.is_ascii_digit())
        && (num.starts_with('0') == (num.len() == 4) || !num.starts_with('0'))
        && !(num.starts_with('0') && num.len() > 4)
}

fn is_capec(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

fn external_reference(v: &Value, p: &Ptr<'_>, sink: &mut Sink<'_>) {
    let Some(o) = v.as_object() else {
        sink.error(
            "property-type",
            p,
            "an external reference must be an object",
        );
        return;
    };
    let source = match o.get("source_name") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            sink.error(
                "property-type",
                &p.key("source_name"),
                "'source_name' must be a string",
            );
            return;
        }
        None => {
            sink.error(
                "required-property",
                p,
                "external reference is missing 'source_name'",
            );
            return;
        }
    };
    let ext_id = o.get("external_id");
    let ext_str = ext_id.and_then(Value::as_str);
    if ext_id.is_some() && ext_str.is_none() {
        sink.error(
            "property-type",
            &p.key("external_id"),
            "'external_id' must be a string",
        );
    }
    match source {
        "cve" => match ext_str {
            Some(id) if is_cve(id) => {}
            Some(id) => sink.error(
                "external-reference",
                &p.key("external_id"),
                format!("'{id}' is not a CVE identifier (CVE-YYYY-NNNN), which source_name 'cve' requires"),
            ),
            None => sink.error("external-reference", p, "source_name 'cve' requires an external_id"),
        },
        "capec" => match ext_str {
            Some(id) if is_capec(id) => {}
            Some(id) => sink.error(
                "external-reference",
                &p.key("external_id"),
                format!("'{id}' is not a CAPEC identifier (CAPEC-N), which source_name 'capec' requires"),
            ),
            None => sink.error("external-reference", p, "source_name 'capec' requires an external_id"),
        },
        _ => {
            if let Some(id) = ext_str.filter(|id| is_cve(id) || is_capec(id)) {
                sink.error(
                    "external-reference",
                    &p.key("source_name"),
                    format!("external_id '{id}' is a CVE/CAPEC identifier, so source_name must be 'cve' or 'capec', not '{source}'"),
                );
            }
            if !["external_id", "description", "url"].iter().any(|k| o.contains_key(*k)) {
                sink.error(
                    "external-reference",
                    p,
                    "an external reference needs at least one of description, url or external_id",
                );
            }
        }
    }
    if let Some(url) = o.get("url") {
        if !url.as_str().is_some_and(syntax::uri) {
            sink.error("url", &p.key("url"), "'url' must be a valid URL");
        }
    }
    if let Some(h) = o.get("hashes") {
        hashes(h, &p.key("hashes"), "hashes", sink);
    }
}

fn granular_marking(v: &Value, p: &Ptr<'_>, sink: &mut Sink<'_>) {
    let Some(o) = v.as_object() else {
        sink.error("property-type", p, "a granular marking must be an object");
        return;
    };
    match o.get("selectors") {
        Some(Value::Array(sel)) if !sel.is_empty() => {
            for (i, s) in sel.iter().enumerate() {
                if !s.is_string() {
                    sink.error(
                        "property-type",
                        &p.key("selectors").index(i),
                        "a selector must be a string",
                    );
                }
            }
        }
        Some(_) => sink.error(
            "property-type",
            &p.key("selectors"),
            "'selectors' must be a non-empty list of strings",
        ),
        None => sink.error(
            "required-property",
            p,
            "granular marking is missing 'selectors'",
        ),
    }
    match (o.get("marking_ref"), o.get("lang")) {
        (Some(r), None) => {
            let mp = p.key("marking_ref");
            reference(r, &mp, "marking_ref", &["marking-definition"], false, sink);
        }
        (None, Some(_)) => sink.error(
            "granular-marking",
            p,
            "granular marking has 'lang' but no 'marking_ref'; language markings are not accepted by common tools",
        ),
        (Some(_), Some(_)) => sink.error("granular-marking", p, "a granular marking must have either 'marking_ref' or 'lang', not both"),
        (None, None) => sink.error("required-property", p, "granular marking is missing 'marking_ref'"),
    }
}

/// Checks that every selector resolves to a property of the object (section 7.2.3.1).
fn selectors(obj: &Map<String, Value>, markings: &[Value], p: &Ptr<'_>, sink: &mut Sink<'_>) {
    for (mi, marking) in markings.iter().enumerate() {
        let Some(Value::Array(sels)) = marking.get("selectors") else {
            continue;
        };
        for (si, sel) in sels.iter().enumerate() {
            let Some(sel) = sel.as_str() else { continue };
            let mp = p.index(mi);
            let msel = mp.key("selectors");
            let sp = msel.index(si);
            let mut cur: Option<&Value> = None;
            let mut ok = true;
            for (k, seg) in sel.split('.').enumerate() {
                let next =
                    if let Some(idx) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                        idx.parse::<usize>()
                            .ok()
                            .and_then(|i| cur.and_then(|c| c.as_array()).and_then(|a| a.get(i)))
                    } else if k == 0 {
                        obj.get(seg)
                    } else {
                        cur.and_then(|c| c.as_object()).and_then(|o| o.get(seg))
                    };
                match next {
                    Some(n) => cur = Some(n),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                sink.error(
                    "marking-selector",
                    &sp,
                    format!("selector '{sel}' does not point to a property of this object"),
                );
            }
        }
    }
}

fn hash_ok(algo: &str, value: &str) -> Option<bool> {
    let hexlen = |n: usize| value.len() == n && value.bytes().all(|c| c.is_ascii_hexdigit());
    Some(match algo {
        "MD5" => hexlen(32),
        "SHA-1" => hexlen(40),
        "SHA-256" | "SHA3-256" => hexlen(64),
        "SHA-512" | "SHA3-512" => hexlen(128),
        "SSDEEP" => {
            (1..=128).contains(&value.len())
                && value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b':' | b'.'))
        }
        "TLSH" => value.len() == 70 && value.bytes().all(|c| c.is_ascii_alphanumeric()),
        _ => return None,
    })
}

fn hashes(v: &Value, p: &Ptr<'_>, name: &str, sink: &mut Sink<'_>) {
    let Some(o) = v.as_object() else {
        sink.error(
            "property-type",
            p,
            format!("'{name}' must be a dictionary of hashes"),
        );
        return;
    };
    if o.is_empty() {
        sink.error("empty-dictionary", p, format!("'{name}' must not be empty"));
    }
    for (algo, value) in o {
        let hp = p.key(algo);
        let Some(s) = value.as_str() else {
            sink.error("property-type", &hp, "a hash value must be a string");
            continue;
        };
        match hash_ok(algo, s) {
            Some(true) => {}
            Some(false) => sink.error(
                "hash-value",
                &hp,
                format!("'{s}' is not a valid {algo} hash"),
            ),
            None => {
                let key_ok = (3..=250).contains(&algo.len())
                    && algo
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
                if !key_ok {
                    sink.error("hash-algo", &hp, format!("'{algo}' is not a valid hash algorithm name (3 to 250 of a-z, A-Z, 0-9, _ and -)"));
                } else {
                    sink.warn(
                        "hash-algo",
                        &hp,
                        format!("'{algo}' is not a value of {}", Vocab::HashAlgorithm.name()),
                    );
                }
            }
        }
    }
}

fn dictionary(v: &Value, p: &Ptr<'_>, name: &str, sink: &mut Sink<'_>) {
    let Some(o) = v.as_object() else {
        sink.error("property-type", p, format!("'{name}' must be a dictionary"));
        return;
    };
    if o.is_empty() {
        sink.error("empty-dictionary", p, format!("'{name}' must not be empty"));
    }
    for (key, value) in o {
        let kp = p.key(key);
        if key.len() > 250
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            sink.error(
                "dictionary-key",
                &kp,
                format!("dictionary key '{key}' must be at most 250 of a-z, A-Z, 0-9, _ and -"),
            );
        }
        empty_or_null(value, &kp, key, sink);
    }
}

const EXTENSION_TYPES: &[&str] = &[
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
];

fn extensions(v: &Value, p: &Ptr<'_>, sink: &mut Sink<'_>) {
    let Some(o) = v.as_object() else {
        sink.error("property-type", p, "'extensions' must be a dictionary");
        return;
    };
    if o.is_empty() {
        sink.error("empty-dictionary", p, "'extensions' must not be empty");
    }
    for (key, ext) in o {
        let kp = p.key(key);
        let by_definition = key.strip_prefix("extension-definition--").is_some()
            && syntax::identifier(key).is_some();
        let predefined = key.strip_suffix("-ext").is_some_and(|stem| {
            !stem.is_empty() && syntax::type_name(&format!("{stem}xx")) && !stem.ends_with('-')
        });
        if !by_definition && !predefined {
            sink.error(
                "extension-name",
                &kp,
                format!("extension key '{key}' must be an extension-definition id or a name ending in '-ext'"),
            );
            continue;
        }
        let Some(eo) = ext.as_object() else {
            sink.error("property-type", &kp, "an extension must be an object");
            continue;
        };
        if eo.is_empty() {
            sink.error("empty-dictionary", &kp, "an extension must not be empty");
        }
        if by_definition {
            match eo.get("extension_type") {
                Some(Value::String(t)) if EXTENSION_TYPES.contains(&t.as_str()) => {}
                Some(_) => sink.error(
                    "enum",
                    &kp.key("extension_type"),
                    format!(
                        "'extension_type' must be one of {}",
                        EXTENSION_TYPES.join(", ")
                    ),
                ),
                None => sink.error(
                    "required-property",
                    &kp,
                    "extension is missing 'extension_type'",
                ),
            }
        }
        for (name, value) in eo {
            let np = kp.key(name);
            if !syntax::property_name(name) {
                sink.error(
                    "property-name",
                    &np,
                    format!("'{name}' is not a valid property name"),
                );
            }
            empty_or_null(value, &np, name, sink);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn type_rules(
    ty: &str,
    obj: &Map<String, Value>,
    ptr: &Ptr<'_>,
    sink: &mut Sink<'_>,
    opts: &Options,
    embedded: bool,
    id: Option<syntax::Ident<'_>>,
) {
    let has = |k: &str| obj.contains_key(k);
    match ty {
        "indicator" => indicator(obj, ptr, sink, opts),
        "malware" if obj.get("is_family") == Some(&Value::Bool(true)) && !has("name") => {
            sink.error(
                "required-property",
                ptr,
                "'name' is required when 'is_family' is true",
            );
        }
        "malware-analysis" if !has("result") && !has("analysis_sco_refs") => {
            sink.error(
                "required-property",
                ptr,
                "one of 'result' or 'analysis_sco_refs' is required",
            );
        }
        "location" => {
            let (lat, lon) = (has("latitude"), has("longitude"));
            if lat != lon {
                sink.error(
                    "location",
                    ptr,
                    "'latitude' and 'longitude' must be given together",
                );
            }
            if has("precision") && !(lat && lon) {
                sink.error(
                    "location",
                    &ptr.key("precision"),
                    "'precision' requires 'latitude' and 'longitude'",
                );
            }
            if !(has("region") || has("country") || (lat && lon)) {
                sink.error(
                    "location",
                    ptr,
                    "a location needs 'region', 'country' or 'latitude' and 'longitude'",
                );
            }
        }
        "observed-data" => observed_data(obj, ptr, sink, opts),
        "relationship" => relationship(obj, ptr, sink),
        "language-content" => {
            if let Some(Value::Object(contents)) = obj.get("contents") {
                for (lang, value) in contents {
                    let cp = ptr.key("contents");
                    let lp = cp.key(lang);
                    if !syntax::language_tag(lang) {
                        sink.error(
                            "language",
                            &lp,
                            format!("'{lang}' in 'contents' must be an RFC 5646 language code"),
                        );
                    }
                    if let Some(inner) = value.as_object() {
                        for key in inner.keys() {
                            if !syntax::property_name(key) {
                                sink.error(
                                    "property-name",
                                    &lp.key(key),
                                    format!("'{key}' must be a valid property name"),
                                );
                            }
                        }
                    }
                }
            }
        }
        "extension-definition" => {
            let types = obj.get("extension_types");
            match types {
                Some(Value::Array(list)) => {
                    for (i, t) in list.iter().enumerate() {
                        if !t.as_str().is_some_and(|t| EXTENSION_TYPES.contains(&t)) {
                            sink.error(
                                "enum",
                                &ptr.key("extension_types").index(i),
                                format!(
                                    "extension type must be one of {}",
                                    EXTENSION_TYPES.join(", ")
                                ),
                            );
                        }
                    }
                    let toplevel = list
                        .iter()
                        .any(|t| t.as_str() == Some("toplevel-property-extension"));
                    if has("extension_properties") && !toplevel {
                        sink.error(
                            "extension-definition",
                            &ptr.key("extension_properties"),
                            "'extension_properties' is only allowed with a 'toplevel-property-extension'",
                        );
                    }
                }
                Some(_) => sink.error(
                    "property-type",
                    &ptr.key("extension_types"),
                    "'extension_types' must be a list",
                ),
                None => {}
            }
        }
        "marking-definition" => marking_definition(obj, ptr, sink),
        "artifact" => {
            let (bin, url) = (has("payload_bin"), has("url"));
            if bin && url {
                sink.error(
                    "artifact",
                    ptr,
                    "'payload_bin' and 'url' must not both be present",
                );
            } else if !bin && !url {
                sink.error("artifact", ptr, "one of 'payload_bin' or 'url' is required");
            } else if url && !has("hashes") {
                sink.error(
                    "artifact",
                    ptr,
                    "'hashes' is required when 'url' is present",
                );
            }
            if has("decryption_key") && !has("encryption_algorithm") {
                sink.error(
                    "artifact",
                    &ptr.key("decryption_key"),
                    "'decryption_key' requires 'encryption_algorithm'",
                );
            }
            if let Some(Value::String(m)) = obj.get("mime_type") {
                if !mime_type(m) {
                    sink.error(
                        "mime-type",
                        &ptr.key("mime_type"),
                        format!("'{m}' is not an IANA media type of the form type/subtype"),
                    );
                }
            }
        }
        "email-message" => {
            match obj.get("is_multipart") {
                Some(Value::Bool(true)) if has("body") => sink.error(
                    "email-message",
                    &ptr.key("body"),
                    "'body' must not be present when 'is_multipart' is true",
                ),
                Some(Value::Bool(false)) if has("body_multipart") => sink.error(
                    "email-message",
                    &ptr.key("body_multipart"),
                    "'body_multipart' must not be present when 'is_multipart' is false",
                ),
                _ => {}
            }
            if let Some(Value::Array(parts)) = obj.get("body_multipart") {
                for (i, part) in parts.iter().enumerate() {
                    let bp = ptr.key("body_multipart");
                    let ip = bp.index(i);
                    match part.as_object() {
                        Some(o) if o.contains_key("body") != o.contains_key("body_raw_ref") => {}
                        Some(_) => sink.error(
                            "email-message",
                            &ip,
                            "a MIME part needs exactly one of 'body' or 'body_raw_ref'",
                        ),
                        None => sink.error("property-type", &ip, "a MIME part must be an object"),
                    }
                }
            }
        }
        "email-addr" => {
            if let Some(Value::String(v)) = obj.get("value") {
                if !syntax::email(v) {
                    sink.error(
                        "email-addr",
                        &ptr.key("value"),
                        format!("'{v}' is not a valid e-mail address"),
                    );
                }
            }
        }
        "file" => {
            if !has("hashes") && !has("name") {
                sink.error("required-property", ptr, "a file needs 'hashes' or 'name'");
            }
            char_set(obj, "name_enc", ptr, sink);
        }
        "directory" => char_set(obj, "path_enc", ptr, sink),
        "process" => {
            if let Some(id) = id {
                if id.uuid_version != 4 {
                    sink.error(
                        "uuid-version",
                        &ptr.key("id"),
                        "a process id must use a version 4 UUID",
                    );
                }
            }
        }
        "software" => {
            if let Some(Value::Array(langs)) = obj.get("languages") {
                for (i, l) in langs.iter().enumerate() {
                    if let Some(l) = l.as_str() {
                        if !syntax::language_tag(l) {
                            sink.error(
                                "language",
                                &ptr.key("languages").index(i),
                                format!("'{l}' is not an RFC 5646 language code"),
                            );
                        }
                    }
                }
            }
            if let Some(Value::String(cpe)) = obj.get("cpe") {
                if !(cpe.starts_with("cpe:2.3:") && cpe.split(':').count() == 13) {
                    sink.error(
                        "cpe",
                        &ptr.key("cpe"),
                        format!("'{cpe}' is not a CPE 2.3 formatted string"),
                    );
                }
            }
        }
        "windows-registry-key" => {
            if let Some(Value::String(k)) = obj.get("key") {
                let upper = k.to_ascii_uppercase();
                if ["HKLM", "HKCC", "HKCR", "HKCU", "HKU"]
                    .iter()
                    .any(|a| upper.starts_with(&format!("{a}\\")) || upper == *a)
                {
                    sink.error(
                        "registry-key",
                        &ptr.key("key"),
                        "'key' must use the full hive name, not an abbreviation",
                    );
                }
            }
            let any = [
                "key",
                "values",
                "modified_time",
                "creator_user_ref",
                "number_of_subkeys",
            ]
            .iter()
            .any(|k| has(k));
            if !any {
                sink.error(
                    "required-property",
                    ptr,
                    "a windows-registry-key needs at least one of its properties",
                );
            }
        }
        "user-account" | "x509-certificate" => {
            let own = spec::type_props(ty).unwrap_or(&[]);
            if !own.iter().any(|p| has(p.name)) && !has("extensions") {
                sink.error(
                    "required-property",
                    ptr,
                    format!("a {ty} needs at least one of its properties"),
                );
            }
        }
        _ => {}
    }
    // SCOs whose id-contributing properties are all absent must use a random UUID.
    let contributing: &[&str] = match ty {
        "artifact" => &["hashes", "payload_bin"],
        "email-message" => &["from_ref", "subject", "body"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        _ => &[],
    };
    if !embedded && !contributing.is_empty() && contributing.iter().all(|k| !has(k)) {
        if let Some(id) = id {
            if id.uuid_version != 4 {
                sink.error(
                    "uuid-version",
                    &ptr.key("id"),
                    "without any id-contributing property the id must use a version 4 UUID",
                );
            }
        }
    }
}

fn mime_type(m: &str) -> bool {
    let Some((top, sub)) = m.split_once('/') else {
        return false;
    };
    matches!(
        top,
        "application"
            | "audio"
            | "font"
            | "image"
            | "message"
            | "model"
            | "multipart"
            | "text"
            | "video"
    ) && !sub.is_empty()
        && sub
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'_' | b'-'))
}

fn char_set(obj: &Map<String, Value>, key: &str, ptr: &Ptr<'_>, sink: &mut Sink<'_>) {
    if let Some(Value::String(s)) = obj.get(key) {
        let ok = (2..=250).contains(&s.len())
            && s.bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'+' | b'_' | b':' | b'-')
            });
        if !ok {
            sink.error(
                "character-set",
                &ptr.key(key),
                format!("'{s}' is not an IANA character set name"),
            );
        }
    }
}

fn indicator(obj: &Map<String, Value>, ptr: &Ptr<'_>, sink: &mut Sink<'_>, opts: &Options) {
    if !obj.contains_key("name") || !obj.contains_key("description") {
        sink.warn(
            "indicator-properties",
            ptr,
            "both the name and description properties should be present",
        );
    }
    let (Some(Value::String(pattern)), Some(Value::String(pattern_type))) =
        (obj.get("pattern"), obj.get("pattern_type"))
    else {
        return;
    };
    if pattern_type != "stix" {
        return;
    }
    let pp = ptr.key("pattern");
    if let Some(checker) = &opts.patterns {
        if let Err(messages) = checker.check(pattern) {
            for m in messages {
                sink.error("pattern", &pp, format!("pattern syntax: {m}"));
            }
            return;
        }
    }
    for (ty, prop) in crate::pattern_paths::object_paths(pattern) {
        if category_of(ty) != Some(Category::Sco) {
            if !syntax::type_name(ty) {
                sink.error(
                    "pattern",
                    &pp,
                    format!("'{ty}' is not a valid observable type name"),
                );
            } else if !ty.starts_with("x-") {
                sink.warn(
                    "custom-observable",
                    &pp,
                    format!("pattern uses the non-standard observable type '{ty}' without the 'x-' prefix"),
                );
            }
        }
        if !syntax::property_name(prop) {
            sink.error(
                "pattern",
                &pp,
                format!("'{prop}' is not a valid observable property name"),
            );
        }
    }
}

fn observed_data(obj: &Map<String, Value>, ptr: &Ptr<'_>, sink: &mut Sink<'_>, opts: &Options) {
    let (objects, refs) = (obj.get("objects"), obj.get("object_refs"));
    match (objects, refs) {
        (Some(_), Some(_)) => sink.error(
            "observed-data",
            ptr,
            "'objects' and 'object_refs' must not both be present",
        ),
        (None, None) => sink.error(
            "required-property",
            ptr,
            "one of 'objects' or 'object_refs' is required",
        ),
        _ => {}
    }
    if let Some(Value::Array(list)) = refs {
        for (i, r) in list.iter().enumerate() {
            if let Some(id) = r.as_str().and_then(syntax::identifier) {
                if category_of(id.ty) == Some(Category::Sdo) {
                    sink.error(
                        "ref-type",
                        &ptr.key("object_refs").index(i),
                        format!("'object_refs' must refer to SCOs or SROs, not '{}'", id.ty),
                    );
                }
            }
        }
    }
    let Some(Value::Object(objects)) = objects else {
        return;
    };
    sink.warn(
        "deprecated-properties",
        &ptr.key("objects"),
        "'objects' is deprecated in STIX 2.1; use 'object_refs'",
    );
    let op = ptr.key("objects");
    if objects.is_empty() {
        sink.error("empty-dictionary", &op, "'objects' must not be empty");
    }
    for (key, child) in objects {
        let kp = op.key(key);
        object(child, &kp, sink, opts, true);
        // References inside embedded objects are keys of this dictionary.
        let Some(co) = child.as_object() else {
            continue;
        };
        let Some(cty) = co.get("type").and_then(Value::as_str) else {
            continue;
        };
        for prop in spec::type_props(cty).unwrap_or(&[]) {
            let (Kind::ScoRef(types) | Kind::ScoRefs(types)) = prop.kind else {
                continue;
            };
            let pp = kp.key(prop.name);
            let values: Vec<(Option<usize>, &Value)> = match co.get(prop.name) {
                Some(Value::Array(a)) => a.iter().enumerate().map(|(i, v)| (Some(i), v)).collect(),
                Some(v) => vec![(None, v)],
                None => continue,
            };
            for (i, v) in values {
                let vp = match i {
                    Some(i) => pp.index(i),
                    None => pp,
                };
                let Some(r) = v.as_str() else { continue };
                match objects.get(r) {
                    None => sink.error(
                        "observable-ref",
                        &vp,
                        format!(
                            "'{}' refers to '{r}', which is not a key of 'objects'",
                            prop.name
                        ),
                    ),
                    Some(target) => {
                        let tty = target.get("type").and_then(Value::as_str).unwrap_or("");
                        if !types.is_empty() && !types.contains(&tty) {
                            sink.error(
                                "observable-ref",
                                &vp,
                                format!(
                                    "'{}' must refer to an object of type {}, not '{tty}'",
                                    prop.name,
                                    types.join(" or ")
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn relationship(obj: &Map<String, Value>, ptr: &Ptr<'_>, sink: &mut Sink<'_>) {
    let Some(Value::String(rt)) = obj.get("relationship_type") else {
        return;
    };
    let rp = ptr.key("relationship_type");
    if rt.is_empty()
        || !rt
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        sink.error(
            "relationship-type",
            &rp,
            format!("'{rt}' must contain only a-z, 0-9 and hyphens"),
        );
        return;
    }
    let ty_of = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .and_then(syntax::identifier)
            .map(|i| i.ty)
    };
    let (Some(src), Some(dst)) = (ty_of("source_ref"), ty_of("target_ref")) else {
        return;
    };
    if COMMON_RELATIONSHIPS.contains(&rt.as_str()) {
        return;
    }
    // The table is sorted by source type.
    let from = RELATIONSHIPS.partition_point(|(s, _, _)| *s < src);
    let of_source = &RELATIONSHIPS[from..];
    let of_source = &of_source[..of_source.partition_point(|(s, _, _)| *s == src)];
    if of_source.is_empty() {
        return;
    }
    let allowed = of_source
        .iter()
        .any(|(_, r, targets)| r == rt && targets.contains(&dst));
    if !allowed {
        sink.warn(
            "relationship-types",
            &rp,
            format!(
                "'{rt}' from '{src}' to '{dst}' is not a relationship the specification defines"
            ),
        );
    }
}

fn marking_definition(obj: &Map<String, Value>, ptr: &Ptr<'_>, sink: &mut Sink<'_>) {
    let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
    if let Some(Value::Array(refs)) = obj.get("object_marking_refs") {
        if refs.iter().any(|r| r.as_str() == Some(id)) {
            sink.error(
                "marking-circular",
                &ptr.key("object_marking_refs"),
                "a marking definition must not mark itself",
            );
        }
    }
    if let Some(Value::Array(gm)) = obj.get("granular_markings") {
        if gm
            .iter()
            .any(|m| m.get("marking_ref").and_then(Value::as_str) == Some(id))
        {
            sink.error(
                "marking-circular",
                &ptr.key("granular_markings"),
                "a marking definition must not mark itself",
            );
        }
    }
    let dtype = obj.get("definition_type").and_then(Value::as_str);
    let has_ext = obj.contains_key("extensions");
    if !has_ext && (dtype.is_none() || !obj.contains_key("definition")) {
        sink.error(
            "required-property",
            ptr,
            "a marking definition without 'extensions' needs 'definition_type' and 'definition'",
        );
    }
    match dtype {
        Some("statement") => {
            let ok = obj
                .get("definition")
                .and_then(|d| d.get("statement"))
                .is_some_and(Value::is_string);
            if !ok {
                sink.error(
                    "marking-definition",
                    &ptr.key("definition"),
                    "a statement marking needs a string 'statement'",
                );
            }
        }
        Some("tlp") => {
            let colour = obj
                .get("definition")
                .and_then(|d| d.get("tlp"))
                .and_then(Value::as_str);
            let expected = TLP1.iter().find(|(tid, _)| *tid == id);
            let good = match expected {
                Some((_, c)) => {
                    colour == Some(c)
                        && obj.get("name").and_then(Value::as_str)
                            == Some(&format!("TLP:{}", c.to_ascii_uppercase()))
                        && obj.get("created").and_then(Value::as_str)
                            == Some("2017-01-20T00:00:00.000Z")
                        && obj.keys().all(|k| {
                            matches!(
                                k.as_str(),
                                "type"
                                    | "id"
                                    | "spec_version"
                                    | "created"
                                    | "name"
                                    | "definition"
                                    | "definition_type"
                            )
                        })
                }
                None => false,
            };
            if !good {
                sink.error(
                    "marking-tlp",
                    ptr,
                    "a 'tlp' marking definition must be exactly one of the four TLP 1.0 objects the specification publishes",
                );
            }
        }
        _ => {}
    }
}
