//! Apache Velocity (VTL 1.7) as API Gateway evaluates mapping templates.
//!
//! ```
//! use vtl::{Context, Template};
//!
//! let template = Template::parse("#set($n = 2)Hello $name, $n * 3 = #set($m = $n * 3)$m")?;
//! let mut context = Context::new();
//! context.insert("name", "world");
//! assert_eq!(template.render(&mut context)?.body, "Hello world, 2 * 3 = 6");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For API Gateway templates, build the context with [`apigw::ApiGatewayRequest`]: it defines
//! `$input`, `$util`, `$context` and `$stageVariables`, for a request template or a response template.
//! After rendering, [`Rendered::response_override`] and [`Rendered::request_override`] hold what the
//! template `#set` under `$context.responseOverride` / `$context.requestOverride`.
//!
//! # The language
//!
//! - References: `$x`, `${x}`, quiet `$!x` / `$!{x}`, properties `$a.b` (a map entry, or a Java getter:
//!   `$s.empty` is `$s.isEmpty()`), methods `$a.m(args)`, indexes `$a[0]` (negative counts from the
//!   end), `$a["k"]`. Identifiers are `[A-Za-z_][A-Za-z0-9_-]*`, as in Velocity 1.7 (so `$a-b` is one
//!   name).
//! - A null reference renders as its own text (`$foo.bar`) in plain Velocity ([`NullReferences::Literal`],
//!   the default of [`Context::new`]) and as nothing in API Gateway ([`NullReferences::Empty`], what
//!   [`apigw`] contexts use: API Gateway renders `$input.path('$').missing` as an empty string).
//! - Directives: `#set`, `#if`/`#elseif`/`#else`/`#end`, `#foreach($x in ...)` with `$foreach.index`,
//!   `.count`, `.hasNext`, `.first`, `.last`, `$velocityCount`; `#break`, `#stop`; the formal forms
//!   `#{if}`, `#{else}`, `#{end}`...; comments `## ...` and `#* ... *#`; unparsed `#[[ ... ]]#`.
//!   `#macro`, `#parse`, `#include`, `#evaluate` and `#define` are rejected at parse time.
//! - Escapes: `\$x` renders `$x` when `$x` is defined (and stays `\$x` when it is not, as Velocity
//!   1.7 does); `\\$x` is a backslash and the value; `\#if` is the text `#if`.
//! - Literals: `"double"` (interpolates `$refs` and directives; `""` is one quote; backslashes are kept
//!   as written, so `"\\'"` is the three characters `\\'` - what AWS's documented
//!   `.replaceAll("\\'","'")` relies on), `'single'` (no interpolation; `''` is one quote), integers,
//!   decimals (`1.5`, `2e3`), `true`/`false`, lists `[1, 2]`, ranges `[1..3]` (descending too),
//!   maps `{"a": 1}`.
//! - Operators: `+ - * / %` (integer division on integers; `/ 0` is null; `+` concatenates when a
//!   side is a string), `== != < > <= >=` and `eq ne lt gt le ge`, `&& || !` and `and or not`.
//!   `==` compares numbers by value, values of one type with `equals`, different types by their
//!   `toString()` (Velocity 1.7: `1 == "1"` is true). `<` and friends on non-numbers are false.
//! - Truth: `null` and `false` are false; everything else, even `""` and `0`, is true (Velocity 1.7).
//! - `#set($x = <null>)` leaves `$x` unchanged (Velocity 1.7's default).
//! - `#foreach` over a list, a map (its values) or a range; anything else runs zero times. More than
//!   1000 iterations is an error, API Gateway's quota.
//!
//! ## Whitespace (Velocity 1.7)
//! - A directive's line end is eaten: after the `)` of `#set`/`#if`/`#elseif`/`#foreach`, and after
//!   `#else`/`#end`, trailing spaces and tabs plus one newline are removed (only if the newline follows).
//! - `#set` also eats the spaces/tabs that indent it; the indentation of other directives is kept.
//! - `## comment` eats its newline; `#* *#` does not.
//!
//! ## Java methods
//! String: `length isEmpty trim toLowerCase toUpperCase contains startsWith endsWith equals
//! equalsIgnoreCase concat indexOf lastIndexOf charAt substring replace replaceAll replaceFirst matches
//! split toString`, counting UTF-16 units like Java; `replaceAll` takes a Java regex (via `fancy-regex`:
//! lookaround and backreferences work; a few Java-only constructs such as possessive quantifiers may
//! not) and a Java replacement string (`$1`, `${name}`, `\` escapes the next character).
//! List: `size get isEmpty contains indexOf add set remove addAll`.
//! Map: `size get isEmpty containsKey containsValue keySet values entrySet put putAll remove`.
//! A method that does not exist gives null; a method that throws (index out of range, bad regex,
//! invalid JSON) fails the render with [`RenderError::MethodFailed`] naming line and column.

