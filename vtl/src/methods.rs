//! Java methods on values: `String`, `List`, `Map`, numbers and booleans, as Velocity calls them.
//!
//! A method the value's Java class does not have (or arguments of the wrong type) gives `Ok(None)`:
//! Velocity then treats the reference as null. A method that throws gives `Err` with Java's message.

use std::cell::RefCell;
use std::rc::Rc;

use fancy_regex::Regex;
use indexmap::IndexMap;

use crate::value::Value;

pub(crate) type MethodResult = Result<Option<Value>, String>;

pub(crate) fn call(target: &Value, name: &str, args: &[Value]) -> MethodResult {
    // Methods every Java object has.
    match (name, args) {
        ("toString", []) => return Ok(Some(Value::from(target.to_java_string()))),
        ("equals", [other]) => return Ok(Some(Value::Bool(java_equals(target, other)))),
        _ => {}
    }
    match target {
        Value::Str(s) => string_method(s, name, args),
        Value::List(items) => list_method(items, name, args),
        Value::Map(map) => map_method(map, name, args),
        Value::Int(n) => Ok(match (name, args) {
            ("intValue" | "longValue", []) => Some(Value::Int(*n)),
            ("doubleValue" | "floatValue", []) => Some(Value::Float(*n as f64)),
            _ => None,
        }),
        Value::Float(x) => Ok(match (name, args) {
            ("intValue" | "longValue", []) => Some(Value::Int(*x as i64)),
            ("doubleValue" | "floatValue", []) => Some(Value::Float(*x)),
            _ => None,
        }),
        Value::Bool(b) => Ok(match (name, args) {
            ("booleanValue", []) => Some(Value::Bool(*b)),
            _ => None,
        }),
        Value::Object(obj) => obj.call(name, args),
        Value::Null => Ok(None),
    }
}

/// Java's `Object.equals`: same type and same content (an `Integer` never equals a `Double`).
pub(crate) fn java_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y) || {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| java_equals(a, b))
            }
        }
        (Value::Map(x), Value::Map(y)) => {
            Rc::ptr_eq(x, y) || {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| java_equals(v, w)))
            }
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

