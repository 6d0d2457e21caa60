//! The intrinsic functions (`States.Format(...)` and friends) applied to already evaluated arguments.
//! Bad arguments fail with `States.IntrinsicFailure`, naming the function.

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use sha1::Digest as _;

use crate::error::StatesError;

/// Strings the encoding, decoding and hashing functions accept, in characters.
const MAX_STRING_CHARS: usize = 10_000;
/// Most elements `States.ArrayRange` produces.
const MAX_RANGE_ITEMS: usize = 1_000;

fn fail(function: &str, message: impl std::fmt::Display) -> StatesError {
    StatesError::intrinsic(format!("The function '{function}' failed: {message}"))
}

fn arity(function: &str, args: &[Value], min: usize, max: usize) -> Result<(), StatesError> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            min.to_string()
        } else {
            format!("{min} to {max}")
        };
        return Err(fail(
            function,
            format!("expected {expected} argument(s), got {}", args.len()),
        ));
    }
    Ok(())
}

fn string_arg<'a>(function: &str, args: &'a [Value], index: usize) -> Result<&'a str, StatesError> {
    args[index].as_str().ok_or_else(|| {
        fail(
            function,
            format!(
                "argument {} must be a string, got {}",
                index + 1,
                args[index]
            ),
        )
    })
}

fn array_arg<'a>(
    function: &str,
    args: &'a [Value],
    index: usize,
) -> Result<&'a Vec<Value>, StatesError> {
    args[index].as_array().ok_or_else(|| {
        fail(
            function,
            format!(
                "argument {} must be an array, got {}",
                index + 1,
                args[index]
            ),
        )
    })
}

fn integer_arg(function: &str, args: &[Value], index: usize) -> Result<i64, StatesError> {
    let value = &args[index];
    if let Some(integer) = value.as_i64() {
        return Ok(integer);
    }
    if let Some(float) = value.as_f64()
        && float.fract() == 0.0
        && float.abs() < 9.0e15
    {
        return Ok(float as i64);
    }
    Err(fail(
        function,
        format!("argument {} must be an integer, got {value}", index + 1),
    ))
}

