//! Values of `.$` fields: a JSONPath, a context path, or an intrinsic function call.

use serde_json::Value;

use crate::error::StatesError;
use crate::intrinsics;

/// A parsed intrinsic call's argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Literal(Value),
    Path(String),
    Call(String, Vec<Arg>),
}

/// Parse `States.Name(arg, ...)`. String literals take `\'` and `\\`; `\{` and `\}` are kept for
/// `States.Format`, which gives them their meaning.
pub(crate) fn parse_call(text: &str) -> Result<Arg, String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    let call = parser.call()?;
    parser.skip_spaces();
    if parser.pos != parser.chars.len() {
        return Err(format!(
            "unexpected text after the call at position {}",
            parser.pos
        ));
    }
    Ok(call)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    fn call(&mut self) -> Result<Arg, String> {
        self.skip_spaces();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_')
        {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if !name.starts_with("States.") {
            return Err(format!("'{name}' is not an intrinsic function"));
        }
        self.skip_spaces();
        if self.peek() != Some('(') {
            return Err(format!("expected '(' after {name}"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_spaces();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(Arg::Call(name, args));
        }
        loop {
            args.push(self.arg()?);
            self.skip_spaces();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Arg::Call(name, args));
                }
                _ => return Err(format!("expected ',' or ')' in the arguments of {name}")),
            }
        }
    }
    fn arg(&mut self) -> Result<Arg, String> {
        self.skip_spaces();
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => Ok(Arg::Path(self.path())),
            Some('S') => self.call(),
            Some(_) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c != ',' && c != ')' && !c.is_whitespace())
                {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                serde_json::from_str::<Value>(&word)
                    .ok()
                    .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
                    .map(Arg::Literal)
                    .ok_or_else(|| format!("'{word}' is not a valid argument"))
            }
            None => Err("unexpected end of the call".to_string()),
        }
    }
    fn string(&mut self) -> Result<Arg, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string".to_string()),
                Some('\'') => {
                    self.pos += 1;
                    return Ok(Arg::Literal(Value::String(out)));
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ ('{' | '}')) => {
                            out.push('\\');
                            out.push(c);
                        }
                        Some(c) => out.push(c),
                        None => return Err("unterminated string".to_string()),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
    /// A path runs to the next `,` or `)` outside brackets and quotes.
    fn path(&mut self) -> String {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), '\\') => self.pos += 1,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']') => depth = depth.saturating_sub(1),
                (None, ')') if depth == 0 => break,
                (None, ')') => depth -= 1,
                (None, ',') if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        self.chars[start..self.pos]
            .iter()
            .collect::<String>()
            .trim()
            .to_string()
    }
}

/// Evaluate the value of a `.$` field against the effective input and the context object.
pub(crate) fn evaluate_dynamic(
    text: &str,
    input: &Value,
    context: &Value,
) -> Result<Value, StatesError> {
    let trimmed = text.trim();
    if trimmed.starts_with("States.") {
        let call = parse_call(trimmed).map_err(|reason| {
            StatesError::intrinsic(format!("Invalid intrinsic function '{trimmed}': {reason}"))
        })?;
        return evaluate_arg(&call, input, context);
    }
    resolve_path(trimmed, input, context)
}

fn resolve_path(path: &str, input: &Value, context: &Value) -> Result<Value, StatesError> {
    let parsed = jsonpath::JsonPath::parse(path)
        .map_err(|e| StatesError::parameter_path(format!("Invalid path '{path}': {e}")))?;
    parsed.resolve(input, Some(context)).map_err(|_| {
        StatesError::parameter_path(format!(
            "The JSONPath '{path}' could not be found in the input '{}'",
            if path.starts_with("$$") {
                context
            } else {
                input
            }
        ))
    })
}

fn evaluate_arg(arg: &Arg, input: &Value, context: &Value) -> Result<Value, StatesError> {
    match arg {
        Arg::Literal(value) => Ok(value.clone()),
        Arg::Path(path) => resolve_path(path, input, context),
        Arg::Call(name, args) => {
            let values = args
                .iter()
                .map(|arg| evaluate_arg(arg, input, context))
                .collect::<Result<Vec<_>, _>>()?;
            intrinsics::call(name, &values)
        }
    }
}

/// Apply a payload template (Parameters, ResultSelector, ItemSelector): keys ending in `.$` are
/// evaluated, nested objects recursively; arrays and other values are copied.
pub(crate) fn apply_template(
    template: &Value,
    input: &Value,
    context: &Value,
) -> Result<Value, StatesError> {
    match template {
        Value::Object(fields) => {
            let mut out = serde_json::Map::with_capacity(fields.len());
            for (key, value) in fields {
                if let Some(name) = key.strip_suffix(".$") {
                    let text = value.as_str().ok_or_else(|| {
                        StatesError::parameter_path(format!(
                            "The value of '{key}' must be a path or an intrinsic function"
                        ))
                    })?;
                    out.insert(name.to_string(), evaluate_dynamic(text, input, context)?);
                } else {
                    out.insert(key.clone(), apply_template(value, input, context)?);
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_nested_calls_paths_and_literals() {
        let call =
            parse_call("States.Format('a\\'b {}', $.x[0], States.Array(1, null, 'z'))").unwrap();
        assert_eq!(
            call,
            Arg::Call(
                "States.Format".into(),
                vec![
                    Arg::Literal(json!("a'b {}")),
                    Arg::Path("$.x[0]".into()),
                    Arg::Call(
                        "States.Array".into(),
                        vec![
                            Arg::Literal(json!(1)),
                            Arg::Literal(json!(null)),
                            Arg::Literal(json!("z"))
                        ]
                    ),
                ]
            )
        );
    }

    #[test]
    fn bad_calls_are_refused() {
        assert!(parse_call("States.Format('x'").is_err());
        assert!(parse_call("Foo.Bar()").is_err());
        assert!(parse_call("States.Array(1) extra").is_err());
    }
}
