//! Evaluation of a parsed path against `serde_json::Value`s.

use std::cmp::Ordering;

use serde_json::Value;

use crate::JsonPath;
use crate::ast::{CompareOp, FilterExpr, Operand, Root, Segment, Selector, Slice};

/// The documents a path can start from.
#[derive(Clone, Copy)]
pub(crate) struct Roots<'a> {
    pub input: &'a Value,
    pub context: Option<&'a Value>,
    /// The node under test inside a filter (`@`); outside filters, the input.
    pub current: &'a Value,
}

pub(crate) fn evaluate<'a>(path: &JsonPath, roots: Roots<'a>) -> Vec<&'a Value> {
    let start = match path.root {
        Root::Input => roots.input,
        Root::Current => roots.current,
        Root::Context => match roots.context {
            Some(context) => context,
            None => return Vec::new(),
        },
    };
    let mut nodes = vec![start];
    for segment in &path.segments {
        let mut next = Vec::new();
        for node in nodes {
            match segment {
                Segment::Child(selectors) => {
                    for selector in selectors {
                        select(selector, node, roots, &mut next);
                    }
                }
                Segment::Descendant(selectors) => descend(selectors, node, roots, &mut next),
            }
        }
        nodes = next;
    }
    nodes
}

fn descend<'a>(
    selectors: &[Selector],
    node: &'a Value,
    roots: Roots<'a>,
    out: &mut Vec<&'a Value>,
) {
    for selector in selectors {
        // A filter on an object tests the object itself (Jayway); under `..` the object is also
        // reached as an element of its array, so testing it there too would select it twice.
        // Under `..`, filters therefore test array elements only.
        if matches!(selector, Selector::Filter(_)) && node.is_object() {
            continue;
        }
        select(selector, node, roots, out);
    }
    match node {
        Value::Object(map) => map
            .values()
            .for_each(|child| descend(selectors, child, roots, out)),
        Value::Array(items) => items
            .iter()
            .for_each(|child| descend(selectors, child, roots, out)),
        _ => {}
    }
}

fn select<'a>(selector: &Selector, node: &'a Value, roots: Roots<'a>, out: &mut Vec<&'a Value>) {
    match selector {
        Selector::Name(name) => {
            if let Some(child) = node.as_object().and_then(|map| map.get(name)) {
                out.push(child);
            }
        }
        Selector::Index(index) => {
            if let Some(items) = node.as_array()
                && let Some(i) = normalize_index(*index, items.len())
            {
                out.push(&items[i]);
            }
        }
        Selector::Wildcard => match node {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Selector::Slice(slice) => {
            if let Some(items) = node.as_array() {
                for i in slice_indices(slice, items.len()) {
                    out.push(&items[i]);
                }
            }
        }
        Selector::Filter(expr) => match node {
            Value::Array(items) => {
                for item in items {
                    if test(
                        expr,
                        Roots {
                            current: item,
                            ..roots
                        },
                    ) {
                        out.push(item);
                    }
                }
            }
            Value::Object(_)
                if test(
                    expr,
                    Roots {
                        current: node,
                        ..roots
                    },
                ) =>
            {
                out.push(node)
            }
            _ => {}
        },
    }
}

fn normalize_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// Python slice semantics (the same as RFC 9535).
fn slice_indices(slice: &Slice, len: usize) -> Vec<usize> {
    let len = len as i64;
    let step = slice.step.unwrap_or(1);
    let clamp = |bound: i64, low: i64, high: i64| {
        let b = if bound < 0 { bound + len } else { bound };
        b.clamp(low, high)
    };
    let mut indices = Vec::new();
    if step > 0 {
        let start = slice.start.map_or(0, |s| clamp(s, 0, len));
        let end = slice.end.map_or(len, |e| clamp(e, 0, len));
        let mut i = start;
        while i < end {
            indices.push(i as usize);
            i += step;
        }
    } else {
        let start = slice.start.map_or(len - 1, |s| clamp(s, -1, len - 1));
        let end = slice.end.map_or(-1, |e| clamp(e, -1, len - 1));
        let mut i = start;
        while i > end {
            indices.push(i as usize);
            i += step;
        }
    }
    indices
}

fn test(expr: &FilterExpr, roots: Roots<'_>) -> bool {
    match expr {
        FilterExpr::Or(a, b) => test(a, roots) || test(b, roots),
        FilterExpr::And(a, b) => test(a, roots) && test(b, roots),
        FilterExpr::Not(a) => !test(a, roots),
        FilterExpr::Exists(path) => !evaluate(path, roots).is_empty(),
        FilterExpr::Compare { left, op, right } => {
            let left = operand_value(left, roots);
            let right = operand_value(right, roots);
            compare(left.as_ref(), *op, right.as_ref())
        }
    }
}

/// `None` is "nothing" (a path that selected no node).
fn operand_value(operand: &Operand, roots: Roots<'_>) -> Option<Value> {
    match operand {
        Operand::Literal(value) => Some(value.clone()),
        Operand::Path(path) => {
            let found = evaluate(path, roots);
            if path.is_definite() {
                found.first().map(|v| (*v).clone())
            } else {
                Some(Value::Array(found.into_iter().cloned().collect()))
            }
        }
    }
}

fn compare(left: Option<&Value>, op: CompareOp, right: Option<&Value>) -> bool {
    match op {
        CompareOp::Eq => equal(left, right),
        CompareOp::Ne => !equal(left, right),
        _ => {
            let ordering = match (left, right) {
                (Some(Value::Number(a)), Some(Value::Number(b))) => a
                    .as_f64()
                    .zip(b.as_f64())
                    .and_then(|(a, b)| a.partial_cmp(&b)),
                (Some(Value::String(a)), Some(Value::String(b))) => Some(a.cmp(b)),
                _ => None,
            };
            match ordering {
                Some(ordering) => match op {
                    CompareOp::Lt => ordering == Ordering::Less,
                    CompareOp::Le => ordering != Ordering::Greater,
                    CompareOp::Gt => ordering == Ordering::Greater,
                    CompareOp::Ge => ordering != Ordering::Less,
                    CompareOp::Eq | CompareOp::Ne => false,
                },
                None => false,
            }
        }
    }
}

fn equal(left: Option<&Value>, right: Option<&Value>) -> bool {
    match (left, right) {
        (None, None) => true,
        (Some(Value::Number(a)), Some(Value::Number(b))) => a.as_f64() == b.as_f64(),
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}
