//! Runtime values, shaped like the Java objects Velocity handles inside API Gateway.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;

/// A shared, mutable list (a `java.util.ArrayList`): `#set($b = $a)` aliases it, `$a.add(x)` is seen by both.
pub type ListRef = Rc<RefCell<Vec<Value>>>;
/// A shared, mutable map with insertion order (a `java.util.LinkedHashMap`).
pub type MapRef = Rc<RefCell<IndexMap<String, Value>>>;

/// A host object with properties and methods, such as `$input` and `$util`.
pub trait HostObject {
    /// Name used in error messages.
    fn type_name(&self) -> &'static str;
    /// `$obj.name`: `None` when the object has no such property (the reference then renders literally).
    fn property(&self, name: &str) -> Option<Value>;
    /// `$obj.name(args)`: `Ok(None)` when the object has no such method.
    /// `Err` carries the message of the exception the method threw (the render then fails).
    fn call(&self, name: &str, args: &[Value]) -> Result<Option<Value>, String>;
    /// What `$obj` renders as.
    fn display(&self) -> String {
        format!("{}@object", self.type_name())
    }
}

/// A value as a template sees it.
#[derive(Clone, Default)]
pub enum Value {
    /// Java `null`: an undefined reference or a missing property.
    #[default]
    Null,
    Bool(bool),
    /// Java `Integer`/`Long`.
    Int(i64),
    /// Java `Double`.
    Float(f64),
    Str(Rc<str>),
    List(ListRef),
    Map(MapRef),
    Object(Rc<dyn HostObject>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Str(s) => write!(f, "{s:?}"),
            other => write!(f, "{}", other.to_java_string()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Rc::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Rc::from(s))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Float(n)
    }
}
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(Rc::new(RefCell::new(items)))
    }
}
impl From<IndexMap<String, Value>> for Value {
    fn from(map: IndexMap<String, Value>) -> Self {
        Value::Map(Rc::new(RefCell::new(map)))
    }
}

impl Value {
    /// A new empty map value.
    pub fn new_map() -> Value {
        Value::from(IndexMap::new())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Velocity 1.7 truthiness: `null` and `false` are false, every other value (even `""`) is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            _ => true,
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Java's `toString()` of the value: what a reference renders as.
    pub fn to_java_string(&self) -> String {
        let mut out = String::new();
        self.write_java(&mut out);
        out
    }

    fn write_java(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::Float(x) => out.push_str(&java_double_to_string(*x)),
            Value::Str(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_java(out);
                }
                out.push(']');
            }
            Value::Map(map) => {
                out.push('{');
                for (i, (k, v)) in map.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    v.write_java(out);
                }
                out.push('}');
            }
            Value::Object(obj) => out.push_str(&obj.display()),
        }
    }

    /// Builds a value from JSON the way API Gateway's JSON reader hands objects to templates:
    /// objects become maps, arrays lists, integral numbers that fit a long become integers.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::from(items.iter().map(Value::from_json).collect::<Vec<_>>())
            }
            serde_json::Value::Object(map) => Value::from(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect::<IndexMap<_, _>>(),
            ),
        }
    }

    /// The JSON form of the value (host objects become their display string).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(n) => serde_json::Value::from(*n),
            Value::Float(x) => serde_json::Number::from_f64(*x)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::List(items) => {
                serde_json::Value::Array(items.borrow().iter().map(Value::to_json).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Object(obj) => serde_json::Value::String(obj.display()),
        }
    }

    /// Name of the value's Java type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Float(_) => "Double",
            Value::Str(_) => "String",
            Value::List(_) => "ArrayList",
            Value::Map(_) => "LinkedHashMap",
            Value::Object(obj) => obj.type_name(),
        }
    }
}

/// Java's `Double.toString(double)`: plain notation for 1e-3 <= |x| < 1e7 (always with a fraction digit),
/// computerized scientific notation (`1.0E10`, `1.5E-7`) otherwise; shortest digits that round-trip.
pub fn java_double_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = x.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // `{:e}` gives the shortest round-trip digits as `d.ddde±x`.
        let s = format!("{x:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        for (x, want) in [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.5e300, "1.5E300"),
            (100.0, "100.0"),
        ] {
            assert_eq!(java_double_to_string(x), want, "{x}");
        }
    }
}
