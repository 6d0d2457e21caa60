//! Lambda function `create-store-item`, behind `POST /create-store-item` (API Gateway REST API, Lambda
//! proxy integration): validates the body and creates the product (see `shop::handlers::create_store_item`).

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let shop = shop::runtime::start().await?;
    let shop = &shop;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            Ok::<_, std::convert::Infallible>(
                shop::handlers::create_store_item(shop, event.payload).await,
            )
        },
    ))
    .await
}
