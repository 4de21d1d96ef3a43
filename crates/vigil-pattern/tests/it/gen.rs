//! A seeded generator of patterns (valid and broken) and of observed-data,
//! for the differential tests. Deterministic: the same seed gives the same
//! cases on every machine.

use serde_json::{json, Value};

/// SplitMix64: small, fast, good enough to drive a test generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| *self.pick(&b"0123456789abcdef"[..]) as char)
            .collect()
    }
}

// ---------------------------------------------------------------- grammar

const TYPES: &[&str] = &[
    "file",
    "domain-name",
    "ipv4-addr",
    "x-usb-device",
    "network-traffic",
    "email-message",
    "process",
    "app",
    "android-property",
    "user-account",
    "artifact",
    "x_custom",
    "windows-registry-key",
];

const KEYS: &[&str] = &[
    "name",
    "value",
    "size",
    "path",
    "x_list",
    "key",
    "account_login",
    "pid",
    "_x1",
];

fn string_lit(r: &mut Rng) -> String {
    r.pick(&[
        "'foo.exe'",
        "'a\\'b'",
        "'C:\\\\Windows'",
        "''",
        "'%.dll'",
        "'^ab+c$'",
        "'10.0.0.0/8'",
        "'2001:db8::/32'",
        "'naïve ✓'",
        "'multi\nline'",
    ])
    .to_string()
}

fn literal(r: &mut Rng, orderable: bool) -> String {
    let k = r.below(if orderable { 9 } else { 10 });
    match k {
        0 => format!("{}", r.below(1000)),
        1 => format!("-{}", 1 + r.below(99)),
        2 => format!("+{}", r.below(9)),
        3 => r
            .pick(&["1.5", ".5", "-2.25", "0.0", "+3.75", "0123.5"])
            .to_string(),
        4 | 5 => string_lit(r),
        6 => {
            let n = 2 * r.below(4);
            format!("h'{}'", r.hex(n))
        }
        7 => r
            .pick(&["b'AQID'", "b'AA=='", "b'YWJj'", "b'/+8='"])
            .to_string(),
        8 => r
            .pick(&[
                "t'2020-01-01T00:00:00Z'",
                "t'2014-01-13T07:03:17.123Z'",
                "t'2016-02-29T23:59:60Z'",
            ])
            .to_string(),
        _ => r.pick(&["true", "false"]).to_string(),
    }
}

fn key(r: &mut Rng) -> String {
    if r.chance(15) {
        r.pick(&["'SHA-256'", "'with space'", "'AND'", "'x.y'", "'ext-1'"])
            .to_string()
    } else {
        r.pick(KEYS).to_string()
    }
}

fn path(r: &mut Rng) -> String {
    if r.chance(12) {
        // Hash paths, with values valid for the algorithm or not.
        return r
            .pick(&[
                "file:hashes.MD5",
                "file:hashes.'SHA-256'",
                "file:hashes.SHA1",
                "file:hashes.'sha-512'",
                "artifact:hashes.'SHA-1'",
            ])
            .to_string();
    }
    let mut p = format!("{}:{}", r.pick(TYPES), key(r));
    for _ in 0..r.below(3) {
        match r.below(6) {
            0 => p.push_str("[*]"),
            1 => p.push_str(&format!("[{}]", r.below(3))),
            2 if r.chance(8) => p.push_str("[-1]"),
            2 => p.push_str("_ref.value"),
            _ => p.push_str(&format!(".{}", key(r))),
        }
    }
    p
}

fn hash_value(r: &mut Rng, p: &str) -> String {
    let good = r.chance(70);
    let n = if p.contains("MD5") {
        32
    } else if p.contains("256") {
        64
    } else if p.contains("512") {
        128
    } else {
        40
    };
    let n = if good { n } else { n - 1 - r.below(3) };
    format!("'{}'", r.hex(n))
}

fn ws(r: &mut Rng) -> &'static str {
    match r.below(20) {
        0 => "",
        1 => "\n",
        2 => "\t",
        3 => " /* c */ ",
        4 => "  ",
        _ => " ",
    }
}

