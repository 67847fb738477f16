//! Per-process cache and single-flight for credential checks.
//!
//! Keys are an HMAC of the credential under a random per-process key: the
//! secret is never a map key, never logged, and the key cannot be reversed
//! or compared across processes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::{is_transient, CredentialCheck, IdentityReply, ListingReply, MembershipReply};
use crate::clients::BitbucketClient;

pub(crate) type Key = [u8; 32];
pub(crate) type Slots<V> = Mutex<HashMap<Key, Arc<OnceCell<V>>>>;

/// An HMAC of `parts` (length-prefixed) under a per-process key.
pub(crate) fn keyed(hmac_key: &[u8; 32], parts: &[&[u8]]) -> Key {
    // HMAC accepts keys of any length; 32 bytes cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(hmac_key) else {
        return [0; 32];
    };
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

pub struct CredentialValidator {
    client: BitbucketClient,
    hmac_key: [u8; 32],
    identities: Slots<IdentityReply>,
    memberships: Slots<MembershipReply>,
    listings: Slots<ListingReply>,
}

impl fmt::Debug for CredentialValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialValidator")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl CredentialValidator {
    pub fn new(client: BitbucketClient) -> Self {
        CredentialValidator {
            client,
            hmac_key: rand::random(),
            identities: Mutex::new(HashMap::new()),
            memberships: Mutex::new(HashMap::new()),
            listings: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn client(&self) -> &BitbucketClient {
        &self.client
    }

    fn key(&self, parts: &[&[u8]]) -> Key {
        keyed(&self.hmac_key, parts)
    }

    fn credential_key(&self, check: &CredentialCheck) -> Key {
        self.key(&[
            check.auth_type.as_str().as_bytes(),
            check.username.as_bytes(),
            check.secret.expose().as_bytes(),
        ])
    }

    pub(crate) async fn identity(&self, check: &CredentialCheck, cancel: &CancellationToken) -> IdentityReply {
        let key = self.credential_key(check);
        let auth = check.auth();
        single_flight(
            &self.identities,
            key,
            || async { self.client.user(&auth, cancel).await },
            |r| is_transient(&r.result),
        )
        .await
    }

    /// The workspaces the credential's account is a member of: the one
    /// answer to "can it see workspace X", since Bitbucket lists a
    /// workspace's public repositories to anyone.
    pub(crate) async fn memberships(&self, check: &CredentialCheck, cancel: &CancellationToken) -> MembershipReply {
        let key = self.credential_key(check);
        let auth = check.auth();
        single_flight(
            &self.memberships,
            key,
            || async { self.client.user_workspaces(&auth, cancel).await },
            |r| is_transient(&r.result),
        )
        .await
    }

    pub(crate) async fn repositories(
        &self,
        check: &CredentialCheck,
        workspace: &str,
        cancel: &CancellationToken,
    ) -> ListingReply {
        let cred = self.credential_key(check);
        let key = self.key(&[&cred, workspace.as_bytes()]);
        let auth = check.auth();
        single_flight(
            &self.listings,
            key,
            || async { self.client.repositories(&auth, workspace, cancel).await },
            |r| is_transient(&r.result),
        )
        .await
    }
}

/// Runs `fetch` once per key; concurrent callers wait for the same result.
/// Transient failures are handed to the waiters but not kept, so a later
/// check asks again.
pub(crate) async fn single_flight<V, F, Fut>(slots: &Slots<V>, key: Key, fetch: F, transient: impl Fn(&V) -> bool) -> V
where
    V: Clone,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = V>,
{
    let (cell, shared) = {
        let mut map = slots.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some(cell) => (cell.clone(), true),
            None => {
                let cell = Arc::new(OnceCell::new());
                map.insert(key, cell.clone());
                (cell, false)
            }
        }
    };
    if shared {
        tracing::trace!(
            in_flight = !cell.initialized(),
            "credential check answered from the cache"
        );
    }
    let value = cell.get_or_init(fetch).await.clone();
    if transient(&value) {
        let mut map = slots.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            map.remove(&key);
        }
    }
    value
}
