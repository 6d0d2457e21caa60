//! Runs the case tables in `tests/cases/*.json`.
//!
//! Each file is a JSON array of cases. A case has a `name`, a `source` (where its expectation comes
//! from), a `template` (a string, or an array of lines joined with "\n"), and one of:
//! - `expected` (string or array of lines): the rendered body;
//! - `parse_error`: `{"line": L, "column": C, "contains": "text"}`;
//! - `render_error`: a text the render error's message contains.
//!
//! Optional: `request` (an API Gateway request: `body`, `headers`, `query`, `path`, `stageVariables`,
//! `context` with the `$context` fields in camelCase) makes an API Gateway context; `response_body`
//! renders as a response template with that integration body; otherwise `vars` (JSON values) make a
//! plain Velocity context. `response_override` / `request_override` check the overrides.

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;
use vtl::apigw::{ApiGatewayRequest, RequestContext};
use vtl::{Context, Template, Value};

#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    One(String),
    Lines(Vec<String>),
}

impl Text {
    fn joined(&self) -> String {
        match self {
            Text::One(s) => s.clone(),
            Text::Lines(lines) => lines.join("\n"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code)]
    source: String,
    template: Text,
    expected: Option<Text>,
    parse_error: Option<ExpectedParseError>,
    render_error: Option<String>,
    request: Option<Request>,
    response_body: Option<String>,
    #[serde(default)]
    vars: IndexMap<String, Json>,
    response_override: Option<ExpectedResponseOverride>,
    request_override: Option<IndexMap<String, IndexMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedParseError {
    line: u32,
    column: u32,
    contains: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct ExpectedResponseOverride {
    status: Option<u16>,
    #[serde(default)]
    headers: IndexMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Request {
    #[serde(default)]
    body: String,
    #[serde(default)]
    headers: IndexMap<String, String>,
    #[serde(default)]
    query: IndexMap<String, String>,
    #[serde(default)]
    path: IndexMap<String, String>,
    #[serde(default)]
    stage_variables: IndexMap<String, String>,
    #[serde(default)]
    context: IndexMap<String, Json>,
}

fn context_fields(fields: &IndexMap<String, Json>) -> RequestContext {
    let mut c = RequestContext::default();
    for (key, value) in fields {
        let text = value.as_str().map(str::to_string).unwrap_or_default();
        match key.as_str() {
            "requestId" => c.request_id = text,
            "extendedRequestId" => c.extended_request_id = text,
            "accountId" => c.account_id = text,
            "apiId" => c.api_id = text,
            "stage" => c.stage = text,
            "httpMethod" => c.http_method = text,
            "resourcePath" => c.resource_path = text,
            "resourceId" => c.resource_id = text,
            "path" => c.path = text,
            "domainName" => c.domain_name = text,
            "domainPrefix" => c.domain_prefix = text,
            "protocol" => c.protocol = text,
            "requestTime" => c.request_time = text,
            "requestTimeEpoch" => c.request_time_epoch = value.as_i64().expect("epoch millis"),
            "sourceIp" => c.source_ip = text,
            "userAgent" => c.user_agent = text,
            other => panic!("unknown $context field {other} in a case"),
        }
    }
    c
}

fn context_for(case: &Case) -> Context {
    match &case.request {
        Some(request) => {
            let api = ApiGatewayRequest {
                body: request.body.clone(),
                headers: request.headers.clone(),
                query: request.query.clone(),
                path_params: request.path.clone(),
                stage_variables: request.stage_variables.clone(),
                context: context_fields(&request.context),
            };
            match &case.response_body {
                Some(body) => api.response_context(body),
                None => api.request_context(),
            }
        }
        None => {
            let mut ctx = Context::new();
            for (name, value) in &case.vars {
                ctx.insert(name.clone(), Value::from_json(value));
            }
            ctx
        }
    }
}

fn run_case(case: &Case) -> Result<(), String> {
    let source = case.template.joined();
    let parsed = Template::parse(&source);
    if let Some(want) = &case.parse_error {
        let err = match parsed {
            Ok(_) => return Err("parsed, but a parse error was expected".into()),
            Err(err) => err,
        };
        if (err.line, err.column) != (want.line, want.column)
            || !err.message.contains(&want.contains)
        {
            return Err(format!(
                "parse error `{err}`; expected line {}, column {}, containing {:?}",
                want.line, want.column, want.contains
            ));
        }
        return Ok(());
    }
    let template = parsed.map_err(|e| format!("parse error: {e}"))?;
    let mut ctx = context_for(case);
    let rendered = template.render(&mut ctx);
    if let Some(want) = &case.render_error {
        return match rendered {
            Ok(r) => Err(format!("rendered {:?}, but an error was expected", r.body)),
            Err(err) if err.to_string().contains(want.as_str()) => Ok(()),
            Err(err) => Err(format!("render error `{err}` does not contain {want:?}")),
        };
    }
    let rendered = rendered.map_err(|e| format!("render error: {e}"))?;
    if let Some(want) = &case.expected {
        let want = want.joined();
        if rendered.body != want {
            return Err(format!(
                "rendered:\n{}\n---- expected:\n{}\n----\n(rendered {:?})",
                rendered.body, want, rendered.body
            ));
        }
    }
    if let Some(want) = &case.response_override {
        let got = ExpectedResponseOverride {
            status: rendered.response_override.status,
            headers: rendered.response_override.headers.clone(),
        };
        if &got != want {
            return Err(format!("response override {got:?}, expected {want:?}"));
        }
    }
    if let Some(want) = &case.request_override {
        let got = &rendered.request_override;
        let empty = IndexMap::new();
        for (kind, have) in [
            ("header", &got.headers),
            ("querystring", &got.querystring),
            ("path", &got.path),
        ] {
            if have != want.get(kind).unwrap_or(&empty) {
                return Err(format!(
                    "request override {kind}: {have:?}, expected {:?}",
                    want.get(kind)
                ));
            }
        }
    }
    if case.expected.is_none()
        && case.response_override.is_none()
        && case.request_override.is_none()
    {
        return Err("the case checks nothing".into());
    }
    Ok(())
}

#[test]
fn case_tables() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cases")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    let mut count = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("case file");
        let cases: Vec<Case> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in &cases {
            count += 1;
            if let Err(why) = run_case(case) {
                failures.push(format!(
                    "{} / {}: {why}",
                    file.file_name().unwrap_or_default().to_string_lossy(),
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
