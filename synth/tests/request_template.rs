//! The create-order request templates turn ANY valid JSON body into valid StartExecution JSON whose
//! `input` is exactly `{"order": <body>}` (the template's own comment and `shop_contract`'s workflow
//! input), rendered by the `vtl` crate: API Gateway's Velocity, `$input.json` and
//! `$util.escapeJavaScript` semantics.
//!
//! `${StateMachineArn}` in the file is CloudFormation's `Fn::Sub` placeholder: the test substitutes it
//! as CloudFormation does before API Gateway ever sees the template.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use vtl::Template;
use vtl::apigw::ApiGatewayRequest;

const STATE_MACHINE_ARN: &str =
    "arn:aws:states:eu-west-1:123456789012:stateMachine:OrderWorkflow-AbC123";
const REQUEST_ID: &str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef";

fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

/// The request templates this repository ships (the sync one exists with `synth --express`).
fn request_templates() -> Vec<(String, Template)> {
    let mut found = Vec::new();
    for name in ["create-order-request.vtl", "create-order-sync-request.vtl"] {
        let path = templates_dir().join(name);
        let Ok(source) = std::fs::read_to_string(&path) else {
            assert_ne!(
                name,
                "create-order-request.vtl",
                "{} is missing",
                path.display()
            );
            continue;
        };
        assert_eq!(
            source.matches("${StateMachineArn}").count(),
            1,
            "{name}: expected one Fn::Sub placeholder"
        );
        let substituted = source.replace("${StateMachineArn}", STATE_MACHINE_ARN);
        let template =
            Template::parse(&substituted).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        found.push((name.to_string(), template));
    }
    found
}

fn render(template: &Template, body: &str) -> String {
    let mut request = ApiGatewayRequest {
        body: body.to_string(),
        ..Default::default()
    };
    request
        .headers
        .insert("Content-Type".into(), "application/json".into());
    request.context.request_id = REQUEST_ID.into();
    request.context.stage = "prod".into();
    request.context.http_method = "POST".into();
    request.context.resource_path = "/create-order".into();
    template
        .render(&mut request.request_context())
        .unwrap_or_else(|e| panic!("render failed for body {body}: {e}"))
        .body
}

/// Renders `body` and checks the StartExecution contract; returns the execution input.
fn check_body(name: &str, template: &Template, body: &str) {
    let expected_body: Value = serde_json::from_str(body).expect("test bodies are valid JSON");
    let rendered = render(template, body);
    let start: Value = serde_json::from_str(&rendered).unwrap_or_else(|e| {
        panic!(
            "{name}: rendered StartExecution request is not JSON ({e}) for body {body}:\n{rendered}"
        )
    });
    assert_eq!(
        start["stateMachineArn"],
        json!(STATE_MACHINE_ARN),
        "{name}: {rendered}"
    );
    assert_eq!(start["name"], json!(REQUEST_ID), "{name}: {rendered}");
    let input = start["input"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: input is not a string: {rendered}"));
    let input: Value = serde_json::from_str(input)
        .unwrap_or_else(|e| panic!("{name}: input is not JSON ({e}) for body {body}: {input}"));
    assert_eq!(
        input,
        json!({ "order": expected_body }),
        "{name}: body {body}"
    );
}

const TRICKY_BODIES: &[&str] = &[
    r#"[{"itemId": "apple", "quantity": 2}, {"itemId": "pear", "quantity": 1}]"#,
    r#"[{"itemId": "O'Brien's", "quantity": 1}]"#,
    r#"[{"itemId": "'", "quantity": 1}, {"itemId": "''", "quantity": 2}]"#,
    r#"[{"itemId": "say \"hi\"", "quantity": 1}]"#,
    r#"[{"itemId": "back\\slash", "quantity": 1}]"#,
    r#"[{"itemId": "\\'", "quantity": 1}]"#,
    r#"[{"itemId": "\\\\'", "quantity": 1}]"#,
    r#"[{"itemId": "\\\"'\\", "quantity": 1}]"#,
    r#"[{"itemId": "ends with a backslash \\", "quantity": 1}]"#,
    r#"[{"itemId": "line\nbreak\ttab\rreturn\bback\fform\u0000nul\u001funit\u007fdel", "quantity": 1}]"#,
    r#"[{"itemId": "é€中 ÿ \u00a0 \u2028\u2029 😀 𝄞 👩‍👩‍👧", "quantity": 1}]"#,
    r#"[{"itemId": "$x ${x} $!x $!{x} $input.body #set($y = 1) #if(true)x#end ## c #* c *# \\$x \\#set", "quantity": 1}]"#,
    r#"[{"itemId": "</script><!-- / //", "quantity": 1}]"#,
    r#"[{"itemId": "a", "quantity": 0}, {"itemId": "b", "quantity": -1}, {"itemId": "c", "quantity": 1.5}]"#,
    r#"[0, -1, 1.5, -2.5e-10, 1E300, 12345678901234567890, 9007199254740993, -9223372036854775808, 0.1]"#,
    r#"[{"itemId": "x", "quantity": 1, "extra": {"nested": [[], {}, [[[{"deep": [null, true, false]}]]]]}}]"#,
    r#"{}"#,
    r#"[]"#,
    r#"{"order": [{"itemId": "apple", "quantity": 1}]}"#,
    r#"{"k'\"\\/": "v'\"\\/", "": ""}"#,
    r#""just a string with ' and \" and \\""#,
    r#"42"#,
    r#"true"#,
    r#"null"#,
    "[\n  {\n    \"itemId\" : \"pretty\",\n    \"quantity\" : 3\n  }\n]\n",
];

#[test]
fn tricky_bodies_round_trip_exactly() {
    let templates = request_templates();
    assert!(!templates.is_empty());
    for (name, template) in &templates {
        for body in TRICKY_BODIES {
            check_body(name, template, body);
        }
    }
}

#[test]
fn deep_nesting_round_trips() {
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(100), "}".repeat(100));
    for (name, template) in &request_templates() {
        check_body(name, template, &deep);
        check_body(name, template, &deep_objects);
    }
}

