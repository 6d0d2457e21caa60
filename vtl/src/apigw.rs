//! API Gateway's template variables: `$input`, `$util`, `$context`, `$stageVariables`.
//!
//! The emulator describes the method request once ([`ApiGatewayRequest`]) and gets a ready
//! [`Context`] for the request template ([`ApiGatewayRequest::request_context`]) or for a response
//! template ([`ApiGatewayRequest::response_context`], where `$input` is the integration's response).
//!
//! ```
//! use vtl::{Template, apigw::ApiGatewayRequest};
//!
//! let mut request = ApiGatewayRequest::default();
//! request.body = r#"{"order": [{"itemId": "apple", "quantity": 2}]}"#.into();
//! request.query.insert("name".into(), "Ann".into());
//! request.context.stage = "prod".into();
//!
//! let template = Template::parse(r#"{"name": "$input.params('name')", "n": $input.path('$.order').size(), "lines": $input.json('$.order'), "stage": "$context.stage"}"#)?;
//! let rendered = template.render(&mut request.request_context())?;
//! assert_eq!(rendered.body, r#"{"name": "Ann", "n": 1, "lines": [{"itemId":"apple","quantity":2}], "stage": "prod"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::OnceCell;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::escape;
use crate::render::{Context, NullReferences};
use crate::value::{HostObject, Value};

/// What API Gateway knows about a method request, as templates see it.
#[derive(Debug, Clone, Default)]
pub struct ApiGatewayRequest {
    /// The raw request body (`$input.body`).
    pub body: String,
    /// Request headers (`$input.params().header`); one value per name, the last one sent.
    pub headers: IndexMap<String, String>,
    /// Query string parameters (`$input.params().querystring`); the last value of a repeated name.
    pub query: IndexMap<String, String>,
    /// Path parameters (`$input.params().path`), e.g. `{"id": "abc"}` for `/things/{id}`.
    pub path_params: IndexMap<String, String>,
    /// `$stageVariables`.
    pub stage_variables: IndexMap<String, String>,
    /// `$context`.
    pub context: RequestContext,
}

/// The `$context` fields API Gateway fills for a REST API request.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub extended_request_id: String,
    pub account_id: String,
    pub api_id: String,
    pub stage: String,
    pub http_method: String,
    /// The resource template, e.g. `/create-order` or `/things/{id}`.
    pub resource_path: String,
    pub resource_id: String,
    /// The full path including the stage, e.g. `/prod/create-order`.
    pub path: String,
    pub domain_name: String,
    pub domain_prefix: String,
    pub protocol: String,
    /// CLF-formatted time (`dd/MMM/yyyy:HH:mm:ss +0000`).
    pub request_time: String,
    /// Epoch milliseconds.
    pub request_time_epoch: i64,
    pub source_ip: String,
    pub user_agent: String,
}

fn string_map(map: &IndexMap<String, String>) -> Value {
    Value::from(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect::<IndexMap<_, _>>(),
    )
}

fn entries(pairs: Vec<(&str, Value)>) -> Value {
    Value::from(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<IndexMap<_, _>>(),
    )
}

impl ApiGatewayRequest {
    /// The context for the integration request template: `$input` is this request's body.
    pub fn request_context(&self) -> Context {
        self.context_with_input(self.body.clone())
    }

    /// The context for an integration response template: `$input` is the integration's response
    /// body; `$input.params()`, `$context` and `$stageVariables` still describe the method request.
    pub fn response_context(&self, integration_body: &str) -> Context {
        self.context_with_input(integration_body.to_string())
    }

    fn params(&self) -> Value {
        entries(vec![
            ("path", string_map(&self.path_params)),
            ("querystring", string_map(&self.query)),
            ("header", string_map(&self.headers)),
        ])
    }

    /// `$context` as a map, so `#set($context.responseOverride.status = 400)` works as in API Gateway.
    fn context_value(&self) -> Value {
        let c = &self.context;
        let s = |v: &str| Value::from(v);
        entries(vec![
            ("requestId", s(&c.request_id)),
            ("extendedRequestId", s(&c.extended_request_id)),
            ("accountId", s(&c.account_id)),
            ("apiId", s(&c.api_id)),
            ("stage", s(&c.stage)),
            ("httpMethod", s(&c.http_method)),
            ("resourcePath", s(&c.resource_path)),
            ("resourceId", s(&c.resource_id)),
            ("path", s(&c.path)),
            ("domainName", s(&c.domain_name)),
            ("domainPrefix", s(&c.domain_prefix)),
            ("protocol", s(&c.protocol)),
            ("requestTime", s(&c.request_time)),
            ("requestTimeEpoch", Value::Int(c.request_time_epoch)),
            (
                "identity",
                entries(vec![
                    ("sourceIp", s(&c.source_ip)),
                    ("userAgent", s(&c.user_agent)),
                ]),
            ),
            (
                "responseOverride",
                entries(vec![("header", Value::new_map())]),
            ),
            (
                "requestOverride",
                entries(vec![
                    ("header", Value::new_map()),
                    ("querystring", Value::new_map()),
                    ("path", Value::new_map()),
                ]),
            ),
        ])
    }

