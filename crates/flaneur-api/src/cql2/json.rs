//! CQL2 JSON: `{"op": …, "args": […]}` trees, with properties as `{"property": …}` and
//! instants as `{"timestamp": …}` or `{"date": …}`. Errors point into the document with a
//! JSON pointer (`/args/1`).

use chrono::{DateTime, NaiveDate, Utc};
use flaneur_store::{CompareOp, Filter, Literal};
use serde_json::Value;

use super::{Budget, ParseError};

/// Reads a CQL2 JSON filter.
///
/// # Errors
/// [`ParseError`] at the member that is not valid CQL2 JSON.
pub fn parse_json(value: &Value) -> Result<Filter, ParseError> {
    let mut budget = Budget::default();
    condition(value, "", &mut budget)
}

fn condition(value: &Value, at: &str, budget: &mut Budget) -> Result<Filter, ParseError> {
    budget.count().map_err(|m| ParseError::at_pointer(at, m))?;
    if let Value::Bool(b) = value {
        return Ok(Filter::Constant(*b));
    }
    let Some(object) = value.as_object() else {
        return Err(ParseError::at_pointer(
            at,
            "expected a condition: an object with op and args, or true or false",
        ));
    };
    let Some(op) = object.get("op").and_then(Value::as_str) else {
        return Err(ParseError::at_pointer(
            at,
            "expected a condition: an object with a string member op",
        ));
    };
    let Some(args) = object.get("args").and_then(Value::as_array) else {
        return Err(ParseError::at_pointer(
            at,
            format!("the {op} operation needs an array member args"),
        ));
    };
    let arg_at = |i: usize| format!("{at}/args/{i}");
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(ParseError::at_pointer(
                at,
                format!("the {op} operation takes {n} arguments, not {}", args.len()),
            ))
        }
    };

    match op.to_ascii_lowercase().as_str() {
        "and" | "or" | "not" => {
            budget.enter().map_err(|m| ParseError::at_pointer(at, m))?;
            let parts = args
                .iter()
                .enumerate()
                .map(|(i, a)| condition(a, &arg_at(i), budget))
                .collect::<Result<Vec<_>, _>>();
            budget.leave();
            let mut parts = parts?;
            match op.to_ascii_lowercase().as_str() {
                "not" => {
                    arity(1)?;
                    Ok(Filter::Not(Box::new(parts.remove(0))))
                }
                _ if parts.len() < 2 => Err(ParseError::at_pointer(
                    at,
                    format!("the {op} operation takes at least 2 arguments"),
                )),
                "and" => Ok(Filter::And(parts)),
                _ => Ok(Filter::Or(parts)),
            }
        }
        "=" | "<>" | "<" | "<=" | ">" | ">=" => {
            arity(2)?;
            let op = compare_op(op);
            match (
                operand(&args[0], &arg_at(0))?,
                operand(&args[1], &arg_at(1))?,
            ) {
                (Operand::Property(property), Operand::Value(value)) => Ok(Filter::Compare {
                    property,
                    op,
                    value,
                }),
                (Operand::Value(value), Operand::Property(property)) => Ok(Filter::Compare {
                    property,
                    op: op.swapped(),
                    value,
                }),
                _ => Err(ParseError::at_pointer(
                    at,
                    "a comparison needs a property on one side and a value on the other",
                )),
            }
        }
        "in" => {
            arity(2)?;
            let property = property(&args[0], &arg_at(0))?;
            let list_at = arg_at(1);
            let Some(list) = args[1].as_array().filter(|l| !l.is_empty()) else {
                return Err(ParseError::at_pointer(
                    &list_at,
                    "expected a non-empty array of values",
                ));
            };
            let mut values = Vec::with_capacity(list.len());
            for (i, v) in list.iter().enumerate() {
                let v_at = format!("{list_at}/{i}");
                budget
                    .count()
                    .map_err(|m| ParseError::at_pointer(&v_at, m))?;
                values.push(literal(v, &v_at)?);
            }
            Ok(Filter::In { property, values })
        }
        "isnull" => {
            arity(1)?;
            Ok(Filter::IsNull {
                property: property(&args[0], &arg_at(0))?,
            })
        }
        "between" => {
            arity(3)?;
            Ok(Filter::Between {
                property: property(&args[0], &arg_at(0))?,
                low: literal(&args[1], &arg_at(1))?,
                high: literal(&args[2], &arg_at(2))?,
            })
        }
        "like" => {
            arity(2)?;
            let property = property(&args[0], &arg_at(0))?;
            let Some(pattern) = args[1].as_str() else {
                return Err(ParseError::at_pointer(
                    &arg_at(1),
                    "expected a string pattern",
                ));
            };
            Ok(Filter::Like {
                property,
                pattern: pattern.to_owned(),
            })
        }
        _ => Err(ParseError::at_pointer(
            &format!("{at}/op"),
            format!(
                "operation '{op}' is not supported; use and, or, not, =, <>, <, <=, >, >=, in, \
                 isNull, between or like"
            ),
        )),
    }
}

fn compare_op(op: &str) -> CompareOp {
    match op {
        "=" => CompareOp::Eq,
        "<>" => CompareOp::Ne,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        _ => CompareOp::Ge,
    }
}

