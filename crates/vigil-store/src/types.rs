//! The records the store keeps and the queries it answers.

use serde::{Deserialize, Serialize};

/// A TLP 2.0 level, ordered from least to most restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0 WHITE): anyone, including anonymous readers of public collections.
    Clear = 0,
    /// TLP:GREEN: the community of the hub (any authenticated user).
    Green = 1,
    /// TLP:AMBER: the recipient organisations of the collection.
    Amber = 2,
    /// TLP:AMBER+STRICT: the recipient organisation only.
    AmberStrict = 3,
    /// TLP:RED: named users only.
    Red = 4,
}

impl Tlp {
    /// The level as stored in the database.
    pub fn as_i64(self) -> i64 {
        self as i64
    }
    /// The level from its stored number.
    pub fn from_i64(n: i64) -> Option<Tlp> {
        Some(match n {
            0 => Tlp::Clear,
            1 => Tlp::Green,
            2 => Tlp::Amber,
            3 => Tlp::AmberStrict,
            4 => Tlp::Red,
            _ => return None,
        })
    }
    /// The level's name as TLP 2.0 writes it (`TLP:AMBER+STRICT`).
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }
    /// Parses a level name, with or without the `TLP:` prefix, TLP 1.0 WHITE included.
    pub fn parse(s: &str) -> Option<Tlp> {
        let s = s.trim();
        let s = s
            .strip_prefix("TLP:")
            .or_else(|| s.strip_prefix("tlp:"))
            .unwrap_or(s);
        Some(match s.to_ascii_uppercase().as_str() {
            "CLEAR" | "WHITE" => Tlp::Clear,
            "GREEN" => Tlp::Green,
            "AMBER" => Tlp::Amber,
            "AMBER+STRICT" | "AMBER_STRICT" | "AMBER-STRICT" => Tlp::AmberStrict,
            "RED" => Tlp::Red,
            _ => return None,
        })
    }
}

/// What a user may do on the hub as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the collections granted to the user or the user's organisation.
    Reader,
    /// Also writes to the collections granted for writing.
    Contributor,
    /// Manages organisations, users, tokens, collections and grants; reads and
    /// writes every collection (TLP still applies to what it can see).
    Admin,
}

impl Role {
    /// The role's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Contributor => "contributor",
            Role::Admin => "admin",
        }
    }
    /// Parses a stored role name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "reader" => Role::Reader,
            "contributor" => Role::Contributor,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// The kind of an organisation taking part in the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgKind {
    /// A government body.
    Government,
    /// A company.
    Industry,
    /// A civil-society organisation (NGO, research lab, newsroom).
    CivilSociety,
    /// The public.
    Public,
}

impl OrgKind {
    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Government => "government",
            OrgKind::Industry => "industry",
            OrgKind::CivilSociety => "civil-society",
            OrgKind::Public => "public",
        }
    }
    /// Parses a stored kind name.
    pub fn parse(s: &str) -> Option<OrgKind> {
        Some(match s {
            "government" => OrgKind::Government,
            "industry" => OrgKind::Industry,
            "civil-society" => OrgKind::CivilSociety,
            "public" => OrgKind::Public,
            _ => return None,
        })
    }
}

/// An organisation taking part in the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Government, industry, civil society or public.
    pub kind: OrgKind,
}

/// A person or system that holds API tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Unique login name (used with HTTP Basic).
    pub name: String,
    /// The organisation the user belongs to, if any.
    pub org_id: Option<i64>,
    /// What the user may do.
    pub role: Role,
}

/// A token to record: its hash, never the secret.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Owner.
    pub user_id: i64,
    /// SHA-256 of the secret.
    pub hash: [u8; 32],
    /// A label to recognise it by.
    pub label: String,
    /// Creation time, microseconds since the epoch.
    pub created: i64,
    /// Expiry time, microseconds since the epoch, if any.
    pub expires: Option<i64>,
}

/// What is known about a token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Database id (used to revoke it).
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Label.
    pub label: String,
    /// Creation time, microseconds since the epoch.
    pub created: i64,
    /// Expiry time, microseconds since the epoch.
    pub expires: Option<i64>,
    /// Revocation time, if revoked.
    pub revoked: Option<i64>,
}

/// A collection to create.
#[derive(Debug, Clone)]
pub struct NewCollection {
    /// TAXII collection id (a UUID).
    pub id: String,
    /// Short unique alias, if any.
    pub alias: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Readable anonymously (TLP:CLEAR objects only).
    pub public: bool,
    /// The organisation owning the collection: the recipient of TLP:AMBER+STRICT.
    pub owner_org: Option<i64>,
}

/// A TAXII collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// TAXII collection id.
    pub id: String,
    /// Alias.
    pub alias: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Readable anonymously.
    pub public: bool,
    /// Owning organisation.
    pub owner_org: Option<i64>,
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Subject {
    /// Every member of an organisation (a TLP:AMBER recipient).
    Org(i64),
    /// One named user (a TLP:RED recipient).
    User(i64),
}

