//! The lifecycle both integration resources share, because SEI treats
//! every application's record the same way: create then read back, update
//! over the current metadata, delete that reads "gone" as success, refresh
//! that leaves state only on SEI's own not-found, import by id or `name:`,
//! and the description SEI cannot clear.

use tfplugin::codec::AttributePath;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::Val;

use super::{name_conflict_detail, sei_error};
use crate::clients::records::RecordReader;
use crate::clients::sei::{Integration, IntegrationRequest};
use crate::clients::{SeiError, TransportError};
use crate::integration::IntegrationRecord;
use crate::names::{Claimant, NameTaken};
use crate::services::errors::oauth_code_refused;
use crate::services::Ctx;

/// Which resource manages which SEI application, for messages.
pub struct Kind {
    pub application: &'static str,
    /// "Bitbucket Cloud", "Bitbucket Data Center".
    pub product: &'static str,
    pub example_name: &'static str,
}

impl Kind {
    pub const fn new(application: &'static str, product: &'static str, example_name: &'static str) -> Self {
        Kind {
            application,
            product,
            example_name,
        }
    }
}

/// The resource that manages an application, for "use that one instead".
fn resource_for(application: &str) -> Option<&'static str> {
    match application {
        "bitbucket" => Some("sei_bitbucket_integration"),
        "bitbucket_server" => Some("sei_bitbucket_server_integration"),
        _ => None,
    }
}

/// A create is the first write: prove the SEI connection at plan, so a
/// wrong key, account or endpoint fails the plan, not the apply. Skipped
/// when the plan already failed (one problem at a time).
pub(crate) async fn check_sei_before_create(ctx: &Ctx, diags: &mut Diagnostics) {
    if diags.has_errors() {
        return;
    }
    match ctx.services.check_sei(&ctx.cancel).await {
        Ok(()) => {}
        Err(e @ (SeiError::RateLimited { .. } | SeiError::Server { .. })) => diags.push(Diagnostic::warning(
            "Could not check the SEI connection",
            format!("{e}. The plan goes on; the apply will tell."),
        )),
        Err(e) => diags.push(sei_error(ctx, "SEI refuses this provider configuration", &e, None)),
    }
}

fn rename_conflict_detail(held: &str, id: &str, wanted: &str) -> String {
    format!("SEI already holds integration {id}, named {held:?}, and SEI names are unique per account, ignoring case, so this integration cannot be renamed to {wanted:?}. Choose another name, or rename or delete integration {id} first.")
}

/// The key of the private data that names the record a plan was made for.
/// Terraform plans a replacement twice, the second time as a create with no
/// prior state but with the first plan's private data: this is how that
/// create knows the name it plans is held by the record it replaces.
const PRIVATE_RECORD: &str = "record";

fn private_map(private: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_slice(private).unwrap_or_default()
}

/// Tag ids a plan adds that SEI does not have fail the plan on `tags`, when
/// SEI can list its tags (one listing per process). Ids the record already
/// carries are not checked again: a tag deleted in SEI later must not block
/// every plan of the integrations that had it.
pub(crate) async fn check_tags(
    ctx: &Ctx,
    prior: Option<&IntegrationRecord>,
    configured: &Val<Vec<String>>,
    diags: &mut Diagnostics,
) {
    let Val::Known(ids) = configured else { return };
    let before = prior.and_then(|p| p.tags.known()).cloned().unwrap_or_default();
    let added: Vec<&String> = ids.iter().filter(|id| !before.contains(id)).collect();
    if added.is_empty() {
        return;
    }
    let Some(tags) = ctx.services.known_tags(&ctx.cancel).await else {
        return;
    };
    let unknown: Vec<String> = added
        .into_iter()
        .filter(|id| !tags.iter().any(|t| &t.id == *id))
        .map(|id| format!("{id:?}"))
        .collect();
    if unknown.is_empty() {
        return;
    }
    diags.error_at(
        AttributePath::attr("tags"),
        "Unknown SEI tag",
        format!(
            "SEI has no tag with id {} in this account. `tags` takes SEI's tag ids; look them up by name with the `sei_tags` data source (for example `data.sei_tags.all.ids[\"platform\"]`), or create the tag in SEI first.",
            unknown.join(", ")
        ),
    );
}