fn prop_test(r: &mut Rng, depth: u32) -> String {
    if depth > 0 && r.chance(10) {
        return format!("({})", comparison(r, depth - 1));
    }
    if r.chance(5) {
        let not = if r.chance(40) { "NOT " } else { "" };
        return format!("{not}EXISTS {}", path(r));
    }
    let p = path(r);
    let not = if r.chance(10) { "NOT " } else { "" };
    let hashy = p.contains("hashes");
    let (op, lit) = match r.below(12) {
        0..=2 => (
            *r.pick(&["=", "==", "!=", "<>"]),
            if hashy {
                hash_value(r, &p)
            } else {
                literal(r, false)
            },
        ),
        3 | 4 => (*r.pick(&["<", ">", "<=", ">="]), literal(r, true)),
        5 | 6 => {
            let n = r.below(4);
            let one = literal(r, false);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    if r.chance(70) {
                        one.clone()
                    } else {
                        literal(r, false)
                    }
                })
                .collect();
            ("IN", format!("({})", items.join(", ")))
        }
        7 => ("LIKE", string_lit(r)),
        8 => ("MATCHES", string_lit(r)),
        9 => ("ISSUBSET", string_lit(r)),
        10 => ("ISSUPERSET", string_lit(r)),
        _ => (
            "=",
            if hashy {
                hash_value(r, &p)
            } else {
                string_lit(r)
            },
        ),
    };
    format!("{p}{}{not}{op}{}{lit}", ws(r), ws(r))
}

fn comparison(r: &mut Rng, depth: u32) -> String {
    let n = 1 + r.below(3);
    let mut out = prop_test(r, depth);
    for _ in 1..n {
        let op = r.pick(&["AND", "OR"]);
        out = format!("{out} {op}{}{}", ws(r), prop_test(r, depth));
    }
    out
}

fn qualifier(r: &mut Rng) -> String {
    match r.below(3) {
        0 => format!("WITHIN {} SECONDS", r.pick(&["5", "300", "1.5", "+2", "0"])),
        1 => format!("REPEATS {} TIMES", r.pick(&["2", "3", "+1", "0"])),
        _ => r
            .pick(&[
                "START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'",
                "START t'2021-06-01T00:00:00.5Z' STOP t'2020-01-01T00:00:00Z'",
            ])
            .to_string(),
    }
}

fn observation(r: &mut Rng, depth: u32) -> String {
    let mut out = if depth > 0 && r.chance(20) {
        format!("({})", observations(r, depth - 1))
    } else {
        format!("[{}{}]", ws(r), comparison(r, depth.min(1)))
    };
    let nq = if r.chance(75) { 0 } else { 1 + r.below(2) };
    for _ in 0..nq {
        out = format!("{out} {}", qualifier(r));
    }
    out
}

fn observations(r: &mut Rng, depth: u32) -> String {
    let n = 1 + r.below(3);
    let mut out = observation(r, depth);
    for _ in 1..n {
        let op = r.pick(&["AND", "OR", "FOLLOWEDBY"]);
        out = format!("{out}{}{op} {}", ws(r), observation(r, depth));
    }
    out
}

/// A pattern the generator meant to be valid (the validator's extra rules
/// may still reject it: bad hash values, repeated qualifiers).
pub fn valid_pattern(r: &mut Rng) -> String {
    observations(r, 2)
}

