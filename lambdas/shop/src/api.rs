//! `create-store-item` behind API Gateway's Lambda proxy integration (REST API, payload format 1.0):
//! body validation and the JSON responses.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};
use shop_contract::limits;

/// A valid `POST /create-store-item` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStoreItem {
    pub item_id: String,
    pub quantity: u64,
}

/// Why a body was refused: `code` goes to the response's `error`, `message` explains it to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyProblem {
    pub code: &'static str,
    pub message: String,
}

fn problem(code: &'static str, message: impl Into<String>) -> BodyProblem {
    BodyProblem {
        code,
        message: message.into(),
    }
}

/// The members of a JSON object in document order, duplicates kept so that they can be refused
/// (`serde_json::Value` would silently keep the last one).
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The request body as text: absent, empty and undecodable bodies are refused here.
fn body_text(request: &ApiGatewayProxyRequest) -> Result<String, BodyProblem> {
    let raw = match request.body.as_deref() {
        Some(raw) if !raw.trim().is_empty() => raw,
        _ => {
            return Err(problem(
                "MissingBody",
                r#"the request has no body: send {"itemId": "...", "quantity": N}"#,
            ));
        }
    };
    if !request.is_base64_encoded {
        return Ok(raw.to_string());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|error| {
            problem(
                "InvalidBase64",
                format!("the body is not valid base64: {error}"),
            )
        })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| problem("InvalidEncoding", "the body is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Err(problem("MissingBody", "the request body is empty"));
    }
    Ok(text)
}

fn item_id_from(value: &Value) -> Result<String, BodyProblem> {
    let Value::String(item_id) = value else {
        return Err(problem(
            "InvalidItemId",
            format!("itemId must be a string, got {}", kind(value)),
        ));
    };
    if let Some(why) = crate::model::identifier_problem(item_id, limits::MAX_ITEM_ID_CHARS) {
        return Err(problem("InvalidItemId", format!("itemId {why}")));
    }
    Ok(item_id.clone())
}

fn quantity_from(value: &Value) -> Result<u64, BodyProblem> {
    let range = format!("an integer from 0 to {}", limits::MAX_STOCK);
    let Value::Number(number) = value else {
        return Err(problem(
            "InvalidQuantity",
            format!("quantity must be {range}, got {}", kind(value)),
        ));
    };
    match number.as_u64() {
        Some(quantity) if quantity <= limits::MAX_STOCK => Ok(quantity),
        Some(quantity) => Err(problem(
            "InvalidQuantity",
            format!("quantity must be {range}, got {quantity}"),
        )),
        None if number.is_i64() => Err(problem(
            "InvalidQuantity",
            format!("quantity must not be negative, got {number}"),
        )),
        None => Err(problem(
            "InvalidQuantity",
            format!("quantity must be {range}, got the non-integer {number}"),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates a `create-store-item` request body: a JSON object with exactly `itemId` (a non-empty string of
/// at most [`limits::MAX_ITEM_ID_CHARS`] characters, no control characters) and `quantity` (an integer from
/// 0 to [`limits::MAX_STOCK`]); nothing else, no member twice.
pub fn parse_new_store_item(request: &ApiGatewayProxyRequest) -> Result<NewStoreItem, BodyProblem> {
    let text = body_text(request)?;
    let document: Value = serde_json::from_str(&text).map_err(|error| {
        problem(
            "InvalidJson",
            format!("the body is not valid JSON: {error}"),
        )
    })?;
    if !document.is_object() {
        return Err(problem(
            "NotAnObject",
            format!("the body must be a JSON object, got {}", kind(&document)),
        ));
    }
    let Members(members) = serde_json::from_str(&text).map_err(|error| {
        problem(
            "InvalidJson",
            format!("the body is not valid JSON: {error}"),
        )
    })?;
    let mut item_id = None;
    let mut quantity = None;
    for (name, value) in &members {
        let slot = match name.as_str() {
            "itemId" => &mut item_id,
            "quantity" => &mut quantity,
            other => {
                return Err(problem(
                    "UnknownField",
                    format!("unknown field '{other}': only itemId and quantity are accepted"),
                ));
            }
        };
        if slot.replace(value).is_some() {
            return Err(problem(
                "DuplicateField",
                format!("field '{name}' appears more than once"),
            ));
        }
    }
    let item_id = item_id.ok_or_else(|| problem("MissingField", "itemId is required"))?;
    let quantity = quantity.ok_or_else(|| problem("MissingField", "quantity is required"))?;
    Ok(NewStoreItem {
        item_id: item_id_from(item_id)?,
        quantity: quantity_from(quantity)?,
    })
}

/// A proxy response with a JSON body.
pub fn json_response(status: i64, body: &Value) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(Body::Text(body.to_string()));
    response.is_base64_encoded = false;
    response
}

/// 400 with `{"error": code, "message": ...}`.
pub fn bad_request(problem: &BodyProblem) -> ApiGatewayProxyResponse {
    json_response(
        400,
        &json!({"error": problem.code, "message": problem.message}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Option<&str>, base64: bool) -> ApiGatewayProxyRequest {
        let mut request = ApiGatewayProxyRequest::default();
        request.body = body.map(str::to_string);
        request.is_base64_encoded = base64;
        request
    }

    #[test]
    fn duplicates_are_refused_even_though_json_values_would_keep_the_last() {
        let refused = parse_new_store_item(&request(
            Some(r#"{"itemId":"a","quantity":1,"quantity":2}"#),
            false,
        ))
        .expect_err("duplicate refused");
        assert_eq!(refused.code, "DuplicateField");
    }

    #[test]
    fn base64_bodies_are_decoded_first() {
        // {"itemId":"a","quantity":1}
        let parsed =
            parse_new_store_item(&request(Some("eyJpdGVtSWQiOiJhIiwicXVhbnRpdHkiOjF9"), true))
                .expect("valid");
        assert_eq!(
            parsed,
            NewStoreItem {
                item_id: "a".into(),
                quantity: 1
            }
        );
    }

    #[test]
    fn responses_are_json_with_a_content_type() {
        let response = bad_request(&problem("MissingBody", "no body"));
        assert_eq!(response.status_code, 400);
        assert_eq!(
            response.headers.get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/json"))
        );
    }
}
