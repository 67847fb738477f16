//! Why the sandbox could not do something for its operator: start, read its
//! seed or its state file, save state, or (as SEI) exchange an OAuth code.
//! Errors of the emulated APIs are `shared::ApiError`, in each service's
//! envelope; these are the sandbox's own.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    /// The seed file names the field and what is wrong with it.
    #[error("seed file is not valid: {0}")]
    Seed(String),
    /// The state file cannot be read, written, synced or replaced.
    #[error("{0}")]
    State(String),
    /// The listener or SEI's own HTTP client could not be set up.
    #[error("{0}")]
    Setup(String),
    /// SEI's OAuth code exchange with the token endpoint failed.
    #[error("{0}")]
    Exchange(String),
}
