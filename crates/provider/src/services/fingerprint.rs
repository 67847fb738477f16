//! Fingerprints of write-only secrets, so a plan can tell that the token in
//! `password_wo` is not the one last sent to SEI ("rotation is never
//! silent") without state ever holding anything that confirms a guess.
//!
//! A fingerprint is HMAC-SHA-256 over the resource's own random salt, keyed
//! with Argon2id(secret) whose Argon2 secret is the SEI API key. So state
//! (private state included) holds no secret, no unkeyed hash of one and
//! nothing testable offline without the SEI key, and each guess costs an
//! Argon2id run. The slow step depends only on the secret and the SEI key,
//! so it runs once per distinct secret per process: a plan of 1000
//! integrations sharing 2 tokens pays twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::{Algorithm, Argon2, Params, Version};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Secret digest → its slow step, computed by the first caller.
type SlowSteps = Mutex<HashMap<[u8; 32], Arc<OnceCell<[u8; 32]>>>>;

/// Argon2's own salt for the slow step: fixed, because the per-resource
/// salt goes into the HMAC and the slow step must be shared across
/// resources. The SEI key, Argon2's secret input, is what makes it keyed.
const DOMAIN: &[u8] = b"terraform-provider-sei/credential-fingerprint/v1";

/// Stored fingerprints say their scheme, so a later scheme can tell them
/// apart instead of reporting every secret as changed.
const SCHEME: &str = "v1";

/// 4 MiB and 3 passes: milliseconds per secret, the same for every offline
/// guess, which needs the SEI key besides. Below OWASP's password-storage
/// minimum (19 MiB, 2 passes) on purpose: every plan process pays it per
/// distinct secret, and scripts/bench.sh measured 19 MiB at 4x the
/// provider's memory, 8 MiB still over its 20 MB budget.
fn argon2(key: &[u8]) -> Result<Argon2<'_>, argon2::Error> {
    let params = Params::new(4 * 1024, 3, 1, Some(32))?;
    Argon2::new_with_secret(key, Algorithm::Argon2id, Version::V0x13, params)
}

/// Computes and caches the slow step; shared by every resource of a process.
pub struct Fingerprinter {
    sei_key: Secret,
    /// In memory only, keyed by a digest so the map holds no second copy of
    /// each secret.
    slow: SlowSteps,
    /// One slow step at a time, so the process holds one Argon2 block of
    /// memory however many distinct secrets a plan meets at once.
    one_at_a_time: tokio::sync::Mutex<()>,
    computed: AtomicUsize,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fingerprinter")
            .field("computed", &self.computed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Fingerprinter {
    pub fn new(sei_key: Secret) -> Self {
        Fingerprinter {
            sei_key,
            slow: Mutex::new(HashMap::new()),
            one_at_a_time: tokio::sync::Mutex::new(()),
            computed: AtomicUsize::new(0),
        }
    }

    /// How many slow steps this process ran (the tests' and logs' measure
    /// of "once per distinct secret").
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }

    /// Argon2id of `input` with the SEI key as Argon2's secret, off the
    /// async threads.
    async fn argon2id(&self, input: &[u8]) -> [u8; 32] {
        let key = self.sei_key.expose().as_bytes().to_vec();
        let input = input.to_vec();
        let _turn = self.one_at_a_time.lock().await;
        tokio::task::spawn_blocking(move || {
            let mut out = [0u8; 32];
            // The parameters are constants Argon2 accepts, and the SEI key
            // is far below Argon2's secret limit; should either fail, the
            // zero key makes every secret compare as changed, which re-sends
            // rather than staying silent.
            if let Ok(a) = argon2(&key) {
                let _ = a.hash_password_into(&input, DOMAIN, &mut out);
            }
            out
        })
        .await
        .unwrap_or([0u8; 32])
    }

    async fn slow_step(&self, secret: &str) -> [u8; 32] {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let cell = {
            let mut map = self.slow.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(digest).or_default().clone()
        };
        *cell
            .get_or_init(|| async {
                let out = self.argon2id(secret.as_bytes()).await;
                let n = self.computed.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::debug!(
                    computed = n,
                    "computed the fingerprint key of a write-only secret (Argon2id)"
                );
                out
            })
            .await
    }

    fn mac(key: &[u8; 32], salt: &str) -> String {
        // HMAC zero-pads a short key to the block size; padding here gives
        // the same MAC through the infallible constructor.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        let mut mac = <HmacSha256 as KeyInit>::new(&block.into());
        mac.update(salt.as_bytes());
        format!("{SCHEME}:{}", hex::encode(mac.finalize().into_bytes()))
    }

    /// The fingerprint of `secret` for the resource whose salt is `salt`.
    pub async fn fingerprint(&self, secret: &Secret, salt: &str) -> String {
        Self::mac(&self.slow_step(secret.expose()).await, salt)
    }

    /// A value that changes when the SEI key changes, so a plan can tell "the
    /// secret changed" from "the key it was fingerprinted under changed".
    /// An HMAC keyed with the SEI key needs no slow step: the key is a long
    /// random token, not something a person chose, so it cannot be guessed.
    pub fn key_check(&self, salt: &str) -> String {
        let mut key = Sha256::new();
        key.update(DOMAIN);
        key.update(self.sei_key.expose().as_bytes());
        Self::mac(&key.finalize().into(), &format!("key-check:{salt}"))
    }
}

/// A new random salt for a resource's fingerprints.
pub fn new_salt() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_slow_step_runs_once_per_distinct_secret() {
        let f = Arc::new(Fingerprinter::new(Secret::new("sei-key")));
        let mut tasks = Vec::new();
        for i in 0..40 {
            let f = f.clone();
            tasks.push(tokio::spawn(async move {
                let token = if i % 2 == 0 { "token-a" } else { "token-b" };
                f.fingerprint(&Secret::new(token), &format!("salt-{i}")).await
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(f.computed(), 2);
    }

    #[tokio::test]
    async fn fingerprints_depend_on_secret_salt_and_sei_key() {
        let f = Fingerprinter::new(Secret::new("sei-key"));
        let a = f.fingerprint(&Secret::new("token-a"), "s1").await;
        assert_eq!(a, f.fingerprint(&Secret::new("token-a"), "s1").await);
        assert_ne!(a, f.fingerprint(&Secret::new("token-b"), "s1").await);
        assert_ne!(a, f.fingerprint(&Secret::new("token-a"), "s2").await);
        let other_key = Fingerprinter::new(Secret::new("other-key"));
        assert_ne!(a, other_key.fingerprint(&Secret::new("token-a"), "s1").await);
        assert_ne!(f.key_check("s1"), other_key.key_check("s1"));
        // Nothing a guesser could check without the SEI key.
        let plain = hex::encode(Sha256::digest(b"token-a"));
        assert!(!a.contains(&plain));
        assert!(a.starts_with("v1:") && a.len() == 3 + 64);
    }
}
