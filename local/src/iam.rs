//! Just enough IAM to check what a role of the template may do: its inline policies, the
//! `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` resources of the template attached to it, evaluated with
//! IAM's rules (an explicit Deny wins, else an Allow is needed; `*` and `?` wildcards; `NotAction`,
//! `NotResource`). AWS managed policies (by ARN) and `Condition` blocks cannot be evaluated offline: a
//! statement with a Condition is skipped (never grants), and managed policy ARNs are reported at start-up.

use crate::template::Stack;
use serde_json::Value;

/// The statements that apply to one role.
#[derive(Debug, Clone, Default)]
pub struct RolePolicy {
    pub role_arn: String,
    statements: Vec<Value>,
    /// AWS managed policies attached by ARN, which the emulator cannot read.
    pub unknown_managed_policies: Vec<String>,
}

/// The outcome of an authorization check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    ExplicitlyDenied,
    ImplicitlyDenied,
}

impl RolePolicy {
    /// The policy of the role whose ARN or name is `role` (as a template property gives it).
    pub fn for_role(stack: &Stack, role: &str) -> Option<RolePolicy> {
        let resource = stack.find_by_reference("AWS::IAM::Role", role)?;
        let role_arn = stack.attribute(resource, "Arn").ok()?;
        let mut policy = RolePolicy {
            role_arn,
            ..RolePolicy::default()
        };
        if let Some(Value::Array(inline)) = resource.get("Policies") {
            for document in inline {
                policy.add_document(document.get("PolicyDocument"));
            }
        }
        if let Some(Value::Array(arns)) = resource.get("ManagedPolicyArns") {
            for arn in arns.iter().filter_map(Value::as_str) {
                match stack.find_by_reference("AWS::IAM::ManagedPolicy", arn) {
                    Some(managed) => policy.add_document(managed.get("PolicyDocument")),
                    None => policy.unknown_managed_policies.push(arn.to_string()),
                }
            }
        }
        for attached in stack
            .of_type("AWS::IAM::Policy")
            .chain(stack.of_type("AWS::IAM::ManagedPolicy"))
        {
            let roles = attached.get("Roles").and_then(Value::as_array);
            if roles.is_some_and(|roles| {
                roles
                    .iter()
                    .any(|r| r.as_str() == Some(&resource.reference))
            }) {
                policy.add_document(attached.get("PolicyDocument"));
            }
        }
        Some(policy)
    }

    fn add_document(&mut self, document: Option<&Value>) {
        match document.and_then(|d| d.get("Statement")) {
            Some(Value::Array(statements)) => self.statements.extend(statements.iter().cloned()),
            Some(statement @ Value::Object(_)) => self.statements.push(statement.clone()),
            _ => {}
        }
    }

    /// May this role perform `action` (e.g. `states:StartExecution`) on `resource` (an ARN)?
    pub fn decide(&self, action: &str, resource: &str) -> Decision {
        let mut allowed = false;
        for statement in &self.statements {
            if statement.get("Condition").is_some() || !self.applies(statement, action, resource) {
                continue;
            }
            match statement.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::ExplicitlyDenied,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
        if allowed {
            Decision::Allowed
        } else {
            Decision::ImplicitlyDenied
        }
    }

    pub fn allows(&self, action: &str, resource: &str) -> bool {
        self.decide(action, resource) == Decision::Allowed
    }

    fn applies(&self, statement: &Value, action: &str, resource: &str) -> bool {
        let action_matches =
            |pattern: &str| wildcard_match(&pattern.to_lowercase(), &action.to_lowercase());
        let resource_matches = |pattern: &str| wildcard_match(pattern, resource);
        let actions = match (statement.get("Action"), statement.get("NotAction")) {
            (Some(list), _) => strings(list).into_iter().any(action_matches),
            (None, Some(list)) => !strings(list).into_iter().any(action_matches),
            (None, None) => false,
        };
        let resources = match (statement.get("Resource"), statement.get("NotResource")) {
            (Some(list), _) => strings(list).into_iter().any(resource_matches),
            (None, Some(list)) => !strings(list).into_iter().any(resource_matches),
            (None, None) => false,
        };
        actions && resources
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == '*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{DeployContext, parse_document};

    fn policy(statements: &str) -> RolePolicy {
        let yaml = format!(
            "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement: {statements}\n"
        );
        let stack = Stack::from_document(
            parse_document(&yaml).expect("yaml"),
            DeployContext::default(),
        )
        .expect("stack");
        RolePolicy::for_role(&stack, "arn:aws:iam::000000000000:role/r").expect("role found by ARN")
    }

    #[test]
    fn evaluates_allow_deny_wildcards_and_not_forms() {
        let machine = "arn:aws:states:us-east-1:000000000000:stateMachine:orders";
        let cases: &[(&str, &str, &str, Decision)] = &[
            (
                r#"[{Effect: Allow, Action: states:StartExecution, Resource: "ARN"}]"#,
                "states:StartExecution",
                machine,
                Decision::Allowed,
            ),
            (
                r#"[{Effect: Allow, Action: states:StartExecution, Resource: "ARN"}]"#,
                "states:StartSyncExecution",
                machine,
                Decision::ImplicitlyDenied,
            ),
            (
                r#"[{Effect: Allow, Action: "states:Start*", Resource: "*"}]"#,
                "states:StartSyncExecution",
                machine,
                Decision::Allowed,
            ),
            (
                r#"[{Effect: Allow, Action: "STATES:startexecution", Resource: "ARN"}]"#,
                "states:StartExecution",
                machine,
                Decision::Allowed,
            ),
            (
                r#"[{Effect: Allow, Action: "states:*", Resource: "*"}, {Effect: Deny, Action: "*", Resource: "ARN"}]"#,
                "states:StartExecution",
                machine,
                Decision::ExplicitlyDenied,
            ),
            (
                r#"[{Effect: Allow, Action: "states:*", Resource: "arn:aws:states:us-east-1:000000000000:stateMachine:other"}]"#,
                "states:StartExecution",
                machine,
                Decision::ImplicitlyDenied,
            ),
            (
                r#"[{Effect: Allow, NotAction: "iam:*", Resource: "*"}]"#,
                "states:StartExecution",
                machine,
                Decision::Allowed,
            ),
            (
                r#"[{Effect: Allow, Action: "*", NotResource: "ARN"}]"#,
                "states:StartExecution",
                machine,
                Decision::ImplicitlyDenied,
            ),
            (
                r#"[{Effect: Allow, Action: "*", Resource: "*", Condition: {Bool: {aws:SecureTransport: "true"}}}]"#,
                "states:StartExecution",
                machine,
                Decision::ImplicitlyDenied,
            ),
            (
                r#"[{Effect: Allow, Action: "states:StartExecution", Resource: "arn:aws:states:*:000000000000:stateMachine:ord?rs"}]"#,
                "states:StartExecution",
                machine,
                Decision::Allowed,
            ),
        ];
        for (statements, action, resource, expected) in cases {
            let statements = statements.replace("ARN", machine);
            assert_eq!(
                policy(&statements).decide(action, resource),
                *expected,
                "{statements} {action}"
            );
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match(
            "arn:*:function:f",
            "arn:aws:lambda:r:a:function:f"
        ));
        assert!(!wildcard_match(
            "arn:*:function:f",
            "arn:aws:lambda:r:a:function:fg"
        ));
    }
}
