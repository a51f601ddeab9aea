//! The application context every handler receives: configuration and ports.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::{DeviceKey, EdgeOrigin, FactorKey};
use crate::error::ApiError;
use crate::ports::Clock;
use crate::ports::KeyRing;
use crate::ports::Mailer;
use crate::ports::UserStore;

/// Configuration, ports and keys, built once (per cold start, or per dev server).
pub struct App {
    /// Typed configuration.
    pub config: Config,
    /// Users, sessions, tokens, counters.
    pub store: Arc<dyn UserStore>,
    /// Email delivery.
    pub mailer: Arc<dyn Mailer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    jwt: Option<KeyRing>,
    device: Option<DeviceKey>,
    edge: Option<EdgeOrigin>,
    factors: Option<FactorKey>,
    service: Option<crate::ports::ServiceKeyRing>,
}

impl App {
    /// Assembles an app. `jwt` may be `None` for functions that never touch sessions.
    pub fn new(
        config: Config,
        store: Arc<dyn UserStore>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        jwt: Option<KeyRing>,
    ) -> Self {
        Self {
            config,
            store,
            mailer,
            clock,
            jwt,
            device: None,
            edge: None,
            factors: None,
            service: None,
        }
    }

    /// The same app behind edge protection: requests carrying `edge`'s
    /// secret origin header are counted under CloudFront's viewer address.
    pub fn with_edge_origin(mut self, edge: EdgeOrigin) -> Self {
        self.edge = Some(edge);
        self
    }

    /// The edge origin's secret, when the API is behind edge protection.
    pub fn edge_origin(&self) -> Option<&EdgeOrigin> {
        self.edge.as_ref()
    }

    /// The same app, signing device tokens with `key` (functions that sign
    /// users in: login).
    pub fn with_device_key(mut self, key: DeviceKey) -> Self {
        self.device = Some(key);
        self
    }

    /// The device-token key; a 500 if this function was deployed without it.
    pub fn device_key(&self) -> Result<&DeviceKey, ApiError> {
        self.device
            .as_ref()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("device key not configured")))
    }

    /// The same app, sealing and checking second factors with `key`.
    pub fn with_factor_key(mut self, key: FactorKey) -> Self {
        self.factors = Some(key);
        self
    }

    /// The second factors' key; a 500 if this function was deployed
    /// without it.
    pub fn factor_key(&self) -> Result<&FactorKey, ApiError> {
        self.factors
            .as_ref()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("factor key not configured")))
    }

    /// The same app, signing service tokens with `keys`.
    pub fn with_service_keys(mut self, keys: crate::ports::ServiceKeyRing) -> Self {
        self.service = Some(keys);
        self
    }

    /// The service tokens' keys; a 500 if this function was deployed
    /// without them.
    pub fn service_keys(&self) -> Result<&crate::ports::ServiceKeyRing, ApiError> {
        self.service
            .as_ref()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("service key not configured")))
    }

    /// The JWT keys; a 500 if this function was deployed without them.
    pub fn jwt(&self) -> Result<&KeyRing, ApiError> {
        self.jwt
            .as_ref()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("JWT keys not configured")))
    }
}
