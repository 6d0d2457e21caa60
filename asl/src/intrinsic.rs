//! Intrinsic functions: a parser for `States.Format('{} has {}', $.name, States.ArrayLength($.items))`.
//!
//! [`parse`] reads a whole call (the value of a `.$` key that does not start with `$`, or an
//! `ErrorPath`/`CausePath`) into an [`Expr::Call`]. The tree:
//!
//! - [`Expr::Call`] — a [`Call`]: the [`Function`] (a known `States.*` name; unknown names are parse
//!   errors) and its arguments, each an [`Expr`]. The number of arguments is checked against
//!   [`Function::arity`], and calls nest at most 10 deep (AWS's limit); the types are the evaluator's business (AWS raises
//!   `States.IntrinsicFailure` at run time).
//! - [`Expr::String`] — a `'quoted'` literal. Inside it `\'`, `\{`, `\}` and `\\` are escapes; any other
//!   backslash, and a `{`/`}` that is not part of `{}`, is an error. [`StringLiteral::value`] is the
//!   unescaped text; [`StringLiteral::pieces`] splits it at the *unescaped* `{}` placeholders, which
//!   is what `States.Format` fills (an escaped `\{\}` is literal text, not a placeholder).
//! - [`Expr::Number`] — `42`, `-1.5` (kept as a `serde_json::Number`).
//! - [`Expr::Bool`], [`Expr::Null`] — `true`, `false`, `null`.
//! - [`Expr::Path`] — a JSONPath: `$`, `$.a.b`, `$$.Execution.Id` ([`jsonpath::JsonPath`]). Evaluate it
//!   with Step Functions' rules (`JsonPath::resolve`).
//!
//! `Display` writes an expression back as text that parses to the same tree.
//!
//! ```
//! use asl::intrinsic::{parse, Expr, Function, Piece};
//!
//! let expr = parse("States.Format('Order {} \\{ok\\}', States.ArrayGetItem($.ids, 0))")?;
//! let Expr::Call(call) = &expr else { unreachable!() };
//! assert_eq!(call.function, Function::Format);
//! let Expr::String(template) = &call.args[0] else { unreachable!() };
//! assert_eq!(template.value, "Order {} {ok}");
//! assert_eq!(template.pieces, vec![Piece::Text("Order ".into()), Piece::Placeholder, Piece::Text(" {ok}".into())]);
//! assert!(parse("States.Nope()").is_err());
//! # Ok::<(), asl::intrinsic::IntrinsicError>(())
//! ```

use std::fmt::{self, Display, Formatter, Write};

use jsonpath::JsonPath;
use serde_json::Number;

/// A parsed intrinsic expression (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Call(Call),
    String(StringLiteral),
    Number(Number),
    Bool(bool),
    Null,
    Path(JsonPath),
}

/// `States.Name(args...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub function: Function,
    pub args: Vec<Expr>,
}

/// A `'quoted'` string argument.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// The unescaped text.
    pub value: String,
    /// The text split at unescaped `{}` placeholders (adjacent text is merged; no empty texts).
    pub pieces: Vec<Piece>,
}

impl StringLiteral {
    /// The number of unescaped `{}` placeholders.
    pub fn placeholders(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Placeholder))
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Placeholder,
}

macro_rules! functions {
    ($( $variant:ident => $name:literal, $min:literal, $max:expr; )*) => {
        /// The intrinsic functions of the States Language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function {
            $( $variant, )*
        }

        impl Function {
            pub const ALL: &'static [Function] = &[$( Function::$variant, )*];

            /// The full name, `States.Format`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Function::$variant => $name, )*
                }
            }

            /// The allowed number of arguments: `(min, max)`, `max` `None` for no limit.
            pub fn arity(self) -> (usize, Option<usize>) {
                match self {
                    $( Function::$variant => ($min, $max), )*
                }
            }
        }
    };
}

functions! {
    Format => "States.Format", 1, None;
    StringToJson => "States.StringToJson", 1, Some(1);
    JsonToString => "States.JsonToString", 1, Some(1);
    Array => "States.Array", 0, None;
    ArrayPartition => "States.ArrayPartition", 2, Some(2);
    ArrayContains => "States.ArrayContains", 2, Some(2);
    ArrayRange => "States.ArrayRange", 3, Some(3);
    ArrayGetItem => "States.ArrayGetItem", 2, Some(2);
    ArrayLength => "States.ArrayLength", 1, Some(1);
    ArrayUnique => "States.ArrayUnique", 1, Some(1);
    Base64Encode => "States.Base64Encode", 1, Some(1);
    Base64Decode => "States.Base64Decode", 1, Some(1);
    Hash => "States.Hash", 2, Some(2);
    JsonMerge => "States.JsonMerge", 3, Some(3);
    MathRandom => "States.MathRandom", 2, Some(3);
    MathAdd => "States.MathAdd", 2, Some(2);
    StringSplit => "States.StringSplit", 2, Some(2);
    Uuid => "States.UUID", 0, Some(0);
}

impl Function {
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// An intrinsic expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid intrinsic function call `{text}` at position {position}: {reason}")]
pub struct IntrinsicError {
    pub text: String,
    /// 0-based character offset.
    pub position: usize,
    pub reason: String,
}

/// Parses a whole intrinsic function call (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Expr, IntrinsicError> {
    let mut parser = Parser {
        text,
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    parser.skip_ws();
    if !parser.rest_starts_with("States.") {
        return Err(parser.error("expected a call of a `States.` function"));
    }
    let expr = parser.expr()?;
    parser.skip_ws();
    if parser.pos < parser.chars.len() {
        return Err(parser.error("unexpected text after the call"));
    }
    Ok(expr)
}

/// Whether `text` is a valid intrinsic function call.
pub fn is_valid(text: &str) -> bool {
    parse(text).is_ok()
}

struct Parser<'t> {
    text: &'t str,
    chars: Vec<char>,
    pos: usize,
    /// How many calls enclose the current position.
    depth: usize,
}