fn bounded_string<'a>(
    function: &str,
    args: &'a [Value],
    index: usize,
) -> Result<&'a str, StatesError> {
    let text = string_arg(function, args, index)?;
    if text.chars().count() > MAX_STRING_CHARS {
        return Err(fail(
            function,
            format!("the input string exceeds {MAX_STRING_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// Run intrinsic `name` on its evaluated arguments.
pub fn call(name: &str, args: &[Value]) -> Result<Value, StatesError> {
    match name {
        "States.Format" => format(args),
        "States.StringToJson" => {
            arity(name, args, 1, 1)?;
            let text = string_arg(name, args, 0)?;
            serde_json::from_str(text)
                .map_err(|e| fail(name, format!("the string is not JSON: {e}")))
        }
        "States.JsonToString" => {
            arity(name, args, 1, 1)?;
            Ok(Value::String(args[0].to_string()))
        }
        "States.Array" => Ok(Value::Array(args.to_vec())),
        "States.ArrayPartition" => {
            arity(name, args, 2, 2)?;
            let items = array_arg(name, args, 0)?;
            let size = integer_arg(name, args, 1)?;
            if size <= 0 {
                return Err(fail(name, "the chunk size must be a positive integer"));
            }
            Ok(Value::Array(
                items
                    .chunks(size as usize)
                    .map(|chunk| Value::Array(chunk.to_vec()))
                    .collect(),
            ))
        }
        "States.ArrayContains" => {
            arity(name, args, 2, 2)?;
            let items = array_arg(name, args, 0)?;
            Ok(Value::Bool(
                items.iter().any(|item| json_equal(item, &args[1])),
            ))
        }
        "States.ArrayRange" => {
            arity(name, args, 3, 3)?;
            let (first, last, step) = (
                integer_arg(name, args, 0)?,
                integer_arg(name, args, 1)?,
                integer_arg(name, args, 2)?,
            );
            if step == 0 {
                return Err(fail(name, "the step must not be 0"));
            }
            let mut items = Vec::new();
            let mut current = first;
            while (step > 0 && current <= last) || (step < 0 && current >= last) {
                if items.len() == MAX_RANGE_ITEMS {
                    return Err(fail(
                        name,
                        format!("the range exceeds {MAX_RANGE_ITEMS} items"),
                    ));
                }
                items.push(Value::from(current));
                current += step;
            }
            Ok(Value::Array(items))
        }
        "States.ArrayGetItem" => {
            arity(name, args, 2, 2)?;
            let items = array_arg(name, args, 0)?;
            let index = integer_arg(name, args, 1)?;
            if index < 0 {
                return Err(fail(name, "the index must not be negative"));
            }
            items.get(index as usize).cloned().ok_or_else(|| {
                fail(
                    name,
                    format!(
                        "the index {index} is out of bounds (length {})",
                        items.len()
                    ),
                )
            })
        }
        "States.ArrayLength" => {
            arity(name, args, 1, 1)?;
            Ok(Value::from(array_arg(name, args, 0)?.len()))
        }
        "States.ArrayUnique" => {
            arity(name, args, 1, 1)?;
            let mut unique: Vec<Value> = Vec::new();
            for item in array_arg(name, args, 0)? {
                if !unique.iter().any(|seen| json_equal(seen, item)) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::Array(unique))
        }
        "States.Base64Encode" => {
            arity(name, args, 1, 1)?;
            let text = bounded_string(name, args, 0)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            ))
        }
        "States.Base64Decode" => {
            arity(name, args, 1, 1)?;
            let text = bounded_string(name, args, 0)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|e| fail(name, format!("the string is not base64: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail(name, "the decoded data is not UTF-8 text"))
        }
        "States.Hash" => {
            arity(name, args, 2, 2)?;
            let data = match &args[0] {
                Value::String(text) => text.clone(),
                Value::Null => return Err(fail(name, "the data must not be null")),
                other => other.to_string(),
            };
            if data.chars().count() > MAX_STRING_CHARS {
                return Err(fail(
                    name,
                    format!("the data exceeds {MAX_STRING_CHARS} characters"),
                ));
            }
            let algorithm = string_arg(name, args, 1)?;
            let digest = match algorithm {
                "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
                "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
                "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
                "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
                "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
                other => {
                    return Err(fail(
                        name,
                        format!(
                            "unsupported algorithm '{other}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"
                        ),
                    ));
                }
            };
            Ok(Value::String(digest))
        }
        "States.JsonMerge" => {
            arity(name, args, 3, 3)?;
            let (Value::Object(left), Value::Object(right)) = (&args[0], &args[1]) else {
                return Err(fail(name, "the first two arguments must be JSON objects"));
            };
            match &args[2] {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(fail(name, "only the shallow merge (false) is supported"));
                }
                other => {
                    return Err(fail(
                        name,
                        format!("the third argument must be a boolean, got {other}"),
                    ));
                }
            }
            let mut merged: Map<String, Value> = left.clone();
            for (key, value) in right {
                merged.insert(key.clone(), value.clone());
            }
            Ok(Value::Object(merged))
        }
        "States.MathRandom" => {
            arity(name, args, 2, 3)?;
            let (start, end) = (integer_arg(name, args, 0)?, integer_arg(name, args, 1)?);
            if start >= end {
                return Err(fail(name, "the start must be lower than the end"));
            }
            let value = if args.len() == 3 {
                let seed = integer_arg(name, args, 2)?;
                rand::rngs::StdRng::seed_from_u64(seed as u64).random_range(start..end)
            } else {
                rand::rng().random_range(start..end)
            };
            Ok(Value::from(value))
        }
        "States.MathAdd" => {
            arity(name, args, 2, 2)?;
            let (left, right) = (integer_arg(name, args, 0)?, integer_arg(name, args, 1)?);
            left.checked_add(right)
                .map(Value::from)
                .ok_or_else(|| fail(name, "the sum overflows"))
        }
        "States.StringSplit" => {
            arity(name, args, 2, 2)?;
            let text = string_arg(name, args, 0)?;
            let delimiters: Vec<char> = string_arg(name, args, 1)?.chars().collect();
            if delimiters.is_empty() {
                return Err(fail(name, "the delimiter must not be empty"));
            }
            Ok(Value::Array(
                text.split(|c| delimiters.contains(&c))
                    .filter(|part| !part.is_empty())
                    .map(|part| Value::String(part.to_string()))
                    .collect(),
            ))
        }
        "States.UUID" => {
            arity(name, args, 0, 0)?;
            Ok(Value::String(uuid::Uuid::new_v4().to_string()))
        }
        other => Err(StatesError::intrinsic(format!(
            "unknown intrinsic function '{other}'"
        ))),
    }
}

fn format(args: &[Value]) -> Result<Value, StatesError> {
    const NAME: &str = "States.Format";
    if args.is_empty() {
        return Err(fail(NAME, "expected a template string"));
    }
    let template = string_arg(NAME, args, 0)?;
    let mut values = args[1..].iter();
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut used = 0;
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('{') | Some('}') | Some('\\')) => {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let value = values.next().ok_or_else(|| {
                    fail(NAME, "the template has more placeholders than arguments")
                })?;
                used += 1;
                match value {
                    Value::String(text) => out.push_str(text),
                    Value::Number(_) | Value::Bool(_) | Value::Null => {
                        out.push_str(&value.to_string())
                    }
                    _ => {
                        return Err(fail(
                            NAME,
                            format!(
                                "argument {} must be a string, number, boolean or null",
                                used + 1
                            ),
                        ));
                    }
                }
            }
            other => out.push(other),
        }
    }
    if values.next().is_some() {
        return Err(fail(
            NAME,
            "the template has fewer placeholders than arguments",
        ));
    }
    Ok(Value::String(out))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON equality where `1` and `1.0` are the same number.
pub(crate) fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => left == right,
    }
}
