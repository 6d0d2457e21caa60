//! The errors a function reports, and the exact Lambda `errorType` each one carries.

use lambda_runtime::Diagnostic;
use shop_contract::errors;

/// Every way a shop operation can fail. The variant decides the Lambda `errorType` (see
/// [`ShopError::error_type`]), which is what the state machine's `Catch` and `Retry` match on.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("item '{item_id}' does not exist")]
    ItemNotFound { item_id: String },

    #[error("item '{item_id}' has {available} in stock, {requested} requested")]
    OutOfStock {
        item_id: String,
        requested: u64,
        available: u64,
    },

    #[error("order '{order_id}' was cancelled: nothing more may be applied for it")]
    OrderCancelled { order_id: String },

    #[error("order '{order_id}' already exists with different lines")]
    OrderConflict { order_id: String },

    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// DynamoDB refused or failed the call after the SDK's own retries, or answered something this
    /// crate did not write (a corrupt record). Safe to retry: every operation is idempotent.
    #[error("DynamoDB {operation} failed: {message}")]
    Storage {
        operation: &'static str,
        message: String,
    },
}

/// `errorType` of [`ShopError::Storage`]: not a business error; the workflow retries it.
pub const STORAGE_ERROR: &str = errors::STORAGE;

impl ShopError {
    /// The Lambda `errorType` of this error: exactly the contract's names, so `Catch` can route on them.
    pub fn error_type(&self) -> &'static str {
        match self {
            ShopError::ItemNotFound { .. } => errors::ITEM_NOT_FOUND,
            ShopError::OutOfStock { .. } => errors::OUT_OF_STOCK,
            ShopError::OrderCancelled { .. } => errors::ORDER_CANCELLED,
            ShopError::OrderConflict { .. } => errors::ORDER_CONFLICT,
            ShopError::InvalidInput(_) => errors::INVALID_INPUT,
            ShopError::Storage { .. } => STORAGE_ERROR,
        }
    }

    pub(crate) fn storage(operation: &'static str, error: impl std::fmt::Display) -> Self {
        ShopError::Storage {
            operation,
            message: error.to_string(),
        }
    }
}

/// lambda_runtime 1.x builds the `{"errorType", "errorMessage"}` it posts to the Runtime API's
/// `/invocation/{id}/error` from `Into<Diagnostic>`; its blanket conversions use the Rust type name
/// (`"shop::error::ShopError"`), which no `Catch` could route on. This conversion sets the contract's name.
impl From<ShopError> for Diagnostic {
    fn from(error: ShopError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

/// A required setting is missing from the function's environment.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set: the function cannot know which table to use")]
    MissingVariable(&'static str),
    #[error("environment variable {0} is empty")]
    EmptyVariable(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_contract_error_names() {
        let cases = [
            (
                ShopError::ItemNotFound {
                    item_id: "pear".into(),
                },
                "ItemNotFound",
            ),
            (
                ShopError::OutOfStock {
                    item_id: "pear".into(),
                    requested: 3,
                    available: 1,
                },
                "OutOfStock",
            ),
            (
                ShopError::OrderCancelled {
                    order_id: "o".into(),
                },
                "OrderCancelled",
            ),
            (
                ShopError::OrderConflict {
                    order_id: "o".into(),
                },
                "OrderConflict",
            ),
            (ShopError::InvalidInput("x".into()), "InvalidInput"),
            (ShopError::storage("GetItem", "boom"), "StorageError"),
        ];
        for (error, expected) in cases {
            let message = error.to_string();
            let diagnostic = Diagnostic::from(error);
            assert_eq!(diagnostic.error_type, expected);
            assert_eq!(diagnostic.error_message, message);
        }
    }

    #[test]
    fn diagnostic_serializes_as_the_runtime_api_error_body() {
        let diagnostic = Diagnostic::from(ShopError::OutOfStock {
            item_id: "apple".into(),
            requested: 5,
            available: 2,
        });
        let body = serde_json::to_value(&diagnostic).expect("serializes");
        assert_eq!(
            body,
            serde_json::json!({
                "errorType": "OutOfStock",
                "errorMessage": "item 'apple' has 2 in stock, 5 requested"
            })
        );
    }
}
