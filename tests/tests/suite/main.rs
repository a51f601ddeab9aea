//! The integration suite in one test binary (each binary links the AWS SDKs,
//! so one link instead of four): the HTTP contract, the store contract on
//! both stores, the DynamoDB/SES tests on moto, the DynamoDB failure paths
//! moto never produces, and the packaging checks. The log-secrecy test keeps
//! its own binary: it installs the global log subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod deployment;
mod dynamo;
mod dynamo_faults;
mod packaging;
mod races;
mod store_contract;
mod tls;
