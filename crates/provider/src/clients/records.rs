//! Refresh reads at one SEI call per page, not per resource.
//!
//! Terraform refreshes every integration in state with its own
//! `ReadResource`, at most `-parallelism` (10) at a time, so coalescing only
//! the reads in flight would still cost one call per ten resources. Instead
//! the provider learns once per process what SEI holds: the first
//! [`DIRECT_READS`] reads are single GETs (a small configuration pays
//! nothing extra), and any read after those is answered from one snapshot of
//! the account's integrations, of every application, taken once through
//! `POST /v1/integrations/list` at 1000 records a page. The same snapshot
//! answers the plan-time name check (`crate::names`), so refreshes, list
//! resources and name checks of one process share one listing.
//!
//! Consistency: a plan is a point-in-time view, and the snapshot is taken
//! during that plan's refresh. Records this process writes are marked dirty
//! and always read fresh. A record missing from the snapshot, or a snapshot
//! that could not be taken, falls back to the record's own GET, so a paging
//! quirk or a concurrent create never makes state lose a record: only SEI's
//! own not-found for that id does.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::sei::{Integration, SeiClient, SeiError, APPLICATION};

/// Reads answered by their own GET before the snapshot is worth a call.
pub const DIRECT_READS: usize = 2;

#[derive(Debug)]
pub struct RecordReader {
    sei: SeiClient,
    reads: AtomicUsize,
    /// Some read succeeded: SEI took this endpoint, key and account.
    answered: std::sync::atomic::AtomicBool,
    /// `None` when listing failed: every later read is a GET.
    snapshot: OnceCell<Option<HashMap<String, Integration>>>,
    /// Why the snapshot could not be taken, for a caller that needs the
    /// whole list rather than one record.
    snapshot_error: Mutex<Option<SeiError>>,
    dirty: Mutex<HashSet<String>>,
}

impl RecordReader {
    pub fn new(sei: SeiClient) -> Self {
        RecordReader {
            sei,
            reads: AtomicUsize::new(0),
            answered: std::sync::atomic::AtomicBool::new(false),
            snapshot: OnceCell::new(),
            snapshot_error: Mutex::new(None),
            dirty: Mutex::new(HashSet::new()),
        }
    }

    /// The record as SEI holds it, for a refresh.
    pub async fn read(&self, id: &str, cancel: &CancellationToken) -> Result<Integration, SeiError> {
        if self.reads.fetch_add(1, Ordering::Relaxed) >= DIRECT_READS && !self.is_dirty(id) {
            if let Some(rec) = self.snapshot(cancel).await.and_then(|s| s.get(id)) {
                tracing::trace!(id, "integration read from the snapshot");
                return Ok(rec.clone());
            }
        }
        let read = self.sei.get(id, cancel).await;
        if matches!(read, Ok(_) | Err(SeiError::NotFound { .. })) {
            self.answered.store(true, Ordering::Relaxed);
        }
        read
    }

    /// Every integration of `application`, from the one snapshot a
    /// process takes (`terraform query` lists, then reads): one SEI call
    /// per 1000 records. Records this process changed are read again.
    pub async fn all(&self, application: &str, cancel: &CancellationToken) -> Result<Vec<Integration>, SeiError> {
        let snapshot = self.listing(cancel).await?;
        let mut out = Vec::with_capacity(snapshot.len());
        let of_application = |rec: &Integration| rec.application.as_deref().unwrap_or(APPLICATION) == application;
        for rec in snapshot.values().filter(|r| of_application(r)) {
            if self.is_dirty(&rec.id) {
                match self.sei.get(&rec.id, cancel).await {
                    Ok(fresh) => out.push(fresh),
                    Err(SeiError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            } else {
                out.push(rec.clone());
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The snapshot as it was listed (records this process changed since
    /// are stale: see [`RecordReader::is_dirty`]), or why it could not be
    /// taken.
    pub async fn listing(&self, cancel: &CancellationToken) -> Result<&HashMap<String, Integration>, SeiError> {
        match self.snapshot(cancel).await {
            Some(s) => Ok(s),
            None => {
                let e = self.snapshot_error.lock().ok().and_then(|e| e.clone());
                Err(e.unwrap_or_else(|| SeiError::Decode("the integration list could not be taken".into())))
            }
        }
    }

    /// Whether SEI has answered a read of this process as SEI does.
    pub fn answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// This process changed (or created, or deleted) `id`: the snapshot no
    /// longer speaks for it.
    pub fn invalidate(&self, id: &str) {
        if let Ok(mut d) = self.dirty.lock() {
            d.insert(id.to_string());
        }
    }

    /// Whether this process changed `id` since the snapshot.
    pub fn is_dirty(&self, id: &str) -> bool {
        self.dirty.lock().map(|d| d.contains(id)).unwrap_or(true)
    }

    async fn snapshot(&self, cancel: &CancellationToken) -> Option<&HashMap<String, Integration>> {
        self.snapshot
            .get_or_init(|| async {
                match self.sei.list_every_application(cancel).await {
                    Ok(records) => {
                        self.answered.store(true, Ordering::Relaxed);
                        tracing::debug!(
                            records = records.len(),
                            "took the snapshot of the account's integrations"
                        );
                        Some(records.into_iter().map(|r| (r.id.clone(), r)).collect())
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot list integrations; refreshing each with its own GET");
                        if let Ok(mut slot) = self.snapshot_error.lock() {
                            *slot = Some(e);
                        }
                        None
                    }
                }
            })
            .await
            .as_ref()
    }
}
