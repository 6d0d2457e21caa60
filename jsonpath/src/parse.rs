//! A hand-written recursive-descent parser. Positions are 0-based character offsets into the path.

use serde_json::Value;

use crate::JsonPath;
use crate::ast::{CompareOp, FilterExpr, Operand, Root, Segment, Selector, Slice};
use crate::error::{ParseError, ParseErrorReason};

/// A parsed path plus the position where each segment starts (used to point reference-path errors at
/// the offending segment).
pub(crate) struct Parsed {
    pub path: JsonPath,
    pub segment_positions: Vec<usize>,
}

pub(crate) fn parse_path(text: &str) -> Result<Parsed, ParseError> {
    let mut parser = Parser {
        text,
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    if parser.chars.is_empty() {
        return Err(parser.error_at(0, ParseErrorReason::Empty));
    }
    let parsed = parser.path(false)?;
    if let Some(c) = parser.peek() {
        return Err(parser.error(ParseErrorReason::UnexpectedChar(c)));
    }
    Ok(parsed)
}

struct Parser<'t> {
    text: &'t str,
    chars: Vec<char>,
    pos: usize,
    /// Nesting of filter sub-expressions (`!`, parentheses, filters inside filters).
    depth: usize,
}

/// Deeper filters are refused rather than risking the stack on hostile input.
const MAX_FILTER_DEPTH: usize = 32;

