//! Lambda function `update-item-stock`. Step Functions task ReserveStock: decrement one order line's stock, once, unless the order is cancelled.
//!
//! Input and output are the `shop-contract` types; errors carry the contract's `errorType`
//! (see `shop::handlers::update_item_stock`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let shop = shop::runtime::start().await?;
    let shop = &shop;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        shop::handlers::update_item_stock(shop, event.payload)
    }))
    .await
}
