//! Writing paths back as text. The output is canonical (dot notation where a name allows it, single
//! quotes otherwise) and always parses back to the same tree.

use std::fmt::{self, Display, Formatter, Write};

use serde_json::Value;

use crate::ast::{FilterExpr, Operand, Segment, Selector, Step};
use crate::{JsonPath, ReferencePath};

/// Names written in dot notation; anything else is written `['...']`.
pub(crate) fn is_shorthand_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn write_quoted(f: &mut impl Write, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in text.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

fn write_name_step(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    if is_shorthand_name(name) {
        write!(f, ".{name}")
    } else {
        f.write_char('[')?;
        write_quoted(f, name)?;
        f.write_char(']')
    }
}

impl Display for Selector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Name(name) => write_quoted(f, name),
            Selector::Index(index) => write!(f, "{index}"),
            Selector::Wildcard => f.write_char('*'),
            Selector::Slice(slice) => {
                if let Some(start) = slice.start {
                    write!(f, "{start}")?;
                }
                f.write_char(':')?;
                if let Some(end) = slice.end {
                    write!(f, "{end}")?;
                }
                if let Some(step) = slice.step {
                    write!(f, ":{step}")?;
                }
                Ok(())
            }
            Selector::Filter(expr) => write!(f, "?({expr})"),
        }
    }
}

fn write_brackets(f: &mut Formatter<'_>, selectors: &[Selector]) -> fmt::Result {
    f.write_char('[')?;
    for (i, selector) in selectors.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(f, "{selector}")?;
    }
    f.write_char(']')
}

impl Display for Segment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Child(selectors) => match selectors.as_slice() {
                [Selector::Name(name)] => write_name_step(f, name),
                [Selector::Wildcard] => f.write_str(".*"),
                _ => write_brackets(f, selectors),
            },
            Segment::Descendant(selectors) => match selectors.as_slice() {
                [Selector::Name(name)] if is_shorthand_name(name) => write!(f, "..{name}"),
                [Selector::Wildcard] => f.write_str("..*"),
                _ => {
                    f.write_str("..")?;
                    write_brackets(f, selectors)
                }
            },
        }
    }
}

impl Display for JsonPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.root.as_str())?;
        for segment in &self.segments {
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}

impl Display for ReferencePath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.root.as_str())?;
        for step in &self.steps {
            match step {
                Step::Field(name) => write_name_step(f, name)?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(path) => write!(f, "{path}"),
            Operand::Literal(Value::String(text)) => write_quoted(f, text),
            Operand::Literal(value) => write!(f, "{value}"),
        }
    }
}

impl Display for FilterExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FilterExpr::Or(a, b) => write!(f, "{a} || {b}"),
            FilterExpr::And(a, b) => {
                let side = |f: &mut Formatter<'_>, e: &FilterExpr| match e {
                    FilterExpr::Or(..) => write!(f, "({e})"),
                    _ => write!(f, "{e}"),
                };
                side(f, a)?;
                f.write_str(" && ")?;
                side(f, b)
            }
            FilterExpr::Not(inner) => match **inner {
                FilterExpr::Exists(_) | FilterExpr::Not(_) => write!(f, "!{inner}"),
                _ => write!(f, "!({inner})"),
            },
            FilterExpr::Compare { left, op, right } => write!(f, "{left} {} {right}", op.as_str()),
            FilterExpr::Exists(path) => write!(f, "{path}"),
        }
    }
}
