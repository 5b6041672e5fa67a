//! The bounds on every request and on what is kept: [`Limits`], with defaults the command line
//! can override. Where each limit is enforced lives in `http`.

/// Bounds on what one device may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (larger ones get 413).
    pub max_body_bytes: usize,
    /// The most documents in one sync request (more get 413).
    pub max_documents_per_request: usize,
    /// The most requests one device may make per minute (more get 429).
    pub requests_per_minute: u32,
    /// How long access-log entries are kept, in days; older ones are
    /// purged once a minute.
    pub access_log_retention_days: u32,
}

impl Limits {
    /// 16 MiB bodies.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
    /// 5,000 documents per request.
    pub const DEFAULT_MAX_DOCUMENTS_PER_REQUEST: usize = 5_000;
    /// 600 requests per device per minute.
    pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;
    /// Two years of access log.
    pub const DEFAULT_ACCESS_LOG_RETENTION_DAYS: u32 = 730;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            max_documents_per_request: Self::DEFAULT_MAX_DOCUMENTS_PER_REQUEST,
            requests_per_minute: Self::DEFAULT_REQUESTS_PER_MINUTE,
            access_log_retention_days: Self::DEFAULT_ACCESS_LOG_RETENTION_DAYS,
        }
    }
}
