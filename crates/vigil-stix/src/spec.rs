//! The property tables of the STIX 2.1 specification: for every object type,
//! which properties exist, which are required and what each value must be.
//!
//! This is the one listing of the tables in the workspace: the validator
//! (`vigil-validate`) checks objects against it, and the tests of this crate
//! check that the typed model reads every property it lists as typed.

use crate::vocab::Vocab;

/// What a property's value must look like.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Any JSON string.
    Str,
    /// `true` or `false`.
    Bool,
    /// An integer within the bounds.
    Int(Option<i64>, Option<i64>),
    /// A number within the bounds.
    Num(f64, f64),
    /// A timestamp (RFC 3339, `Z`, any sub-second precision).
    Ts,
    /// A timestamp with at least millisecond precision (`created`, `modified`).
    TsMillis,
    /// One identifier whose type is one of these (empty: any type).
    Ref(&'static [&'static str]),
    /// One identifier whose type is none of these.
    RefNot(&'static [&'static str]),
    /// A non-empty list of identifiers of these types (empty: any).
    Refs(&'static [&'static str]),
    /// An identifier as a plain string inside cyber observables (SCO `_ref`);
    /// the target types are checked as a best practice only.
    ScoRef(&'static [&'static str]),
    /// A non-empty list of SCO references.
    ScoRefs(&'static [&'static str]),
    /// A non-empty list of strings.
    StrList,
    /// A list of strings that may be empty.
    StrListMaybeEmpty,
    /// A string from an open vocabulary (others are warnings).
    Ov(Vocab),
    /// A non-empty list of strings from an open vocabulary.
    OvList(Vocab),
    /// A string from a closed enumeration (others are errors).
    Enum(&'static [&'static str]),
    /// A non-empty list of kill-chain phases.
    KillChain,
    /// A non-empty list of external references.
    ExtRefs,
    /// A non-empty list of granular markings.
    Granular,
    /// A hashes dictionary.
    Hashes,
    /// A non-empty dictionary.
    Dict,
    /// The `extensions` dictionary.
    Extensions,
    /// Base64 binary.
    Bin,
    /// Hexadecimal octets.
    Hex,
    /// An absolute URL.
    Url,
    /// A JSON object (structure checked elsewhere).
    Obj,
    /// A non-empty JSON list (structure checked elsewhere).
    List,
    /// Anything (checked elsewhere).
    Any,
}

/// One property of an object type.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn opt(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: false,
    }
}

const fn req(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: true,
    }
}

/// Types a relationship, sighting or language content may not point at.
pub const NOT_RELATABLE: &[&str] = &[
    "relationship",
    "sighting",
    "bundle",
    "marking-definition",
    "language-content",
];

/// Common properties of SDOs and SROs (section 3.2 of the specification).
pub const SDO_COMMON: &[Prop] = &[
    req("type", Kind::Str),
    req("spec_version", Kind::Enum(&["2.0", "2.1"])),
    req("id", Kind::Str),
    opt("created_by_ref", Kind::Ref(&["identity"])),
    req("created", Kind::TsMillis),
    req("modified", Kind::TsMillis),
    opt("revoked", Kind::Bool),
    opt("labels", Kind::StrList),
    opt("confidence", Kind::Int(Some(0), Some(100))),
    opt("lang", Kind::Str),
    opt("external_references", Kind::ExtRefs),
    opt("object_marking_refs", Kind::Refs(&["marking-definition"])),
    opt("granular_markings", Kind::Granular),
    opt("extensions", Kind::Extensions),
];

/// Common properties of SCOs (section 6.1).
pub const SCO_COMMON: &[Prop] = &[
    req("type", Kind::Str),
    opt("spec_version", Kind::Enum(&["2.0", "2.1"])),
    req("id", Kind::Str),
    opt("object_marking_refs", Kind::Refs(&["marking-definition"])),
    opt("granular_markings", Kind::Granular),
    opt("defanged", Kind::Bool),
    opt("extensions", Kind::Extensions),
];