/// Read and write permission of one subject on one collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The collection.
    pub collection_id: String,
    /// The organisation or user.
    pub subject: Subject,
    /// May read.
    pub can_read: bool,
    /// May write.
    pub can_write: bool,
}

/// An object to store, already validated and classified by the caller.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// STIX id.
    pub id: String,
    /// STIX type.
    pub stix_type: String,
    /// STIX spec_version.
    pub spec_version: String,
    /// The version timestamp as written (`modified`, else `created`).
    pub version: String,
    /// The version as microseconds since the epoch, for ordering.
    pub version_us: i64,
    /// Effective TLP level (object and granular markings combined).
    pub tlp: Tlp,
    /// Organisation that submitted it.
    pub org_id: Option<i64>,
    /// User who submitted it.
    pub user_id: Option<i64>,
    /// The object's JSON text.
    pub body: String,
    /// The object's three search texts ([`search_texts`](crate::search_texts)),
    /// when the caller has them; `None` makes the insert work them out from
    /// `body`.
    pub search: Option<[String; 3]>,
}

/// The outcome of adding one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Stored now, with this `date_added` (microseconds).
    Inserted(i64),
    /// This version was already in the collection; nothing changed.
    Duplicate,
}

/// An object as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Row id: breaks ties between equal `date_added` values.
    pub pk: i64,
    /// STIX id.
    pub id: String,
    /// STIX type.
    pub stix_type: String,
    /// STIX spec_version.
    pub spec_version: String,
    /// Version timestamp as written.
    pub version: String,
    /// When the hub stored it, microseconds since the epoch.
    pub date_added: i64,
    /// Effective TLP level.
    pub tlp: Tlp,
    /// JSON text, when the query asked for bodies.
    pub body: Option<String>,
}

/// Who is asking, reduced to what the visibility rules need.
///
/// An object is visible when its level is at most `level`, or it is
/// TLP:AMBER or AMBER+STRICT and was submitted by `org_id`, or it is
/// AMBER+STRICT and `strict` (the caller's organisation owns the collection),
/// or it is TLP:RED and either `red` (the caller is a named user of the
/// collection) or the caller submitted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    /// Highest level visible regardless of who submitted the object.
    pub level: Tlp,
    /// The caller's organisation.
    pub org_id: Option<i64>,
    /// The caller.
    pub user_id: Option<i64>,
    /// The caller's organisation owns the collection (AMBER+STRICT recipient).
    pub strict: bool,
    /// The caller is a named user of the collection (RED recipient).
    pub red: bool,
}

impl Visibility {
    /// What an anonymous caller sees: TLP:CLEAR only.
    pub fn anonymous() -> Visibility {
        Visibility {
            level: Tlp::Clear,
            org_id: None,
            user_id: None,
            strict: false,
            red: false,
        }
    }
    /// Sees everything (used by the hub itself, e.g. for counts in tests).
    pub fn everything() -> Visibility {
        Visibility {
            level: Tlp::Red,
            org_id: None,
            user_id: None,
            strict: true,
            red: true,
        }
    }
}

/// Which versions of each object a query returns (`match[version]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionMatch {
    /// `all`: every version.
    pub all: bool,
    /// `first`: the oldest visible version.
    pub first: bool,
    /// `last`: the newest visible version.
    pub last: bool,
    /// Exact versions, microseconds since the epoch.
    pub exact: Vec<i64>,
}

