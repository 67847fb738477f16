//! The lifecycle both integration resources share, because SEI treats
//! every application's record the same way: create then read back, update
//! over the current metadata, delete that reads "gone" as success, refresh
//! that leaves state only on SEI's own not-found, import by id or `name:`,
//! and the description SEI cannot clear.

use tfplugin::codec::AttributePath;
use tfplugin::diag::{Diagnostic, Diagnostics};

use super::sei_error;
use crate::clients::records::RecordReader;
use crate::clients::sei::{Integration, IntegrationRequest};
use crate::clients::SeiError;
use crate::provider::Ctx;

/// Which resource manages which SEI application, for messages.
pub(crate) struct Kind {
    pub application: &'static str,
    /// "Bitbucket Cloud", "Bitbucket Data Center".
    pub product: &'static str,
    pub example_name: &'static str,
}

pub(crate) const CLOUD: Kind = Kind {
    application: crate::integration::APPLICATION,
    product: "Bitbucket Cloud",
    example_name: "bb-prod",
};

pub(crate) const DATA_CENTER: Kind = Kind {
    application: crate::integration::SERVER_APPLICATION,
    product: "Bitbucket Data Center",
    example_name: "bbdc-prod",
};

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
            let path = matches!(e, SeiError::NameConflict { .. }).then(|| AttributePath::attr("name"));
            diags.push(sei_error(ctx, "Cannot create the integration", &e, path));
            return None;
        }
    };
    ctx.services.invalidate(&created.id);
    match sei.get(&created.id, &ctx.cancel).await {
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
            Some(created)
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
        if let Err(e) = sei.update(id, &request, &ctx.cancel).await {
            diags.push(sei_error(ctx, "Cannot update the integration", &e, None));
            return None;
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

/// The record an import id names: `4512` or `name:bb-prod`, of this
/// resource's application.
pub(crate) async fn import(ctx: &Ctx, kind: &Kind, id: &str, diags: &mut Diagnostics) -> Option<Integration> {
    let sei = &ctx.services.sei;
    let found = if let Some(name) = id.strip_prefix("name:") {
        match sei.find_by_name(name, None, &ctx.cancel).await {
            Ok(Some(rec)) => Ok(rec),
            Ok(None) => Err(Diagnostic::error(
                "No such integration",
                format!("SEI has no integration named {:?} in this account.", name.trim()),
            )),
            Err(e) => Err(sei_error(ctx, "Cannot look the integration up", &e, None)),
        }
    } else if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
        match sei.get(id, &ctx.cancel).await {
            Ok(rec) => Ok(rec),
            Err(SeiError::NotFound { .. }) => Err(Diagnostic::error(
                "No such integration",
                format!("SEI has no integration with id {id} in this account."),
            )),
            Err(e) => Err(sei_error(ctx, "Cannot read the integration", &e, None)),
        }
    } else {
        Err(Diagnostic::error(
            "Invalid import id",
            format!(
                "Import by numeric id (`4512`) or by name (`name:{}`); got {id:?}.",
                kind.example_name
            ),
        ))
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
