//! tg-core: the Trading Grid client, independent of PHP.
//!
//! * [`api`]: the operations of the contract, their schemas and HTTP form.
//! * [`client`]: options, token cache, one operation with retries.
//! * [`batch`]: many operations concurrently, ordered per key.
//! * [`webhook`]: signing and verifying deliveries.
//! * [`lens`]: Lens transaction search (documented GraphQL), for trading exceptions.
//! * [`mapping`]: Drupal values → payloads.

pub mod api;
pub mod batch;
pub mod client;
pub mod error;
pub mod lens;
pub mod mapping;
pub mod retry;
mod schema;
pub mod webhook;

pub use api::{OpKind, Operation};
pub use batch::{BatchOp, BatchResult};
pub use client::{Client, ClientConfig, Secret};
pub use error::{Error, FieldError, FieldPath, Result, SignatureError};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
