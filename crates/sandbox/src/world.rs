//! Everything the sandbox must remember across restarts: SEI records,
//! revocations, OAuth grants. One document, saved whole and atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::SandboxError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct World {
    pub next_id: u64,
    pub integrations: BTreeMap<u64, StoredIntegration>,
    /// SEI's tags (`/v1/tags`), by id. SEI stores names in lower case,
    /// unique per account.
    #[serde(default)]
    pub tags: BTreeMap<u64, StoredTag>,
    /// Principal names whose credentials Bitbucket now refuses.
    pub revoked: BTreeSet<String>,
    /// Principal name → further valid secrets (API tokens), as an account
    /// holds several tokens while one is rotated out.
    #[serde(default)]
    pub extra_tokens: BTreeMap<String, Vec<String>>,
    /// Single API tokens revoked while the account's others still work.
    #[serde(default)]
    pub revoked_tokens: BTreeSet<String>,
    /// Seconds a used refresh token keeps working; Bitbucket's ten minutes
    /// when unset.
    #[serde(default)]
    pub refresh_grace_secs: Option<i64>,
    /// Principal name → scopes that replace the seeded ones.
    pub scope_overrides: BTreeMap<String, Vec<String>>,
    pub oauth_codes: BTreeMap<String, OAuthGrant>,
    pub access_tokens: BTreeMap<String, IssuedToken>,
    pub refresh_tokens: BTreeMap<String, OAuthGrant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthGrant {
    pub client_id: String,
    /// The principal the token acts as; the consumer's own user for
    /// client credentials.
    pub user: Option<String>,
    /// Refresh tokens only: when it was first used, which starts the grace
    /// period after which a rotated-out token is dead.
    #[serde(default)]
    pub first_used_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedToken {
    pub client_id: String,
    pub user: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredIntegration {
    pub id: u64,
    pub account: String,
    pub name: String,
    pub description: Option<String>,
    pub url: String,
    pub application: String,
    pub status: String,
    pub satellite: bool,
    pub tags: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub authentication: String,
    pub linked_credentials: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub ingestion_frequency: u32,
    pub token: StoredToken,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTag {
    pub id: u64,
    pub account: String,
    pub name: String,
    pub created_at: i64,
}

/// SEI's token record. The sandbox keeps digests, not secrets: enough for
/// tests to see which credential was sent, useless to anyone reading the file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredToken {
    pub method: Option<String>,
    pub usernames: Vec<String>,
    pub secret_sha256: Vec<String>,
    /// How many times credentials were replaced after create.
    pub replacements: u32,
}

impl World {
    pub fn load(path: &Path) -> Result<World, SandboxError> {
        let state = |what: String| SandboxError::State(what);
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| state(format!("state file {} is not valid: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(World::default()),
            Err(e) => Err(state(format!("cannot read state file {}: {e}", path.display()))),
        }
    }

    /// Writes a temporary file beside the target, syncs it, and renames it
    /// over the target: a reader (or a restart after SIGKILL) sees the old
    /// document or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<(), SandboxError> {
        let state = |what: String| SandboxError::State(what);
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let bytes = serde_json::to_vec(self).map_err(|e| state(e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| state(format!("cannot write state: {e}")))?;
        tmp.write_all(&bytes)
            .map_err(|e| state(format!("cannot write state: {e}")))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| state(format!("cannot sync state: {e}")))?;
        tmp.persist(path)
            .map_err(|e| state(format!("cannot replace state file: {e}")))?;
        Ok(())
    }
}

pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}
