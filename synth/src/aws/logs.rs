//! AWS::Logs::LogGroup.

use serde::Serialize;

use crate::expr::Expr;
use crate::template::{Handle, Resource};

/// AWS::Logs::LogGroup.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<Expr>,
    pub retention_in_days: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<Expr>,
}

impl LogGroup {
    pub fn with_retention(retention_in_days: impl Into<Expr>) -> LogGroup {
        LogGroup {
            log_group_name: None,
            retention_in_days: retention_in_days.into(),
            kms_key_id: None,
        }
    }

    pub fn named(mut self, name: impl Into<Expr>) -> LogGroup {
        self.log_group_name = Some(name.into());
        self
    }
}

impl Resource for LogGroup {
    const TYPE: &'static str = "AWS::Logs::LogGroup";
}

impl Handle<LogGroup> {
    /// `Ref`: the log group name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    /// The log group ARN, ending in `:*` (it covers the group's log streams).
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }
}