enum Operand {
    Property(String),
    Value(Literal),
}

fn operand(value: &Value, at: &str) -> Result<Operand, ParseError> {
    if let Some(p) = value.get("property") {
        return match p.as_str() {
            Some(name) if !name.is_empty() => Ok(Operand::Property(name.to_owned())),
            _ => Err(ParseError::at_pointer(
                at,
                format!("a property name must be a non-empty string, not {p}"),
            )),
        };
    }
    literal(value, at).map(Operand::Value)
}

fn property(value: &Value, at: &str) -> Result<String, ParseError> {
    match value.get("property").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(ParseError::at_pointer(
            at,
            "expected a property: {\"property\": \"<name>\"}",
        )),
    }
}

fn literal(value: &Value, at: &str) -> Result<Literal, ParseError> {
    match value {
        Value::String(s) => Ok(Literal::Text(s.clone())),
        Value::Bool(b) => Ok(Literal::Boolean(*b)),
        Value::Number(n) => n
            .as_f64()
            .map(Literal::Number)
            .ok_or_else(|| ParseError::at_pointer(at, "the number is out of range")),
        Value::Object(o) if o.contains_key("timestamp") => {
            let text = o.get("timestamp").and_then(Value::as_str).unwrap_or("");
            DateTime::parse_from_rfc3339(text.trim())
                .map(|t| Literal::Timestamp(t.with_timezone(&Utc)))
                .map_err(|_| {
                    ParseError::at_pointer(at, format!("'{text}' is not an RFC 3339 date-time"))
                })
        }
        Value::Object(o) if o.contains_key("date") => {
            let text = o.get("date").and_then(Value::as_str).unwrap_or("");
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| Literal::Timestamp(t.and_utc()))
                .ok_or_else(|| {
                    ParseError::at_pointer(at, format!("'{text}' is not a date (YYYY-MM-DD)"))
                })
        }
        _ => Err(ParseError::at_pointer(
            at,
            "expected a value: a string, number, boolean, {\"timestamp\": …} or {\"date\": …}",
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cql2::Position;

    #[test]
    fn reads_the_json_form() {
        let parsed = parse_json(&json!({
            "op": "and",
            "args": [
                {"op": ">=", "args": [
                    {"property": "updated"},
                    {"timestamp": "2026-01-01T00:00:00Z"}
                ]},
                {"op": "not", "args": [{"op": "isNull", "args": [{"property": "id"}]}]},
                {"op": "in", "args": [{"property": "visibility"}, ["anyone", "logged-only"]]},
                {"op": "between", "args": [{"property": "n"}, 1, 2]},
                {"op": "like", "args": [{"property": "title"}, "a%"]},
                {"op": "<", "args": ["2025-01-01", {"property": "created"}]},
                true
            ]
        }));
        let Ok(Filter::And(parts)) = parsed else {
            panic!("not read as a conjunction: {parsed:?}");
        };
        assert_eq!(parts.len(), 7);
        assert!(matches!(
            &parts[0],
            Filter::Compare {
                op: CompareOp::Ge,
                value: Literal::Timestamp(_),
                ..
            }
        ));
        assert_eq!(
            parts[5],
            Filter::Compare {
                property: "created".to_owned(),
                op: CompareOp::Gt,
                value: Literal::Text("2025-01-01".to_owned()),
            }
        );
    }

    #[test]
    fn errors_point_at_the_faulty_member() {
        for (bad, at) in [
            (
                json!({"op": "and", "args": [true, {"op": "=", "args": [1]}]}),
                "/args/1",
            ),
            (json!({"op": "s_intersects", "args": []}), "/op"),
            (
                json!({"op": "in", "args": [{"property": "id"}, []]}),
                "/args/1",
            ),
            (json!({"op": "=", "args": [{"property": 3}, 1]}), "/args/0"),
            (
                json!({"op": "=", "args": [{"property": "c"}, {"timestamp": "x"}]}),
                "/args/1",
            ),
            (json!([1, 2]), ""),
        ] {
            let got = parse_json(&bad).err().map(|e| e.at);
            assert_eq!(got, Some(Position::Pointer(at.to_owned())), "{bad}");
        }
    }

    #[test]
    fn random_documents_never_panic() {
        // A fixed linear congruential generator: the same documents on every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let pieces = [
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"op\"",
            "\"args\"",
            "\"property\"",
            "\"and\"",
            "\"not\"",
            "\"in\"",
            "\"=\"",
            "\"between\"",
            "\"like\"",
            "\"isNull\"",
            "\"timestamp\"",
            "\"date\"",
            "\"2026-01-01\"",
            "1e999",
            "-0",
            "true",
            "null",
        ];
        for _ in 0..20_000 {
            let text: String = (0..next() % 30)
                .map(|_| pieces[next() % pieces.len()])
                .collect();
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                let _ = parse_json(&value);
            }
        }
    }

    #[test]
    fn deep_and_wide_documents_are_refused() {
        let mut deep = json!(true);
        for _ in 0..100 {
            deep = json!({"op": "not", "args": [deep]});
        }
        assert!(parse_json(&deep).is_err());
        let wide = json!({"op": "or", "args": vec![json!(true); 10_000]});
        assert!(parse_json(&wide).is_err());
    }
}