pub mod apigw;
mod ast;
mod escape;
mod methods;
mod parser;
mod render;
mod value;

use indexmap::IndexMap;

pub use ast::Pos;
pub use escape::{base64_decode, base64_encode, escape_javascript, url_decode, url_encode};
pub use parser::ParseError;
pub use render::{Context, MAX_FOREACH_ITERATIONS, NullReferences, RenderError};
pub use value::{HostObject, ListRef, MapRef, Value, java_double_to_string};

/// A parsed template: parse once, render many times.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<ast::Node>,
}

/// The result of rendering a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The rendered text.
    pub body: String,
    /// What the template set under `$context.responseOverride` (response templates).
    pub response_override: ResponseOverride,
    /// What the template set under `$context.requestOverride` (request templates).
    pub request_override: RequestOverride,
}

/// `#set($context.responseOverride.status = 400)` and `#set($context.responseOverride.header.X = "y")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverride {
    pub status: Option<u16>,
    pub headers: IndexMap<String, String>,
}

/// `#set($context.requestOverride.header.X = ...)`, `.querystring.X`, `.path.X`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOverride {
    pub headers: IndexMap<String, String>,
    pub querystring: IndexMap<String, String>,
    pub path: IndexMap<String, String>,
}

impl Template {
    /// Parses a template; a malformed one is a [`ParseError`] naming line and column.
    pub fn parse(source: &str) -> Result<Template, ParseError> {
        parser::parse_template(source).map(|nodes| Template { nodes })
    }

    /// Renders against `context`, which keeps what `#set` assigned.
    pub fn render(&self, context: &mut Context) -> Result<Rendered, RenderError> {
        let mut body = String::new();
        render::Renderer { ctx: context }.render_nodes(&self.nodes, &mut body)?;
        let overrides = context.get("context").cloned().unwrap_or_default();
        Ok(Rendered {
            body,
            response_override: response_override(&overrides),
            request_override: request_override(&overrides),
        })
    }
}

fn entry(map: &Value, key: &str) -> Value {
    match map {
        Value::Map(map) => map.borrow().get(key).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

fn strings(map: &Value) -> IndexMap<String, String> {
    match map {
        Value::Map(map) => map
            .borrow()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.to_java_string()))
            .collect(),
        _ => IndexMap::new(),
    }
}

fn response_override(context: &Value) -> ResponseOverride {
    let response = entry(context, "responseOverride");
    let status = match entry(&response, "status") {
        Value::Int(n) => u16::try_from(n).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    };
    ResponseOverride {
        status,
        headers: strings(&entry(&response, "header")),
    }
}

fn request_override(context: &Value) -> RequestOverride {
    let request = entry(context, "requestOverride");
    RequestOverride {
        headers: strings(&entry(&request, "header")),
        querystring: strings(&entry(&request, "querystring")),
        path: strings(&entry(&request, "path")),
    }
}
