//! A hand-written parser for the Velocity 1.7 template language (the subset API Gateway templates use).

use crate::ast::{BinOp, Expr, Node, Part, Pos, Reference};

/// A template that does not parse: what is wrong and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// How a block ended.
enum Terminator {
    Eof,
    ElseIf(Expr, Pos),
    Else(Pos),
    End(Pos),
}

enum Directive {
    /// Not a directive: the `#` is plain text.
    NotOne,
    Skip,
    Text(String),
    Node(Node),
    Terminator(Terminator),
}

const DIRECTIVE_NAMES: &[&str] = &[
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "include", "parse",
    "evaluate", "define",
];

pub(crate) fn parse_template(src: &str) -> Result<Vec<Node>, ParseError> {
    Parser::new(src, Pos { line: 1, column: 1 }).parse_root()
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line_starts: Vec<usize>,
    /// Where `src` starts in the whole template (string literals are parsed as sub-templates).
    origin: Pos,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, origin: Pos) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            line_starts,
            origin,
        }
    }

    fn pos_at(&self, offset: usize) -> Pos {
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_index];
        let column = self.src[line_start..offset.min(self.src.len())]
            .chars()
            .count() as u32
            + 1;
        if line_index == 0 {
            Pos {
                line: self.origin.line,
                column: self.origin.column + column - 1,
            }
        } else {
            Pos {
                line: self.origin.line + line_index as u32,
                column,
            }
        }
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let pos = self.pos_at(offset);
        ParseError {
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(offset).copied()
    }

    fn describe_here(&self) -> String {
        match self.src[self.pos..].chars().next() {
            None => "the end of the template".into(),
            Some('\n') => "a newline".into(),
            Some(c) => format!("'{c}'"),
        }
    }

    fn parse_root(&mut self) -> Result<Vec<Node>, ParseError> {
        let (nodes, terminator) = self.parse_block()?;
        match terminator {
            Terminator::Eof => Ok(nodes),
            Terminator::End(pos) => Err(located(pos, "#end without an open #if or #foreach")),
            Terminator::Else(pos) => Err(located(pos, "#else without an open #if")),
            Terminator::ElseIf(_, pos) => Err(located(pos, "#elseif without an open #if")),
        }
    }

    fn parse_block(&mut self) -> Result<(Vec<Node>, Terminator), ParseError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        let flush = |text: &mut String, nodes: &mut Vec<Node>| {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text)));
            }
        };
        while let Some(b) = self.peek() {
            match b {
                b'$' => match self.try_reference(self.pos)? {
                    Some((reference, next)) => {
                        flush(&mut text, &mut nodes);
                        nodes.push(Node::Ref(reference));
                        self.pos = next;
                    }
                    None => {
                        text.push('$');
                        self.pos += 1;
                    }
                },
                b'#' => match self.directive(&mut text)? {
                    Directive::NotOne => {
                        text.push('#');
                        self.pos += 1;
                    }
                    Directive::Skip => {}
                    Directive::Text(raw) => text.push_str(&raw),
                    Directive::Node(node) => {
                        flush(&mut text, &mut nodes);
                        nodes.push(node);
                    }
                    Directive::Terminator(terminator) => {
                        flush(&mut text, &mut nodes);
                        return Ok((nodes, terminator));
                    }
                },
                b'\\' => {
                    let start = self.pos;
                    let mut end = start;
                    while self.peek_at(end) == Some(b'\\') {
                        end += 1;
                    }
                    let count = end - start;
                    match self.peek_at(end) {
                        Some(b'$') => match self.try_reference(end)? {
                            Some((reference, next)) => {
                                flush(&mut text, &mut nodes);
                                nodes.push(Node::EscapedRef {
                                    backslashes: count,
                                    reference,
                                });
                                self.pos = next;
                            }
                            None => {
                                text.push_str(&self.src[start..end]);
                                self.pos = end;
                            }
                        },
                        Some(b'#') if self.directive_name_at(end + 1).is_some() => {
                            // `\#if` is the text `#if`; `\\#if` is a backslash and a live directive.
                            text.push_str(&"\\".repeat(count / 2));
                            if count % 2 == 1 {
                                text.push('#');
                                self.pos = end + 1;
                            } else {
                                self.pos = end;
                            }
                        }
                        _ => {
                            text.push_str(&self.src[start..end]);
                            self.pos = end;
                        }
                    }
                }
                _ => {
                    let start = self.pos;
                    while let Some(b) = self.peek() {
                        if matches!(b, b'$' | b'#' | b'\\') {
                            break;
                        }
                        self.pos += 1;
                    }
                    text.push_str(&self.src[start..self.pos]);
                }
            }
        }
        flush(&mut text, &mut nodes);
        Ok((nodes, Terminator::Eof))
    }

    /// The directive name after a `#` (or `#{`), if it is one Velocity knows.
    fn directive_name_at(&self, offset: usize) -> Option<(&'a str, usize)> {
        let formal = self.peek_at(offset) == Some(b'{');
        let start = if formal { offset + 1 } else { offset };
        let mut end = start;
        while self.peek_at(end).is_some_and(|b| b.is_ascii_alphabetic()) {
            end += 1;
        }
        let name = &self.src[start..end];
        if !DIRECTIVE_NAMES.contains(&name) {
            return None;
        }
        if formal {
            if self.peek_at(end) == Some(b'}') {
                Some((name, end + 1))
            } else {
                None
            }
        } else {
            Some((name, end))
        }
    }

    fn directive(&mut self, text: &mut String) -> Result<Directive, ParseError> {
        let hash = self.pos;
        match self.peek_at(hash + 1) {
            Some(b'#') => {
                // A line comment runs to the end of the line, newline included.
                self.pos = match self.src[hash..].find('\n') {
                    Some(i) => hash + i + 1,
                    None => self.src.len(),
                };
                return Ok(Directive::Skip);
            }
            Some(b'*') => {
                return match self.src[hash + 2..].find("*#") {
                    Some(i) => {
                        self.pos = hash + 2 + i + 2;
                        Ok(Directive::Skip)
                    }
                    None => Err(self.error_at(hash, "unterminated #* comment: no closing *#")),
                };
            }
            Some(b'[') if self.peek_at(hash + 2) == Some(b'[') => {
                return match self.src[hash + 3..].find("]]#") {
                    Some(i) => {
                        let raw = self.src[hash + 3..hash + 3 + i].to_string();
                        self.pos = hash + 3 + i + 3;
                        Ok(Directive::Text(raw))
                    }
                    None => Err(self.error_at(hash, "unterminated #[[ block: no closing ]]#")),
                };
            }
            _ => {}
        }
        let Some((name, after_name)) = self.directive_name_at(hash + 1) else {
            return Ok(Directive::NotOne);
        };
        let at = self.pos_at(hash);
        self.pos = after_name;
        match name {
            "set" => {
                if self.line_prefix_is_blank(hash) {
                    let trimmed = text.trim_end_matches([' ', '\t']).len();
                    text.truncate(trimmed);
                }
                self.open_paren("#set")?;
                self.skip_ws();
                let target_start = self.pos;
                let target = match self.try_reference(self.pos)? {
                    Some((reference, next)) => {
                        self.pos = next;
                        reference
                    }
                    None => {
                        return Err(self.error_at(
                            target_start,
                            format!(
                                "#set needs a reference to assign to, found {}",
                                self.describe_here()
                            ),
                        ));
                    }
                };
                if matches!(target.parts.last(), Some(Part::Method(..))) {
                    return Err(self.error_at(target_start, "#set cannot assign to a method call"));
                }
                self.skip_ws();
                if self.peek() != Some(b'=') {
                    return Err(self.error_at(
                        self.pos,
                        format!("#set expects '=', found {}", self.describe_here()),
                    ));
                }
                self.pos += 1;
                let value = self.parse_expr()?;
                self.close_paren("#set")?;
                self.eat_line_end();
                Ok(Directive::Node(Node::Set { target, value }))
            }
            "if" => {
                let condition = self.directive_condition("#if")?;
                let mut branches = Vec::new();
                let mut otherwise = None;
                let mut current = condition;
                loop {
                    let (body, terminator) = self.parse_block()?;
                    branches.push((current, body));
                    match terminator {
                        Terminator::End(_) => break,
                        Terminator::ElseIf(next, _) => current = next,
                        Terminator::Else(else_pos) => {
                            let (body, terminator) = self.parse_block()?;
                            otherwise = Some(body);
                            match terminator {
                                Terminator::End(_) => break,
                                Terminator::Eof => {
                                    return Err(located(at, "#if has no matching #end"));
                                }
                                Terminator::Else(pos) | Terminator::ElseIf(_, pos) => {
                                    return Err(located(
                                        pos,
                                        format!("#else or #elseif after the #else at {else_pos}"),
                                    ));
                                }
                            }
                        }
                        Terminator::Eof => return Err(located(at, "#if has no matching #end")),
                    }
                }
                Ok(Directive::Node(Node::If {
                    branches,
                    otherwise,
                }))
            }
            "elseif" => {
                let condition = self.directive_condition("#elseif")?;
                Ok(Directive::Terminator(Terminator::ElseIf(condition, at)))
            }
            "else" => {
                self.eat_line_end();
                Ok(Directive::Terminator(Terminator::Else(at)))
            }
            "end" => {
                self.eat_line_end();
                Ok(Directive::Terminator(Terminator::End(at)))
            }
            "foreach" => {
                self.open_paren("#foreach")?;
                self.skip_ws();
                let var_start = self.pos;
                let var = match self.try_reference(self.pos)? {
                    Some((reference, next)) if reference.parts.is_empty() => {
                        self.pos = next;
                        reference.root
                    }
                    _ => {
                        return Err(self.error_at(
                            var_start,
                            format!(
                                "#foreach needs a loop variable such as $item, found {}",
                                self.describe_here()
                            ),
                        ));
                    }
                };
                self.skip_ws();
                if !self.eat_word("in") {
                    return Err(self.error_at(
                        self.pos,
                        format!("#foreach expects 'in', found {}", self.describe_here()),
                    ));
                }
                let iterable = self.parse_expr()?;
                self.close_paren("#foreach")?;
                self.eat_line_end();
                let (body, terminator) = self.parse_block()?;
                match terminator {
                    Terminator::End(_) => Ok(Directive::Node(Node::Foreach {
                        var,
                        iterable,
                        body,
                        pos: at,
                    })),
                    Terminator::Eof => Err(located(at, "#foreach has no matching #end")),
                    Terminator::Else(pos) | Terminator::ElseIf(_, pos) => Err(located(
                        pos,
                        "#else or #elseif inside a #foreach without an #if",
                    )),
                }
            }
            "break" | "stop" => {
                // `#break($foreach)` names the loop; only the innermost loop is supported.
                let save = self.pos;
                self.skip_spaces();
                if self.peek() == Some(b'(') {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() != Some(b')') {
                        self.parse_expr()?;
                    }
                    self.close_paren(if name == "break" { "#break" } else { "#stop" })?;
                } else {
                    self.pos = save;
                }
                Ok(Directive::Node(if name == "break" {
                    Node::Break
                } else {
                    Node::Stop
                }))
            }
            other => Err(located(
                at,
                format!(
                    "#{other} is not supported (API Gateway mapping templates are self-contained)"
                ),
            )),
        }
    }

    /// Whether only spaces and tabs precede `offset` on its line (`#set` then eats them).
    fn line_prefix_is_blank(&self, offset: usize) -> bool {
        let line_start = self.src[..offset].rfind('\n').map_or(0, |i| i + 1);
        self.src[line_start..offset]
            .bytes()
            .all(|b| b == b' ' || b == b'\t')
    }

    fn directive_condition(&mut self, directive: &str) -> Result<Expr, ParseError> {
        self.open_paren(directive)?;
        self.skip_ws();
        if self.peek() == Some(b')') {
            return Err(self.error_at(self.pos, format!("{directive} needs a condition")));
        }
        let condition = self.parse_expr()?;
        self.close_paren(directive)?;
        self.eat_line_end();
        Ok(condition)
    }

    fn open_paren(&mut self, directive: &str) -> Result<(), ParseError> {
        self.skip_spaces();
        if self.peek() == Some(b'(') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error_at(
                self.pos,
                format!("{directive} expects '(', found {}", self.describe_here()),
            ))
        }
    }

    fn close_paren(&mut self, directive: &str) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error_at(
                self.pos,
                format!("{directive} expects ')', found {}", self.describe_here()),
            ))
        }
    }

    /// Velocity eats the spaces and the one newline that end a directive's line.
    fn eat_line_end(&mut self) {
        let mut end = self.pos;
        while matches!(self.peek_at(end), Some(b' ' | b'\t')) {
            end += 1;
        }
        match self.peek_at(end) {
            Some(b'\n') => self.pos = end + 1,
            Some(b'\r') => {
                self.pos = if self.peek_at(end + 1) == Some(b'\n') {
                    end + 2
                } else {
                    end + 1
                }
            }
            None => self.pos = end,
            _ => {}
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn word_at(&self, offset: usize) -> &'a str {
        let mut end = offset;
        while self
            .peek_at(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            end += 1;
        }
        &self.src[offset..end]
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.word_at(self.pos) == word {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn ident_at(&self, offset: usize) -> Option<(&'a str, usize)> {
        if !self.peek_at(offset).is_some_and(is_ident_start) {
            return None;
        }
        let mut end = offset + 1;
        while self.peek_at(end).is_some_and(is_ident_char) {
            end += 1;
        }
        Some((&self.src[offset..end], end))
    }

    /// A reference starting at `start` (a `$`): `$x`, `$!x`, `${x}`, `$!{x}`, with `.prop`, `.method(..)`
    /// and `[index]` parts. `None` when the `$` does not start one (it is then plain text).
    fn try_reference(&mut self, start: usize) -> Result<Option<(Reference, usize)>, ParseError> {
        let mut at = start + 1;
        let quiet = self.peek_at(at) == Some(b'!');
        if quiet {
            at += 1;
        }
        let formal = self.peek_at(at) == Some(b'{');
        if formal {
            at += 1;
        }
        let Some((root, mut at)) = self.ident_at(at) else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        loop {
            match self.peek_at(at) {
                Some(b'.') => {
                    let Some((name, after)) = self.ident_at(at + 1) else {
                        break;
                    };
                    if self.peek_at(after) == Some(b'(') {
                        let saved = self.pos;
                        self.pos = after + 1;
                        let args = self.parse_args(name)?;
                        at = self.pos;
                        self.pos = saved;
                        parts.push(Part::Method(name.to_string(), args));
                    } else {
                        parts.push(Part::Property(name.to_string()));
                        at = after;
                    }
                }
                Some(b'[') => {
                    // An index only if what follows parses as one; otherwise `[` is text.
                    let saved = self.pos;
                    self.pos = at + 1;
                    let index = self.parse_expr().ok().and_then(|index| {
                        self.skip_ws();
                        (self.peek() == Some(b']')).then_some(index)
                    });
                    let after = self.pos + 1;
                    self.pos = saved;
                    match index {
                        Some(index) => {
                            parts.push(Part::Index(index));
                            at = after;
                        }
                        None => break,
                    }
                }
                _ => break,
            }
        }
        if formal {
            if self.peek_at(at) == Some(b'}') {
                at += 1;
            } else {
                return Err(self.error_at(start, "unterminated ${...} reference: expected '}'"));
            }
        }
        Ok(Some((
            Reference {
                quiet,
                root: root.to_string(),
                parts,
                literal: self.src[start..at].to_string(),
                pos: self.pos_at(start),
            },
            at,
        )))
    }

    fn parse_args(&mut self, method: &str) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.parse_expr()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                            "expected ',' or ')' in the arguments of {method}(), found {}",
                            self.describe_here()
                        ),
                    ));
                }
            }
        }
    }

    // ---- expressions ----

    fn parse_expr(&mut self) -> Result<Expr, ParseError> {
        self.parse_or()
    }

    fn binary_op(&mut self, symbols: &[(&str, BinOp)], words: &[(&str, BinOp)]) -> Option<BinOp> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        for (symbol, op) in symbols {
            if rest.starts_with(symbol) {
                // `!=` is not `!`, `<=` is not `<`, `==` is not `=`.
                self.pos += symbol.len();
                return Some(*op);
            }
        }
        let word = self.word_at(self.pos);
        for (name, op) in words {
            if word == *name {
                self.pos += name.len();
                return Some(*op);
            }
        }
        None
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_and()?;
        loop {
            self.skip_ws();
            match self.binary_op(&[("||", BinOp::Or)], &[("or", BinOp::Or)]) {
                Some(op) => {
                    let right = self.parse_and()?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                None => return Ok(left),
            }
        }
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_equality()?;
        loop {
            self.skip_ws();
            match self.binary_op(&[("&&", BinOp::And)], &[("and", BinOp::And)]) {
                Some(op) => {
                    let right = self.parse_equality()?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                None => return Ok(left),
            }
        }
    }

    fn parse_equality(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_relational()?;
        loop {
            self.skip_ws();
            match self.binary_op(
                &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
                &[("eq", BinOp::Eq), ("ne", BinOp::Ne)],
            ) {
                Some(op) => {
                    let right = self.parse_relational()?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                None => return Ok(left),
            }
        }
    }

    fn parse_relational(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_additive()?;
        loop {
            self.skip_ws();
            match self.binary_op(
                &[
                    ("<=", BinOp::Le),
                    (">=", BinOp::Ge),
                    ("<", BinOp::Lt),
                    (">", BinOp::Gt),
                ],
                &[
                    ("le", BinOp::Le),
                    ("ge", BinOp::Ge),
                    ("lt", BinOp::Lt),
                    ("gt", BinOp::Gt),
                ],
            ) {
                Some(op) => {
                    let right = self.parse_additive()?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                None => return Ok(left),
            }
        }
    }

    fn parse_additive(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_multiplicative()?;
        loop {
            self.skip_ws();
            match self.binary_op(&[("+", BinOp::Add), ("-", BinOp::Sub)], &[]) {
                Some(op) => {
                    let right = self.parse_multiplicative()?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                None => return Ok(left),
            }
        }
    }

    fn parse_multiplicative(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_unary()?;
        loop {
            self.skip_ws();
            match self.binary_op(
                &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
                &[],
            ) {
                Some(op) => {
                    let right = self.parse_unary()?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                None => return Ok(left),
            }
        }
    }

    fn parse_unary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.peek_at(self.pos + 1) != Some(b'=') {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.parse_unary()?)));
        }
        if self.word_at(self.pos) == "not" {
            self.pos += 3;
            return Ok(Expr::Not(Box::new(self.parse_unary()?)));
        }
        if self.peek() == Some(b'-') {
            if self
                .peek_at(self.pos + 1)
                .is_some_and(|b| b.is_ascii_digit())
            {
                return self.parse_number();
            }
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.parse_unary()?)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'$') => match self.try_reference(start)? {
                Some((reference, next)) => {
                    self.pos = next;
                    Ok(Expr::Ref(reference))
                }
                None => Err(self.error_at(start, "expected a reference name after '$'")),
            },
            Some(b'"') => self.parse_double_quoted(),
            Some(b'\'') => self.parse_single_quoted(),
            Some(b) if b.is_ascii_digit() => self.parse_number(),
            Some(b'[') => self.parse_list_or_range(),
            Some(b'{') => self.parse_map(),
            Some(b'(') => {
                self.pos += 1;
                let inner = self.parse_expr()?;
                self.skip_ws();
                if self.peek() != Some(b')') {
                    return Err(self.error_at(
                        self.pos,
                        format!("expected ')', found {}", self.describe_here()),
                    ));
                }
                self.pos += 1;
                Ok(inner)
            }
            _ => match self.word_at(start) {
                "true" => {
                    self.pos += 4;
                    Ok(Expr::Bool(true))
                }
                "false" => {
                    self.pos += 5;
                    Ok(Expr::Bool(false))
                }
                _ => Err(self.error_at(
                    start,
                    format!("expected an expression, found {}", self.describe_here()),
                )),
            },
        }
    }

    fn parse_number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let mut is_float = false;
        // `1..3` is a range, not the decimal `1.`.
        if self.peek() == Some(b'.')
            && self
                .peek_at(self.pos + 1)
                .is_some_and(|b| b.is_ascii_digit())
        {
            is_float = true;
            self.pos += 1;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let mut end = self.pos + 1;
            if matches!(self.peek_at(end), Some(b'+' | b'-')) {
                end += 1;
            }
            if self.peek_at(end).is_some_and(|b| b.is_ascii_digit()) {
                is_float = true;
                self.pos = end;
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        let text = &self.src[start..self.pos];
        if !is_float && let Ok(n) = text.parse::<i64>() {
            return Ok(Expr::Int(n));
        }
        text.parse::<f64>()
            .map(Expr::Float)
            .map_err(|_| self.error_at(start, format!("invalid number {text}")))
    }

    fn parse_double_quoted(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let content_start = start + 1;
        let mut at = content_start;
        let mut content = String::new();
        let mut chunk_start = at;
        loop {
            match self.peek_at(at) {
                None => return Err(self.error_at(start, "unterminated string literal")),
                Some(b'"') if self.peek_at(at + 1) == Some(b'"') => {
                    // Velocity 1.7: a doubled quote is one quote character.
                    content.push_str(&self.src[chunk_start..=at]);
                    at += 2;
                    chunk_start = at;
                }
                Some(b'"') => break,
                // A backslash does not end the literal, and stays in it (Velocity does not unescape).
                Some(b'\\') if self.peek_at(at + 1).is_some() => at += 2,
                Some(_) => at += 1,
            }
        }
        content.push_str(&self.src[chunk_start..at]);
        self.pos = at + 1;
        if content.contains('$') || content.contains('#') {
            let origin = self.pos_at(content_start);
            let nodes = Parser::new(&content, origin).parse_root()?;
            Ok(Expr::Interpolated(nodes))
        } else {
            Ok(Expr::Str(content))
        }
    }

    fn parse_single_quoted(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let mut at = start + 1;
        let mut content = String::new();
        let mut chunk_start = at;
        loop {
            match self.peek_at(at) {
                None => return Err(self.error_at(start, "unterminated string literal")),
                Some(b'\'') if self.peek_at(at + 1) == Some(b'\'') => {
                    content.push_str(&self.src[chunk_start..=at]);
                    at += 2;
                    chunk_start = at;
                }
                Some(b'\'') => break,
                Some(_) => at += 1,
            }
        }
        content.push_str(&self.src[chunk_start..at]);
        self.pos = at + 1;
        Ok(Expr::Str(content))
    }

    fn parse_list_or_range(&mut self) -> Result<Expr, ParseError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.parse_expr()?;
        self.skip_ws();
        if self.src[self.pos..].starts_with("..") {
            self.pos += 2;
            let last = self.parse_expr()?;
            self.skip_ws();
            if self.peek() != Some(b']') {
                return Err(self.error_at(
                    self.pos,
                    format!(
                        "expected ']' to close the range, found {}",
                        self.describe_here()
                    ),
                ));
            }
            self.pos += 1;
            return Ok(Expr::Range(
                Box::new(first),
                Box::new(last),
                self.pos_at(open),
            ));
        }
        let mut items = vec![first];
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    items.push(self.parse_expr()?);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Expr::List(items));
                }
                None => return Err(self.error_at(open, "unterminated list: expected ']'")),
                _ => {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                            "expected ',' or ']' in a list, found {}",
                            self.describe_here()
                        ),
                    ));
                }
            }
        }
    }

    fn parse_map(&mut self) -> Result<Expr, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Expr::Map(entries));
        }
        loop {
            let key = self.parse_expr()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error_at(
                    self.pos,
                    format!("expected ':' in a map, found {}", self.describe_here()),
                ));
            }
            self.pos += 1;
            let value = self.parse_expr()?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                None => return Err(self.error_at(open, "unterminated map: expected '}'")),
                _ => {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                            "expected ',' or '}}' in a map, found {}",
                            self.describe_here()
                        ),
                    ));
                }
            }
        }
    }
}

fn located(pos: Pos, message: impl Into<String>) -> ParseError {
    ParseError {
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}
