//! What a function reads from its environment at start.

use crate::error::ConfigError;
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;

/// The variable holding the table's name (the template sets it on every function).
pub const TABLE_NAME_VARIABLE: &str = "TABLE_NAME";

/// The table name from `TABLE_NAME`, with a clear error when it is missing or empty.
pub fn table_name_from_env() -> Result<String, ConfigError> {
    match std::env::var(TABLE_NAME_VARIABLE) {
        Ok(name) if name.trim().is_empty() => Err(ConfigError::EmptyVariable(TABLE_NAME_VARIABLE)),
        Ok(name) => Ok(name),
        Err(_) => Err(ConfigError::MissingVariable(TABLE_NAME_VARIABLE)),
    }
}

/// A DynamoDB client configured the standard way (region, credentials, and the endpoint overrides
/// `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL` that the local emulator and tests set).
pub async fn client_from_env() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    Client::new(&config)
}
