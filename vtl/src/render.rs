//! The evaluator: walks the parsed template against a [`Context`].

use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::ast::{BinOp, Expr, Node, Part, Pos, Reference};
use crate::methods::{self, java_equals};
use crate::value::{HostObject, Value};

/// API Gateway's quota: "Number of iterations in a #foreach ... #end loop in mapping templates: 1000".
pub const MAX_FOREACH_ITERATIONS: usize = 1000;
/// Largest list a range literal may build (`[1..n]`), so a template cannot exhaust memory.
pub const MAX_RANGE_LEN: i64 = 1_000_000;

/// A template that fails while rendering (API Gateway answers such a request with a 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A method threw an exception (bad index, bad regex, invalid JSON given to `parseJson`...).
    #[error("{call} at {pos} failed: {message}")]
    MethodFailed {
        call: String,
        message: String,
        pos: Pos,
    },
    #[error("#foreach at {pos} exceeds API Gateway's limit of {MAX_FOREACH_ITERATIONS} iterations")]
    TooManyIterations { pos: Pos },
    #[error("the range at {pos} has more than {MAX_RANGE_LEN} elements")]
    RangeTooLarge { pos: Pos },
}

/// How a null (undefined) non-quiet reference renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullReferences {
    /// Plain Velocity 1.7: the reference's own text (`$foo.bar`).
    #[default]
    Literal,
    /// API Gateway: nothing, as if every reference were quiet (`$!foo`).
    Empty,
}

/// The variables a template sees, and what `#set` changes.
#[derive(Default)]
pub struct Context {
    vars: HashMap<String, Value>,
    null_references: NullReferences,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how null references render (see [`NullReferences`]).
    pub fn with_null_references(mut self, mode: NullReferences) -> Self {
        self.null_references = mode;
        self
    }

    pub fn null_references(&self) -> NullReferences {
        self.null_references
    }

    /// Defines (or replaces) a variable.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Defines a host object such as `$input` or `$util`.
    pub fn insert_object(&mut self, name: impl Into<String>, object: Rc<dyn HostObject>) {
        self.vars.insert(name.into(), Value::Object(object));
    }

    /// A variable's current value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.vars.remove(name)
    }
}

pub(crate) enum Flow {
    Normal,
    Break,
    Stop,
}

/// `$foreach` inside a loop.
struct ForeachState {
    index: usize,
    has_next: bool,
}

impl HostObject for ForeachState {
    fn type_name(&self) -> &'static str {
        "Foreach"
    }
    fn property(&self, name: &str) -> Option<Value> {
        Some(match name {
            "index" => Value::Int(self.index as i64),
            "count" => Value::Int(self.index as i64 + 1),
            "hasNext" => Value::Bool(self.has_next),
            "first" => Value::Bool(self.index == 0),
            "last" => Value::Bool(!self.has_next),
            _ => return None,
        })
    }
    fn call(&self, name: &str, args: &[Value]) -> Result<Option<Value>, String> {
        let property = match name {
            "hasNext" | "isFirst" | "isLast" | "getIndex" | "getCount" | "getHasNext"
            | "getFirst" | "getLast"
                if args.is_empty() =>
            {
                let trimmed = name.trim_start_matches("get").trim_start_matches("is");
                let mut chars = trimmed.chars();
                let first = chars.next().map(|c| c.to_ascii_lowercase());
                first.map(|f| format!("{f}{}", chars.as_str()))
            }
            _ => None,
        };
        Ok(property.and_then(|p| self.property(&p)))
    }
}

pub(crate) struct Renderer<'c> {
    pub ctx: &'c mut Context,
}

fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Str(s) => out.push_str(s),
        other => out.push_str(&other.to_java_string()),
    }
}