fn int_arg(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The UTF-16 index (Java's `indexOf` unit) of a byte offset.
fn utf16_index(s: &str, byte_offset: usize) -> i64 {
    utf16_len(&s[..byte_offset]) as i64
}

/// The byte offset of a UTF-16 index, if it falls on a character boundary.
fn byte_offset(s: &str, utf16_index: usize) -> Option<usize> {
    let mut units = 0;
    for (offset, c) in s.char_indices() {
        if units == utf16_index {
            return Some(offset);
        }
        units += c.len_utf16();
        if units > utf16_index {
            return None;
        }
    }
    (units == utf16_index).then_some(s.len())
}

fn substring(s: &str, begin: i64, end: i64) -> Result<String, String> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let len = units.len() as i64;
    if begin < 0 || end > len || begin > end {
        return Err(format!(
            "StringIndexOutOfBoundsException: begin {begin}, end {end}, length {len}"
        ));
    }
    Ok(String::from_utf16_lossy(
        &units[begin as usize..end as usize],
    ))
}

fn string_method(s: &Rc<str>, name: &str, args: &[Value]) -> MethodResult {
    let s: &str = s;
    let str_args: Vec<Option<&str>> = args.iter().map(Value::as_str).collect();
    let result = match (name, args.len(), str_args.as_slice()) {
        ("length", 0, _) => Value::Int(utf16_len(s) as i64),
        ("isEmpty", 0, _) => Value::Bool(s.is_empty()),
        ("trim", 0, _) => Value::from(s.trim_matches(|c: char| c <= ' ')),
        ("toLowerCase", 0, _) => Value::from(s.to_lowercase()),
        ("toUpperCase", 0, _) => Value::from(s.to_uppercase()),
        ("contains", 1, [Some(needle)]) => Value::Bool(s.contains(needle)),
        ("startsWith", 1, [Some(prefix)]) => Value::Bool(s.starts_with(prefix)),
        ("startsWith", 2, [Some(prefix), None]) => {
            let Some(offset) = int_arg(&args[1]) else {
                return Ok(None);
            };
            let starts = usize::try_from(offset)
                .ok()
                .and_then(|o| byte_offset(s, o))
                .is_some_and(|b| s[b..].starts_with(prefix));
            Value::Bool(starts)
        }
        ("endsWith", 1, [Some(suffix)]) => Value::Bool(s.ends_with(suffix)),
        ("equalsIgnoreCase", 1, [other]) => {
            Value::Bool(other.is_some_and(|o| s.to_lowercase() == o.to_lowercase()))
        }
        ("concat", 1, [Some(other)]) => Value::from(format!("{s}{other}")),
        ("indexOf", 1, [Some(needle)]) => {
            Value::Int(s.find(needle).map_or(-1, |b| utf16_index(s, b)))
        }
        ("indexOf", 2, [Some(needle), None]) => {
            let Some(from) = int_arg(&args[1]) else {
                return Ok(None);
            };
            let from = from.clamp(0, utf16_len(s) as i64) as usize;
            match byte_offset(s, from) {
                Some(start) => Value::Int(
                    s[start..]
                        .find(needle)
                        .map_or(-1, |b| utf16_index(s, start + b)),
                ),
                None => Value::Int(-1),
            }
        }
        ("lastIndexOf", 1, [Some(needle)]) => {
            Value::Int(s.rfind(needle).map_or(-1, |b| utf16_index(s, b)))
        }
        ("charAt", 1, [None]) => {
            let Some(i) = int_arg(&args[0]) else {
                return Ok(None);
            };
            let unit = s.encode_utf16().nth(i.max(0) as usize).filter(|_| i >= 0);
            match unit {
                Some(u) => Value::from(String::from_utf16_lossy(&[u])),
                None => {
                    return Err(format!(
                        "StringIndexOutOfBoundsException: index {i}, length {}",
                        utf16_len(s)
                    ));
                }
            }
        }
        ("substring", 1, [None]) => {
            let Some(begin) = int_arg(&args[0]) else {
                return Ok(None);
            };
            Value::from(substring(s, begin, utf16_len(s) as i64)?)
        }
        ("substring", 2, [None, None]) => {
            let (Some(begin), Some(end)) = (int_arg(&args[0]), int_arg(&args[1])) else {
                return Ok(None);
            };
            Value::from(substring(s, begin, end)?)
        }
        ("replace", 2, [Some(from), Some(to)]) => Value::from(s.replace(from, to)),
        ("replaceAll", 2, [Some(pattern), Some(replacement)]) => {
            Value::from(replace_regex(s, pattern, replacement, usize::MAX)?)
        }
        ("replaceFirst", 2, [Some(pattern), Some(replacement)]) => {
            Value::from(replace_regex(s, pattern, replacement, 1)?)
        }
        ("matches", 1, [Some(pattern)]) => {
            let regex = compile(&format!("^(?:{pattern})$"))?;
            Value::Bool(regex.is_match(s).map_err(|e| e.to_string())?)
        }
        ("split", 1, [Some(pattern)]) => Value::from(split(s, pattern, 0)?),
        ("split", 2, [Some(pattern), None]) => {
            let Some(limit) = int_arg(&args[1]) else {
                return Ok(None);
            };
            Value::from(split(s, pattern, limit)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

/// Compiled patterns, per thread: a template calls `replaceAll` with the same literal pattern on every
/// render, and compiling it dominates a small render.
const REGEX_CACHE_CAPACITY: usize = 128;

thread_local! {
    static REGEX_CACHE: RefCell<std::collections::HashMap<String, Rc<Regex>>> =
        RefCell::new(std::collections::HashMap::new());
}

fn compile(pattern: &str) -> Result<Rc<Regex>, String> {
    if let Some(found) = REGEX_CACHE.with(|cache| cache.borrow().get(pattern).cloned()) {
        return Ok(found);
    }
    let regex = Rc::new(
        Regex::new(pattern)
            .map_err(|e| format!("PatternSyntaxException: {e} near index 0\n{pattern}"))?,
    );
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= REGEX_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(pattern.to_string(), Rc::clone(&regex));
    });
    Ok(regex)
}

/// `String.replaceAll`/`replaceFirst`: a Java regex and a Java replacement string, in which `$n` and
/// `${name}` insert a group and a backslash takes the next character literally.
pub(crate) fn replace_regex(
    s: &str,
    pattern: &str,
    replacement: &str,
    max: usize,
) -> Result<String, String> {
    let regex = compile(pattern)?;
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut count = 0;
    let mut search_from = 0;
    while count < max && search_from <= s.len() {
        let Some(caps) = regex
            .captures_from_pos(s, search_from)
            .map_err(|e| e.to_string())?
        else {
            break;
        };
        let Some(whole) = caps.get(0) else { break };
        out.push_str(&s[last..whole.start()]);
        append_replacement(&mut out, &caps, replacement)?;
        last = whole.end();
        count += 1;
        search_from = if whole.start() == whole.end() {
            // An empty match: step over one character, as Java's Matcher does.
            match s[whole.end()..].chars().next() {
                Some(c) => {
                    out.push(c);
                    last = whole.end() + c.len_utf8();
                    whole.end() + c.len_utf8()
                }
                None => s.len() + 1,
            }
        } else {
            whole.end()
        };
    }
    if last <= s.len() {
        out.push_str(&s[last..]);
    }
    Ok(out)
}

fn append_replacement(
    out: &mut String,
    caps: &fancy_regex::Captures<'_, str>,
    replacement: &str,
) -> Result<(), String> {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => {
                    return Err(
                        "IllegalArgumentException: character to be escaped is missing".into(),
                    );
                }
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(ch) if ch.is_ascii_alphanumeric() => name.push(ch),
                            _ => {
                                return Err(
                                    "IllegalArgumentException: named capturing group is missing trailing '}'"
                                        .into(),
                                );
                            }
                        }
                    }
                    match caps.name(&name) {
                        Some(m) => out.push_str(m.as_str()),
                        None => {
                            return Err(format!(
                                "IllegalArgumentException: No group with name {{{name}}}"
                            ));
                        }
                    }
                    continue;
                }
                let Some(first) = chars.peek().and_then(|d| d.to_digit(10)) else {
                    return Err("IllegalArgumentException: Illegal group reference".into());
                };
                chars.next();
                let mut group = first as usize;
                if group >= caps.len() {
                    return Err(format!("IndexOutOfBoundsException: No group {group}"));
                }
                // Java takes more digits while the number still names an existing group.
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    let longer = group * 10 + d as usize;
                    if longer < caps.len() {
                        group = longer;
                        chars.next();
                    } else {
                        break;
                    }
                }
                if let Some(m) = caps.get(group) {
                    out.push_str(m.as_str());
                }
            }
            other => out.push(other),
        }
    }
    Ok(())
}

