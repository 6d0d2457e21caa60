//! # The shop's domain
//!
//! Everything the six Lambda functions share: the table's key design ([`keys`]), the records ([`model`]),
//! every DynamoDB call ([`store::Shop`]), the errors and their Lambda `errorType` ([`error`]), the
//! `create-store-item` body validation ([`api`]) and the handlers themselves ([`handlers`]), which each
//! function's `main.rs` wires to `lambda_runtime`. The workflow they implement is written down in the
//! `shop-contract` crate.
//!
//! ## Table (`TABLE_NAME`): `PK` (S, hash), `SK` (S, range), on-demand
//!
//! | record             | PK                      | SK                 | attributes                                   |
//! |--------------------|-------------------------|--------------------|----------------------------------------------|
//! | product            | `StoreItem`             | `<itemId>`         | `stock` (N)                                  |
//! | order              | `Order`                 | `<orderId>`        | `orderId`, `status` (S), `lines` (L of M {`itemId`, `quantity`}) |
//! | reservation marker | `Reservation#<orderId>` | `Line#<lineIndex>` | `orderId`, `lineIndex`, `itemId`, `quantity` |
//!
//! ## Correctness
//! - **No oversell**: `update-item-stock` decrements with the condition `stock >= :quantity` in the same
//!   transaction that writes the line's marker (`attribute_not_exists`) and checks the order is not
//!   CANCELLED (the fence). A retry finds the marker and applies nothing (`applied: false`).
//! - **Exact compensation**: `cancel-order` first sets the order CANCELLED (upsert: the fence), then
//!   queries the order's markers (strongly consistent) and, per marker, deletes it and gives back the
//!   recorded quantity in one transaction. A decrement in flight either committed before the fence (its
//!   marker is found and restored) or is refused by it.
//! - **Confirm only what was reserved**: `confirm-order` moves PENDING → CONFIRMED in one transaction with
//!   a `ConditionCheck` that each line's marker exists.
//! - **create-store-item creates, never overwrites**: a conditional put answers 201 for a new item and 409
//!   (`ItemAlreadyExists`, stock untouched) for an existing one. Overwriting stock, as the tutorial does,
//!   would silently discard reservations in flight and break `initial = remaining + confirmed`.
//!
//! ## IAM actions each function calls (all on the table's ARN only)
//!
//! | function            | actions                                                                    |
//! |---------------------|----------------------------------------------------------------------------|
//! | `create-store-item` | `dynamodb:PutItem`, `dynamodb:GetItem`                                      |
//! | `is-item-in-stock`  | `dynamodb:GetItem`                                                          |
//! | `update-item-stock` | `dynamodb:UpdateItem`, `dynamodb:PutItem`, `dynamodb:ConditionCheckItem` (TransactWriteItems) |
//! | `create-order`      | `dynamodb:PutItem`, `dynamodb:GetItem`                                      |
//! | `confirm-order`     | `dynamodb:GetItem`, `dynamodb:UpdateItem`, `dynamodb:ConditionCheckItem` (TransactWriteItems) |
//! | `cancel-order`      | `dynamodb:UpdateItem`, `dynamodb:Query`, `dynamodb:DeleteItem` (TransactWriteItems) |
//!
//! `TransactWriteItems` has no IAM action of its own: each of its actions is authorized as the
//! underlying `PutItem` / `UpdateItem` / `DeleteItem`, and `ConditionCheck` as `dynamodb:ConditionCheckItem`.
//! The `GetItem` of `create-store-item` and `create-order` is a fallback for engines that do not return
//! the old item on a failed condition.

pub mod api;
pub mod config;
pub mod error;
pub mod handlers;
pub mod keys;
pub mod model;
pub mod runtime;
pub mod store;
pub mod table;
#[cfg(feature = "test-support")]
pub mod testing;

pub use config::{client_from_env, table_name_from_env};
pub use error::{ConfigError, ShopError};
pub use store::Shop;

/// IAM actions each function needs on the table, by function name (see the crate docs).
pub const IAM_ACTIONS: &[(&str, &[&str])] = &[
    (
        shop_contract::names::CREATE_STORE_ITEM,
        &["dynamodb:PutItem", "dynamodb:GetItem"],
    ),
    (
        shop_contract::names::IS_ITEM_IN_STOCK,
        &["dynamodb:GetItem"],
    ),
    (
        shop_contract::names::UPDATE_ITEM_STOCK,
        &[
            "dynamodb:UpdateItem",
            "dynamodb:PutItem",
            "dynamodb:ConditionCheckItem",
        ],
    ),
    (
        shop_contract::names::CREATE_ORDER,
        &["dynamodb:PutItem", "dynamodb:GetItem"],
    ),
    (
        shop_contract::names::CONFIRM_ORDER,
        &[
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:ConditionCheckItem",
        ],
    ),
    (
        shop_contract::names::CANCEL_ORDER,
        &[
            "dynamodb:UpdateItem",
            "dynamodb:Query",
            "dynamodb:DeleteItem",
        ],
    ),
];