/// AWS allows intrinsic functions nested up to 10 deep in a field.
const MAX_NESTING: usize = 10;

impl Parser<'_> {
    fn error(&self, reason: impl Into<String>) -> IntrinsicError {
        self.error_at(self.pos, reason)
    }

    fn error_at(&self, position: usize, reason: impl Into<String>) -> IntrinsicError {
        IntrinsicError {
            text: self.text.to_string(),
            position,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn rest_starts_with(&self, prefix: &str) -> bool {
        let mut rest = self.chars[self.pos..].iter();
        prefix.chars().all(|c| rest.next() == Some(&c))
    }

    fn expr(&mut self) -> Result<Expr, IntrinsicError> {
        self.skip_ws();
        match self.peek() {
            Some('\'') => self.string().map(Expr::String),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
                {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                match word.as_str() {
                    "true" => Ok(Expr::Bool(true)),
                    "false" => Ok(Expr::Bool(false)),
                    "null" => Ok(Expr::Null),
                    name => self.call(start, name.to_string()),
                }
            }
            Some(c) => Err(self.error(format!(
                "expected an argument (a 'string', a number, true, false, null, a $path or a States. call), found {c:?}"
            ))),
            None => Err(self.error("expected an argument, found the end")),
        }
    }

    fn call(&mut self, start: usize, name: String) -> Result<Expr, IntrinsicError> {
        let Some(function) = Function::from_name(&name) else {
            return Err(self.error_at(start, format!("unknown function `{name}`")));
        };
        if self.depth == MAX_NESTING {
            return Err(self.error_at(
                start,
                format!("intrinsic functions nest at most {MAX_NESTING} deep"),
            ));
        }
        self.depth += 1;
        let result = self.call_arguments(start, name, function);
        self.depth -= 1;
        result
    }

    fn call_arguments(
        &mut self,
        start: usize,
        name: String,
        function: Function,
    ) -> Result<Expr, IntrinsicError> {
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.error(format!("expected `(` after `{name}`")));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                args.push(self.expr()?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => return Err(self.error(format!("expected `,` or `)`, found {c:?}"))),
                    None => return Err(self.error(format!("unclosed call of `{name}`"))),
                }
            }
        }
        let (min, max) = function.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let expected = match max {
                Some(max) if max == min => format!("{min}"),
                Some(max) => format!("{min} to {max}"),
                None => format!("at least {min}"),
            };
            return Err(self.error_at(
                start,
                format!("`{name}` takes {expected} argument(s), got {}", args.len()),
            ));
        }
        Ok(Expr::Call(Call { function, args }))
    }

    fn string(&mut self) -> Result<StringLiteral, IntrinsicError> {
        let start = self.pos;
        self.pos += 1; // the opening quote
        let mut value = String::new();
        let mut pieces = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(start, "unterminated string"));
            };
            self.pos += 1;
            match c {
                '\'' => break,
                '\\' => match self.peek() {
                    Some(escaped @ ('\'' | '{' | '}' | '\\')) => {
                        self.pos += 1;
                        value.push(escaped);
                        text.push(escaped);
                    }
                    _ => {
                        return Err(self.error_at(
                            self.pos - 1,
                            "invalid escape (only \\' \\{ \\} \\\\ are allowed)",
                        ));
                    }
                },
                '{' if self.peek() == Some('}') => {
                    self.pos += 1;
                    value.push_str("{}");
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder);
                }
                '{' | '}' => {
                    return Err(self.error_at(
                        self.pos - 1,
                        format!("`{c}` must be escaped as `\\{c}` unless it is part of a `{{}}` placeholder"),
                    ));
                }
                c => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(StringLiteral { value, pieces })
    }

    fn number(&mut self) -> Result<Expr, IntrinsicError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        serde_json::from_str::<Number>(&text)
            .map(Expr::Number)
            .map_err(|_| self.error_at(start, format!("invalid number `{text}`")))
    }

    /// A path runs to the next `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> Result<Expr, IntrinsicError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (Some(_), '\\') if self.chars.get(self.pos + 1).is_some() => self.pos += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']' | ')') if depth > 0 => depth -= 1,
                (None, ',' | ')') => break,
                (None, c) if c.is_whitespace() && depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        JsonPath::parse(&text).map(Expr::Path).map_err(|e| {
            self.error_at(
                start + e.position,
                format!("invalid path `{text}`: {}", e.reason),
            )
        })
    }
}

fn write_string(f: &mut Formatter<'_>, literal: &StringLiteral) -> fmt::Result {
    f.write_char('\'')?;
    for piece in &literal.pieces {
        match piece {
            Piece::Placeholder => f.write_str("{}")?,
            Piece::Text(text) => {
                for c in text.chars() {
                    if matches!(c, '\'' | '{' | '}' | '\\') {
                        f.write_char('\\')?;
                    }
                    f.write_char(c)?;
                }
            }
        }
    }
    f.write_char('\'')
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Call(call) => {
                write!(f, "{}(", call.function.name())?;
                for (i, arg) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_char(')')
            }
            Expr::String(literal) => write_string(f, literal),
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Null => f.write_str("null"),
            Expr::Path(path) => write!(f, "{path}"),
        }
    }
}

impl Expr {
    /// Every path the expression reads, depth first.
    pub fn paths(&self) -> Vec<&JsonPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a JsonPath>) {
        match self {
            Expr::Call(call) => call.args.iter().for_each(|a| a.collect_paths(out)),
            Expr::Path(path) => out.push(path),
            _ => {}
        }
    }
}
