//! CQL2 text: a tokenizer and a recursive-descent parser whose depth is bounded by
//! [`Budget`], with `AND`/`OR` chains read in loops so that long lists never recurse.
//!
//! Keywords are case-insensitive. Property names are bare words of letters, digits, `_`, `.`
//! and `:`, or any text in double quotes (`"semantics.osm|traffic_sign"`).

use flaneur_store::{CompareOp, Filter, Literal, filter::parse_instant};

use super::{Budget, MAX_TEXT_CHARS, ParseError};

/// Reads a CQL2 text filter.
///
/// # Errors
/// [`ParseError`] at the character where the text stops making sense.
pub fn parse_text(text: &str) -> Result<Filter, ParseError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ParseError::at_char(
            MAX_TEXT_CHARS + 1,
            format!("the filter is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        budget: Budget::default(),
    };
    let filter = parser.or()?;
    let rest = parser.peek();
    if rest.kind != Kind::End {
        return Err(ParseError::at_char(
            rest.at,
            format!(
                "expected AND, OR or the end of the filter, found {}",
                rest.show()
            ),
        ));
    }
    Ok(filter)
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Open,
    Close,
    Comma,
    Compare(CompareOp),
    Text(String),
    Number(f64),
    Word(String),
    Quoted(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    /// Its first character, counted from 1.
    at: usize,
}

impl Token {
    /// The token as messages quote it.
    fn show(&self) -> String {
        match &self.kind {
            Kind::Open => "'('".to_owned(),
            Kind::Close => "')'".to_owned(),
            Kind::Comma => "','".to_owned(),
            Kind::Compare(op) => format!("'{}'", op.as_str()),
            Kind::Text(t) => format!("the string '{t}'"),
            Kind::Number(n) => format!("the number {n}"),
            Kind::Word(w) => format!("'{w}'"),
            Kind::Quoted(q) => format!("the property \"{q}\""),
            Kind::End => "the end of the filter".to_owned(),
        }
    }

    /// Whether this is the keyword `word` (in any case).
    fn is(&self, word: &str) -> bool {
        matches!(&self.kind, Kind::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | ':')
}

fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        let single = |kind| Token { kind, at };
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' => {
                tokens.push(single(match c {
                    '(' => Kind::Open,
                    ')' => Kind::Close,
                    _ => Kind::Comma,
                }));
                i += 1;
            }
            '=' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (CompareOp::Ne, 2),
                    ('<', Some('=')) => (CompareOp::Le, 2),
                    ('>', Some('=')) => (CompareOp::Ge, 2),
                    ('<', _) => (CompareOp::Lt, 1),
                    ('>', _) => (CompareOp::Gt, 1),
                    _ => (CompareOp::Eq, 1),
                };
                tokens.push(single(Kind::Compare(op)));
                i += len;
            }
            '\'' | '"' => {
                let (content, end) = quoted(&chars, i)?;
                tokens.push(single(if c == '\'' {
                    Kind::Text(content)
                } else {
                    Kind::Quoted(content)
                }));
                i = end;
            }
            c if c.is_ascii_digit()
                || (matches!(c, '-' | '+' | '.')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() {
                    let d = chars[i];
                    let exponent_sign =
                        matches!(d, '-' | '+') && matches!(chars.get(i - 1), Some('e' | 'E'));
                    if !(d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E') || exponent_sign) {
                        break;
                    }
                    i += 1;
                }
                let literal: String = chars[start..i].iter().collect();
                let n = literal
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| {
                        ParseError::at_char(at, format!("'{literal}' is not a number"))
                    })?;
                tokens.push(single(Kind::Number(n)));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                tokens.push(single(Kind::Word(chars[start..i].iter().collect())));
            }
            '|' => {
                return Err(ParseError::at_char(
                    at,
                    "unexpected character '|': write a property name holding it in double \
                     quotes, as \"semantics.osm|traffic_sign\""
                        .to_owned(),
                ));
            }
            other => {
                return Err(ParseError::at_char(
                    at,
                    format!("unexpected character '{other}'"),
                ));
            }
        }
    }
    tokens.push(Token {
        kind: Kind::End,
        at: chars.len() + 1,
    });
    Ok(tokens)
}

/// The content of a quoted string starting at `open`, where a doubled quote stands for one;
/// and the index just past its closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), ParseError> {
    let quote = chars[open];
    let mut content = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(ParseError::at_char(
                    open + 1,
                    format!("the text opened by {quote} here is never closed"),
                ));
            }
            Some(&c) if c == quote => {
                if chars.get(i + 1) == Some(&quote) {
                    content.push(quote);
                    i += 2;
                } else {
                    return Ok((content, i + 1));
                }
            }
            Some(&c) => {
                content.push(c);
                i += 1;
            }
        }
    }
}