/// A pattern damaged by one random edit; often invalid, sometimes not.
pub fn mutated_pattern(r: &mut Rng) -> String {
    let base = valid_pattern(r);
    let chars: Vec<char> = base.chars().collect();
    let at = r.below(chars.len());
    let mut c = chars.clone();
    match r.below(7) {
        0 => {
            c.remove(at);
        }
        1 => c.insert(
            at,
            *r.pick(&[
                '[', ']', '(', ')', '\'', '=', ':', '.', ',', '<', '!', '-', '+', 'h', '0', '\\',
                '*', '/',
            ]),
        ),
        2 if at + 1 < c.len() => c.swap(at, at + 1),
        3 => c.truncate(at),
        4 => {
            let s: String = c.iter().collect();
            let from = *r.pick(&["AND", "OR", "SECONDS", "IN", "NOT", "FOLLOWEDBY"]);
            let to = *r.pick(&["and", "", "NOT", "OR OR", "TIMES"]);
            return s.replacen(from, to, 1);
        }
        5 => {
            let s: String = c.iter().collect();
            let words = [
                "AND",
                "[",
                "]",
                "'x'",
                "5",
                "LIKE",
                "EXISTS",
                "x:y",
                "t'2020-01-01T00:00:00Z'",
            ];
            let (a, b) = s.split_at(s.char_indices().nth(at).map_or(s.len(), |(i, _)| i));
            return format!("{a} {} {b}", r.pick(&words));
        }
        _ => c.insert(at, ' '),
    }
    c.into_iter().collect()
}

// ---------------------------------------------------------------- matching

const BASE_SECS: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z

