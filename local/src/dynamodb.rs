//! The template's `AWS::DynamoDB::Table` resources, created in an embedded dynoxide engine served over HTTP
//! on 127.0.0.1 (in memory, or in a SQLite file with `--data`).

use crate::template::{Resource, Stack, TemplateError};
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot open the DynamoDB data file {path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot create table {table} (resource {resource}): {message}")]
    CreateTable {
        resource: String,
        table: String,
        message: String,
    },
    #[error("cannot listen for DynamoDB on 127.0.0.1: {0}")]
    Bind(std::io::Error),
}

/// The running engine: its database handle and the address of its HTTP endpoint.
pub struct DynamoService {
    pub database: dynoxide::Database,
    pub address: SocketAddr,
    /// Table names as created (template order).
    pub tables: Vec<String>,
}

impl DynamoService {
    /// Opens the engine, creates the template's tables that do not exist yet (a `--data` file keeps them
    /// across runs) and starts serving. The server stops when `shutdown` resolves.
    pub async fn start(
        stack: &Stack,
        data_file: Option<&Path>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<DynamoService, DynamoError> {
        let database = match data_file {
            Some(path) => dynoxide::Database::new(&path.display().to_string()).map_err(|e| {
                DynamoError::Open {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?,
            None => dynoxide::Database::memory().map_err(|e| DynamoError::Open {
                path: ":memory:".into(),
                message: e.to_string(),
            })?,
        };
        let tables = create_tables(&database, stack)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(DynamoError::Bind)?;
        let address = listener.local_addr().map_err(DynamoError::Bind)?;
        let served = database.clone();
        tokio::spawn(async move {
            if let Err(message) =
                dynoxide::server::serve_with_shutdown(listener, served, shutdown).await
            {
                tracing::error!(%message, "the DynamoDB endpoint stopped");
            }
        });
        Ok(DynamoService {
            database,
            address,
            tables,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }
}

fn existing_tables(database: &dynoxide::Database) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let mut request = json!({});
        if let Some(name) = &start {
            request["ExclusiveStartTableName"] = json!(name);
        }
        let request = serde_json::from_value(request).map_err(|e| e.to_string())?;
        let page = database.list_tables(request).map_err(|e| e.to_string())?;
        names.extend(page.table_names);
        match page.last_evaluated_table_name {
            Some(next) => start = Some(next),
            None => return Ok(names),
        }
    }
}

fn create_tables(database: &dynoxide::Database, stack: &Stack) -> Result<Vec<String>, DynamoError> {
    let existing = existing_tables(database).map_err(|message| DynamoError::Open {
        path: "(list tables)".into(),
        message,
    })?;
    let mut created = Vec::new();
    for resource in stack.of_type("AWS::DynamoDB::Table") {
        let table = resource.reference.clone();
        if existing.contains(&table) {
            tracing::info!(%table, "table kept from the data file");
            created.push(table);
            continue;
        }
        let request = create_table_request(resource)?;
        let failure = |message: String| DynamoError::CreateTable {
            resource: resource.logical_id.clone(),
            table: table.clone(),
            message,
        };
        let request = serde_json::from_value(request).map_err(|e| failure(e.to_string()))?;
        database
            .create_table(request)
            .map_err(|e| failure(e.to_string()))?;
        if let Some(ttl) = resource.get("TimeToLiveSpecification")
            && ttl.get("Enabled") == Some(&Value::Bool(true))
        {
            let request = json!({
                "TableName": table,
                "TimeToLiveSpecification": {
                    "AttributeName": ttl.get("AttributeName").cloned().unwrap_or(Value::Null),
                    "Enabled": true,
                }
            });
            let request = serde_json::from_value(request).map_err(|e| failure(e.to_string()))?;
            database
                .update_time_to_live(request)
                .map_err(|e| failure(e.to_string()))?;
        }
        tracing::info!(%table, resource = %resource.logical_id, "table created");
        created.push(table);
    }
    Ok(created)
}

/// CloudFormation's table properties as a DynamoDB CreateTable request. Properties with no local meaning
/// (point-in-time recovery, encryption, contributor insights, import sources...) are left out.
pub fn create_table_request(resource: &Resource) -> Result<Value, TemplateError> {
    let mut request = Map::new();
    request.insert("TableName".into(), json!(resource.reference));
    for required in ["KeySchema", "AttributeDefinitions"] {
        let value = resource
            .get(required)
            .ok_or_else(|| resource.error(required, "required property is missing"))?;
        request.insert(required.into(), value.clone());
    }
    for optional in [
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "TableClass",
        "DeletionProtectionEnabled",
    ] {
        if let Some(value) = resource.get(optional) {
            request.insert(optional.into(), value.clone());
        }
    }
    if let Some(view) = resource.opt_str("StreamSpecification.StreamViewType")? {
        request.insert(
            "StreamSpecification".into(),
            json!({"StreamEnabled": true, "StreamViewType": view}),
        );
    }
    if request.get("BillingMode").and_then(Value::as_str) == Some("PAY_PER_REQUEST") {
        // CloudFormation tolerates a leftover ProvisionedThroughput on on-demand tables; the API does not.
        request.remove("ProvisionedThroughput");
    }
    Ok(Value::Object(request))
}
