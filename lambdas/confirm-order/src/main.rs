//! Lambda function `confirm-order`. Step Functions task ConfirmOrder: PENDING to CONFIRMED once every line is reserved.
//!
//! Input and output are the `shop-contract` types; errors carry the contract's `errorType`
//! (see `shop::handlers::confirm_order`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let shop = shop::runtime::start().await?;
    let shop = &shop;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        shop::handlers::confirm_order(shop, event.payload)
    }))
    .await
}