/// Checks at plan that the name a create or a rename plans is free: not
/// held in SEI by another record (ignoring case, as SEI compares), and not
/// planned by another resource of this configuration. A create also proves
/// the SEI connection this way, before apply writes anything.
pub(crate) async fn check_name(
    ctx: &Ctx,
    prior: Option<&IntegrationRecord>,
    name: &Val<String>,
    private: &mut Vec<u8>,
    diags: &mut Diagnostics,
) {
    let mut data = private_map(private);
    let claimant = match prior {
        Some(prior) => {
            let Some(id) = prior.id.known().filter(|id| !id.is_empty()) else {
                return;
            };
            data.insert(PRIVATE_RECORD.into(), serde_json::Value::String(id.clone()));
            *private = serde_json::to_vec(&data).unwrap_or_default();
            let unchanged = match (prior.name.known(), name.known()) {
                (Some(a), Some(b)) => a.trim().to_lowercase() == b.trim().to_lowercase(),
                _ => true,
            };
            if unchanged {
                return;
            }
            Claimant::Record(id.clone())
        }
        None => match data.get(PRIVATE_RECORD).and_then(|v| v.as_str()) {
            Some(replaced) => Claimant::Record(replaced.to_string()),
            None => Claimant::new_resource(),
        },
    };
    if diags.has_errors() {
        // One problem at a time: no SEI call before the credentials are good.
        return;
    }
    let Some(wanted) = name.known() else {
        if prior.is_none() {
            check_sei_before_create(ctx, diags).await;
        }
        return;
    };
    let path = AttributePath::attr("name");
    match ctx.services.names.check(&ctx.services.records, wanted, &claimant, &ctx.cancel).await {
        Ok(None) => {}
        Ok(Some(NameTaken::InSei {
            id,
            name: held,
            earlier_marker,
        })) => {
            let detail = if prior.is_none() {
                name_conflict_detail(&held, &id, earlier_marker)
            } else {
                rename_conflict_detail(&held, &id, wanted)
            };
            diags.error_at(path, "Integration name already taken", detail);
        }
        Ok(Some(NameTaken::InConfiguration)) => diags.error_at(
            path,
            "Duplicate integration name",
            format!("Another integration resource in this configuration also plans the name {wanted:?}. SEI names are unique per account, ignoring case, so only one of them could be created. Give each integration its own name."),
        ),
        Err(e @ SeiError::Transport(TransportError::Tls { .. })) => {
            diags.push(sei_error(ctx, "SEI's TLS certificate is not trusted", &e, None))
        }
        Err(e @ (SeiError::RateLimited { .. } | SeiError::Server { .. })) => diags.push(Diagnostic::warning(
            "Could not check the integration name",
            format!("{e}. The plan goes on; if the name is taken, the apply will say so."),
        )),
        Err(e) => diags.push(sei_error(ctx, "SEI refuses this provider configuration", &e, None)),
    }
}

/// `description = ""` while SEI holds a description it cannot clear: an
/// error at plan, never a change apply cannot make.
pub(crate) fn refuse_uncleared_description(prior: Option<&str>, configured: Option<&str>, diags: &mut Diagnostics) {
    let prior = prior.unwrap_or_default();
    if configured == Some("") && !prior.is_empty() {
        diags.error_at(
            AttributePath::attr("description"),
            "SEI cannot clear a description",
            format!("SEI keeps a description once set (here {prior:?}), so an empty description can never be applied. Remove the attribute to keep SEI's value, or set a new text."),
        );
    }
}

/// POSTs the create and reads the record back for the computed fields.
pub(crate) async fn create(ctx: &Ctx, body: &IntegrationRequest, diags: &mut Diagnostics) -> Option<Integration> {
    let sei = &ctx.services.sei;
    let created = match sei.create(body, &ctx.cancel).await {
        Ok(c) => c,
        Err(e) => {
            if let Some(d) = oauth_code_refused("Cannot create the integration", body, &e) {
                diags.push(d);
                return None;
            }
            let path = match &e {
                SeiError::NameConflict { .. } => Some(AttributePath::attr("name")),
                SeiError::PreflightFailed { checks }
                    if checks
                        .iter()
                        .any(|c| crate::services::errors::sei_could_not_connect(&c.error)) =>
                {
                    Some(AttributePath::attr("url"))
                }
                _ => None,
            };
            diags.push(sei_error(ctx, "Cannot create the integration", &e, path));
            return None;
        }
    };
    let id = created.record.id.clone();
    ctx.services.invalidate(&id);
    if let Some(why) = &created.adopted {
        diags.push(Diagnostic::warning(
            "Adopted the integration this create made",
            format!(
                "The answer to the create of {:?} was lost or ambiguous ({why}). SEI holds integration {id} with the creation marker of this very create call, so it is the record this apply made, and it is now in state. Nothing else was created.",
                created.record.name
            ),
        ));
    }
    match sei.get(&id, &ctx.cancel).await {
        Ok(rec) => Some(rec),
        Err(e) => {
            // Created but unreadable: keep what we know, so Terraform tracks
            // the record instead of orphaning it.
            diags.push(sei_error(
                ctx,
                "Created the integration, but cannot read it back",
                &e,
                None,
            ));
            Some(created.record)
        }
    }
}

