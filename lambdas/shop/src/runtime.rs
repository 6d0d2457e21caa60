//! What every function's `main` does before handing its handler to `lambda_runtime::run`.

use crate::config::{client_from_env, table_name_from_env};
use crate::store::Shop;
use tracing_subscriber::EnvFilter;

/// Structured JSON logs on stdout (Lambda ships stdout to CloudWatch); `RUST_LOG` filters, default `info`.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (only possible in tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .try_init();
}

/// Logging, the table name and the DynamoDB client, once per execution environment (reused by every
/// invocation, so they are not paid on warm starts). A missing `TABLE_NAME` stops the function at init
/// with a logged, named error.
pub async fn start() -> Result<Shop, lambda_runtime::Error> {
    init_logging();
    let table = table_name_from_env().inspect_err(|error| {
        tracing::error!(error = %error, "cannot start the function");
    })?;
    Ok(Shop::new(client_from_env().await, table))
}
