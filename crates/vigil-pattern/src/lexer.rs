//! Tokenizer following the lexer rules of the OASIS `STIXPattern.g4` grammar.
//!
//! ANTLR lexers pick the longest match among all rules and, on a tie, the rule
//! defined first; when a longer rule fails half-way (an unterminated string, a
//! malformed `h'…'`), the longest rule that did match wins. This module does
//! the same by hand so that exactly the same inputs are accepted.

/// Reserved words of the grammar. An identifier spelled like one of these is
/// the keyword, never a name, so the pretty-printer quotes such names.
pub(crate) const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "LAST",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "true",
    "false",
    "WITHIN",
    "REPEATS",
    "TIMES",
];

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    IntPos(String),
    IntNeg(String),
    FloatPos(String),
    FloatNeg(String),
    /// Decoded string value.
    Str(String),
    Bool(bool),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
    /// The text between the quotes of `t'…'`.
    Timestamp(String),
    /// `hyphen` is true for `IdentifierWithHyphen` (the name contains `-`).
    Ident {
        text: String,
        hyphen: bool,
    },
    Keyword(&'static str),
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Colon,
    Dot,
    Comma,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Plus,
    Minus,
    Power,
    Divide,
    Star,
    Quote,
    Invalid(char),
    Eof,
}

impl Tok {
    /// How the token is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::IntPos(s) | Tok::IntNeg(s) => format!("integer {s}"),
            Tok::FloatPos(s) | Tok::FloatNeg(s) => format!("float {s}"),
            Tok::Str(_) => "a string".into(),
            Tok::Bool(b) => format!("'{b}'"),
            Tok::Hex(_) => "a hex literal".into(),
            Tok::Binary(_) => "a binary literal".into(),
            Tok::Timestamp(_) => "a timestamp".into(),
            Tok::Ident { text, .. } => format!("'{text}'"),
            Tok::Keyword(k) => format!("'{k}'"),
            Tok::Eq => "'='".into(),
            Tok::Neq => "'!='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Le => "'<='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Ge => "'>='".into(),
            Tok::Colon => "':'".into(),
            Tok::Dot => "'.'".into(),
            Tok::Comma => "','".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBrack => "'['".into(),
            Tok::RBrack => "']'".into(),
            Tok::Plus => "'+'".into(),
            Tok::Minus => "'-'".into(),
            Tok::Power => "'^'".into(),
            Tok::Divide => "'/'".into(),
            Tok::Star => "'*'".into(),
            Tok::Quote => "a lone quote".into(),
            Tok::Invalid(c) => format!("{c:?}"),
            Tok::Eof => "end of input".into(),
        }
    }
}

/// A token with its byte span and, when a longer literal failed to lex at
/// this position, why (so the error message can say so).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub note: Option<&'static str>,
}

/// Whitespace skipped by the grammar's `WS` rule.
pub(crate) fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{0085}'
            | '\u{00a0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Tokenizes the whole input. Never fails: characters no rule accepts become
/// `Invalid` tokens, which the parser then reports.
pub(crate) fn tokenize(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    loop {
        i = skip_trivia(input, i);
        if i >= bytes.len() {
            out.push(Token {
                tok: Tok::Eof,
                start: bytes.len(),
                note: None,
            });
            return out;
        }
        let (tok, len, note) = lex_one(input, i);
        out.push(Token {
            tok,
            start: i,
            note,
        });
        i += len;
    }
}

fn skip_trivia(input: &str, mut i: usize) -> usize {
    let bytes = input.as_bytes();
    loop {
        let rest = &input[i..];
        let Some(c) = rest.chars().next() else {
            return i;
        };
        if is_ws(c) {
            i += c.len_utf8();
        } else if let Some(body) = rest.strip_prefix("/*") {
            match body.find("*/") {
                Some(end) => i += 2 + end + 2,
                None => return i,
            }
        } else if rest.starts_with("//") {
            i += 2;
            while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                i += 1;
            }
        } else {
            return i;
        }
    }
}