/// Reads the record as SEI holds it now, lets `body` build the PUT from it
/// (`None`: nothing to send), sends it, and reads the result back.
pub(crate) async fn update(
    ctx: &Ctx,
    id: &str,
    body: impl FnOnce(&Integration) -> Result<Option<IntegrationRequest>, Diagnostics>,
    diags: &mut Diagnostics,
) -> Option<Integration> {
    let sei = &ctx.services.sei;
    let current = match sei.get(id, &ctx.cancel).await {
        Ok(c) => c,
        Err(e) => {
            diags.push(sei_error(
                ctx,
                "Cannot read the integration before updating it",
                &e,
                None,
            ));
            return None;
        }
    };
    ctx.services.invalidate(id);
    let request = body(&current).map_err(|e| diags.extend(e)).ok()?;
    if let Some(request) = request {
        match sei.update(id, &request, &ctx.cancel).await {
            Ok(()) => {}
            Err(SeiError::NameConflict { name, existing_id, .. }) => {
                diags.error_at(
                    AttributePath::attr("name"),
                    "Integration name already taken",
                    rename_conflict_detail(&name, &existing_id, &request.name),
                );
                return None;
            }
            Err(e) => {
                let refused = oauth_code_refused("Cannot update the integration", &request, &e);
                diags.push(refused.unwrap_or_else(|| sei_error(ctx, "Cannot update the integration", &e, None)));
                return None;
            }
        }
    }
    match sei.get(id, &ctx.cancel).await {
        Ok(rec) => Some(rec),
        Err(e) => {
            diags.push(sei_error(
                ctx,
                "Updated the integration, but cannot read it back",
                &e,
                None,
            ));
            None
        }
    }
}

pub(crate) async fn delete(ctx: &Ctx, id: &str, diags: &mut Diagnostics) {
    ctx.services.invalidate(id);
    if let Err(e) = ctx.services.sei.delete(id, &ctx.cancel).await {
        diags.push(sei_error(ctx, "Cannot delete the integration", &e, None));
    }
}

/// What a refresh found.
pub(crate) enum Refreshed {
    Found(Box<Integration>),
    /// SEI itself said so; the warning is already in the diagnostics.
    Gone,
    /// Anything else: state stays as it is.
    Failed,
}

pub(crate) async fn refresh(
    ctx: &Ctx,
    reader: &RecordReader,
    id: &str,
    name: &str,
    diags: &mut Diagnostics,
) -> Refreshed {
    match reader.read(id, &ctx.cancel).await {
        Ok(rec) => Refreshed::Found(Box::new(rec)),
        Err(SeiError::NotFound { .. }) => {
            tracing::info!(id = %id, name, "integration is gone from SEI; removing it from state");
            diags.push(Diagnostic::warning(
                "Integration deleted outside Terraform",
                format!("SEI says integration {name:?} (id {id}) no longer exists, so it leaves the state; the next apply creates it again."),
            ));
            Refreshed::Gone
        }
        Err(e) => {
            diags.push(sei_error(ctx, "Cannot read the integration", &e, None));
            Refreshed::Failed
        }
    }
}

/// What an import id asks for.
#[derive(Debug, PartialEq, Eq)]
enum ImportTarget {
    Id(String),
    Name(String),
}

/// Reads an import id, `4512` or `name:bb-prod`, saying what is wrong with
/// one that is neither and how to write it.
fn import_target(id: &str, kind: &Kind) -> Result<ImportTarget, Diagnostic> {
    let invalid = |why: String| Diagnostic::error("Invalid import id", why);
    let example = kind.example_name;
    if !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(ImportTarget::Id(id.to_string()));
    }
    let prefix = id.get(..5).filter(|p| p.eq_ignore_ascii_case("name:"));
    let Some(raw) = prefix.map(|_| &id[5..]) else {
        let lower = id.to_ascii_lowercase();
        let hint = if lower.starts_with("name=") || lower.starts_with("name ") || lower.starts_with("name/") {
            format!(" To import by name, write a colon: `name:{}`.", id[5..].trim())
        } else if id.trim() != id && id.trim().bytes().all(|b| b.is_ascii_digit()) && !id.trim().is_empty() {
            format!(" Remove the spaces: `{}`.", id.trim())
        } else {
            String::new()
        };
        return Err(invalid(format!(
            "Import by numeric id (`4512`) or by name (`name:{example}`); got {id:?}.{hint}"
        )));
    };
    let name = raw.trim();
    let unquoted = name.trim_matches(|c| c == '"' || c == '\'');
    if name.is_empty() {
        return Err(invalid(format!(
            "`name:` needs the integration's name after the colon, such as `name:{example}`."
        )));
    }
    if unquoted != name {
        return Err(invalid(format!(
            "Write the name without quotes: `name:{unquoted}` (quote the whole id in the shell if it has spaces)."
        )));
    }
    if name.chars().count() > 50 {
        return Err(invalid(format!(
            "SEI names have at most 50 characters, so no integration is named {name:?}; check the name."
        )));
    }
    Ok(ImportTarget::Name(name.to_string()))
}

