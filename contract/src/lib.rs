//! # The order workflow contract
//!
//! This crate is the single written-down agreement between the state machine that `synth` generates and
//! the functions under `lambdas/`. Both sides depend on it: the state machine takes its error names and
//! payload field names from here, the functions take their input and output types from here. Change it and
//! both sides change together (the template snapshot test and the functions' tests will tell).
//!
//! ## The workflow
//!
//! Input of an execution (what `POST /create-order` sends, the tutorial's shape):
//! `{"order": [{"itemId": "apple", "quantity": 2}, ...]}`.
//!
//! 1. **AssignOrderId** (Pass): `{"orderId": $$.Execution.Name, "lines": $.order}`. The execution name is
//!    unique per state machine, so the order id is known before any side effect and is the same on every
//!    retry of every step: it is the idempotency key of the whole order.
//! 2. **CheckStock** (Map over `lines`, task `is-item-in-stock` with a [`LineRequest`]): a cheap early
//!    rejection that writes nothing. It is *not* what prevents overselling (stock can change right after
//!    the check); [`errors::ITEM_NOT_FOUND`] or [`errors::OUT_OF_STOCK`] end the execution with that error.
//! 3. **PlaceOrder** (Parallel, the tutorial's shape):
//!    - **ReserveStock** (Map over `lines`, task `update-item-stock` with a [`LineRequest`]): per line, one
//!      DynamoDB transaction decrements the stock *only if enough remains*, writes a per-line reservation
//!      marker keyed by `(orderId, lineIndex)` *only if absent*, and checks the order is not cancelled. A
//!      retry after a success finds the marker and applies nothing (answers `applied: false`).
//!    - **CreateOrder** (task `create-order` with an [`OrderRequest`]): writes the order as
//!      [`OrderStatus::Pending`] under `orderId`, only if absent; a retry finding the same pending order
//!      succeeds; finding it cancelled fails with [`errors::ORDER_CANCELLED`].
//! 4. On any error of PlaceOrder (Catch `States.ALL`, error kept at `$.failure`): **CancelOrder** (task
//!    `cancel-order` with an [`OrderRequest`]) first marks the order [`OrderStatus::Cancelled`] (creating it
//!    if CreateOrder never ran: this is a *fence*, every later ReserveStock transaction fails its condition
//!    on it), then for each line whose marker exists deletes the marker and restores exactly its quantity,
//!    in one transaction per line. Idempotent: a line without marker is skipped. Then the execution fails
//!    with the original error (`Error` and `Cause` of `$.failure`).
//! 5. **ConfirmOrder** (task `confirm-order` with a [`ConfirmRequest`]): PENDING → CONFIRMED (idempotent:
//!    CONFIRMED stays CONFIRMED; CANCELLED fails with [`errors::ORDER_CANCELLED`]). The execution's output
//!    is an [`OrderOutcome`]. On any error of ConfirmOrder (its retries spent), the same compensation as
//!    in step 4 runs (Catch `States.ALL` → CancelOrder), so no execution ends with stock still reserved
//!    for an order that is not confirmed.
//!
//! Every task retries Lambda's transient errors ([`errors::LAMBDA_TRANSIENT`]) and a DynamoDB call that
//! failed after the SDK's own retries ([`errors::STORAGE`]); this is safe because every function is
//! idempotent per `(orderId, lineIndex)` or per `orderId`. CancelOrder, the compensation, retries
//! any error instead (`States.ALL`, one retrier of 10 attempts with capped, jittered backoff, throttling
//! included): it is idempotent, and giving up would leave stock reserved.
//!
//! ## Why the fence matters
//! When one branch of a Parallel fails, Step Functions stops waiting for the others, but a Lambda invocation
//! already in flight still runs to completion. Without the fence, a decrement could land *after* the
//! compensation looked for markers and stay applied forever. With it, DynamoDB's serializable transactions
//! order every decrement either before the fence (its marker is then seen and restored) or after it (the
//! decrement is refused).
//!
//! ## Invariants (whatever the interleaving of concurrent orders, retries and failures)
//! - stock is never negative;
//! - once every execution has ended: initial stock = remaining stock + quantities of confirmed orders;
//! - an order is CONFIRMED only if every one of its lines was decremented exactly once;
//! - nothing is applied twice.

use serde::{Deserialize, Serialize};

