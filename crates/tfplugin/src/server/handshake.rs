//! The go-plugin handshake: cookie, protocol version, port, and the one line
//! on stdout that tells Terraform where to connect.

use std::io::Write;

use super::transport::PluginAddr;
use crate::framework::ProviderInfo;
use base64::Engine;
use tokio::net::TcpListener;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const CORE_PROTOCOL_VERSION: u32 = 1;
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// The binary was run by hand, not by Terraform: the message says what it
/// is and how to use it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotLaunchedByTerraform(String);

/// Refuses to run unless Terraform launched us, with a message for the human
/// who ran the binary by hand.
pub fn check_magic_cookie(
    env: &dyn Fn(&str) -> Option<String>,
    info: &ProviderInfo,
) -> Result<(), NotLaunchedByTerraform> {
    if env(MAGIC_COOKIE_KEY).as_deref() == Some(MAGIC_COOKIE_VALUE) {
        return Ok(());
    }
    Err(NotLaunchedByTerraform(format!(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         \n\
         {} is a Terraform provider: Terraform starts it when a configuration\n\
         uses `source = \"{}\"`. To use a local build, point a CLI config file\n\
         (TF_CLI_CONFIG_FILE) at its directory with dev_overrides, then run `terraform plan`.\n\
         To attach a debugger, run it with --debug and follow the printed instructions.\n\
         Version {}.",
        info.binary(),
        info.source,
        info.version
    )))
}

/// Picks protocol 6 when offered. When it is not, go-plugin's servers answer
/// with their own version anyway and let the client report the mismatch,
/// which gives the user a better error than silence.
pub fn negotiate_version(offered: Option<&str>) -> u32 {
    let offers_ours = offered
        .unwrap_or("")
        .split(',')
        .any(|v| v.trim().parse::<u32>().ok() == Some(APP_PROTOCOL_VERSION));
    if !offers_ours {
        tracing::warn!(
            offered = offered.unwrap_or(""),
            "Terraform did not offer plugin protocol 6; this provider needs Terraform 1.0 or later"
        );
    }
    APP_PROTOCOL_VERSION
}

/// `1|6|unix|/tmp/plugin123|grpc|CERT` (or `tcp|127.0.0.1:PORT`), where
/// CERT is the server certificate's DER in unpadded standard base64, or
/// empty when TLS is off.
pub fn handshake_line(app_version: u32, addr: &PluginAddr, cert_der: Option<&[u8]>) -> String {
    let cert = cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    let network = addr.network();
    format!("{CORE_PROTOCOL_VERSION}|{app_version}|{network}|{addr}|grpc|{cert}\n")
}

pub fn print_handshake_line(app_version: u32, addr: &PluginAddr, cert_der: Option<&[u8]>) {
    let line = handshake_line(app_version, addr, cert_der);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(line.as_bytes());
    let _ = stdout.flush();
}

/// Binds a loopback port inside `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`
/// (default 10000–25000), starting at a random offset so parallel plugin
/// processes do not race for the same first port.
pub async fn bind_plugin_port(env: &dyn Fn(&str) -> Option<String>) -> std::io::Result<TcpListener> {
    let parse = |k: &str, d: u16| env(k).and_then(|v| v.trim().parse::<u16>().ok()).unwrap_or(d);
    let (min, max) = (parse("PLUGIN_MIN_PORT", 10000), parse("PLUGIN_MAX_PORT", 25000));
    if min == 0 || max < min {
        return TcpListener::bind(("127.0.0.1", 0)).await;
    }
    let span = u32::from(max - min) + 1;
    let start = rand::random::<u32>() % span;
    let mut last_err = None;
    for i in 0..span {
        let port = min + u16::try_from((start + i) % span).unwrap_or(0);
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Ok(l),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free port in the plugin range")))
}

/// The `TF_REATTACH_PROVIDERS` value for a provider served by hand.
pub fn reattach_json(provider_address: &str, pid: u32, addr: &PluginAddr) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": addr.network(), "String": addr.to_string()},
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn handshake_line_has_six_fields_and_unpadded_cert() {
        let addr = PluginAddr::Tcp("127.0.0.1:12345".parse::<SocketAddr>().unwrap());
        let line = handshake_line(6, &addr, Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|tcp|127.0.0.1:12345|grpc|AQIDBA\n");
        assert_eq!(handshake_line(6, &addr, None), "1|6|tcp|127.0.0.1:12345|grpc|\n");
        let unix = PluginAddr::Unix("/tmp/plugin42".into());
        assert_eq!(handshake_line(6, &unix, None), "1|6|unix|/tmp/plugin42|grpc|\n");
        assert!(reattach_json("r/a/b", 1, &unix).contains(r#""Addr":{"Network":"unix","String":"/tmp/plugin42"}"#));
    }

    #[test]
    fn cookie_is_required() {
        let info = ProviderInfo {
            name: "demo",
            source: "acme/demo",
            version: "1.2.3",
        };
        let none = |_: &str| None;
        let msg = check_magic_cookie(&none, &info).unwrap_err().to_string();
        assert!(msg.starts_with("This binary is a plugin."));
        assert!(msg.contains("terraform-provider-demo is a Terraform provider"), "{msg}");
        assert!(
            msg.contains("`source = \"acme/demo\"`") && msg.contains("Version 1.2.3."),
            "{msg}"
        );
        let good = |k: &str| (k == MAGIC_COOKIE_KEY).then(|| MAGIC_COOKIE_VALUE.to_string());
        assert!(check_magic_cookie(&good, &info).is_ok());
    }

    #[test]
    fn always_answers_six() {
        assert_eq!(negotiate_version(Some("6,5")), 6);
        assert_eq!(negotiate_version(Some("5,6")), 6);
        assert_eq!(negotiate_version(Some("5")), 6);
    }
}
