//! The server's only source of time and randomness; the domain and the store get both from here.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, Default)]
pub struct Clock;

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }

    /// A fresh UUID (v4) as text, for application, group and config ids.
    pub fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A fresh deployment id, `d-` and nine characters of `[A-Z0-9]`.
    pub fn deployment_id(&self) -> String {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        let mut random = [0u8; cutover_domain::ids::DEPLOYMENT_ID_RANDOM_LEN];
        random.copy_from_slice(&bytes[..cutover_domain::ids::DEPLOYMENT_ID_RANDOM_LEN]);
        cutover_domain::ids::deployment_id(random)
    }
}