impl Renderer<'_> {
    pub fn render_nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, RenderError> {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Ref(reference) => {
                    let value = self.eval_reference(reference)?;
                    if value.is_null() {
                        if !reference.quiet && self.ctx.null_references == NullReferences::Literal {
                            out.push_str(&reference.literal);
                        }
                    } else {
                        push_value(out, &value);
                    }
                }
                Node::EscapedRef {
                    backslashes,
                    reference,
                } => {
                    let value = self.eval_reference(reference)?;
                    if value.is_null() {
                        // Velocity 1.7: an escaped undefined reference is left exactly as written.
                        out.push_str(&"\\".repeat(*backslashes));
                        out.push_str(&reference.literal);
                    } else {
                        out.push_str(&"\\".repeat(backslashes / 2));
                        if backslashes % 2 == 1 {
                            out.push_str(&reference.literal);
                        } else {
                            push_value(out, &value);
                        }
                    }
                }
                Node::Set { target, value } => {
                    let value = self.eval(value)?;
                    self.assign(target, value)?;
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut chosen = otherwise.as_ref();
                    for (condition, body) in branches {
                        if self.eval(condition)?.is_truthy() {
                            chosen = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = chosen {
                        match self.render_nodes(body, out)? {
                            Flow::Normal => {}
                            other => return Ok(other),
                        }
                    }
                }
                Node::Foreach {
                    var,
                    iterable,
                    body,
                    pos,
                } => {
                    let items = self.iteration_items(iterable, *pos)?;
                    if let Flow::Stop = self.run_foreach(var, &items, body, *pos, out)? {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    fn iteration_items(&mut self, iterable: &Expr, pos: Pos) -> Result<Vec<Value>, RenderError> {
        Ok(match self.eval(iterable)? {
            Value::List(items) => items.borrow().clone(),
            // Velocity iterates over a map's values.
            Value::Map(map) => map.borrow().values().cloned().collect(),
            // Anything else (null, a string, a number) is not iterable: no iteration.
            _ => {
                let _ = pos;
                Vec::new()
            }
        })
    }

    fn run_foreach(
        &mut self,
        var: &str,
        items: &[Value],
        body: &[Node],
        pos: Pos,
        out: &mut String,
    ) -> Result<Flow, RenderError> {
        if items.len() > MAX_FOREACH_ITERATIONS {
            return Err(RenderError::TooManyIterations { pos });
        }
        let saved_var = self.ctx.vars.remove(var);
        let saved_foreach = self.ctx.vars.remove("foreach");
        let saved_count = self.ctx.vars.remove("velocityCount");
        let saved_has_next = self.ctx.vars.remove("velocityHasNext");
        let mut flow = Flow::Normal;
        for (index, item) in items.iter().enumerate() {
            if item.is_null() {
                self.ctx.vars.remove(var);
            } else {
                self.ctx.vars.insert(var.to_string(), item.clone());
            }
            let has_next = index + 1 < items.len();
            self.ctx.vars.insert(
                "foreach".into(),
                Value::Object(Rc::new(ForeachState { index, has_next })),
            );
            self.ctx
                .vars
                .insert("velocityCount".into(), Value::Int(index as i64 + 1));
            self.ctx
                .vars
                .insert("velocityHasNext".into(), Value::Bool(has_next));
            match self.render_nodes(body, out)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        for (name, saved) in [
            (var, saved_var),
            ("foreach", saved_foreach),
            ("velocityCount", saved_count),
            ("velocityHasNext", saved_has_next),
        ] {
            match saved {
                Some(value) => self.ctx.vars.insert(name.to_string(), value),
                None => self.ctx.vars.remove(name),
            };
        }
        Ok(flow)
    }

    fn assign(&mut self, target: &Reference, value: Value) -> Result<(), RenderError> {
        // Velocity 1.7: a null right-hand side leaves the target unchanged.
        if value.is_null() {
            return Ok(());
        }
        let Some((last, path)) = target.parts.split_last() else {
            self.ctx.vars.insert(target.root.clone(), value);
            return Ok(());
        };
        let mut holder = self.ctx.vars.get(&target.root).cloned().unwrap_or_default();
        for part in path {
            if holder.is_null() {
                return Ok(());
            }
            holder = self.eval_part(holder, part, target)?;
        }
        match (last, &holder) {
            (Part::Property(name), Value::Map(map)) => {
                map.borrow_mut().insert(name.clone(), value);
            }
            (Part::Index(index), Value::Map(map)) => {
                let key = self.eval(index)?.to_java_string();
                map.borrow_mut().insert(key, value);
            }
            (Part::Index(index), Value::List(items)) => {
                if let Value::Int(i) = self.eval(index)? {
                    let mut items = items.borrow_mut();
                    let len = items.len() as i64;
                    let at = if i < 0 { i + len } else { i };
                    if (0..len).contains(&at) {
                        items[at as usize] = value;
                    } else {
                        return Err(RenderError::MethodFailed {
                            call: target.literal.clone(),
                            message: format!(
                                "IndexOutOfBoundsException: Index {i} out of bounds for length {len}"
                            ),
                            pos: target.pos,
                        });
                    }
                }
            }
            // Velocity logs and ignores an assignment it cannot make.
            _ => {}
        }
        Ok(())
    }

    pub fn eval_reference(&mut self, reference: &Reference) -> Result<Value, RenderError> {
        let mut value = self
            .ctx
            .vars
            .get(&reference.root)
            .cloned()
            .unwrap_or_default();
        for part in &reference.parts {
            if value.is_null() {
                return Ok(Value::Null);
            }
            value = self.eval_part(value, part, reference)?;
        }
        Ok(value)
    }

    fn eval_part(
        &mut self,
        value: Value,
        part: &Part,
        reference: &Reference,
    ) -> Result<Value, RenderError> {
        Ok(match part {
            Part::Property(name) => property(&value, name),
            Part::Method(name, args) => {
                let args = args
                    .iter()
                    .map(|arg| self.eval(arg))
                    .collect::<Result<Vec<_>, _>>()?;
                methods::call(&value, name, &args)
                    .map_err(|message| RenderError::MethodFailed {
                        call: format!(
                            "{}.{name}(..)",
                            reference.literal.split('.').next().unwrap_or("")
                        ),
                        message,
                        pos: reference.pos,
                    })?
                    .unwrap_or_default()
            }
            Part::Index(index) => {
                let index = self.eval(index)?;
                match (&value, &index) {
                    (Value::List(items), Value::Int(i)) => {
                        let items = items.borrow();
                        let len = items.len() as i64;
                        let at = if *i < 0 { i + len } else { *i };
                        if (0..len).contains(&at) {
                            items[at as usize].clone()
                        } else {
                            return Err(RenderError::MethodFailed {
                                call: reference.literal.clone(),
                                message: format!(
                                    "IndexOutOfBoundsException: Index {i} out of bounds for length {len}"
                                ),
                                pos: reference.pos,
                            });
                        }
                    }
                    (Value::Map(map), key) => map
                        .borrow()
                        .get(&key.to_java_string())
                        .cloned()
                        .unwrap_or_default(),
                    (Value::Object(obj), Value::Str(key)) => obj.property(key).unwrap_or_default(),
                    _ => Value::Null,
                }
            }
        })
    }

    pub fn eval(&mut self, expr: &Expr) -> Result<Value, RenderError> {
        Ok(match expr {
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(n) => Value::Int(*n),
            Expr::Float(x) => Value::Float(*x),
            Expr::Str(s) => Value::from(s.as_str()),
            Expr::Interpolated(nodes) => {
                let mut out = String::new();
                self.render_nodes(nodes, &mut out)?;
                Value::from(out)
            }
            Expr::List(items) => Value::from(
                items
                    .iter()
                    .map(|item| self.eval(item))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Expr::Range(from, to, pos) => {
                let (from, to) = (self.eval(from)?, self.eval(to)?);
                let (Some(from), Some(to)) = (range_bound(&from), range_bound(&to)) else {
                    return Ok(Value::Null);
                };
                if (to - from).abs() >= MAX_RANGE_LEN {
                    return Err(RenderError::RangeTooLarge { pos: *pos });
                }
                let items: Vec<Value> = if from <= to {
                    (from..=to).map(Value::Int).collect()
                } else {
                    (to..=from).rev().map(Value::Int).collect()
                };
                Value::from(items)
            }
            Expr::Map(entries) => {
                let mut map = IndexMap::new();
                for (key, value) in entries {
                    let key = self.eval(key)?.to_java_string();
                    let value = self.eval(value)?;
                    map.insert(key, value);
                }
                Value::from(map)
            }
            Expr::Ref(reference) => self.eval_reference(reference)?,
            Expr::Not(inner) => Value::Bool(!self.eval(inner)?.is_truthy()),
            Expr::Neg(inner) => match self.eval(inner)? {
                Value::Int(n) => n
                    .checked_neg()
                    .map_or(Value::Float(-(n as f64)), Value::Int),
                Value::Float(x) => Value::Float(-x),
                _ => Value::Null,
            },
            Expr::Binary(op, left, right) => match op {
                BinOp::And => {
                    let l = self.eval(left)?.is_truthy();
                    Value::Bool(l && self.eval(right)?.is_truthy())
                }
                BinOp::Or => {
                    let l = self.eval(left)?.is_truthy();
                    Value::Bool(l || self.eval(right)?.is_truthy())
                }
                _ => {
                    let l = self.eval(left)?;
                    let r = self.eval(right)?;
                    binary(*op, l, r, left)
                }
            },
        })
    }
}

fn range_bound(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `$value.name`: a map's entry, a host object's property, or a JavaBean-style getter.
fn property(value: &Value, name: &str) -> Value {
    match value {
        Value::Map(map) => map.borrow().get(name).cloned().unwrap_or_default(),
        Value::Object(obj) => obj.property(name).unwrap_or_default(),
        Value::Str(_) | Value::List(_) => {
            // Velocity tries getName(), then isName(): `$s.empty` is `$s.isEmpty()`.
            let getter = match name {
                "empty" => "isEmpty",
                "class" => return Value::Null,
                _ => {
                    let mut chars = name.chars();
                    let Some(first) = chars.next() else {
                        return Value::Null;
                    };
                    let getter = format!("get{}{}", first.to_ascii_uppercase(), chars.as_str());
                    return methods::call(value, &getter, &[])
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                }
            };
            methods::call(value, getter, &[])
                .ok()
                .flatten()
                .unwrap_or_default()
        }
        _ => Value::Null,
    }
}

enum Num {
    Int(i64),
    Float(f64),
}

fn as_num(value: &Value) -> Option<Num> {
    match value {
        Value::Int(n) => Some(Num::Int(*n)),
        Value::Float(x) => Some(Num::Float(*x)),
        _ => None,
    }
}

fn to_f64(n: &Num) -> f64 {
    match n {
        Num::Int(i) => *i as f64,
        Num::Float(x) => *x,
    }
}

fn compare_numbers(a: &Num, b: &Num) -> std::cmp::Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(y),
        _ => to_f64(a)
            .partial_cmp(&to_f64(b))
            .unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// Velocity 1.7's `==`: numbers by value; same type by `equals`; different types by their `toString()`.
pub(crate) fn velocity_equals(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => {
            if let (Some(a), Some(b)) = (as_num(l), as_num(r)) {
                return compare_numbers(&a, &b) == std::cmp::Ordering::Equal;
            }
            if std::mem::discriminant(l) == std::mem::discriminant(r) {
                java_equals(l, r)
            } else {
                l.to_java_string() == r.to_java_string()
            }
        }
    }
}

fn binary(op: BinOp, l: Value, r: Value, left_expr: &Expr) -> Value {
    use std::cmp::Ordering;
    match op {
        BinOp::Eq => return Value::Bool(velocity_equals(&l, &r)),
        BinOp::Ne => return Value::Bool(!velocity_equals(&l, &r)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let (Some(a), Some(b)) = (as_num(&l), as_num(&r)) else {
                // Velocity 1.7 compares numbers only; anything else is false.
                return Value::Bool(false);
            };
            let ordering = compare_numbers(&a, &b);
            return Value::Bool(match op {
                BinOp::Lt => ordering == Ordering::Less,
                BinOp::Le => ordering != Ordering::Greater,
                BinOp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            });
        }
        _ => {}
    }
    if op == BinOp::Add && (matches!(l, Value::Str(_)) || matches!(r, Value::Str(_))) {
        // Velocity 1.7 concatenates when either side is a string (a null side renders as its literal).
        let left = match (&l, left_expr) {
            (Value::Null, Expr::Ref(reference)) => reference.literal.clone(),
            _ => l.to_java_string(),
        };
        return Value::from(format!("{left}{}", r.to_java_string()));
    }
    let (Some(a), Some(b)) = (as_num(&l), as_num(&r)) else {
        return Value::Null;
    };
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => {
            let result = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                // Division or modulo by zero is null in Velocity 1.7 (logged, not thrown).
                BinOp::Div if y == 0 => return Value::Null,
                BinOp::Mod if y == 0 => return Value::Null,
                BinOp::Div => x.checked_div(y),
                BinOp::Mod => x.checked_rem(y),
                _ => None,
            };
            match result {
                Some(n) => Value::Int(n),
                // Overflow: Velocity widens to BigInteger; a double keeps the magnitude here.
                None => float_op(op, x as f64, y as f64),
            }
        }
        (a, b) => {
            if matches!(op, BinOp::Div | BinOp::Mod) && to_f64(&b) == 0.0 {
                return Value::Null;
            }
            float_op(op, to_f64(&a), to_f64(&b))
        }
    }
}

fn float_op(op: BinOp, x: f64, y: f64) -> Value {
    Value::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Mod => x % y,
        _ => return Value::Null,
    })
}
