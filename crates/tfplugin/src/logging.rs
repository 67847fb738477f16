//! Logs in the form Terraform reads from a plugin's stderr.
//!
//! Terraform parses each stderr line of a plugin as go-hclog JSON and keeps
//! its level, so `TF_LOG=debug` shows our debug lines as debug. stdout is
//! reserved for the handshake line, so nothing here ever writes to it.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`, as Terraform users
//! expect. Our own crate logs at that level; dependencies are capped at INFO,
//! because HTTP/2 and TLS internals at DEBUG and TRACE dump header frames,
//! and those carry Authorization headers.

use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The level Terraform's environment asks for; `None` means logging is off.
pub fn level_from_env() -> Option<Level> {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("TF_LOG").ok())?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        "OFF" | "" => None,
        // Terraform treats any other value as TRACE.
        _ => Some(Level::TRACE),
    }
}

/// Installs the hclog layer for the provider process. Without `TF_LOG`,
/// warnings and errors still go out: Terraform drops them unless asked.
/// `targets` are the provider's own crates, logged at the requested level.
pub fn init_provider_logging(module: &'static str, targets: &[&str]) {
    let level = level_from_env().map_or(LevelFilter::WARN, LevelFilter::from_level);
    let _ = tracing_subscriber::registry()
        .with(HclogLayer::new(std::io::stderr).module(module))
        .with(filter_for(level, targets))
        .try_init();
}

/// The framework and `targets` at `level`, everything else at most INFO.
pub fn filter_for(level: LevelFilter, targets: &[&str]) -> Targets {
    let deps = std::cmp::min(level, LevelFilter::INFO);
    let mut filter = Targets::new().with_default(deps).with_target("tfplugin", level);
    for t in targets {
        filter = filter.with_target(*t, level);
    }
    filter
}

/// A tracing layer writing one go-hclog JSON object per event.
pub struct HclogLayer<W> {
    make_writer: W,
    module: &'static str,
}

impl<W> HclogLayer<W> {
    pub fn new(make_writer: W) -> Self {
        HclogLayer {
            make_writer,
            module: "provider",
        }
    }

    /// The `@module` of every line: the provider's name.
    pub fn module(mut self, module: &'static str) -> Self {
        self.module = module;
        self
    }
}

/// Anything that can hand out a writer per line, such as `std::io::stderr`
/// or a test buffer.
pub trait MakeLineWriter: Send + Sync + 'static {
    fn write_line(&self, line: &[u8]);
}

impl<F, W> MakeLineWriter for F
where
    F: Fn() -> W + Send + Sync + 'static,
    W: Write,
{
    fn write_line(&self, line: &[u8]) {
        let mut w = self();
        let _ = w.write_all(line);
        let _ = w.flush();
    }
}

/// The recorded fields of a span (`tf_rpc`, `tf_req_id`, `tf_resource_type`
/// …), kept in its extensions so every line logged inside it carries them,
/// as terraform-plugin-go's lines do.
struct SpanFields(Vec<(String, serde_json::Value)>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: MakeLineWriter,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = FieldCollector::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut fields = FieldCollector::default();
        values.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            match ext.get_mut::<SpanFields>() {
                Some(existing) => existing.0.extend(fields.fields),
                None => ext.insert(SpanFields(fields.fields)),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut inherited = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    inherited.extend(f.0.iter().cloned());
                }
            }
        }
        let line = format_event_with(event, self.module, inherited);
        self.make_writer.write_line(line.as_bytes());
    }
}

/// Formats one event as a go-hclog JSON line, with a trailing newline.
pub fn format_event(event: &Event<'_>) -> String {
    format_event_with(event, "provider", Vec::new())
}

/// The same, with fields inherited from the spans around the event.
fn format_event_with(event: &Event<'_>, module: &str, inherited: Vec<(String, serde_json::Value)>) -> String {
    let meta = event.metadata();
    let mut fields = FieldCollector::default();
    event.record(&mut fields);
    let mut obj = serde_json::Map::new();
    obj.insert("@level".into(), hclog_level(*meta.level()).into());
    obj.insert("@message".into(), fields.message.unwrap_or_default().into());
    obj.insert("@module".into(), module.into());
    obj.insert("@timestamp".into(), hclog_timestamp(chrono::Utc::now()).into());
    obj.insert("@caller".into(), meta.target().into());
    for (k, v) in inherited.into_iter().chain(fields.fields) {
        obj.insert(k, v);
    }
    let mut line = serde_json::Value::Object(obj).to_string();
    line.push('\n');
    line
}

/// go-hclog's `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits.
pub fn hclog_timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

#[derive(Default)]
struct FieldCollector {
    message: Option<String>,
    fields: Vec<(String, serde_json::Value)>,
}

impl Visit for FieldCollector {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.fields.push((field.name().to_string(), text.into()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_string());
        } else {
            self.fields.push((field.name().to_string(), value.into()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name().to_string(), value.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamp_has_six_fraction_digits() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 20, 15, 0).unwrap();
        assert_eq!(hclog_timestamp(t), "2026-11-25T20:15:00.000000Z");
    }
}