    fn context_with_input(&self, body: String) -> Context {
        let mut ctx = Context::new().with_null_references(NullReferences::Empty);
        ctx.insert_object(
            "input",
            Rc::new(Input {
                body,
                parsed: OnceCell::new(),
                params: self.params(),
            }),
        );
        ctx.insert_object("util", Rc::new(Util));
        ctx.insert("context", self.context_value());
        ctx.insert("stageVariables", string_map(&self.stage_variables));
        ctx
    }
}

/// `$input`.
struct Input {
    body: String,
    parsed: OnceCell<Result<serde_json::Value, String>>,
    params: Value,
}

impl Input {
    fn json_body(&self) -> Result<&serde_json::Value, String> {
        self.parsed
            .get_or_init(|| {
                // API Gateway treats an empty payload as the empty object.
                if self.body.trim().is_empty() {
                    return Ok(serde_json::Value::Object(Default::default()));
                }
                serde_json::from_str(&self.body)
                    .map_err(|e| format!("Invalid JSON in the payload: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The JSON at `path`: a definite path's value (`None` if absent), an indefinite path's matches
    /// as an array.
    fn select(&self, path: &Value) -> Result<Option<serde_json::Value>, String> {
        let Some(path) = path.as_str() else {
            return Err(format!(
                "expected a JSONPath string, got {}",
                path.type_name()
            ));
        };
        let parsed = jsonpath::JsonPath::parse(path)
            .map_err(|e| format!("invalid JSONPath {path:?}: {e}"))?;
        let body = self.json_body()?;
        let found = parsed.query(body);
        Ok(if parsed.is_definite() {
            found.first().map(|v| (*v).clone())
        } else {
            Some(serde_json::Value::Array(
                found.into_iter().cloned().collect(),
            ))
        })
    }

    fn param(&self, name: &str) -> Value {
        let Value::Map(all) = &self.params else {
            return Value::from("");
        };
        let all = all.borrow();
        for kind in ["path", "querystring", "header"] {
            if let Some(Value::Map(values)) = all.get(kind) {
                let values = values.borrow();
                if let Some(v) = values.get(name) {
                    return v.clone();
                }
                if kind == "header"
                    && let Some((_, v)) = values.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
                {
                    return v.clone();
                }
            }
        }
        // API Gateway gives an empty string for a parameter the request does not have.
        Value::from("")
    }
}

impl HostObject for Input {
    fn type_name(&self) -> &'static str {
        "Input"
    }

    fn property(&self, name: &str) -> Option<Value> {
        match name {
            "body" => Some(Value::from(self.body.as_str())),
            "params" => Some(self.params.clone()),
            _ => None,
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Option<Value>, String> {
        Ok(match (name, args) {
            ("json", [path]) => self.select(path)?.map(|json| Value::from(json.to_string())),
            ("path", [path]) => self.select(path)?.map(|json| Value::from_json(&json)),
            ("params", []) => Some(self.params.clone()),
            ("params", [name]) => Some(self.param(&name.to_java_string())),
            ("getBody", []) => Some(Value::from(self.body.as_str())),
            _ => None,
        })
    }
}

/// `$util`.
struct Util;

fn text_arg(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::List(_) | Value::Map(_) | Value::Object(_) => None,
        other => Some(other.to_java_string()),
    }
}

impl HostObject for Util {
    fn type_name(&self) -> &'static str {
        "Util"
    }

    fn property(&self, _name: &str) -> Option<Value> {
        None
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Option<Value>, String> {
        let [arg] = args else { return Ok(None) };
        let Some(text) = text_arg(arg) else {
            return Ok(None);
        };
        Ok(Some(match name {
            "escapeJavaScript" => Value::from(escape::escape_javascript(&text)),
            "urlEncode" => Value::from(escape::url_encode(&text)),
            "urlDecode" => Value::from(escape::url_decode(&text)?),
            "base64Encode" => Value::from(escape::base64_encode(&text)),
            "base64Decode" => Value::from(escape::base64_decode(&text)?),
            "parseJson" => {
                let json: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| format!("Invalid JSON given to parseJson: {e}"))?;
                Value::from_json(&json)
            }
            _ => return Ok(None),
        }))
    }
}
