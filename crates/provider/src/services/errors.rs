//! How an SEI failure reads to a user, one mapping for every type: what
//! went wrong, and which setting to look at (a 401 names the key and the
//! account, a transport failure the endpoint, a name conflict the import).

use tfplugin::codec::AttributePath;
use tfplugin::diag::Diagnostic;

use crate::clients::SeiError;

/// An SEI failure as the user should read it: what went wrong, and which
/// setting to look at.
pub(crate) fn sei_error(ctx: &super::Ctx, summary: &str, e: &SeiError, path: Option<AttributePath>) -> Diagnostic {
    let config = &ctx.services.config;
    let detail = match e {
        SeiError::NameConflict {
            name,
            existing_id,
            earlier_marker,
        } => name_conflict_detail(name, existing_id, *earlier_marker),
        SeiError::PreflightFailed { checks } => {
            let lines: Vec<String> = checks.iter().map(|c| format!("- {}: {}", c.name, c.error)).collect();
            let advice = if checks.iter().any(|c| sei_could_not_connect(&c.error)) {
                "SEI's servers could not connect to the server at `url`. That is not a credential problem, and this plan's own check, run from this machine, may well have reached it: SEI connects from Harness's network. Allow Harness's IP addresses through the firewall in front of the server, or, for a server only reachable inside your network, set `satellite = true` and run an SEI ingestion satellite there."
            } else {
                "Fix the credentials, or set skip_preflight = true to create the integration anyway."
            };
            format!(
                "SEI's preflight check (\"Validate Connection\") failed:\n{}\n{advice}",
                lines.join("\n")
            )
        }
        SeiError::Unauthorized { .. } => {
            let account = match &config.account_id {
                Some(a) => format!("the account id {a:?} (`account_id` / SEI_ACCOUNT_ID)"),
                None => "the account id (`account_id` / SEI_ACCOUNT_ID, not set)".to_string(),
            };
            format!(
                "{e}. Harness answers 401 both for a wrong key and for a key of another account: check the key (`api_key` / SEI_API_KEY) and {account}."
            )
        }
        SeiError::Transport(crate::clients::TransportError::Tls { .. }) => e.to_string(),
        // Ctrl-C is not a configuration problem.
        SeiError::Transport(crate::clients::TransportError::Cancelled) => e.to_string(),
        SeiError::Transport(_) => format!(
            "{e}. Check the provider's `endpoint` (SEI_ENDPOINT), now {}.",
            crate::clients::sei::redacted(&config.endpoint)
        ),
        other => other.to_string(),
    };
    let d = Diagnostic::error(summary, detail);
    match path {
        Some(p) => d.at(p),
        None => d,
    }
}

/// SEI's bare 500 when it cannot exchange the OAuth authorization code
/// `request` sent with Bitbucket, said as what it is and what to do, on
/// `oauth_code_wo`. `None` when `e` is not that failure.
pub(crate) fn oauth_code_refused(
    summary: &str,
    request: &crate::clients::sei::IntegrationRequest,
    e: &SeiError,
) -> Option<Diagnostic> {
    let SeiError::Server {
        status: 500, message, ..
    } = e
    else {
        return None;
    };
    if request.method.as_deref() != Some("oauth") {
        return None;
    }
    let m = message.to_ascii_lowercase();
    if !(m.contains("authorization code") || m.contains("invalid_grant")) {
        return None;
    }
    Some(
        Diagnostic::error(
            summary,
            format!("SEI could not exchange the authorization code with Bitbucket (SEI answered 500: {message}). A code works once and expires within minutes, so a code already used, or taken from an earlier authorisation, fails. Authorise SEI's OAuth consumer again (docs/guides/oauth-reauthorization.md), put the new code in `oauth_code_wo`, and for an existing integration bump `credentials_version`."),
        )
        .at(AttributePath::attr("oauth_code_wo")),
    )
}

/// Whether a preflight check's error says SEI never reached the server
/// (connection refused, unknown host, timeout, TLS), as SEI's Java client
/// words it, rather than that the server refused the credentials.
pub(crate) fn sei_could_not_connect(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    [
        "failed to connect",
        "connection refused",
        "unknownhost",
        "unknown host",
        "timed out",
        "timeout",
        "no route to host",
        "unreachable",
        "sslhandshake",
        "pkix path",
    ]
    .iter()
    .any(|needle| e.contains(needle))
}

/// Why a name is taken and what to do, at plan and at apply alike. The
/// provider never adopts a record it cannot prove this create call made, so
/// the way to manage an existing record is an import, said with the id.
pub(crate) fn name_conflict_detail(name: &str, existing_id: &str, earlier_marker: bool) -> String {
    let whose = if earlier_marker {
        format!(
            "It carries this provider's creation marker from an earlier create call: an apply that was interrupted before Terraform saved its state, or another Terraform state, directory or workspace with the same configuration. The provider adopts a record only when it can prove that the create call in progress made it, so it adopts nothing here. If integration {existing_id} is this configuration's, import it"
        )
    } else {
        format!("SEI names are unique per account, ignoring case. To manage integration {existing_id} with this resource, import it")
    };
    format!(
        "An integration named {name:?} already exists in SEI, with id {existing_id}. {whose} with an import block:\n\n  import {{\n    to = <this resource's address>\n    id = \"{existing_id}\"\n  }}\n\nor on the command line: terraform import <this resource's address> {existing_id}. Otherwise choose another name. If this create replaces an integration under create_before_destroy, the replacement cannot take the old name while the old record exists: give it a new name, or drop create_before_destroy."
    )
}