/// The names of the account's integrations nearest to `name`, for a
/// "did you mean" after a name that is not found.
async fn nearest_names(ctx: &Ctx, kind: &Kind, name: &str) -> String {
    let Ok(records) = ctx.services.records.all(kind.application, &ctx.cancel).await else {
        return String::new();
    };
    let mut near: Vec<(usize, &str)> = records
        .iter()
        .map(|r| {
            (
                strsim::levenshtein(&r.name.to_lowercase(), &name.to_lowercase()),
                r.name.as_str(),
            )
        })
        .filter(|(d, _)| *d <= 3)
        .collect();
    near.sort();
    match near.first() {
        Some((_, n)) => format!(" Did you mean `name:{n}`?"),
        None => String::new(),
    }
}

/// The record an import id names: `4512` or `name:bb-prod`, of this
/// resource's application.
pub(crate) async fn import(ctx: &Ctx, kind: &Kind, id: &str, diags: &mut Diagnostics) -> Option<Integration> {
    let sei = &ctx.services.sei;
    let found = match import_target(id, kind) {
        Err(d) => Err(d),
        Ok(ImportTarget::Name(name)) => match sei.find_by_name(&name, None, &ctx.cancel).await {
            Ok(Some(rec)) => Ok(rec),
            Ok(None) => Err(Diagnostic::error(
                "No such integration",
                format!(
                    "SEI has no integration named {name:?} in this account.{}",
                    nearest_names(ctx, kind, &name).await
                ),
            )),
            Err(e) => Err(sei_error(ctx, "Cannot look the integration up", &e, None)),
        },
        Ok(ImportTarget::Id(id)) => match sei.get(&id, &ctx.cancel).await {
            Ok(rec) => Ok(rec),
            Err(SeiError::NotFound { .. }) => Err(Diagnostic::error(
                "No such integration",
                format!("SEI has no integration with id {id} in this account."),
            )),
            Err(e) => Err(sei_error(ctx, "Cannot read the integration", &e, None)),
        },
    };
    let rec = match found {
        Ok(r) => r,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    if let Some(other) = rec.application.as_deref().filter(|a| *a != kind.application) {
        let instead = resource_for(other)
            .map(|r| format!(" Import it into a {r} resource instead."))
            .unwrap_or_default();
        diags.push(Diagnostic::error(
            format!("Not a {} integration", kind.product),
            format!(
                "Integration {} ({:?}) has application {other:?}; this resource manages application {:?}.{instead}",
                rec.id, rec.name, kind.application
            ),
        ));
        return None;
    }
    Some(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str) -> Result<ImportTarget, Diagnostic> {
        import_target(
            id,
            &<crate::resources::Cloud as crate::resources::IntegrationKind>::KIND,
        )
    }

    #[test]
    fn import_ids_that_are_almost_right_say_how_to_write_them() {
        assert_eq!(target("4512").unwrap(), ImportTarget::Id("4512".into()));
        assert_eq!(target("name:bb-prod").unwrap(), ImportTarget::Name("bb-prod".into()));
        assert_eq!(target("Name: bb-prod ").unwrap(), ImportTarget::Name("bb-prod".into()));
        let cases = [
            ("name=bb-prod", "`name:bb-prod`"),
            ("name:", "needs the integration's name after the colon"),
            ("name:   ", "needs the integration's name after the colon"),
            ("name:\"bb-prod\"", "without quotes: `name:bb-prod`"),
            (" 4512", "Remove the spaces: `4512`"),
            ("45/12", "Import by numeric id"),
        ];
        for (id, hint) in cases {
            let err = target(id).unwrap_err().detail;
            assert!(err.contains(hint), "{id:?}: {err}");
        }
        assert!(target(&format!("name:{}", "x".repeat(51)))
            .unwrap_err()
            .detail
            .contains("at most 50"));
    }
}