type Lexed = (Tok, usize, Option<&'static str>);

fn lex_one(input: &str, i: usize) -> Lexed {
    let bytes = input.as_bytes();
    let b = bytes[i];
    let next = bytes.get(i + 1).copied();
    match b {
        b'h' | b'b' | b't' if next == Some(b'\'') => {
            let attempt = match b {
                b'h' => lex_hex(bytes, i),
                b'b' => lex_binary(bytes, i),
                _ => lex_timestamp(bytes, i),
            };
            match attempt {
                Ok((tok, len)) => (tok, len, None),
                Err(why) => {
                    let (tok, len, _) = lex_ident(input, i);
                    (tok, len, Some(why))
                }
            }
        }
        _ if is_ident_start(b) => lex_ident(input, i),
        b'0'..=b'9' | b'+' | b'-' | b'.' => lex_number(bytes, i),
        b'\'' => match lex_string(input, i) {
            Ok((s, len)) => (Tok::Str(s), len, None),
            Err(why) => (Tok::Quote, 1, Some(why)),
        },
        b'=' => {
            if next == Some(b'=') {
                (Tok::Eq, 2, None)
            } else {
                (Tok::Eq, 1, None)
            }
        }
        b'!' if next == Some(b'=') => (Tok::Neq, 2, None),
        b'<' => match next {
            Some(b'>') => (Tok::Neq, 2, None),
            Some(b'=') => (Tok::Le, 2, None),
            _ => (Tok::Lt, 1, None),
        },
        b'>' => match next {
            Some(b'=') => (Tok::Ge, 2, None),
            _ => (Tok::Gt, 1, None),
        },
        b':' => (Tok::Colon, 1, None),
        b',' => (Tok::Comma, 1, None),
        b'(' => (Tok::LParen, 1, None),
        b')' => (Tok::RParen, 1, None),
        b'[' => (Tok::LBrack, 1, None),
        b']' => (Tok::RBrack, 1, None),
        b'^' => (Tok::Power, 1, None),
        b'/' if next == Some(b'*') => (Tok::Divide, 1, Some("unterminated comment")),
        b'/' => (Tok::Divide, 1, None),
        b'*' => (Tok::Star, 1, None),
        _ => {
            let c = input[i..].chars().next().unwrap_or('\u{fffd}');
            (Tok::Invalid(c), c.len_utf8(), None)
        }
    }
}

fn lex_ident(input: &str, i: usize) -> Lexed {
    let bytes = input.as_bytes();
    let mut j = i + 1;
    while j < bytes.len() && (is_ident_char(bytes[j]) || bytes[j] == b'-') {
        j += 1;
    }
    let text = &input[i..j];
    let hyphen = text.contains('-');
    if !hyphen {
        if text == "true" {
            return (Tok::Bool(true), j - i, None);
        }
        if text == "false" {
            return (Tok::Bool(false), j - i, None);
        }
        if let Some(k) = KEYWORDS.iter().find(|k| **k == text) {
            return (Tok::Keyword(k), j - i, None);
        }
    }
    (
        Tok::Ident {
            text: text.to_string(),
            hyphen,
        },
        j - i,
        None,
    )
}

fn digits(bytes: &[u8], mut j: usize) -> usize {
    while j < bytes.len() && bytes[j].is_ascii_digit() {
        j += 1;
    }
    j
}

fn lex_number(bytes: &[u8], i: usize) -> Lexed {
    let sign = bytes[i];
    let body = if sign == b'+' || sign == b'-' {
        i + 1
    } else {
        i
    };
    // Integer: '0' | [1-9][0-9]*
    let int_end = match bytes.get(body) {
        Some(b'0') => Some(body + 1),
        Some(b'1'..=b'9') => Some(digits(bytes, body + 1)),
        _ => None,
    };
    // Float: [0-9]* '.' [0-9]+
    let d = digits(bytes, body);
    let float_end = if bytes.get(d) == Some(&b'.') {
        let f = digits(bytes, d + 1);
        (f > d + 1).then_some(f)
    } else {
        None
    };
    let text = |end: usize| String::from_utf8_lossy(&bytes[i..end]).into_owned();
    match (int_end, float_end) {
        (_, Some(f)) => {
            let t = text(f);
            let tok = if sign == b'-' {
                Tok::FloatNeg(t)
            } else {
                Tok::FloatPos(t)
            };
            (tok, f - i, None)
        }
        (Some(e), None) => {
            let t = text(e);
            let tok = if sign == b'-' {
                Tok::IntNeg(t)
            } else {
                Tok::IntPos(t)
            };
            (tok, e - i, None)
        }
        (None, None) => match sign {
            b'+' => (Tok::Plus, 1, None),
            b'-' => (Tok::Minus, 1, None),
            _ => (Tok::Dot, 1, None),
        },
    }
}

fn lex_string(input: &str, i: usize) -> Result<(String, usize), &'static str> {
    let mut out = String::new();
    let mut chars = input[i + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '\'' => return Ok((out, k + 2)),
            '\\' => match chars.next() {
                Some((_, '\'')) => out.push('\''),
                Some((_, '\\')) => out.push('\\'),
                Some(_) => {
                    return Err("invalid escape in string literal: only \\' and \\\\ are allowed")
                }
                None => return Err("unterminated string literal"),
            },
            _ => out.push(c),
        }
    }
    Err("unterminated string literal")
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn lex_hex(bytes: &[u8], i: usize) -> Result<(Tok, usize), &'static str> {
    let mut j = i + 2;
    let mut out = Vec::new();
    loop {
        match bytes.get(j) {
            Some(b'\'') => return Ok((Tok::Hex(out), j + 1 - i)),
            Some(&a) => {
                let hi = hex_val(a).ok_or("invalid hex literal: h'…' takes pairs of hex digits")?;
                let lo = bytes
                    .get(j + 1)
                    .and_then(|b| hex_val(*b))
                    .ok_or("invalid hex literal: h'…' takes pairs of hex digits")?;
                out.push(hi << 4 | lo);
                j += 2;
            }
            None => return Err("unterminated hex literal"),
        }
    }
}

