//! Integration names, checked at plan: SEI's names are unique per account
//! ignoring case, across applications, and a collision only shows at apply
//! as SEI's bare 500, half-way through. So a plan that creates or renames
//! looks the name up in the refresh snapshot of the account (one SEI call
//! per 1000 records, taken once per process and shared with refresh and
//! `terraform query`), and remembers which names this
//! process's plans already claimed, so that two resources of one
//! configuration cannot both plan one name.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::clients::records::RecordReader;
use crate::clients::sei::{Integration, CREATE_MARKER_KEY};
use crate::clients::SeiError;

/// Who plans a name. Two plans of one resource instance (Terraform plans a
/// replacement twice: with the prior state, then as a create carrying the
/// first plan's private data) are one claimant; two resources are two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimant {
    /// The record a resource already manages, by SEI id.
    Record(String),
    /// A resource that has no record yet: a token drawn for its plan.
    New(String),
}

impl Claimant {
    pub fn new_resource() -> Self {
        Claimant::New(uuid::Uuid::new_v4().to_string())
    }

    fn record_id(&self) -> Option<&str> {
        match self {
            Claimant::Record(id) => Some(id),
            Claimant::New(_) => None,
        }
    }
}

/// Why a name cannot be planned.
#[derive(Debug, Clone, PartialEq)]
pub enum NameTaken {
    /// SEI holds another record of this name (ignoring case).
    InSei {
        id: String,
        name: String,
        /// It carries a creation marker of this provider (from an earlier,
        /// interrupted create, or another state's).
        earlier_marker: bool,
    },
    /// Another resource planned in this process plans the same name.
    InConfiguration,
}

/// One record as the name check needs it.
#[derive(Debug, Clone)]
struct Holder {
    id: String,
    name: String,
    earlier_marker: bool,
}

impl From<&Integration> for Holder {
    fn from(rec: &Integration) -> Self {
        Holder {
            id: rec.id.clone(),
            name: rec.name.clone(),
            earlier_marker: rec.metadata.contains_key(CREATE_MARKER_KEY),
        }
    }
}

#[derive(Debug, Default)]
pub struct NameIndex {
    /// Lower-cased name → the records holding it, built once from the
    /// snapshot.
    by_name: OnceCell<HashMap<String, Vec<Holder>>>,
    /// Lower-cased name → who planned it in this process.
    claims: Mutex<HashMap<String, Claimant>>,
}

fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

impl NameIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `claimant` may plan `name`. `Err` when SEI could not be
    /// listed: the caller decides whether that fails the plan.
    pub async fn check(
        &self,
        records: &RecordReader,
        name: &str,
        claimant: &Claimant,
        cancel: &CancellationToken,
    ) -> Result<Option<NameTaken>, SeiError> {
        let key = fold(name);
        if let Ok(mut claims) = self.claims.lock() {
            match claims.get(&key) {
                Some(other) if other != claimant => return Ok(Some(NameTaken::InConfiguration)),
                Some(_) => {}
                None => {
                    claims.insert(key.clone(), claimant.clone());
                }
            }
        }
        let listing = records.listing(cancel).await?;
        let by_name = self
            .by_name
            .get_or_init(|| async {
                let mut by_name: HashMap<String, Vec<Holder>> = HashMap::new();
                for rec in listing.values() {
                    by_name.entry(fold(&rec.name)).or_default().push(Holder::from(rec));
                }
                by_name
            })
            .await;
        for holder in by_name.get(&key).into_iter().flatten() {
            if Some(holder.id.as_str()) == claimant.record_id() {
                continue;
            }
            if records.is_dirty(&holder.id) {
                // Changed by this process since the listing: ask SEI.
                match records.read(&holder.id, cancel).await {
                    Err(SeiError::NotFound { .. }) => continue,
                    Ok(now) if fold(&now.name) != key => continue,
                    Ok(now) => return Ok(Some(taken(&Holder::from(&now)))),
                    Err(e) => return Err(e),
                }
            }
            return Ok(Some(taken(holder)));
        }
        Ok(None)
    }
}

fn taken(holder: &Holder) -> NameTaken {
    NameTaken::InSei {
        id: holder.id.clone(),
        name: holder.name.clone(),
        earlier_marker: holder.earlier_marker,
    }
}