/// The properties of a marking definition (section 7.2).
pub const MARKING_COMMON: &[Prop] = &[
    Prop {
        name: "type",
        kind: Kind::Str,
        required: true,
    },
    Prop {
        name: "spec_version",
        kind: Kind::Enum(&["2.0", "2.1"]),
        required: true,
    },
    Prop {
        name: "id",
        kind: Kind::Str,
        required: true,
    },
    Prop {
        name: "created_by_ref",
        kind: Kind::Ref(&["identity"]),
        required: false,
    },
    Prop {
        name: "created",
        kind: Kind::TsMillis,
        required: true,
    },
    Prop {
        name: "external_references",
        kind: Kind::ExtRefs,
        required: false,
    },
    Prop {
        name: "object_marking_refs",
        kind: Kind::Refs(&["marking-definition"]),
        required: false,
    },
    Prop {
        name: "granular_markings",
        kind: Kind::Granular,
        required: false,
    },
    Prop {
        name: "definition_type",
        kind: Kind::Str,
        required: false,
    },
    Prop {
        name: "definition",
        kind: Kind::Obj,
        required: false,
    },
    Prop {
        name: "extensions",
        kind: Kind::Extensions,
        required: false,
    },
];

const KCP: Kind = Kind::KillChain;

/// Type-specific properties, in addition to the common ones.
pub fn type_props(ty: &str) -> Option<&'static [Prop]> {
    use Kind::*;
    use Vocab as V;
    Some(match ty {
        "attack-pattern" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("aliases", StrListMaybeEmpty),
                opt("kill_chain_phases", KCP),
            ];
            P
        }
        "campaign" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("aliases", StrList),
                opt("first_seen", Ts),
                opt("last_seen", Ts),
                opt("objective", Str),
            ];
            P
        }
        "course-of-action" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("action", Any),
            ];
            P
        }
        "grouping" => {
            const P: &[Prop] = &[
                opt("name", Str),
                opt("description", Str),
                req("context", Ov(V::GroupingContext)),
                req("object_refs", Refs(&[])),
            ];
            P
        }
        "identity" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("roles", StrList),
                opt("identity_class", Ov(V::IdentityClass)),
                opt("sectors", OvList(V::IndustrySector)),
                opt("contact_information", Str),
            ];
            P
        }
        "incident" => {
            const P: &[Prop] = &[req("name", Str), opt("description", Str)];
            P
        }
        "indicator" => {
            const P: &[Prop] = &[
                opt("name", Str),
                opt("description", Str),
                opt("indicator_types", OvList(V::IndicatorType)),
                req("pattern", Str),
                req("pattern_type", Ov(V::PatternType)),
                opt("pattern_version", Str),
                req("valid_from", Ts),
                opt("valid_until", Ts),
                opt("kill_chain_phases", KCP),
            ];
            P
        }
        "infrastructure" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("infrastructure_types", OvList(V::InfrastructureType)),
                opt("aliases", StrList),
                opt("kill_chain_phases", KCP),
                opt("first_seen", Ts),
                opt("last_seen", Ts),
            ];
            P
        }
        "intrusion-set" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("aliases", StrList),
                opt("first_seen", Ts),
                opt("last_seen", Ts),
                opt("goals", StrList),
                opt("resource_level", Ov(V::AttackResourceLevel)),
                opt("primary_motivation", Ov(V::AttackMotivation)),
                opt("secondary_motivations", OvList(V::AttackMotivation)),
            ];
            P
        }
        "location" => {
            const P: &[Prop] = &[
                opt("name", Str),
                opt("description", Str),
                opt("latitude", Num(-90.0, 90.0)),
                opt("longitude", Num(-180.0, 180.0)),
                opt("precision", Num(f64::MIN, f64::MAX)),
                opt("region", Ov(V::Region)),
                opt("country", Str),
                opt("administrative_area", Str),
                opt("city", Str),
                opt("street_address", Str),
                opt("postal_code", Str),
            ];
            P
        }
        "malware" => {
            const P: &[Prop] = &[
                opt("name", Str),
                opt("description", Str),
                opt("malware_types", OvList(V::MalwareType)),
                req("is_family", Bool),
                opt("aliases", StrList),
                opt("kill_chain_phases", KCP),
                opt("first_seen", Ts),
                opt("last_seen", Ts),
                opt("operating_system_refs", Refs(&["software"])),
                opt(
                    "architecture_execution_envs",
                    OvList(V::ProcessorArchitecture),
                ),
                opt(
                    "implementation_languages",
                    OvList(V::ImplementationLanguage),
                ),
                opt("capabilities", OvList(V::MalwareCapabilities)),
                opt("sample_refs", Refs(&["artifact", "file"])),
            ];
            P
        }
        "malware-analysis" => {
            const P: &[Prop] = &[
                req("product", Str),
                opt("version", Str),
                opt("host_vm_ref", Ref(&["software"])),
                opt("operating_system_ref", Ref(&["software"])),
                opt("installed_software_refs", Refs(&["software"])),
                opt("configuration_version", Str),
                opt("modules", StrList),
                opt("analysis_engine_version", Str),
                opt("analysis_definition_version", Str),
                opt("submitted", Ts),
                opt("analysis_started", Ts),
                opt("analysis_ended", Ts),
                opt("result_name", Str),
                opt("result", Ov(V::MalwareResult)),
                opt("analysis_sco_refs", Refs(&[])),
                opt("sample_ref", Ref(&["artifact", "file", "network-traffic"])),
            ];
            P
        }
        "note" => {
            const P: &[Prop] = &[
                opt("abstract", Str),
                req("content", Str),
                opt("authors", StrList),
                req("object_refs", Refs(&[])),
            ];
            P
        }
        "observed-data" => {
            const P: &[Prop] = &[
                req("first_observed", Ts),
                req("last_observed", Ts),
                req("number_observed", Int(Some(1), Some(999_999_999))),
                opt("objects", Obj),
                opt("object_refs", Refs(&[])),
            ];
            P
        }
        "opinion" => {
            const P: &[Prop] = &[
                opt("explanation", Str),
                opt("authors", StrList),
                req(
                    "opinion",
                    Enum(&[
                        "strongly-disagree",
                        "disagree",
                        "neutral",
                        "agree",
                        "strongly-agree",
                    ]),
                ),
                req("object_refs", Refs(&[])),
            ];
            P
        }
        "report" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("report_types", OvList(V::ReportType)),
                req("published", Ts),
                req("object_refs", Refs(&[])),
            ];
            P
        }
        "threat-actor" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("threat_actor_types", OvList(V::ThreatActorType)),
                opt("aliases", StrList),
                opt("first_seen", Ts),
                opt("last_seen", Ts),
                opt("roles", OvList(V::ThreatActorRole)),
                opt("goals", StrList),
                opt("sophistication", Ov(V::ThreatActorSophistication)),
                opt("resource_level", Ov(V::AttackResourceLevel)),
                opt("primary_motivation", Ov(V::AttackMotivation)),
                opt("secondary_motivations", OvList(V::AttackMotivation)),
                opt("personal_motivations", OvList(V::AttackMotivation)),
            ];
            P
        }
        "tool" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                opt("tool_types", OvList(V::ToolType)),
                opt("aliases", StrList),
                opt("kill_chain_phases", KCP),
                opt("tool_version", Str),
            ];
            P
        }
        "vulnerability" => {
            const P: &[Prop] = &[req("name", Str), opt("description", Str)];
            P
        }
        "relationship" => {
            const P: &[Prop] = &[
                req("relationship_type", Str),
                opt("description", Str),
                req("source_ref", RefNot(NOT_RELATABLE)),
                req("target_ref", RefNot(NOT_RELATABLE)),
                opt("start_time", Ts),
                opt("stop_time", Ts),
            ];
            P
        }
        "sighting" => {
            const P: &[Prop] = &[
                opt("description", Str),
                opt("first_seen", Ts),
                opt("last_seen", Ts),
                opt("count", Int(Some(0), Some(999_999_999))),
                req("sighting_of_ref", RefNot(NOT_RELATABLE)),
                opt("observed_data_refs", Refs(&["observed-data"])),
                opt("where_sighted_refs", Refs(&["identity", "location"])),
                opt("summary", Bool),
            ];
            P
        }
        "language-content" => {
            const P: &[Prop] = &[
                req(
                    "object_ref",
                    RefNot(&["bundle", "language-content", "marking-definition"]),
                ),
                opt("object_modified", Ts),
                req("contents", Dict),
            ];
            P
        }
        "extension-definition" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("description", Str),
                req("schema", Str),
                req("version", Str),
                req("extension_types", Any),
                opt("extension_properties", StrList),
            ];
            P
        }
        // SCOs (section 6).
        "artifact" => {
            const P: &[Prop] = &[
                opt("mime_type", Str),
                opt("payload_bin", Bin),
                opt("url", Url),
                opt("hashes", Hashes),
                opt(
                    "encryption_algorithm",
                    Enum(&["AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"]),
                ),
                opt("decryption_key", Str),
            ];
            P
        }
        "autonomous-system" => {
            const P: &[Prop] = &[
                req("number", Int(None, None)),
                opt("name", Str),
                opt("rir", Str),
            ];
            P
        }
        "directory" => {
            const P: &[Prop] = &[
                req("path", Str),
                opt("path_enc", Str),
                opt("ctime", Ts),
                opt("mtime", Ts),
                opt("atime", Ts),
                opt("contains_refs", ScoRefs(&["file", "directory"])),
            ];
            P
        }
        "domain-name" => {
            const P: &[Prop] = &[
                req("value", Str),
                opt(
                    "resolves_to_refs",
                    ScoRefs(&["ipv4-addr", "ipv6-addr", "domain-name"]),
                ),
            ];
            P
        }
        "email-addr" => {
            const P: &[Prop] = &[
                req("value", Str),
                opt("display_name", Str),
                opt("belongs_to_ref", ScoRef(&["user-account"])),
            ];
            P
        }
        "email-message" => {
            const P: &[Prop] = &[
                req("is_multipart", Bool),
                opt("date", Ts),
                opt("content_type", Str),
                opt("from_ref", ScoRef(&["email-addr"])),
                opt("sender_ref", ScoRef(&["email-addr"])),
                opt("to_refs", ScoRefs(&["email-addr"])),
                opt("cc_refs", ScoRefs(&["email-addr"])),
                opt("bcc_refs", ScoRefs(&["email-addr"])),
                opt("message_id", Str),
                opt("subject", Str),
                opt("received_lines", StrListMaybeEmpty),
                opt("additional_header_fields", Dict),
                opt("body", Str),
                opt("body_multipart", List),
                opt("raw_email_ref", ScoRef(&["artifact"])),
            ];
            P
        }
        "file" => {
            const P: &[Prop] = &[
                opt("hashes", Hashes),
                opt("size", Int(Some(0), None)),
                opt("name", Str),
                opt("name_enc", Str),
                opt("magic_number_hex", Hex),
                opt("mime_type", Str),
                opt("ctime", Ts),
                opt("mtime", Ts),
                opt("atime", Ts),
                opt("parent_directory_ref", ScoRef(&["directory"])),
                opt("contains_refs", ScoRefs(&[])),
                opt("content_ref", ScoRef(&["artifact"])),
            ];
            P
        }
        "ipv4-addr" | "ipv6-addr" => {
            const P: &[Prop] = &[
                req("value", Str),
                opt("resolves_to_refs", ScoRefs(&["mac-addr"])),
                opt("belongs_to_refs", ScoRefs(&["autonomous-system"])),
            ];
            P
        }
        "mac-addr" => {
            const P: &[Prop] = &[req("value", Str)];
            P
        }
        "mutex" => {
            const P: &[Prop] = &[req("name", Str)];
            P
        }
        "network-traffic" => {
            const P: &[Prop] = &[
                opt("start", Ts),
                opt("end", Ts),
                opt("is_active", Bool),
                opt(
                    "src_ref",
                    ScoRef(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]),
                ),
                opt(
                    "dst_ref",
                    ScoRef(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]),
                ),
                opt("src_port", Int(Some(0), Some(65535))),
                opt("dst_port", Int(Some(0), Some(65535))),
                req("protocols", StrList),
                opt("src_byte_count", Int(Some(0), None)),
                opt("dst_byte_count", Int(Some(0), None)),
                opt("src_packets", Int(Some(0), None)),
                opt("dst_packets", Int(Some(0), None)),
                opt("ipfix", Dict),
                opt("src_payload_ref", ScoRef(&["artifact"])),
                opt("dst_payload_ref", ScoRef(&["artifact"])),
                opt("encapsulates_refs", ScoRefs(&["network-traffic"])),
                opt("encapsulated_by_ref", ScoRef(&["network-traffic"])),
            ];
            P
        }
        "process" => {
            const P: &[Prop] = &[
                opt("is_hidden", Bool),
                opt("pid", Int(None, None)),
                opt("created_time", Ts),
                opt("cwd", Str),
                opt("command_line", Str),
                opt("environment_variables", Dict),
                opt("opened_connection_refs", ScoRefs(&["network-traffic"])),
                opt("creator_user_ref", ScoRef(&["user-account"])),
                opt("image_ref", ScoRef(&["file"])),
                opt("parent_ref", ScoRef(&["process"])),
                opt("child_refs", ScoRefs(&["process"])),
            ];
            P
        }
        "software" => {
            const P: &[Prop] = &[
                req("name", Str),
                opt("cpe", Str),
                opt("swid", Str),
                opt("languages", StrList),
                opt("vendor", Str),
                opt("version", Str),
            ];
            P
        }
        "url" => {
            const P: &[Prop] = &[req("value", Url)];
            P
        }
        "user-account" => {
            const P: &[Prop] = &[
                opt("user_id", Str),
                opt("credential", Str),
                opt("account_login", Str),
                opt("account_type", Ov(V::AccountType)),
                opt("display_name", Str),
                opt("is_service_account", Bool),
                opt("is_privileged", Bool),
                opt("can_escalate_privs", Bool),
                opt("is_disabled", Bool),
                opt("account_created", Ts),
                opt("account_expires", Ts),
                opt("credential_last_changed", Ts),
                opt("account_first_login", Ts),
                opt("account_last_login", Ts),
            ];
            P
        }
        "windows-registry-key" => {
            const P: &[Prop] = &[
                opt("key", Str),
                opt("values", List),
                opt("modified_time", Ts),
                opt("creator_user_ref", ScoRef(&["user-account"])),
                opt("number_of_subkeys", Int(None, None)),
            ];
            P
        }
        "x509-certificate" => {
            const P: &[Prop] = &[
                opt("is_self_signed", Bool),
                opt("hashes", Hashes),
                opt("version", Str),
                opt("serial_number", Str),
                opt("signature_algorithm", Str),
                opt("issuer", Str),
                opt("validity_not_before", Ts),
                opt("validity_not_after", Ts),
                opt("subject", Str),
                opt("subject_public_key_algorithm", Str),
                opt("subject_public_key_modulus", Str),
                opt("subject_public_key_exponent", Int(None, None)),
                opt("x509_v3_extensions", Obj),
            ];
            P
        }
        _ => return None,
    })
}

/// Timestamp pairs where the first must not be earlier than (or, with
/// `strict`, must be later than) the second (sections 4.x, 5.x).
pub fn timestamp_order(ty: &str) -> &'static [(&'static str, &'static str, bool)] {
    match ty {
        "campaign" | "infrastructure" | "intrusion-set" | "malware" | "sighting"
        | "threat-actor" => &[("last_seen", "first_seen", false)],
        "indicator" => &[("valid_until", "valid_from", true)],
        "observed-data" => &[("last_observed", "first_observed", false)],
        "relationship" => &[("stop_time", "start_time", true)],
        "network-traffic" => &[("end", "start", false)],
        _ => &[],
    }
}