/// The bytes between the quotes of a prefixed literal (`b'…'`, `t'…'`)
/// starting at `i`, and the length of the whole literal.
fn quoted_body(bytes: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let start = i + 2;
    let end = start + bytes.get(start..)?.iter().position(|b| *b == b'\'')?;
    Some((&bytes[start..end], end + 1 - i))
}

fn lex_binary(bytes: &[u8], i: usize) -> Result<(Tok, usize), &'static str> {
    const WHY: &str = "invalid binary literal: b'…' takes non-empty padded base64";
    let (body, len) = quoted_body(bytes, i).ok_or(WHY)?;
    if body.is_empty() || body.len() % 4 != 0 {
        return Err(WHY);
    }
    let pad = body.iter().rev().take_while(|b| **b == b'=').count();
    if pad > 2 || !body[..body.len() - pad].iter().all(|b| is_b64(*b)) {
        return Err(WHY);
    }
    let decoded = crate::literal::base64_decode(body).ok_or(WHY)?;
    Ok((Tok::Binary(decoded), len))
}

fn lex_timestamp(bytes: &[u8], i: usize) -> Result<(Tok, usize), &'static str> {
    const WHY: &str = "invalid timestamp literal: expected t'YYYY-MM-DDTHH:MM:SS[.s]Z'";
    let (body, len) = quoted_body(bytes, i).ok_or(WHY)?;
    if !timestamp_shape(body) {
        return Err(WHY);
    }
    Ok((
        Tok::Timestamp(String::from_utf8_lossy(body).into_owned()),
        len,
    ))
}

/// The grammar's `TimestampLiteral` body, e.g. `2014-01-13T07:03:17.25Z`.
pub(crate) fn timestamp_shape(b: &[u8]) -> bool {
    let d = |k: usize| b.get(k).is_some_and(|c| c.is_ascii_digit());
    let at = |k: usize, c: u8| b.get(k) == Some(&c);
    if b.len() < 20 || !(0..4).all(d) || !at(4, b'-') || !at(7, b'-') || !at(10, b'T') {
        return false;
    }
    let month = (b[5], b[6]);
    let month_ok = matches!(month, (b'0', b'1'..=b'9') | (b'1', b'0'..=b'2'));
    let day = (b[8], b[9]);
    let day_ok = matches!(
        day,
        (b'0', b'1'..=b'9') | (b'1'..=b'2', b'0'..=b'9') | (b'3', b'0'..=b'1')
    );
    let hour = (b[11], b[12]);
    let hour_ok = matches!(hour, (b'0'..=b'1', b'0'..=b'9') | (b'2', b'0'..=b'3'));
    let min_ok = at(13, b':') && matches!((b[14], b[15]), (b'0'..=b'5', b'0'..=b'9'));
    let sec_ok =
        at(16, b':') && matches!((b[17], b[18]), (b'0'..=b'5', b'0'..=b'9') | (b'6', b'0'));
    if !(month_ok && day_ok && hour_ok && min_ok && sec_ok) {
        return false;
    }
    let rest = &b[19..];
    match rest {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}
