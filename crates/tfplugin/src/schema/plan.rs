//! The generic part of planning, shared by every managed resource.

use crate::codec::{AttributePath, Value};

use super::{Block, PlanModifier};

/// Plans what the schema alone can decide. `proposed` is Terraform's proposed
/// new state: configuration, with prior values for computed attributes the
/// configuration leaves null.
///
/// - write-only attributes are null;
/// - a null optional attribute with a default takes the default;
/// - on create, computed attributes without a value become unknown;
/// - `UseStateForUnknown` attributes keep their prior value.
///
/// Resources refine the result: only they know which computed values an
/// update will really change.
pub fn plan_generic(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> Value {
    let creating = prior.is_null();
    let mut planned = block.null_write_only(proposed);
    for a in &block.attributes {
        if a.write_only {
            continue;
        }
        let in_config = config.get(a.name);
        if !in_config.is_null() {
            continue;
        }
        if let Some(default) = a.default_value() {
            planned.set_attr(a.name, default.clone());
            continue;
        }
        if !a.computed {
            continue;
        }
        let prior_value = prior.get(a.name);
        let keep = a.has(|m| matches!(m, PlanModifier::UseStateForUnknown));
        if creating {
            planned.set_attr(a.name, Value::unknown());
        } else if keep && !prior_value.is_null() {
            planned.set_attr(a.name, prior_value.clone());
        }
    }
    planned
}

/// Attributes and blocks marked `RequiresReplace` whose planned value differs
/// from the prior one.
pub fn requires_replace_paths(block: &Block, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    if prior.is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let replaces = |m: &PlanModifier| matches!(m, PlanModifier::RequiresReplace);
    for a in &block.attributes {
        if a.modifiers.iter().any(replaces) && !prior.get(a.name).set_eq(planned.get(a.name)) {
            out.push(AttributePath::attr(a.name));
        }
    }
    for b in &block.blocks {
        if b.modifiers.iter().any(replaces) && !prior.get(b.name).set_eq(planned.get(b.name)) {
            out.push(AttributePath::attr(b.name));
        }
    }
    out
}
