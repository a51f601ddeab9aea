//! The `authorizer` Lambda function: API Gateway invokes it (payload 2.0,
//! simple responses) before a route of a team's own HTTP API that uses it.

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use shared::setup::lambda::{JWT, cold_start};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start::<JWT>().await?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| {
            let app = app.clone();
            async move { authorizer::authorize(app, event.payload).await }
        },
    ))
    .await
}