impl VersionMatch {
    /// The TAXII default: the newest version only.
    pub fn last() -> VersionMatch {
        VersionMatch {
            last: true,
            ..VersionMatch::default()
        }
    }
    /// Every version.
    pub fn all() -> VersionMatch {
        VersionMatch {
            all: true,
            ..VersionMatch::default()
        }
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// `date_added` of the last object returned.
    pub date_added: i64,
    /// Row id of the last object returned.
    pub pk: i64,
}

/// A filtered, paginated object query.
#[derive(Debug, Clone)]
pub struct ObjectQuery {
    /// The collection.
    pub collection_id: String,
    /// Who is asking.
    pub visibility: Visibility,
    /// Only objects added strictly after this time (microseconds).
    pub added_after: Option<i64>,
    /// `match[id]` (empty: any).
    pub ids: Vec<String>,
    /// `match[type]` (empty: any).
    pub types: Vec<String>,
    /// `match[spec_version]` (empty: any).
    pub spec_versions: Vec<String>,
    /// `match[version]`.
    pub versions: VersionMatch,
    /// Continue after this position.
    pub after: Option<Cursor>,
    /// At most this many objects.
    pub limit: usize,
    /// Load the JSON text of each object.
    pub bodies: bool,
}

impl ObjectQuery {
    /// A query for the newest version of every visible object of a collection.
    pub fn new(collection_id: &str, visibility: Visibility) -> ObjectQuery {
        ObjectQuery {
            collection_id: collection_id.to_string(),
            visibility,
            added_after: None,
            ids: Vec::new(),
            types: Vec::new(),
            spec_versions: Vec::new(),
            versions: VersionMatch::last(),
            after: None,
            limit: 1000,
            bodies: true,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The objects, ordered by (`date_added`, `pk`).
    pub objects: Vec<StoredObject>,
    /// More objects match after this page.
    pub more: bool,
}

/// A TAXII status resource as kept by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecord {
    /// Status id (a UUID).
    pub id: String,
    /// The collection written to.
    pub collection_id: String,
    /// The user who made the request (only they and admins may read it).
    pub user_id: Option<i64>,
    /// Request time, microseconds since the epoch.
    pub request_timestamp: i64,
    /// `pending` or `complete`.
    pub status: String,
    /// The TAXII status resource's JSON text.
    pub body: String,
}

/// A screening decision recorded through the hub (one row of the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Row id, assigned by the store (0 when recording).
    pub id: i64,
    /// The screened party's key.
    pub query_key: String,
    /// The listed entity decided on.
    pub entity_id: String,
    /// The officer's user id.
    pub user_id: Option<i64>,
    /// The officer's organisation.
    pub org_id: Option<i64>,
    /// When the hub recorded it, microseconds since the epoch.
    pub recorded_at: i64,
    /// The decision as JSON.
    pub body: String,
}

/// Where one stored version of an object came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectOrigin {
    /// Row id of the version (as in [`StoredObject::pk`]).
    pub pk: i64,
    /// Version timestamp as written.
    pub version: String,
    /// When the hub stored it, microseconds since the epoch.
    pub date_added: i64,
    /// Organisation that submitted it (none for the hub's own loads and federation pulls).
    pub org_id: Option<i64>,
    /// User who submitted it.
    pub user_id: Option<i64>,
}

/// A remote source one stored version of an object was pulled from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectSource {
    /// Version timestamp as written.
    pub version: String,
    /// The remote collection's URL.
    pub source: String,
    /// When it was first pulled from there, microseconds since the epoch.
    pub recorded_at: i64,
}

/// One term of a text search: every term must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    /// A word, or the start of one (`pega` finds Pegasus).
    Prefix(String),
    /// Words in this order, each whole: a quoted phrase, or a value written
    /// with punctuation such as a domain (`evil.example.com`), an address or
    /// a URL.
    Phrase(Vec<String>),
}

/// Most terms one search may hold.
pub const MAX_SEARCH_TERMS: usize = 16;

/// Splits search text into terms: text in double quotes is a phrase; any
/// other whitespace-separated word is a prefix when it is one word, and a
/// phrase of its parts when punctuation splits it (a domain, a URL, an
/// e-mail address). Words are lower-cased and split at every character that
/// is not a letter or digit, as the index splits the stored text. Returns an
/// error message when nothing searchable is left or there are too many terms.
pub fn parse_search(text: &str) -> std::result::Result<Vec<SearchTerm>, String> {
    fn words(s: &str) -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }
    let mut terms = Vec::new();
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            let w = words(part);
            if !w.is_empty() {
                terms.push(SearchTerm::Phrase(w));
            }
            continue;
        }
        for chunk in part.split_whitespace() {
            let mut w = words(chunk);
            match w.len() {
                0 => {}
                1 => terms.extend(w.pop().map(SearchTerm::Prefix)),
                _ => terms.push(SearchTerm::Phrase(w)),
            }
        }
    }
    if terms.is_empty() {
        return Err("give at least one word (letters or digits) to search for".into());
    }
    if terms.len() > MAX_SEARCH_TERMS {
        return Err(format!("give at most {MAX_SEARCH_TERMS} words"));
    }
    Ok(terms)
}

/// A ranked text search over the newest visible version of the objects of
/// several collections.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// What to find (see [`parse_search`]); every term must match.
    pub terms: Vec<SearchTerm>,
    /// The collections searched, each with what the caller may see in it.
    pub scopes: Vec<(String, Visibility)>,
    /// Only these STIX types (empty: any).
    pub types: Vec<String>,
    /// At most this many hits.
    pub limit: usize,
    /// Skip this many hits of the ranking first.
    pub offset: usize,
}

impl SearchQuery {
    /// Whether the query cannot match anything (no term or no collection).
    pub fn finds_nothing(&self) -> bool {
        self.terms.is_empty() || self.scopes.is_empty()
    }
}

/// One object a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The collection it was found in.
    pub collection_id: String,
    /// The newest version of it the caller may see, with its body.
    pub object: StoredObject,
}

/// A page of search hits, best first, and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPage {
    /// Every visible object matching, over all pages.
    pub total: u64,
    /// The hits of this page.
    pub hits: Vec<SearchHit>,
}