/// Error names a function reports as its Lambda `errorType`, on which the state machine's Catch routes.
pub mod errors {
    /// The product does not exist in the table.
    pub const ITEM_NOT_FOUND: &str = "ItemNotFound";
    /// The product exists but has less stock than the line asks for.
    pub const OUT_OF_STOCK: &str = "OutOfStock";
    /// The order was cancelled (compensation ran): nothing more may be applied for it.
    pub const ORDER_CANCELLED: &str = "OrderCancelled";
    /// An order with this id exists with different lines: the id was reused for another order.
    pub const ORDER_CONFLICT: &str = "OrderConflict";
    /// The payload does not match this contract (a bug in the caller, never retried).
    pub const INVALID_INPUT: &str = "InvalidInput";
    /// Lambda service errors worth retrying: the invocation may or may not have run, which is safe
    /// because every function is idempotent.
    pub const LAMBDA_TRANSIENT: &[&str] = &[
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ];
    /// A DynamoDB call failed after the AWS SDK's own retries (throttling, a service error, a timeout).
    /// Worth retrying a little later: the function applied nothing it would apply twice.
    pub const STORAGE: &str = "StorageError";
    /// Errors that reject an order for a business reason (the API answers 409 for these).
    pub const BUSINESS: &[&str] = &[ITEM_NOT_FOUND, OUT_OF_STOCK];
}

/// Bounds enforced at the API (JSON Schema model, create-store-item validation) and again by the functions.
pub mod limits {
    /// Longest accepted `itemId`, in characters.
    pub const MAX_ITEM_ID_CHARS: usize = 128;
    /// Largest stock create-store-item accepts.
    pub const MAX_STOCK: u64 = 1_000_000_000;
    /// Largest quantity of one order line.
    pub const MAX_LINE_QUANTITY: u64 = 1_000_000;
    /// Most lines in one order.
    pub const MAX_ORDER_LINES: usize = 50;
}

/// One line of an order, as the API receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderLine {
    pub item_id: String,
    pub quantity: u64,
}

/// Input of `is-item-in-stock` and `update-item-stock`: one line of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineRequest {
    pub order_id: String,
    /// Position of the line in the order (`$$.Map.Item.Index`): with `order_id`, the idempotency key.
    pub line_index: u32,
    pub item_id: String,
    pub quantity: u64,
}

/// Output of `is-item-in-stock` when the line can be served now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockCheck {
    pub item_id: String,
    pub requested: u64,
    pub available: u64,
}

/// Output of `update-item-stock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockReservation {
    pub order_id: String,
    pub line_index: u32,
    pub item_id: String,
    pub quantity: u64,
    /// `true` when this invocation decremented the stock, `false` when an earlier attempt already had.
    pub applied: bool,
}

/// Input of `create-order` and `cancel-order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderRequest {
    pub order_id: String,
    pub lines: Vec<OrderLine>,
}

/// Input of `confirm-order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmRequest {
    pub order_id: String,
}

/// Lifecycle of an order record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }
}

/// Output of `create-order`, `confirm-order` and of a successful execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderOutcome {
    pub order_id: String,
    pub status: OrderStatus,
}

/// Output of `cancel-order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    pub order_id: String,
    pub status: OrderStatus,
    /// Indexes of the lines whose decrement this invocation restored.
    pub restored_lines: Vec<u32>,
}

/// Names shared by the template and whoever reads it (deploy.sh, the local emulator).
pub mod names {
    /// The functions, by the name of their crate and binary under `lambdas/`; the template gives each a
    /// logical id derived from it, and cargo-lambda builds `target/lambda/<name>/bootstrap.zip`.
    pub const CREATE_STORE_ITEM: &str = "create-store-item";
    pub const IS_ITEM_IN_STOCK: &str = "is-item-in-stock";
    pub const UPDATE_ITEM_STOCK: &str = "update-item-stock";
    pub const CREATE_ORDER: &str = "create-order";
    pub const CONFIRM_ORDER: &str = "confirm-order";
    pub const CANCEL_ORDER: &str = "cancel-order";
    pub const ALL_FUNCTIONS: &[&str] = &[
        CREATE_STORE_ITEM,
        IS_ITEM_IN_STOCK,
        UPDATE_ITEM_STOCK,
        CREATE_ORDER,
        CONFIRM_ORDER,
        CANCEL_ORDER,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_request_uses_the_field_names_the_state_machine_writes() {
        let line: LineRequest = serde_json::from_str(
            r#"{"orderId":"o-1","lineIndex":2,"itemId":"apple","quantity":3}"#,
        )
        .expect("contract payload parses");
        assert_eq!(line.line_index, 2);
        assert_eq!(
            serde_json::to_string(&line).expect("serializes"),
            r#"{"orderId":"o-1","lineIndex":2,"itemId":"apple","quantity":3}"#
        );
    }

    #[test]
    fn unknown_fields_are_refused_so_a_contract_drift_fails_loudly() {
        let err = serde_json::from_str::<ConfirmRequest>(r#"{"orderId":"o","extra":1}"#)
            .expect_err("unknown field must be refused");
        assert!(err.to_string().contains("extra"), "{err}");
    }

    #[test]
    fn statuses_serialize_as_upper_case_words() {
        assert_eq!(
            serde_json::to_string(&OrderStatus::Cancelled).expect("serializes"),
            r#""CANCELLED""#
        );
        assert_eq!(OrderStatus::Confirmed.as_str(), "CONFIRMED");
    }
}