/// A small deterministic generator (xorshift), so a failure is reproducible.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ALPHABET: &[char] = &[
    'a', 'Z', '0', ' ', '\'', '"', '\\', '/', '$', '#', '!', '{', '}', '(', ')', '*', '[', ']',
    '.', '\n', '\t', '\r', '\u{0}', '\u{1}', '\u{1f}', '\u{7f}', 'é', '€', '\u{2028}', '😀', '𝄞',
];

fn random_string(rng: &mut Random) -> String {
    let len = rng.below(12);
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
        .collect()
}

fn random_value(rng: &mut Random, depth: u32) -> Value {
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next() as i64 >> rng.below(64)),
        3 => json!((rng.next() as f64) / 7.0e9),
        4 => json!(random_string(rng)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|_| (random_string(rng), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

#[test]
fn generated_bodies_round_trip_exactly() {
    let mut rng = Random(0x5eed_1234_abcd_0001);
    let templates = request_templates();
    for _ in 0..400 {
        let lines: Vec<Value> = (0..1 + rng.below(4))
            .map(|_| json!({"itemId": random_string(&mut rng), "quantity": 1 + rng.below(9), "x": random_value(&mut rng, 0)}))
            .collect();
        let body = Value::Array(lines).to_string();
        for (name, template) in &templates {
            check_body(name, template, &body);
        }
    }
}

/// The tutorial's request template (its CDK code, with the JavaScript string escapes resolved).
const TUTORIAL_TEMPLATE: &str = "{
        \"input\": \"{\\\"order\\\": $util.escapeJavaScript($input.json('$'))}\",
        \"stateMachineArn\": \"arn:aws:states:eu-west-1:123456789012:stateMachine:myFirstStateMachine\"
      }";

#[test]
fn the_tutorial_template_breaks_on_a_single_quote() {
    let template = Template::parse(TUTORIAL_TEMPLATE).expect("the tutorial's template parses");

    // Without a quote it works, so the failure below is the quote's doing.
    let fine = render(&template, r#"[{"itemId": "apple", "quantity": 2}]"#);
    let start: Value = serde_json::from_str(&fine).expect("valid JSON without a quote");
    let input: Value = serde_json::from_str(start["input"].as_str().expect("input string"))
        .expect("input is JSON");
    assert_eq!(
        input,
        json!({"order": [{"itemId": "apple", "quantity": 2}]})
    );

    let broken = render(&template, r#"[{"itemId": "O'Brien", "quantity": 1}]"#);
    assert!(
        broken.contains(r"O\'Brien"),
        "escapeJavaScript writes \\' : {broken}"
    );
    let err = serde_json::from_str::<Value>(&broken).expect_err("\\' is not a JSON escape");
    assert!(err.to_string().contains("escape"), "{err}");
}
