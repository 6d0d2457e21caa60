//! AWS::DynamoDB::Table.

use serde::Serialize;

use crate::expr::Expr;
use crate::iam::Action;
use crate::template::{Handle, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AttributeType {
    S,
    N,
    B,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyType {
    Hash,
    Range,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: AttributeType,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    pub attribute_name: String,
    pub key_type: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingMode {
    PayPerRequest,
    Provisioned,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecoverySpecification {
    pub point_in_time_recovery_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
    #[serde(rename = "SSEType", skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<String>,
    #[serde(rename = "KMSMasterKeyId", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
}

/// AWS::DynamoDB::Table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<Expr>,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub billing_mode: BillingMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_in_time_recovery_specification: Option<PointInTimeRecoverySpecification>,
    #[serde(rename = "SSESpecification", skip_serializing_if = "Option::is_none")]
    pub sse_specification: Option<SseSpecification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
}

impl Table {
    /// An on-demand table keyed by a string partition key and a string sort key.
    pub fn with_string_keys(partition_key: &str, sort_key: &str) -> Table {
        Table {
            table_name: None,
            attribute_definitions: vec![
                AttributeDefinition {
                    attribute_name: partition_key.to_owned(),
                    attribute_type: AttributeType::S,
                },
                AttributeDefinition {
                    attribute_name: sort_key.to_owned(),
                    attribute_type: AttributeType::S,
                },
            ],
            key_schema: vec![
                KeySchemaElement {
                    attribute_name: partition_key.to_owned(),
                    key_type: KeyType::Hash,
                },
                KeySchemaElement {
                    attribute_name: sort_key.to_owned(),
                    key_type: KeyType::Range,
                },
            ],
            billing_mode: BillingMode::PayPerRequest,
            point_in_time_recovery_specification: None,
            sse_specification: None,
            deletion_protection_enabled: None,
        }
    }
}

impl Resource for Table {
    const TYPE: &'static str = "AWS::DynamoDB::Table";
}

impl Handle<Table> {
    /// `Ref`: the table name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }

    pub fn stream_arn(&self) -> Expr {
        self.get_att("StreamArn")
    }
}

/// The DynamoDB data-plane actions a function may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataAction {
    GetItem,
    PutItem,
    UpdateItem,
    DeleteItem,
    ConditionCheckItem,
    Query,
}

impl DataAction {
    pub fn name(self) -> &'static str {
        match self {
            DataAction::GetItem => "GetItem",
            DataAction::PutItem => "PutItem",
            DataAction::UpdateItem => "UpdateItem",
            DataAction::DeleteItem => "DeleteItem",
            DataAction::ConditionCheckItem => "ConditionCheckItem",
            DataAction::Query => "Query",
        }
    }

    pub fn action(self) -> Action {
        Action::new("dynamodb", self.name())
    }
}