/// The timestamp `secs` seconds after 2020-01-01T00:00:00Z (within a day either side).
fn ts(secs: i64) -> String {
    let off = secs - BASE_SECS;
    assert!(off.abs() < 86_400, "generator times stay near the base");
    let (day, rem) = if off < 0 {
        ("2019-12-31", off + 86_400)
    } else {
        ("2020-01-01", off)
    };
    format!(
        "{day}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

const NAMES: &[&str] = &[
    "foo.exe",
    "bar.dll",
    "report.pdf",
    "Foo.EXE",
    "naïve.txt",
    "a'b.txt",
    "C:\\tmp\\x",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "evil.example",
    "www.5z8.info",
    "sub.example.com",
];
const IPS: &[&str] = &[
    "10.1.2.3",
    "10.0.0.0/16",
    "192.168.1.1",
    "203.0.113.33",
    "198.51.100.0/24",
];
const MD5S: &[&str] = &[
    "cead3f77f6cda6ec00f57d76c9a6879f",
    "79054025255fb1a26e4bc422aef54eb4",
];

/// The properties the pattern generator draws on: object type, path, and
/// literals that occur in the generated data (so that matches happen).
struct Prop {
    ty: &'static str,
    path: &'static str,
    values: &'static [&'static str],
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Bytes,
    Time,
    Ip,
}

const PROPS: &[Prop] = &[
    Prop {
        ty: "file",
        path: "name",
        values: &[
            "'foo.exe'",
            "'bar.dll'",
            "'Foo.EXE'",
            "'naïve.txt'",
            "'a\\'b.txt'",
            "'C:\\\\tmp\\\\x'",
            "'zzz'",
        ],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "size",
        values: &["0", "10", "100", "1000", "4096", "-1", "10.0", "99.5"],
        kind: Kind::Int,
    },
    Prop {
        ty: "file",
        path: "hashes.MD5",
        values: &[
            "'cead3f77f6cda6ec00f57d76c9a6879f'",
            "'79054025255fb1a26e4bc422aef54eb4'",
            "'00000000000000000000000000000000'",
        ],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "hashes.'SHA-256'",
        values: &["'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "created",
        values: &[
            "t'2020-01-01T00:00:00Z'",
            "t'2020-01-01T01:00:00Z'",
            "t'2019-12-31T23:59:59.5Z'",
        ],
        kind: Kind::Time,
    },
    Prop {
        ty: "file",
        path: "magic_number_hex",
        values: &["h'ffd8'", "h'4d5a'", "h'00'", "'\u{ff}\u{d8}'", "'MZ'"],
        kind: Kind::Bytes,
    },
    Prop {
        ty: "file",
        path: "parent_directory_ref.path",
        values: &["'C:\\\\Windows\\\\System32'", "'/tmp'", "'/usr/bin'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "x_tags[*]",
        values: &["'a'", "'b'", "'c'", "1"],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "x_tags[0]",
        values: &["'a'", "'b'", "'c'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "x_tags[1]",
        values: &["'a'", "'b'", "'c'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "x_tags[-1]",
        values: &["'a'", "'b'", "'c'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "file",
        path: "x_ratio",
        values: &["0.5", "1.5", "2", "-3.25", "0.0"],
        kind: Kind::Float,
    },
    Prop {
        ty: "file",
        path: "x_flag",
        values: &["true", "false", "1", "0"],
        kind: Kind::Bool,
    },
    Prop {
        ty: "directory",
        path: "path",
        values: &["'/tmp'", "'/usr/bin'", "'C:\\\\Windows\\\\System32'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "domain-name",
        path: "value",
        values: &[
            "'example.com'",
            "'evil.example'",
            "'www.5z8.info'",
            "'sub.example.com'",
        ],
        kind: Kind::Str,
    },
    Prop {
        ty: "domain-name",
        path: "resolves_to_refs[*].value",
        values: &[
            "'10.1.2.3'",
            "'192.168.1.1'",
            "'203.0.113.33'",
            "'10.0.0.0/8'",
            "'192.168.0.0/16'",
        ],
        kind: Kind::Ip,
    },
    Prop {
        ty: "ipv4-addr",
        path: "value",
        values: &[
            "'10.1.2.3'",
            "'10.0.0.0/8'",
            "'10.0.0.0/16'",
            "'192.168.1.1'",
            "'192.168.0.0/16'",
            "'203.0.113.33/32'",
            "'198.51.100.0/24'",
            "'198.51.100.7'",
        ],
        kind: Kind::Ip,
    },
    Prop {
        ty: "network-traffic",
        path: "dst_ref.value",
        values: &[
            "'10.1.2.3'",
            "'203.0.113.33'",
            "'10.0.0.0/8'",
            "'203.0.113.0/24'",
        ],
        kind: Kind::Ip,
    },
    Prop {
        ty: "network-traffic",
        path: "dst_port",
        values: &["80", "443", "8080", "443.0"],
        kind: Kind::Int,
    },
    Prop {
        ty: "network-traffic",
        path: "protocols[*]",
        values: &["'tcp'", "'http'", "'udp'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "network-traffic",
        path: "dst_ref.type",
        values: &["'ipv4-addr'", "'domain-name'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "artifact",
        path: "payload_bin",
        values: &["b'AQID'", "b'YWJj'", "'abc'", "h'616263'"],
        kind: Kind::Bytes,
    },
    Prop {
        ty: "artifact",
        path: "mime_type",
        values: &["'application/zip'", "'text/plain'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "x-test",
        path: "nested.a.b",
        values: &["1", "2", "'x'"],
        kind: Kind::Int,
    },
    Prop {
        ty: "x-test",
        path: "'quoted key'",
        values: &["'yes'", "'no'"],
        kind: Kind::Str,
    },
    Prop {
        ty: "x-test",
        path: "nothing",
        values: &["'x'", "0", "true"],
        kind: Kind::Str,
    },
    Prop {
        ty: "x-test",
        path: "list",
        values: &["1", "2", "3"],
        kind: Kind::Int,
    },
];

fn id(ty: &str, n: usize) -> String {
    format!("{ty}--00000000-0000-4000-8000-{n:012}")
}

/// A bundle of 1–4 observed-data objects with the SCOs they refer to.
pub fn bundle(r: &mut Rng) -> Value {
    let mut objects = Vec::new();
    let mut n = 0usize;
    let mut fresh = |ty: &str| {
        n += 1;
        id(ty, n)
    };
    let count = 2 + r.below(3);
    for _ in 0..count {
        let mut refs = Vec::new();
        for _ in 0..2 + r.below(3) {
            let ty = *r.pick(&[
                "file",
                "domain-name",
                "ipv4-addr",
                "network-traffic",
                "artifact",
                "x-test",
            ]);
            let oid = fresh(ty);
            let mut o = json!({ "type": ty, "id": oid });
            match ty {
                "file" => {
                    o["name"] = json!(r.pick(NAMES));
                    if r.chance(80) {
                        o["size"] = json!(*r.pick(&[0, 10, 100, 1000, 4096]));
                    }
                    if r.chance(60) {
                        o["hashes"] = json!({ "MD5": r.pick(MD5S) });
                    }
                    if r.chance(50) {
                        o["created"] = json!(r.pick(&[
                            "2020-01-01T00:00:00Z",
                            "2020-01-01T01:00:00.000Z",
                            "2019-12-31T23:59:59.5Z"
                        ]));
                    }
                    if r.chance(40) {
                        o["magic_number_hex"] = json!(r.pick(&["ffd8", "4D5A", "00"]));
                    }
                    if r.chance(50) {
                        let tags: Vec<&str> =
                            (0..r.below(4)).map(|_| *r.pick(&["a", "b", "c"])).collect();
                        o["x_tags"] = json!(tags);
                    }
                    if r.chance(50) {
                        o["x_ratio"] = json!(*r.pick(&[0.5, 1.5, 2.0, -3.25]));
                    }
                    if r.chance(50) {
                        o["x_flag"] = json!(r.chance(50));
                    }
                    if r.chance(40) {
                        let did = fresh("directory");
                        objects.push(json!({ "type": "directory", "id": did, "path": r.pick(&["/tmp", "/usr/bin", "C:\\Windows\\System32"]) }));
                        refs.push(did.clone());
                        o["parent_directory_ref"] = json!(did);
                    }
                }
                "domain-name" => {
                    o["value"] = json!(r.pick(DOMAINS));
                    if r.chance(60) {
                        let mut ips = Vec::new();
                        for _ in 0..1 + r.below(2) {
                            let iid = fresh("ipv4-addr");
                            objects.push(
                                json!({ "type": "ipv4-addr", "id": iid, "value": r.pick(IPS) }),
                            );
                            refs.push(iid.clone());
                            ips.push(iid);
                        }
                        o["resolves_to_refs"] = json!(ips);
                    }
                }
                "ipv4-addr" => o["value"] = json!(r.pick(IPS)),
                "network-traffic" => {
                    let iid = fresh("ipv4-addr");
                    objects.push(json!({ "type": "ipv4-addr", "id": iid, "value": r.pick(IPS) }));
                    refs.push(iid.clone());
                    o["dst_ref"] = json!(iid);
                    o["dst_port"] = json!(*r.pick(&[80, 443, 8080]));
                    o["protocols"] =
                        json!(r.pick(&[vec!["tcp"], vec!["tcp", "http"], vec!["udp"]]));
                }
                "artifact" => {
                    o["payload_bin"] = json!(r.pick(&["AQID", "YWJj", "AA=="]));
                    o["mime_type"] = json!(r.pick(&["application/zip", "text/plain"]));
                }
                _ => {
                    o["nested"] = json!({ "a": { "b": *r.pick(&[1, 2]) } });
                    o["quoted key"] = json!(r.pick(&["yes", "no"]));
                    o["list"] = json!(r.pick(&[vec![1, 2], vec![3], vec![]]));
                    if r.chance(30) {
                        o["nothing"] = Value::Null;
                    }
                }
            }
            refs.push(oid);
            objects.push(o);
        }
        let first = BASE_SECS + 600 * r.below(8) as i64;
        let last = first + *r.pick(&[0, 0, 60, 300, 1200]);
        let odid = fresh("observed-data");
        objects.push(json!({
            "type": "observed-data",
            "spec_version": "2.1",
            "id": odid,
            "created": "2020-01-01T00:00:00.000Z",
            "modified": "2020-01-01T00:00:00.000Z",
            "first_observed": ts(first),
            "last_observed": ts(last),
            "number_observed": *r.pick(&[1, 1, 1, 2, 3]),
            "object_refs": refs,
        }));
    }
    json!({ "type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects })
}

fn match_comparison(r: &mut Rng) -> String {
    let p = r.pick(PROPS);
    if r.chance(4) {
        let not = if r.chance(50) { "NOT " } else { "" };
        return format!("{not}EXISTS {}:{}", p.ty, p.path);
    }
    let lit = *r.pick(p.values);
    let not = if r.chance(12) { "NOT " } else { "" };
    let path = format!("{}:{}", p.ty, p.path);
    match p.kind {
        Kind::Ip if r.chance(50) => {
            let op = r.pick(&["ISSUBSET", "ISSUPERSET"]);
            return format!("{path} {not}{op} {lit}");
        }
        Kind::Str if r.chance(25) && lit.starts_with('\'') => {
            let body = &lit[1..lit.len() - 1];
            let (op, operand) = match r.below(4) {
                0 => (
                    "LIKE",
                    format!(
                        "'{}%'",
                        body.chars().take(2).collect::<String>().replace('\\', "")
                    ),
                ),
                1 => (
                    "LIKE",
                    format!(
                        "'%{}'",
                        body.chars()
                            .rev()
                            .take(3)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<String>()
                            .replace('\\', "")
                    ),
                ),
                2 => (
                    "MATCHES",
                    format!(
                        "'^{}'",
                        body.chars()
                            .take(3)
                            .filter(|c| c.is_alphanumeric())
                            .collect::<String>()
                    ),
                ),
                _ => ("MATCHES", "'[a-z]+\\\\.(exe|dll)$'".to_string()),
            };
            return format!("{path} {not}{op} {operand}");
        }
        Kind::Bytes if r.chance(30) => {
            return format!(
                "{path} {not}MATCHES {}",
                r.pick(&["'^\\\\xff'", "'abc'", "'\\\\x01\\\\x02'", "'MZ'"])
            );
        }
        _ => {}
    }
    match r.below(10) {
        0..=3 => format!("{path} {not}= {lit}"),
        4 => format!("{path} {not}!= {lit}"),
        5 | 6 if lit != "true" && lit != "false" => {
            let op = r.pick(&["<", ">", "<=", ">="]);
            format!("{path} {not}{op} {lit}")
        }
        7 | 8 => {
            let mut items = vec![lit.to_string()];
            for _ in 0..r.below(3) {
                items.push(r.pick(p.values).to_string());
            }
            format!("{path} {not}IN ({})", items.join(", "))
        }
        _ => {
            if r.chance(50) {
                format!("{path} {not}= {lit}")
            } else {
                let q = r.pick(PROPS);
                format!("{}:{} {not}= {}", q.ty, q.path, r.pick(q.values))
            }
        }
    }
}

fn match_observation(r: &mut Rng, depth: u32) -> String {
    let mut out = if depth > 0 && r.chance(20) {
        format!("({})", match_observations(r, depth - 1))
    } else {
        let n = *r.pick(&[1, 1, 1, 2, 2, 3]);
        let mut c = match_comparison(r);
        for _ in 1..n {
            let op = r.pick(&["AND", "OR", "OR"]);
            c = format!("{c} {op} {}", match_comparison(r));
        }
        if r.chance(10) {
            c = format!("({c})");
        }
        format!("[{c}]")
    };
    if r.chance(25) {
        let q = match r.below(3) {
            0 => format!(
                "WITHIN {} SECONDS",
                r.pick(&["1", "60", "300", "1800", "3600", "0.5"])
            ),
            1 => format!("REPEATS {} TIMES", r.pick(&["2", "2", "3"])),
            _ => {
                let a = BASE_SECS + 600 * r.below(8) as i64;
                let b = a + *r.pick(&[0i64, 1, 300, 600, 3600, -600]);
                format!("START t'{}' STOP t'{}'", ts(a), ts(b))
            }
        };
        out = format!("{out} {q}");
    }
    out
}

fn match_observations(r: &mut Rng, depth: u32) -> String {
    let n = *r.pick(&[1, 1, 1, 2, 2, 3]);
    let mut out = match_observation(r, depth);
    for _ in 1..n {
        let op = r.pick(&["AND", "OR", "FOLLOWEDBY"]);
        out = format!("{out} {op} {}", match_observation(r, depth));
    }
    out
}

/// A pattern over the generated data's vocabulary.
pub fn match_pattern(r: &mut Rng) -> String {
    match_observations(r, 1)
}