/// Characters that end a dot-notation member name. Anything else may appear in one (`$.a-b`, `$.é`).
fn ends_name(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '['
                | ']'
                | '('
                | ')'
                | '\''
                | '"'
                | ','
                | '='
                | '<'
                | '>'
                | '!'
                | '&'
                | '|'
                | '*'
                | '?'
                | '@'
                | '$'
        )
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, reason: ParseErrorReason) -> ParseError {
        self.error_at(self.pos, reason)
    }

    fn error_at(&self, position: usize, reason: ParseErrorReason) -> ParseError {
        ParseError {
            path: self.text.to_string(),
            position,
            reason,
        }
    }

    fn unexpected(&self, expected: &'static str) -> ParseError {
        match self.peek() {
            Some(c) => self.error(ParseErrorReason::Expected {
                expected,
                found: Some(c),
            }),
            None => self.error(ParseErrorReason::Expected {
                expected,
                found: None,
            }),
        }
    }

    fn expect(&mut self, c: char, expected: &'static str) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// `root segment*`. In a filter (`in_filter`), `@` is a root too and the path ends at the first
    /// character that cannot continue it; at top level the caller rejects leftovers.
    fn path(&mut self, in_filter: bool) -> Result<Parsed, ParseError> {
        let root = match self.peek() {
            Some('$') => {
                self.pos += 1;
                if self.eat('$') {
                    Root::Context
                } else {
                    Root::Input
                }
            }
            Some('@') if in_filter => {
                self.pos += 1;
                Root::Current
            }
            Some('@') => return Err(self.error(ParseErrorReason::CurrentOutsideFilter)),
            _ => return Err(self.error(ParseErrorReason::MissingRoot)),
        };
        let mut segments = Vec::new();
        let mut segment_positions = Vec::new();
        loop {
            let start = self.pos;
            match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    let selectors = match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            vec![Selector::Wildcard]
                        }
                        Some('[') => self.bracket()?,
                        _ => vec![Selector::Name(self.dot_name()?)],
                    };
                    segments.push(Segment::Descendant(selectors));
                }
                Some('.') => {
                    self.pos += 1;
                    let selectors = match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            vec![Selector::Wildcard]
                        }
                        // `$.abc.['def ghi']` appears in the AWS docs; Jayway accepts it.
                        Some('[') => self.bracket()?,
                        _ => vec![Selector::Name(self.dot_name()?)],
                    };
                    segments.push(Segment::Child(selectors));
                }
                Some('[') => segments.push(Segment::Child(self.bracket()?)),
                _ => break,
            }
            segment_positions.push(start);
        }
        Ok(Parsed {
            path: JsonPath { root, segments },
            segment_positions,
        })
    }

    fn dot_name(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| !ends_name(c)) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected("a member name, `*` or `[` after `.`"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// `[ selector (, selector)* ]` or `[?(filter)]`.
    fn bracket(&mut self) -> Result<Vec<Selector>, ParseError> {
        self.expect('[', "`[`")?;
        self.skip_ws();
        if self.eat('?') {
            self.skip_ws();
            let expr = self.filter_or()?;
            self.skip_ws();
            self.expect(']', "`]` closing the filter")?;
            return Ok(vec![Selector::Filter(Box::new(expr))]);
        }
        let mut selectors = Vec::new();
        loop {
            self.skip_ws();
            selectors.push(self.selector()?);
            self.skip_ws();
            if self.eat(',') {
                continue;
            }
            self.expect(']', "`,` or `]`")?;
            return Ok(selectors);
        }
    }

    fn selector(&mut self) -> Result<Selector, ParseError> {
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                Ok(Selector::Wildcard)
            }
            Some('\'' | '"') => Ok(Selector::Name(self.string()?)),
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.index_or_slice(),
            Some('?') => Err(self.error(ParseErrorReason::FilterInUnion)),
            _ => Err(self.unexpected("an index, a slice, a quoted name, `*` or `?(...)`")),
        }
    }

    fn index_or_slice(&mut self) -> Result<Selector, ParseError> {
        let start = self.optional_int()?;
        self.skip_ws();
        if !self.eat(':') {
            return match start {
                Some(index) => Ok(Selector::Index(index)),
                None => Err(self.unexpected("an integer")),
            };
        }
        self.skip_ws();
        let end = self.optional_int()?;
        self.skip_ws();
        let mut step = None;
        if self.eat(':') {
            self.skip_ws();
            let step_pos = self.pos;
            step = self.optional_int()?;
            if step == Some(0) {
                return Err(self.error_at(step_pos, ParseErrorReason::ZeroStep));
            }
        }
        Ok(Selector::Slice(Slice { start, end, step }))
    }

    fn optional_int(&mut self) -> Result<Option<i64>, ParseError> {
        let start = self.pos;
        self.eat('-');
        let digits_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            if self.pos != start {
                return Err(self.unexpected("digits after `-`"));
            }
            return Ok(None);
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| self.error_at(start, ParseErrorReason::InvalidNumber(text)))
    }

    /// A quoted string with `'` or `"`; escapes `\\`, `\'`, `\"`, `\/`, `\b\f\n\r\t` and `\uXXXX`.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(self.unexpected("a quoted string"));
        };
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error_at(start, ParseErrorReason::UnterminatedString)),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => {
                    let escape_pos = self.pos - 1;
                    match self.bump() {
                        Some(c @ ('\\' | '\'' | '"' | '/')) => out.push(c),
                        Some('b') => out.push('\u{8}'),
                        Some('f') => out.push('\u{c}'),
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        Some('t') => out.push('\t'),
                        Some('u') => {
                            let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                            let c = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == 4)
                                .and_then(char::from_u32);
                            match c {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(
                                        self.error_at(escape_pos, ParseErrorReason::InvalidEscape)
                                    );
                                }
                            }
                        }
                        _ => return Err(self.error_at(escape_pos, ParseErrorReason::InvalidEscape)),
                    }
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn filter_or(&mut self) -> Result<FilterExpr, ParseError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.peek() == Some('|') && self.peek_at(1) == Some('|') {
                self.pos += 2;
                let right = self.filter_and()?;
                left = FilterExpr::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<FilterExpr, ParseError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.peek() == Some('&') && self.peek_at(1) == Some('&') {
                self.pos += 2;
                let right = self.filter_unary()?;
                left = FilterExpr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<FilterExpr, ParseError> {
        if self.depth == MAX_FILTER_DEPTH {
            return Err(self.error(ParseErrorReason::TooDeep(MAX_FILTER_DEPTH)));
        }
        self.depth += 1;
        let result = self.filter_unary_inner();
        self.depth -= 1;
        result
    }

    fn filter_unary_inner(&mut self) -> Result<FilterExpr, ParseError> {
        self.skip_ws();
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.pos += 1;
            return Ok(FilterExpr::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat('(') {
            let inner = self.filter_or()?;
            self.skip_ws();
            self.expect(')', "`)`")?;
            return Ok(inner);
        }
        let left_pos = self.pos;
        let left = self.operand()?;
        self.skip_ws();
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), Some('=')) => Some((CompareOp::Eq, 2)),
            (Some('!'), Some('=')) => Some((CompareOp::Ne, 2)),
            (Some('<'), Some('=')) => Some((CompareOp::Le, 2)),
            (Some('>'), Some('=')) => Some((CompareOp::Ge, 2)),
            (Some('<'), _) => Some((CompareOp::Lt, 1)),
            (Some('>'), _) => Some((CompareOp::Gt, 1)),
            (Some('='), _) => return Err(self.error(ParseErrorReason::SingleEquals)),
            _ => None,
        };
        match op {
            Some((op, width)) => {
                self.pos += width;
                self.skip_ws();
                let right = self.operand()?;
                Ok(FilterExpr::Compare { left, op, right })
            }
            None => match left {
                Operand::Path(path) => Ok(FilterExpr::Exists(path)),
                Operand::Literal(_) => Err(self.error_at(left_pos, ParseErrorReason::BareLiteral)),
            },
        }
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        match self.peek() {
            Some('@' | '$') => Ok(Operand::Path(Box::new(self.path(true)?.path))),
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.string()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                match word.as_str() {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    _ => Err(self.error_at(start, ParseErrorReason::UnknownWord(word))),
                }
            }
            _ => Err(self.unexpected("a path (`@...`, `$...`) or a literal")),
        }
    }

    fn number(&mut self) -> Result<Operand, ParseError> {
        let start = self.pos;
        self.eat('-');
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match serde_json::from_str::<serde_json::Number>(&text) {
            Ok(number) => Ok(Operand::Literal(Value::Number(number))),
            Err(_) => Err(self.error_at(start, ParseErrorReason::InvalidNumber(text))),
        }
    }
}
