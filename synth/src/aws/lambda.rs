//! AWS::Lambda::Function and AWS::Lambda::Permission.

use indexmap::IndexMap;
use serde::Serialize;

use crate::expr::Expr;
use crate::template::{Handle, Resource};

/// Where the function's code is. `LocalZip` is a path relative to the template that
/// `aws cloudformation package` uploads and rewrites into `{S3Bucket, S3Key}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    LocalZip(String),
    S3 { bucket: Expr, key: Expr },
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Code::LocalZip(path) => serializer.serialize_str(path),
            Code::S3 { bucket, key } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("S3Bucket", bucket)?;
                map.serialize_entry("S3Key", key)?;
                map.end()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: IndexMap<String, Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TracingMode {
    Active,
    PassThrough,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    pub mode: TracingMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LogFormat {
    Text,
    #[serde(rename = "JSON")]
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_group: Expr,
    pub log_format: LogFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<LogLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<LogLevel>,
}

/// AWS::Lambda::Function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub code: Code,
    pub handler: String,
    pub runtime: String,
    pub architectures: Vec<Expr>,
    pub memory_size: u32,
    pub timeout: u32,
    pub role: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<LoggingConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<Expr>,
}

impl Resource for Function {
    const TYPE: &'static str = "AWS::Lambda::Function";
}

impl Handle<Function> {
    /// `Ref`: the function name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }
}

/// AWS::Lambda::Permission: lets a principal invoke a function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: String,
    pub function_name: Expr,
    pub principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_account: Option<Expr>,
}

impl Permission {
    /// Lets `principal` (a service) invoke `function`, from `source_arn` only.
    pub fn invoke(function: &Handle<Function>, principal: &str, source_arn: Expr) -> Permission {
        Permission {
            action: "lambda:InvokeFunction".to_owned(),
            function_name: function.arn(),
            principal: principal.to_owned(),
            source_arn: Some(source_arn),
            source_account: None,
        }
    }
}

impl Resource for Permission {
    const TYPE: &'static str = "AWS::Lambda::Permission";
}
