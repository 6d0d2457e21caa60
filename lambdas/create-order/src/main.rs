//! Lambda function `create-order`. Step Functions task CreateOrder: write the order PENDING under the workflow's id, idempotently.
//!
//! Input and output are the `shop-contract` types; errors carry the contract's `errorType`
//! (see `shop::handlers::create_order`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let shop = shop::runtime::start().await?;
    let shop = &shop;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        shop::handlers::create_order(shop, event.payload)
    }))
    .await
}
