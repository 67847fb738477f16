//! "Rotation is never silent": a resource remembers, in its private state,
//! a fingerprint of each write-only secret it last sent (or checked), and
//! the plan compares the configured secrets with them. A new token in
//! `password_wo` with the same `credentials_version` is then an update
//! with a warning on that attribute, not "No changes" while SEI keeps the
//! old token.
//!
//! The private data is a JSON object shared with the lifecycle's own keys;
//! this module owns its `credentials` key. See `services::fingerprint` for
//! why the fingerprints confirm no guess.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfplugin::codec::AttributePath;
use tfplugin::diag::{Diagnostic, Diagnostics};

use crate::secret::Secret;
use crate::services::fingerprint::new_salt;
use crate::services::Ctx;

const KEY: &str = "credentials";

/// One configured write-only secret: where it is written, under which
/// stable name it is remembered (a block's username, since blocks may be
/// reordered), and its value when known at plan.
pub(crate) struct WriteOnly<'a> {
    pub path: AttributePath,
    pub slot: String,
    pub secret: Option<&'a Secret>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    salt: String,
    /// Tells a changed SEI key from a changed secret.
    #[serde(default)]
    key_check: String,
    /// Slot → fingerprint of the secret last sent.
    #[serde(default)]
    sent: BTreeMap<String, String>,
    /// Whether the planned apply sends (or checks) the secrets, so that
    /// apply remembers them.
    #[serde(default)]
    sends: bool,
}

fn load(private: &[u8]) -> (serde_json::Map<String, serde_json::Value>, Option<Remembered>) {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(private).unwrap_or_default();
    let remembered = map
        .get(KEY)
        .and_then(|v| serde_json::from_value::<Remembered>(v.clone()).ok())
        .filter(|r| !r.salt.is_empty());
    (map, remembered)
}

fn store(mut map: serde_json::Map<String, serde_json::Value>, remembered: &Remembered) -> Vec<u8> {
    if let Ok(v) = serde_json::to_value(remembered) {
        map.insert(KEY.into(), v);
    }
    serde_json::to_vec(&map).unwrap_or_default()
}

/// At plan: the configured secrets that differ from the ones last sent,
/// each with a warning on its attribute. Prepares the planned private data
/// (a salt for a new resource). `last` and `next` say what happens to the
/// secret ("sent to SEI" / "sent", "checked" / "checked again").
pub(crate) async fn changed_since_sent(
    ctx: &Ctx,
    private: &mut Vec<u8>,
    configured: &[WriteOnly<'_>],
    (last, next): (&str, &str),
    diags: &mut Diagnostics,
) -> Vec<AttributePath> {
    let (map, remembered) = load(private);
    let mut remembered = match remembered {
        Some(r) => r,
        None => {
            // A new resource, or state from before fingerprints: nothing to
            // compare with until apply sends and remembers.
            let fresh = Remembered {
                salt: new_salt(),
                ..Default::default()
            };
            *private = store(map, &fresh);
            return Vec::new();
        }
    };
    let fingerprints = &ctx.services.fingerprints;
    let mut changed = Vec::new();
    if !remembered.sent.is_empty() && remembered.key_check != fingerprints.key_check(&remembered.salt) {
        diags.push(Diagnostic::warning(
            "Cannot tell whether write-only secrets changed",
            format!("The secrets of this resource were last {last} under another SEI API key, so the provider cannot compare the configured ones with them. If you rotated one, bump its version attribute to send it; the next apply that sends them compares again."),
        ));
        remembered.sent.clear();
    }
    for w in configured {
        let (Some(secret), Some(remembered_fingerprint)) = (w.secret, remembered.sent.get(&w.slot)) else {
            continue;
        };
        if fingerprints.fingerprint(secret, &remembered.salt).await != *remembered_fingerprint {
            diags.warning_at(
                w.path.clone(),
                "Write-only secret changed",
                format!("{} changed since it was last {last}; it will be {next}.", w.path),
            );
            changed.push(w.path.clone());
        }
    }
    remembered.sends = false;
    *private = store(map, &remembered);
    changed
}

/// At plan: whether the planned apply sends the secrets, so that it
/// remembers them.
pub(crate) fn mark_sends(private: &mut Vec<u8>, sends: bool) {
    let (map, remembered) = load(private);
    let mut remembered = remembered.unwrap_or_else(|| Remembered {
        salt: new_salt(),
        ..Default::default()
    });
    remembered.sends = sends;
    *private = store(map, &remembered);
}

/// After apply: remembers the configured secrets when the apply sent them
/// and succeeded; otherwise the private data stays as the plan left it.
pub(crate) async fn remember_sent(
    ctx: &Ctx,
    private: Vec<u8>,
    configured: &[WriteOnly<'_>],
    succeeded: bool,
) -> Vec<u8> {
    let (map, remembered) = load(&private);
    let Some(mut remembered) = remembered else {
        return private;
    };
    if !(succeeded && remembered.sends) {
        remembered.sends = false;
        return store(map, &remembered);
    }
    let fingerprints = &ctx.services.fingerprints;
    let mut sent = BTreeMap::new();
    for w in configured {
        if let Some(secret) = w.secret {
            sent.insert(w.slot.clone(), fingerprints.fingerprint(secret, &remembered.salt).await);
        }
    }
    remembered.sent = sent;
    remembered.key_check = fingerprints.key_check(&remembered.salt);
    remembered.sends = false;
    store(map, &remembered)
}
