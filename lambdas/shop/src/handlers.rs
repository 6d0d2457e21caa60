//! The six functions as plain async functions: `main.rs` of each function crate wires one of them to
//! `lambda_runtime`, tests and benchmarks call them directly.
//!
//! The Step Functions tasks take their payload as a JSON value and parse it into the contract's type here,
//! so that a payload that does not match the contract fails with `errorType` `InvalidInput` (lambda_runtime
//! would otherwise report its own deserializer's Rust type name).

use crate::api::{self, NewStoreItem};
use crate::error::ShopError;
use crate::model::parse_payload;
use crate::store::{CreateItemOutcome, Shop};
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use serde_json::{Value, json};
use shop_contract::{
    Cancellation, ConfirmRequest, LineRequest, OrderOutcome, OrderRequest, StockCheck,
    StockReservation,
};

/// `POST /create-store-item`: 201 created, 409 when the item exists (its stock is left alone), 400 for a
/// bad body (nothing written), 500 when DynamoDB fails.
pub async fn create_store_item(
    shop: &Shop,
    request: ApiGatewayProxyRequest,
) -> ApiGatewayProxyResponse {
    let NewStoreItem { item_id, quantity } = match api::parse_new_store_item(&request) {
        Ok(item) => item,
        Err(problem) => {
            tracing::info!(error = problem.code, message = %problem.message, "bad request");
            return api::bad_request(&problem);
        }
    };
    match shop.create_store_item(&item_id, quantity).await {
        Ok(CreateItemOutcome::Created) => {
            tracing::info!(item_id = %item_id, stock = quantity, "store item created");
            api::json_response(
                201,
                &json!({"message": "Store item created", "itemId": item_id, "stock": quantity}),
            )
        }
        Ok(CreateItemOutcome::AlreadyExists { stock }) => {
            tracing::info!(item_id = %item_id, stock, "store item exists already");
            api::json_response(
                409,
                &json!({
                    "error": "ItemAlreadyExists",
                    "message": format!(
                        "item '{item_id}' already exists with stock {stock}; its stock was not changed"
                    ),
                    "itemId": item_id,
                    "stock": stock,
                }),
            )
        }
        Err(error) => {
            tracing::error!(item_id = %item_id, error = %error, "could not store the item");
            api::json_response(
                500,
                &json!({"error": "InternalError", "message": "the item could not be stored, try again"}),
            )
        }
    }
}

/// `is-item-in-stock`: [`LineRequest`] → [`StockCheck`]; `ItemNotFound` / `OutOfStock` otherwise.
pub async fn is_item_in_stock(shop: &Shop, payload: Value) -> Result<StockCheck, ShopError> {
    let line: LineRequest = parse_payload(payload)?;
    shop.check_stock(&line).await
}

/// `update-item-stock`: [`LineRequest`] → [`StockReservation`]; `applied: false` on a retry.
pub async fn update_item_stock(shop: &Shop, payload: Value) -> Result<StockReservation, ShopError> {
    let line: LineRequest = parse_payload(payload)?;
    shop.reserve_line(&line).await
}

/// `create-order`: [`OrderRequest`] → [`OrderOutcome`] (PENDING, or the status a retry finds).
pub async fn create_order(shop: &Shop, payload: Value) -> Result<OrderOutcome, ShopError> {
    let order: OrderRequest = parse_payload(payload)?;
    shop.create_order(&order).await
}

/// `confirm-order`: [`ConfirmRequest`] → [`OrderOutcome`] CONFIRMED.
pub async fn confirm_order(shop: &Shop, payload: Value) -> Result<OrderOutcome, ShopError> {
    let request: ConfirmRequest = parse_payload(payload)?;
    shop.confirm_order(&request.order_id).await
}

/// `cancel-order`: [`OrderRequest`] → [`Cancellation`].
pub async fn cancel_order(shop: &Shop, payload: Value) -> Result<Cancellation, ShopError> {
    let order: OrderRequest = parse_payload(payload)?;
    shop.cancel_order(&order).await
}