/// `String.split(regex, limit)` with Java's rules: trailing empty strings dropped when `limit == 0`, a
/// leading empty string dropped when the first match is empty-width at index 0.
pub(crate) fn split(s: &str, pattern: &str, limit: i64) -> Result<Vec<Value>, String> {
    let regex = compile(pattern)?;
    let limited = limit > 0;
    let mut parts: Vec<&str> = Vec::new();
    let mut index = 0;
    for found in regex.find_iter(s) {
        let m = found.map_err(|e| e.to_string())?;
        if !limited || (parts.len() as i64) < limit - 1 {
            if index == 0 && m.start() == 0 && m.start() == m.end() {
                // Java 8+: a zero-width match at the beginning never produces a leading empty string.
                continue;
            }
            parts.push(&s[index..m.start()]);
            index = m.end();
        } else if parts.len() as i64 == limit - 1 {
            parts.push(&s[index..]);
            index = m.end();
            break;
        }
    }
    if index == 0 {
        return Ok(vec![Value::from(s)]);
    }
    if !limited || (parts.len() as i64) < limit {
        parts.push(&s[index..]);
    }
    if limit == 0 {
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
    Ok(parts.into_iter().map(Value::from).collect())
}

fn list_index(len: usize, index: i64) -> Result<usize, String> {
    usize::try_from(index)
        .ok()
        .filter(|i| *i < len)
        .ok_or_else(|| {
            format!("IndexOutOfBoundsException: Index {index} out of bounds for length {len}")
        })
}

fn list_method(items: &Rc<RefCell<Vec<Value>>>, name: &str, args: &[Value]) -> MethodResult {
    let result = match (name, args) {
        ("size", []) => Value::Int(items.borrow().len() as i64),
        ("isEmpty", []) => Value::Bool(items.borrow().is_empty()),
        ("get", [Value::Int(i)]) => {
            let items = items.borrow();
            items[list_index(items.len(), *i)?].clone()
        }
        ("contains", [x]) => Value::Bool(items.borrow().iter().any(|v| java_equals(v, x))),
        ("indexOf", [x]) => Value::Int(
            items
                .borrow()
                .iter()
                .position(|v| java_equals(v, x))
                .map_or(-1, |i| i as i64),
        ),
        ("add", [x]) => {
            items.borrow_mut().push(x.clone());
            Value::Bool(true)
        }
        ("add", [Value::Int(i), x]) => {
            let len = items.borrow().len();
            let at = usize::try_from(*i)
                .ok()
                .filter(|at| *at <= len)
                .ok_or_else(|| format!("IndexOutOfBoundsException: Index: {i}, Size: {len}"))?;
            items.borrow_mut().insert(at, x.clone());
            return Ok(None);
        }
        ("set", [Value::Int(i), x]) => {
            let mut items = items.borrow_mut();
            let at = list_index(items.len(), *i)?;
            std::mem::replace(&mut items[at], x.clone())
        }
        ("remove", [Value::Int(i)]) => {
            let mut items = items.borrow_mut();
            let at = list_index(items.len(), *i)?;
            items.remove(at)
        }
        ("addAll", [Value::List(other)]) => {
            let other = other.borrow().clone();
            items.borrow_mut().extend(other);
            Value::Bool(true)
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

fn map_key(key: &Value) -> String {
    key.to_java_string()
}

fn map_method(
    map: &Rc<RefCell<IndexMap<String, Value>>>,
    name: &str,
    args: &[Value],
) -> MethodResult {
    let result = match (name, args) {
        ("size", []) => Value::Int(map.borrow().len() as i64),
        ("isEmpty", []) => Value::Bool(map.borrow().is_empty()),
        ("get", [key]) => map.borrow().get(&map_key(key)).cloned().unwrap_or_default(),
        ("containsKey", [key]) => Value::Bool(map.borrow().contains_key(&map_key(key))),
        ("containsValue", [x]) => Value::Bool(map.borrow().values().any(|v| java_equals(v, x))),
        ("keySet", []) => Value::from(
            map.borrow()
                .keys()
                .map(|k| Value::from(k.as_str()))
                .collect::<Vec<_>>(),
        ),
        ("values", []) => Value::from(map.borrow().values().cloned().collect::<Vec<_>>()),
        ("entrySet", []) => Value::from(
            map.borrow()
                .iter()
                .map(|(k, v)| {
                    let mut entry = IndexMap::new();
                    entry.insert("key".to_string(), Value::from(k.as_str()));
                    entry.insert("value".to_string(), v.clone());
                    Value::from(entry)
                })
                .collect::<Vec<_>>(),
        ),
        ("put", [key, value]) => map
            .borrow_mut()
            .insert(map_key(key), value.clone())
            .unwrap_or_default(),
        ("putAll", [Value::Map(other)]) => {
            let other = other.borrow().clone();
            map.borrow_mut().extend(other);
            return Ok(None);
        }
        ("remove", [key]) => map
            .borrow_mut()
            .shift_remove(&map_key(key))
            .unwrap_or_default(),
        _ => return Ok(None),
    };
    Ok(Some(result))
}
