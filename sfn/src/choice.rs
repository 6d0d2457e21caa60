//! Choice rules: comparison operators, their `...Path` variants, the type tests and And/Or/Not.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::StatesError;

/// The `Next` of the first matching rule, else the `Default`, else `None` (States.NoChoiceMatched).
pub(crate) fn choose(
    state: &Value,
    input: &Value,
    context: &Value,
) -> Result<Option<String>, StatesError> {
    for rule in state
        .get("Choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if evaluate(rule, input, context)? {
            return Ok(rule.get("Next").and_then(Value::as_str).map(str::to_string));
        }
    }
    Ok(state
        .get("Default")
        .and_then(Value::as_str)
        .map(str::to_string))
}

fn lookup<'a>(
    path: &str,
    input: &'a Value,
    context: &'a Value,
) -> Result<Option<&'a Value>, StatesError> {
    let parsed = jsonpath::ReferencePath::parse(path)
        .map_err(|e| StatesError::runtime(format!("Invalid path '{path}': {e}")))?;
    Ok(parsed.get(input, Some(context)))
}

fn evaluate(rule: &Value, input: &Value, context: &Value) -> Result<bool, StatesError> {
    if let Some(rules) = rule.get("And").and_then(Value::as_array) {
        for inner in rules {
            if !evaluate(inner, input, context)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(rules) = rule.get("Or").and_then(Value::as_array) {
        for inner in rules {
            if evaluate(inner, input, context)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(inner) = rule.get("Not") {
        return Ok(!evaluate(inner, input, context)?);
    }
    let variable = rule
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or_else(|| StatesError::runtime(format!("a Choice rule has no Variable: {rule}")))?;
    let Some((operator, operand)) = rule
        .as_object()
        .into_iter()
        .flatten()
        .find(|(key, _)| !matches!(key.as_str(), "Variable" | "Next" | "Comment"))
    else {
        return Err(StatesError::runtime(format!(
            "a Choice rule has no comparison: {rule}"
        )));
    };
    let value = lookup(variable, input, context)?;
    if operator == "IsPresent" {
        return Ok(value.is_some() == (operand.as_bool() == Some(true)));
    }
    let value = value.ok_or_else(|| {
        StatesError::runtime(format!(
            "Invalid path '{variable}': The choice state's condition path references an invalid value."
        ))
    })?;
    let expected = operand.as_bool() == Some(true);
    match operator.as_str() {
        "IsNull" => return Ok(value.is_null() == expected),
        "IsNumeric" => return Ok(value.is_number() == expected),
        "IsString" => return Ok(value.is_string() == expected),
        "IsBoolean" => return Ok(value.is_boolean() == expected),
        "IsTimestamp" => return Ok(value.as_str().and_then(parse_timestamp).is_some() == expected),
        _ => {}
    }
    let (comparison, operand) = match operator.strip_suffix("Path") {
        Some(base) => {
            let path = operand
                .as_str()
                .ok_or_else(|| StatesError::runtime(format!("{operator} must be a path")))?;
            let resolved = lookup(path, input, context)?.ok_or_else(|| {
                StatesError::runtime(format!(
                    "Invalid path '{path}': the {operator} operand references an invalid value."
                ))
            })?;
            (base, resolved)
        }
        None => (operator.as_str(), operand),
    };
    Ok(compare(comparison, value, operand))
}

fn compare(operator: &str, value: &Value, operand: &Value) -> bool {
    use std::cmp::Ordering::*;
    let (kind, test) = split_operator(operator);
    let ordering = match kind {
        "String" => match (value.as_str(), operand.as_str()) {
            (Some(a), Some(b)) if test == "Matches" => return string_matches(a, b),
            (Some(a), Some(b)) => a.cmp(b),
            _ => return false,
        },
        "Numeric" => match (value.as_f64(), operand.as_f64()) {
            (Some(a), Some(b)) if value.is_number() && operand.is_number() => {
                match a.partial_cmp(&b) {
                    Some(ordering) => ordering,
                    None => return false,
                }
            }
            _ => return false,
        },
        "Boolean" => match (value.as_bool(), operand.as_bool()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => return false,
        },
        "Timestamp" => match (
            value.as_str().and_then(parse_timestamp),
            operand.as_str().and_then(parse_timestamp),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => return false,
        },
        _ => return false,
    };
    match test {
        "Equals" => ordering == Equal,
        "LessThan" => ordering == Less,
        "GreaterThan" => ordering == Greater,
        "LessThanEquals" => ordering != Greater,
        "GreaterThanEquals" => ordering != Less,
        _ => false,
    }
}

fn split_operator(operator: &str) -> (&str, &str) {
    for kind in ["String", "Numeric", "Boolean", "Timestamp"] {
        if let Some(test) = operator.strip_prefix(kind) {
            return (kind, test);
        }
    }
    ("", "")
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash.
fn string_matches(text: &str, pattern: &str) -> bool {
    #[derive(PartialEq)]
    enum Token {
        Char(char),
        Any,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => tokens.push(Token::Char(escaped)),
                None => tokens.push(Token::Char('\\')),
            },
            '*' => tokens.push(Token::Any),
            other => tokens.push(Token::Char(other)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // classic wildcard matching with backtracking on the last star
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < tokens.len() && tokens[p] == Token::Char(text[t]) {
            t += 1;
            p += 1;
        } else if p < tokens.len() && tokens[p] == Token::Any {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    while p < tokens.len() && tokens[p] == Token::Any {
        p += 1;
    }
    p == tokens.len()
}

#[cfg(test)]
mod tests {
    use super::string_matches;

    #[test]
    fn wildcards_and_escapes() {
        assert!(string_matches("log-2024.txt", "log-*.txt"));
        assert!(!string_matches("log-2024.csv", "log-*.txt"));
        assert!(string_matches("a*b", "a\\*b"));
        assert!(!string_matches("axb", "a\\*b"));
        assert!(string_matches("", "*"));
        assert!(string_matches("abc", "*c"));
    }
}
