//! AWS::ApiGateway::* (REST APIs): RestApi, Resource, Method, Model, RequestValidator, Deployment, Stage,
//! Account.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::expr::Expr;
use crate::template::{Handle, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndpointType {
    Edge,
    Regional,
    Private,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    pub types: Vec<EndpointType>,
}

/// AWS::ApiGateway::RestApi.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestApi {
    pub name: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<EndpointConfiguration>,
}

impl Resource for RestApi {
    const TYPE: &'static str = "AWS::ApiGateway::RestApi";
}

impl Handle<RestApi> {
    /// `Ref`: the API id.
    pub fn id(&self) -> Expr {
        self.reference()
    }

    pub fn root_resource_id(&self) -> Expr {
        self.get_att("RootResourceId")
    }
}

/// AWS::ApiGateway::Resource: one path segment under a parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiResource {
    pub rest_api_id: Expr,
    pub parent_id: Expr,
    pub path_part: String,
}

impl Resource for ApiResource {
    const TYPE: &'static str = "AWS::ApiGateway::Resource";
}

impl Handle<ApiResource> {
    /// `Ref`: the resource id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntegrationType {
    Aws,
    AwsProxy,
    Http,
    HttpProxy,
    Mock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PassthroughBehavior {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IntegrationResponse {
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub response_templates: IndexMap<String, Expr>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    #[serde(rename = "Type")]
    pub integration_type: IntegrationType,
    pub integration_http_method: String,
    pub uri: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<PassthroughBehavior>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub request_templates: IndexMap<String, Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub integration_responses: Vec<IntegrationResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodResponse {
    pub status_code: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub response_models: IndexMap<String, Expr>,
}

impl MethodResponse {
    pub fn status(status_code: u16) -> MethodResponse {
        MethodResponse {
            status_code: status_code.to_string(),
            response_models: IndexMap::new(),
        }
    }
}

/// AWS::ApiGateway::Method.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Method {
    pub rest_api_id: Expr,
    pub resource_id: Expr,
    pub http_method: String,
    pub authorization_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<Expr>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub request_models: IndexMap<String, Expr>,
    pub integration: Integration,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub method_responses: Vec<MethodResponse>,
}

impl Resource for Method {
    const TYPE: &'static str = "AWS::ApiGateway::Method";
}

impl Handle<Method> {
    /// `Ref`: the method id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

/// AWS::ApiGateway::Model: a JSON Schema (draft 4) for request or response bodies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Model {
    pub rest_api_id: Expr,
    pub name: String,
    pub content_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schema: Value,
}

impl Resource for Model {
    const TYPE: &'static str = "AWS::ApiGateway::Model";
}

impl Handle<Model> {
    /// `Ref`: the model name.
    pub fn name(&self) -> Expr {
        self.reference()
    }
}

/// AWS::ApiGateway::RequestValidator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestValidator {
    pub rest_api_id: Expr,
    pub name: String,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

impl Resource for RequestValidator {
    const TYPE: &'static str = "AWS::ApiGateway::RequestValidator";
}

impl Handle<RequestValidator> {
    /// `Ref`: the validator id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

/// AWS::ApiGateway::Deployment: a snapshot of the API's methods.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deployment {
    pub rest_api_id: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Resource for Deployment {
    const TYPE: &'static str = "AWS::ApiGateway::Deployment";
}

impl Handle<Deployment> {
    /// `Ref`: the deployment id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSetting {
    pub destination_arn: Expr,
    pub format: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoggingLevel {
    Off,
    Error,
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodSetting {
    pub resource_path: String,
    pub http_method: String,
    pub metrics_enabled: bool,
    pub logging_level: LoggingLevel,
    pub data_trace_enabled: bool,
    pub throttling_rate_limit: Expr,
    pub throttling_burst_limit: Expr,
}

/// AWS::ApiGateway::Stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    pub rest_api_id: Expr,
    pub deployment_id: Expr,
    pub stage_name: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub tracing_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_setting: Option<AccessLogSetting>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub method_settings: Vec<MethodSetting>,
}

impl Resource for Stage {
    const TYPE: &'static str = "AWS::ApiGateway::Stage";
}

impl Handle<Stage> {
    /// `Ref`: the stage name.
    pub fn name(&self) -> Expr {
        self.reference()
    }
}

/// AWS::ApiGateway::Account: the region-wide role API Gateway uses to write CloudWatch logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub cloud_watch_role_arn: Expr,
}

impl Resource for Account {
    const TYPE: &'static str = "AWS::ApiGateway::Account";
}
