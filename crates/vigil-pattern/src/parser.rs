//! Recursive-descent parser for the grammar in `STIXPattern.g4`.
//!
//! Left-recursive rules of the grammar become loops; a chain of one binary
//! operator becomes one n-ary node, so deep chains never deepen the tree.
//! Nesting of brackets and parentheses is capped ([`MAX_DEPTH`]) so hostile
//! input cannot exhaust the stack.

use crate::ast::*;
use crate::lexer::{tokenize, Tok, Token};
use crate::literal::Timestamp;
use crate::ParseError;

/// The deepest nesting of `(` and `[` the parser accepts.
pub const MAX_DEPTH: usize = 200;

/// Parses a STIX 2.1 pattern.
pub fn parse(input: &str) -> Result<Pattern, ParseError> {
    let mut p = Parser {
        input,
        toks: tokenize(input),
        pos: 0,
        expected: Vec::new(),
        depth: 0,
    };
    let root = p.observation_expressions()?;
    if !p.at(&Tok::Eof, "end of input") {
        return Err(p.error());
    }
    Ok(Pattern { root })
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    pos: usize,
    /// What would have been accepted at the current token, for the error message.
    expected: Vec<&'static str>,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        // The token list always ends with Eof and `bump` never passes it.
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        self.expected.clear();
        t
    }

    /// True if the current token equals `t`; otherwise records `what` as expected.
    fn at(&mut self, t: &Tok, what: &'static str) -> bool {
        if self.peek() == t {
            true
        } else {
            self.expected.push(what);
            false
        }
    }

    fn eat(&mut self, t: &Tok, what: &'static str) -> bool {
        if self.at(t, what) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &'static str) -> bool {
        self.eat(&Tok::Keyword(kw), kw)
    }

    fn expect(&mut self, t: &Tok, what: &'static str) -> PResult<()> {
        if self.eat(t, what) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn expect_kw(&mut self, kw: &'static str) -> PResult<()> {
        self.expect(&Tok::Keyword(kw), kw)
    }

    fn error(&self) -> ParseError {
        let tok = &self.toks[self.pos.min(self.toks.len() - 1)];
        let mut expected: Vec<String> = Vec::new();
        for e in &self.expected {
            if !expected.iter().any(|x| x == e) {
                expected.push((*e).to_string());
            }
        }
        ParseError::new(
            self.input,
            tok.start,
            expected,
            tok.tok.describe(),
            tok.note.map(str::to_string),
        )
    }

    fn error_here(&self, detail: String) -> ParseError {
        let tok = &self.toks[self.pos.min(self.toks.len() - 1)];
        ParseError::new(
            self.input,
            tok.start,
            Vec::new(),
            tok.tok.describe(),
            Some(detail),
        )
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!(
                "brackets and parentheses nested deeper than {MAX_DEPTH}"
            )));
        }
        Ok(())
    }

    // observationExpressions: FOLLOWEDBY chains
    fn observation_expressions(&mut self) -> PResult<ObservationExpr> {
        let mut items = vec![self.observation_or()?];
        while self.eat_kw("FOLLOWEDBY") {
            items.push(self.observation_or()?);
        }
        Ok(one_or(items, ObservationExpr::FollowedBy))
    }

    fn observation_or(&mut self) -> PResult<ObservationExpr> {
        let mut items = vec![self.observation_and()?];
        while self.eat_kw("OR") {
            items.push(self.observation_and()?);
        }
        Ok(one_or(items, ObservationExpr::Or))
    }

    fn observation_and(&mut self) -> PResult<ObservationExpr> {
        let mut items = vec![self.observation_expression()?];
        while self.eat_kw("AND") {
            items.push(self.observation_expression()?);
        }
        Ok(one_or(items, ObservationExpr::And))
    }

    fn observation_expression(&mut self) -> PResult<ObservationExpr> {
        let base = if self.eat(&Tok::LBrack, "'['") {
            self.enter()?;
            let c = self.comparison_or()?;
            self.expect(&Tok::RBrack, "']'")?;
            self.depth -= 1;
            ObservationExpr::Observation(c)
        } else if self.eat(&Tok::LParen, "'('") {
            self.enter()?;
            let e = self.observation_expressions()?;
            self.expect(&Tok::RParen, "')'")?;
            self.depth -= 1;
            ObservationExpr::Group(Box::new(e))
        } else {
            return Err(self.error());
        };
        let mut qualifiers = Vec::new();
        while let Some(q) = self.qualifier()? {
            qualifiers.push(q);
        }
        if qualifiers.is_empty() {
            Ok(base)
        } else {
            Ok(ObservationExpr::Qualified {
                expr: Box::new(base),
                qualifiers,
            })
        }
    }

    fn qualifier(&mut self) -> PResult<Option<Qualifier>> {
        if self.eat_kw("WITHIN") {
            let secs = match self.peek().clone() {
                Tok::IntPos(t) => {
                    let v = self.int_value(&t)?;
                    self.bump();
                    Seconds::Int(v)
                }
                Tok::FloatPos(t) => {
                    let v = self.float_value(&t)?;
                    self.bump();
                    Seconds::Float(v)
                }
                _ => {
                    self.expected.push("a positive number");
                    return Err(self.error());
                }
            };
            self.expect_kw("SECONDS")?;
            return Ok(Some(Qualifier::Within(secs)));
        }
        if self.eat_kw("REPEATS") {
            let n = match self.peek().clone() {
                Tok::IntPos(t) => {
                    let v = self.int_value(&t)?;
                    self.bump();
                    v
                }
                _ => {
                    self.expected.push("a positive integer");
                    return Err(self.error());
                }
            };
            self.expect_kw("TIMES")?;
            return Ok(Some(Qualifier::Repeats(n)));
        }
        if self.eat_kw("START") {
            let start = self.timestamp()?;
            self.expect_kw("STOP")?;
            let stop = self.timestamp()?;
            return Ok(Some(Qualifier::StartStop { start, stop }));
        }
        Ok(None)
    }

    fn timestamp(&mut self) -> PResult<Timestamp> {
        if let Tok::Timestamp(t) = self.peek().clone() {
            self.bump();
            if let Some(ts) = Timestamp::new(&t) {
                return Ok(ts);
            }
        }
        self.expected.push("a timestamp t'…'");
        Err(self.error())
    }

    fn comparison_or(&mut self) -> PResult<ComparisonExpr> {
        let mut items = vec![self.comparison_and()?];
        while self.eat_kw("OR") {
            items.push(self.comparison_and()?);
        }
        Ok(one_or(items, ComparisonExpr::Or))
    }

    fn comparison_and(&mut self) -> PResult<ComparisonExpr> {
        let mut items = vec![self.prop_test()?];
        while self.eat_kw("AND") {
            items.push(self.prop_test()?);
        }
        Ok(one_or(items, ComparisonExpr::And))
    }

    fn prop_test(&mut self) -> PResult<ComparisonExpr> {
        if self.eat(&Tok::LParen, "'('") {
            self.enter()?;
            let c = self.comparison_or()?;
            self.expect(&Tok::RParen, "')'")?;
            self.depth -= 1;
            return Ok(ComparisonExpr::Group(Box::new(c)));
        }
        if self.eat_kw("NOT") {
            self.expect_kw("EXISTS")?;
            let path = self.object_path()?;
            return Ok(exists(path, true));
        }
        if self.eat_kw("EXISTS") {
            let path = self.object_path()?;
            return Ok(exists(path, false));
        }
        let path = self.object_path()?;
        let negated = self.eat_kw("NOT");
        let op = self.operator()?;
        Ok(ComparisonExpr::Comparison(Comparison { path, negated, op }))
    }

    fn object_path(&mut self) -> PResult<ObjectPath> {
        let object_type = match self.peek().clone() {
            Tok::Ident { text, .. } => {
                self.bump();
                text
            }
            _ => {
                self.expected.push("an object type");
                return Err(self.error());
            }
        };
        self.expect(&Tok::Colon, "':'")?;
        let first = self.key("a property name")?;
        let mut steps = vec![PathStep::Key(first)];
        loop {
            if self.eat(&Tok::Dot, "'.'") {
                steps.push(PathStep::Key(self.key("a property name or quoted key")?));
            } else if self.eat(&Tok::LBrack, "'['") {
                let step = match self.peek().clone() {
                    Tok::IntPos(t) | Tok::IntNeg(t) => PathStep::Index(self.int_value(&t)?),
                    Tok::Star => PathStep::AnyIndex,
                    _ => {
                        self.expected.push("an index or '*'");
                        return Err(self.error());
                    }
                };
                self.bump();
                self.expect(&Tok::RBrack, "']'")?;
                steps.push(step);
            } else {
                break;
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn key(&mut self, what: &'static str) -> PResult<String> {
        match self.peek().clone() {
            Tok::Ident {
                text,
                hyphen: false,
            } => {
                self.bump();
                Ok(text)
            }
            Tok::Str(s) => {
                self.bump();
                Ok(s)
            }
            _ => {
                self.expected.push(what);
                Err(self.error())
            }
        }
    }

    fn operator(&mut self) -> PResult<Operator> {
        let tok = self.peek().clone();
        let op = match tok {
            Tok::Eq => {
                self.bump();
                Operator::Eq(self.literal(true)?)
            }
            Tok::Neq => {
                self.bump();
                Operator::Ne(self.literal(true)?)
            }
            Tok::Gt => {
                self.bump();
                Operator::Gt(self.literal(false)?)
            }
            Tok::Lt => {
                self.bump();
                Operator::Lt(self.literal(false)?)
            }
            Tok::Ge => {
                self.bump();
                Operator::Ge(self.literal(false)?)
            }
            Tok::Le => {
                self.bump();
                Operator::Le(self.literal(false)?)
            }
            Tok::Keyword("IN") => {
                self.bump();
                self.expect(&Tok::LParen, "'('")?;
                let mut set = Vec::new();
                if !self.eat(&Tok::RParen, "')'") {
                    set.push(self.literal(true)?);
                    while self.eat(&Tok::Comma, "','") {
                        set.push(self.literal(true)?);
                    }
                    self.expect(&Tok::RParen, "')'")?;
                }
                Operator::In(set)
            }
            Tok::Keyword(k @ ("LIKE" | "MATCHES" | "ISSUBSET" | "ISSUPERSET")) => {
                self.bump();
                let s = match self.peek().clone() {
                    Tok::Str(s) => {
                        self.bump();
                        s
                    }
                    _ => {
                        self.expected.push("a string");
                        return Err(self.error());
                    }
                };
                match k {
                    "LIKE" => Operator::Like(s),
                    "MATCHES" => Operator::Matches(s),
                    "ISSUBSET" => Operator::IsSubset(s),
                    _ => Operator::IsSuperset(s),
                }
            }
            _ => {
                self.expected.extend([
                    "'='",
                    "'!='",
                    "'<'",
                    "'<='",
                    "'>'",
                    "'>='",
                    "IN",
                    "LIKE",
                    "MATCHES",
                    "ISSUBSET",
                    "ISSUPERSET",
                ]);
                return Err(self.error());
            }
        };
        Ok(op)
    }

    /// A primitive literal (`allow_bool`) or an orderable one.
    fn literal(&mut self, allow_bool: bool) -> PResult<Literal> {
        let lit = match self.peek().clone() {
            Tok::IntPos(t) | Tok::IntNeg(t) => Literal::Int(self.int_value(&t)?),
            Tok::FloatPos(t) | Tok::FloatNeg(t) => Literal::Float(self.float_value(&t)?),
            Tok::Str(s) => Literal::Str(s),
            Tok::Bool(b) if allow_bool => Literal::Bool(b),
            Tok::Hex(h) => Literal::Hex(h),
            Tok::Binary(b) => Literal::Binary(b),
            Tok::Timestamp(t) => match Timestamp::new(&t) {
                Some(ts) => Literal::Timestamp(ts),
                None => return Err(self.error_here("invalid timestamp".into())),
            },
            _ => {
                self.expected.push(if allow_bool {
                    "a literal"
                } else {
                    "an orderable literal"
                });
                return Err(self.error());
            }
        };
        self.bump();
        Ok(lit)
    }

    fn int_value(&self, text: &str) -> PResult<i64> {
        text.trim_start_matches('+')
            .parse::<i64>()
            .map_err(|_| self.error_here(format!("integer {text} does not fit in 64 bits")))
    }

    fn float_value(&self, text: &str) -> PResult<f64> {
        text.parse::<f64>()
            .map_err(|_| self.error_here(format!("invalid float {text}")))
    }
}

fn exists(path: ObjectPath, negated: bool) -> ComparisonExpr {
    ComparisonExpr::Comparison(Comparison {
        path,
        negated,
        op: Operator::Exists,
    })
}

fn one_or<T>(mut items: Vec<T>, make: impl FnOnce(Vec<T>) -> T) -> T {
    if items.len() == 1 {
        items.remove(0)
    } else {
        make(items)
    }
}