/// One side of a comparison.
enum Operand {
    Property(String),
    Value(Literal),
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    budget: Budget,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The tokenizer always ends the list with `End`, which is never consumed.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != Kind::End {
            self.next += 1;
        }
        token
    }

    fn fail<T>(&self, at: &Token, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::at_char(at.at, message))
    }

    fn expect(&mut self, kind: &Kind, what: &str, after: &str) -> Result<Token, ParseError> {
        let token = self.bump();
        if &token.kind != kind {
            return self.fail(
                &token,
                format!("expected {what} after {after}, found {}", token.show()),
            );
        }
        Ok(token)
    }

    fn or(&mut self) -> Result<Filter, ParseError> {
        let mut parts = vec![self.and()?];
        while self.peek().is("or") {
            self.bump();
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Filter, ParseError> {
        let mut parts = vec![self.not()?];
        while self.peek().is("and") {
            self.bump();
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn not(&mut self) -> Result<Filter, ParseError> {
        let token = self.peek().clone();
        if !token.is("not") {
            return self.primary();
        }
        self.bump();
        within(&token, self.budget.enter())?;
        let inner = self.not()?;
        self.budget.leave();
        Ok(Filter::Not(Box::new(inner)))
    }

    fn primary(&mut self) -> Result<Filter, ParseError> {
        let token = self.peek().clone();
        within(&token, self.budget.count())?;
        if token.kind == Kind::Open {
            self.bump();
            within(&token, self.budget.enter())?;
            let inner = self.or()?;
            self.budget.leave();
            self.expect(&Kind::Close, "')'", "the condition")?;
            return Ok(inner);
        }
        // A bare TRUE or FALSE is a condition of its own.
        let ends =
            |t: &Token| t.is("and") || t.is("or") || matches!(t.kind, Kind::Close | Kind::End);
        let after = self.tokens.get(self.next + 1).is_some_and(ends);
        if after && (token.is("true") || token.is("false")) {
            self.bump();
            return Ok(Filter::Constant(token.is("true")));
        }
        let left = self.operand("the start of a condition")?;
        self.predicate(left, &token)
    }

    /// What follows the left operand of a condition.
    fn predicate(&mut self, left: Operand, start: &Token) -> Result<Filter, ParseError> {
        let token = self.bump();
        let negated = token.is("not");
        let token = if negated { self.bump() } else { token };
        let filter = match (&token.kind, left) {
            (Kind::Compare(op), left) if !negated => {
                let after = format!("'{}'", op.as_str());
                let right = self.operand(&after)?;
                return match (left, right) {
                    (Operand::Property(property), Operand::Value(value)) => Ok(Filter::Compare {
                        property,
                        op: *op,
                        value,
                    }),
                    (Operand::Value(value), Operand::Property(property)) => Ok(Filter::Compare {
                        property,
                        op: op.swapped(),
                        value,
                    }),
                    _ => self.fail(
                        start,
                        "a comparison needs a property on one side and a value on the other",
                    ),
                };
            }
            (_, Operand::Value(_)) => {
                return self.fail(start, "a condition must start with a property name");
            }
            (_, Operand::Property(property)) if token.is("in") => {
                self.expect(&Kind::Open, "'('", "IN")?;
                let mut values = vec![self.value("'('")?];
                while self.peek().kind == Kind::Comma {
                    self.bump();
                    values.push(self.value("','")?);
                }
                self.expect(&Kind::Close, "',' or ')'", "a value of the IN list")?;
                Filter::In { property, values }
            }
            (_, Operand::Property(property)) if token.is("between") => {
                let low = self.value("BETWEEN")?;
                let and = self.bump();
                if !and.is("and") {
                    return self.fail(
                        &and,
                        format!("expected AND after {low}, found {}", and.show()),
                    );
                }
                let high = self.value("AND")?;
                Filter::Between {
                    property,
                    low,
                    high,
                }
            }
            (_, Operand::Property(property)) if token.is("like") => {
                let pattern = self.bump();
                let Kind::Text(pattern) = pattern.kind else {
                    return self.fail(
                        &pattern,
                        format!(
                            "expected a quoted pattern after LIKE, found {}",
                            pattern.show()
                        ),
                    );
                };
                Filter::Like { property, pattern }
            }
            (_, Operand::Property(property)) if token.is("is") && !negated => {
                let mut next = self.bump();
                let is_not = next.is("not");
                if is_not {
                    next = self.bump();
                }
                if !next.is("null") {
                    return self.fail(
                        &next,
                        format!("expected NULL after IS, found {}", next.show()),
                    );
                }
                let null = Filter::IsNull { property };
                return Ok(if is_not {
                    Filter::Not(Box::new(null))
                } else {
                    null
                });
            }
            (_, Operand::Property(property)) => {
                let expected = if negated {
                    "IN, LIKE or BETWEEN after NOT"
                } else {
                    "a comparison (= <> < <= > >=), IN, LIKE, BETWEEN or IS NULL"
                };
                return self.fail(
                    &token,
                    format!(
                        "expected {expected} after the property '{property}', found {}",
                        token.show()
                    ),
                );
            }
        };
        Ok(if negated {
            Filter::Not(Box::new(filter))
        } else {
            filter
        })
    }

    /// A value (not a property), counted against the budget; `after` names what precedes it.
    fn value(&mut self, after: &str) -> Result<Literal, ParseError> {
        let token = self.peek().clone();
        within(&token, self.budget.count())?;
        match self.operand(after)? {
            Operand::Value(v) => Ok(v),
            Operand::Property(p) => self.fail(
                &token,
                format!("expected a value after {after}, found the property '{p}'"),
            ),
        }
    }

    fn operand(&mut self, after: &str) -> Result<Operand, ParseError> {
        let token = self.bump();
        match token.kind {
            Kind::Text(t) => Ok(Operand::Value(Literal::Text(t))),
            Kind::Number(n) => Ok(Operand::Value(Literal::Number(n))),
            Kind::Quoted(q) => Ok(Operand::Property(q)),
            Kind::Word(ref w) if w.eq_ignore_ascii_case("true") => {
                Ok(Operand::Value(Literal::Boolean(true)))
            }
            Kind::Word(ref w) if w.eq_ignore_ascii_case("false") => {
                Ok(Operand::Value(Literal::Boolean(false)))
            }
            Kind::Word(ref w) if is_keyword(w) => self.fail(
                &token,
                format!(
                    "expected a property or a value after {after}, found {}",
                    token.show()
                ),
            ),
            Kind::Word(ref w) if self.peek().kind == Kind::Open => self.call(w, &token),
            Kind::Word(ref w) => Ok(Operand::Property(w.clone())),
            _ => self.fail(
                &token,
                format!(
                    "expected a property or a value after {after}, found {}",
                    token.show()
                ),
            ),
        }
    }

    /// `TIMESTAMP('…')` or `DATE('…')`; other functions are refused by name.
    fn call(&mut self, name: &str, at: &Token) -> Result<Operand, ParseError> {
        let upper = name.to_ascii_uppercase();
        if upper != "TIMESTAMP" && upper != "DATE" {
            return self.fail(
                at,
                format!("function {name} is not supported; only TIMESTAMP and DATE are"),
            );
        }
        self.bump();
        let arg = self.bump();
        let Kind::Text(text) = arg.kind.clone() else {
            return self.fail(
                &arg,
                format!(
                    "expected a quoted instant after {upper}(, found {}",
                    arg.show()
                ),
            );
        };
        let instant = if upper == "DATE" {
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| parse_instant(&d.to_string()))
        } else {
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let Some(instant) = instant else {
            let expected = if upper == "DATE" {
                "a date (YYYY-MM-DD)"
            } else {
                "an RFC 3339 date-time"
            };
            return self.fail(&arg, format!("'{text}' is not {expected}"));
        };
        self.expect(&Kind::Close, "')'", &format!("the {upper} value"))?;
        Ok(Operand::Value(Literal::Timestamp(instant)))
    }
}

/// The budget's verdict as a parse error at `token`.
fn within(token: &Token, outcome: Result<(), String>) -> Result<(), ParseError> {
    outcome.map_err(|m| ParseError::at_char(token.at, m))
}

/// Words that cannot be bare property names.
fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "in", "is", "null", "between", "like"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cql2::Position;

    fn compare(property: &str, op: CompareOp, value: Literal) -> Filter {
        Filter::Compare {
            property: property.to_owned(),
            op,
            value,
        }
    }

    fn text(t: &str) -> Literal {
        Literal::Text(t.to_owned())
    }

    #[test]
    fn reads_comparisons_joined_by_and_or_not() {
        let parsed = parse_text(
            "updated >= '2026-01-01T00:00:00Z' and (id = 'a' OR NOT visibility <> 'anyone')",
        );
        let expected = Filter::And(vec![
            compare("updated", CompareOp::Ge, text("2026-01-01T00:00:00Z")),
            Filter::Or(vec![
                compare("id", CompareOp::Eq, text("a")),
                Filter::Not(Box::new(compare(
                    "visibility",
                    CompareOp::Ne,
                    text("anyone"),
                ))),
            ]),
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let parsed = parse_text("a = 1 OR b = 2 AND c = 3");
        let expected = Filter::Or(vec![
            compare("a", CompareOp::Eq, Literal::Number(1.0)),
            Filter::And(vec![
                compare("b", CompareOp::Eq, Literal::Number(2.0)),
                compare("c", CompareOp::Eq, Literal::Number(3.0)),
            ]),
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn reads_in_null_between_like_and_their_negations() {
        let parsed = parse_text(
            "status IN ('deleted','ready') AND x IS NOT NULL AND y NOT BETWEEN -1.5 AND 2e3 \
             AND t LIKE 'ab''%' AND z is null",
        );
        let expected = Filter::And(vec![
            Filter::In {
                property: "status".to_owned(),
                values: vec![text("deleted"), text("ready")],
            },
            Filter::Not(Box::new(Filter::IsNull {
                property: "x".to_owned(),
            })),
            Filter::Not(Box::new(Filter::Between {
                property: "y".to_owned(),
                low: Literal::Number(-1.5),
                high: Literal::Number(2000.0),
            })),
            Filter::Like {
                property: "t".to_owned(),
                pattern: "ab'%".to_owned(),
            },
            Filter::IsNull {
                property: "z".to_owned(),
            },
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn reads_quoted_properties_timestamps_and_swapped_sides() {
        let parsed = parse_text(
            "\"semantics.osm|traffic_sign\" = 'yes' AND TIMESTAMP('2026-01-01T00:00:00Z') < \
             created AND datetime >= DATE('2025-06-01') AND TRUE",
        );
        let jan = parse_instant("2026-01-01T00:00:00Z").map(Literal::Timestamp);
        let june = parse_instant("2025-06-01").map(Literal::Timestamp);
        let (Some(jan), Some(june)) = (jan, june) else {
            panic!("test instants parse");
        };
        let expected = Filter::And(vec![
            compare("semantics.osm|traffic_sign", CompareOp::Eq, text("yes")),
            compare("created", CompareOp::Gt, jan),
            compare("datetime", CompareOp::Ge, june),
            Filter::Constant(true),
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn errors_say_where_and_what() {
        let err = parse_text("updated >= ").err();
        let message = err.as_ref().map(ToString::to_string).unwrap_or_default();
        assert_eq!(err.map(|e| e.at), Some(Position::Char(12)));
        assert!(message.contains("after '>='"), "{message}");

        let message = parse_text("semantics.osm|traffic_sign = 'yes'")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("double quotes"), "{message}");
        assert!(parse_text("\"semantics.osm|traffic_sign\" = 'yes'").is_ok());

        for (bad, at) in [
            ("updated", 8),
            ("updated >= '2026", 12),
            ("(id = 'a'", 10),
            ("id = 'a' id = 'b'", 10),
            ("id = 'a' AND", 13),
            ("id ~ 'a'", 4),
            ("'a' = 'b'", 1),
            ("S_INTERSECTS(geometry, POINT(1 2))", 1),
            ("created > TIMESTAMP('yesterday')", 21),
            ("id IN ()", 8),
        ] {
            let got = parse_text(bad).err().map(|e| e.at);
            assert_eq!(got, Some(Position::Char(at)), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_and_long_chains_are_refused_not_overflowed() {
        let deep = format!("{}id = 'a'{}", "(".repeat(100_000), ")".repeat(100_000));
        let long = vec!["id = 'a'"; 10_000].join(" OR ");
        let nots = format!("{}id = 'a'", "NOT ".repeat(5_000));
        for input in [deep, long, nots] {
            let message = parse_text(&input)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(
                message.contains("nested")
                    || message.contains("holds more")
                    || message.contains("longer"),
                "{message}"
            );
        }
        let fine = vec!["id = 'a'"; 100].join(" OR ");
        assert!(parse_text(&fine).is_ok());
    }

    #[test]
    fn random_input_never_panics() {
        // A fixed linear congruential generator: the same inputs on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let pieces = [
            "(",
            ")",
            "'",
            "\"",
            ",",
            "=",
            "<",
            ">",
            "-",
            ".",
            "e",
            "1",
            " ",
            "AND",
            "OR",
            "NOT",
            "IN",
            "IS",
            "NULL",
            "LIKE",
            "BETWEEN",
            "TRUE",
            "TIMESTAMP",
            "DATE",
            "id",
            "é",
            "\0",
        ];
        for _ in 0..20_000 {
            let len = next() % 24;
            let mut input = String::new();
            for _ in 0..len {
                let n = next();
                if n % 5 == 0 {
                    let bytes = [(n >> 8) as u8, (n >> 16) as u8];
                    input.push_str(&String::from_utf8_lossy(&bytes));
                } else {
                    input.push_str(pieces[(n as usize) % pieces.len()]);
                }
            }
            let _ = parse_text(&input);
        }
    }
}
