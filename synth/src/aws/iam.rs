//! AWS::IAM::Role with inline policies, and typed policy documents.

use serde::Serialize;

use crate::error::SynthError;
use crate::expr::Expr;
use crate::template::{Handle, Resource, Template};

/// An IAM action, `service:Action`; wildcards are refused at synth (least privilege, no `*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Action(String);

impl Action {
    pub fn new(service: &str, action: &str) -> Action {
        Action(format!("{service}:{action}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Who may assume a role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Principal {
    /// An AWS service principal such as `lambda.amazonaws.com`.
    Service(Vec<String>),
}

/// The resources a statement applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resources {
    /// Specific ARNs.
    Arns(Vec<Expr>),
    /// `"*"`, only for actions AWS does not let you scope (X-Ray, CloudWatch Logs delivery): the reason is
    /// kept so a reader (and the checkov skip) can see why.
    AllBecause(&'static str),
}

impl Serialize for Resources {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Resources::Arns(arns) => arns.serialize(serializer),
            Resources::AllBecause(_) => serializer.serialize_str("*"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resources>,
}

impl Statement {
    /// Allows `actions` on `resources` (the actions are sorted, so the output does not depend on call order).
    pub fn allow(
        actions: impl IntoIterator<Item = Action>,
        resources: impl IntoIterator<Item = Expr>,
    ) -> Statement {
        let mut action: Vec<Action> = actions.into_iter().collect();
        action.sort();
        action.dedup();
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action,
            resource: Some(Resources::Arns(resources.into_iter().collect())),
        }
    }

    /// Allows actions that support no resource-level permission (the reason is required).
    pub fn allow_unscoped(
        actions: impl IntoIterator<Item = Action>,
        reason: &'static str,
    ) -> Statement {
        let mut statement = Statement::allow(actions, []);
        statement.resource = Some(Resources::AllBecause(reason));
        statement
    }

    /// The trust statement letting an AWS service assume the role.
    pub fn assume_role_by(service: &str) -> Statement {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: Some(Principal::Service(vec![service.to_owned()])),
            action: vec![Action::new("sts", "AssumeRole")],
            resource: None,
        }
    }

    pub fn sid(mut self, sid: impl Into<String>) -> Statement {
        self.sid = Some(sid.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> PolicyDocument {
        PolicyDocument {
            version: "2012-10-17",
            statement,
        }
    }

    /// Refuses wildcard actions and unexplained wildcard resources.
    pub fn check(&self) -> Result<(), String> {
        for (index, statement) in self.statement.iter().enumerate() {
            if statement.action.is_empty() {
                return Err(format!("statement {index} has no action"));
            }
            if let Some(action) = statement
                .action
                .iter()
                .find(|action| action.0.contains('*'))
            {
                return Err(format!(
                    "statement {index} uses the wildcard action `{}`",
                    action.0
                ));
            }
            if let Some(Resources::Arns(arns)) = &statement.resource {
                if arns.is_empty() {
                    return Err(format!("statement {index} applies to no resource"));
                }
                if arns.iter().any(|arn| arn.as_literal() == Some("*")) {
                    return Err(format!(
                        "statement {index} applies to `*`: use Resources::AllBecause for actions AWS cannot scope"
                    ));
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

/// AWS::IAM::Role.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub assume_role_policy_document: PolicyDocument,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policy_arns: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicy>,
}

impl Role {
    /// A role the given service principal may assume, with no permission yet.
    pub fn for_service(service: &str, description: impl Into<String>) -> Role {
        Role {
            description: Some(description.into()),
            assume_role_policy_document: PolicyDocument::new(vec![Statement::assume_role_by(
                service,
            )]),
            managed_policy_arns: Vec::new(),
            policies: Vec::new(),
        }
    }

    pub fn with_policy(mut self, name: impl Into<String>, statements: Vec<Statement>) -> Role {
        self.policies.push(InlinePolicy {
            policy_name: name.into(),
            policy_document: PolicyDocument::new(statements),
        });
        self
    }

    /// Every statement of every inline policy.
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.policies
            .iter()
            .flat_map(|policy| policy.policy_document.statement.iter())
    }
}

impl Resource for Role {
    const TYPE: &'static str = "AWS::IAM::Role";

    fn check(&self, logical_id: &str, _template: &Template) -> Result<(), SynthError> {
        for policy in &self.policies {
            policy
                .policy_document
                .check()
                .map_err(|message| SynthError::Policy {
                    logical_id: logical_id.to_owned(),
                    message: format!("policy `{}`: {message}", policy.policy_name),
                })?;
        }
        Ok(())
    }
}

impl Handle<Role> {
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }

    pub fn name(&self) -> Expr {
        self.reference()
    }

    pub fn role_id(&self) -> Expr {
        self.get_att("RoleId")
    }
}
