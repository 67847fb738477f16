//! A small declarative schema model.
//!
//! Resources state their attributes and nested blocks once, here, and get
//! from that one statement: the cty type used to decode their values, the
//! protocol schema Terraform reads, static validation, and the generic parts
//! of planning (write-only nulling, defaults, requires-replace).

mod plan;
pub mod validators;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use plan::{plan_generic, requires_replace_paths};
pub use validators::Validator;

use crate::codec::{AttributePath, Type, Value};
use crate::diag::Diagnostics;

/// A plan modifier: a rule for an attribute's planned value.
#[derive(Clone, Debug)]
pub enum PlanModifier {
    /// A change of this attribute destroys and re-creates the object.
    RequiresReplace,
    /// A computed value that never changes once known: keep the prior value
    /// instead of planning it unknown.
    UseStateForUnknown,
    /// The value to plan when the configuration leaves the attribute null.
    Default(Value),
}

#[derive(Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    /// For a write-only attribute: the stored attribute that can take its
    /// place on a Terraform without write-only support.
    pub stored_alternative: Option<&'static str>,
    /// Markdown.
    pub description: String,
    pub deprecation: Option<String>,
    pub validators: Vec<Arc<dyn Validator>>,
    pub modifiers: Vec<PlanModifier>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .field("sensitive", &self.sensitive)
            .field("write_only", &self.write_only)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    fn new(name: &'static str, ty: Type) -> Self {
        Attribute {
            name,
            ty,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            stored_alternative: None,
            description: String::new(),
            deprecation: None,
            validators: Vec::new(),
            modifiers: Vec::new(),
        }
    }

    pub fn required(name: &'static str, ty: Type) -> Self {
        Attribute {
            required: true,
            ..Attribute::new(name, ty)
        }
    }

    pub fn optional(name: &'static str, ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Attribute::new(name, ty)
        }
    }

    pub fn computed(name: &'static str, ty: Type) -> Self {
        Attribute {
            computed: true,
            ..Attribute::new(name, ty)
        }
    }

    /// Optional, and filled in by the provider when the configuration is silent.
    pub fn optional_computed(name: &'static str, ty: Type) -> Self {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::new(name, ty)
        }
    }

    pub fn describe(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never stored in plan or state; Terraform 1.11 and later.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Names the stored attribute to suggest where write-only values are
    /// refused.
    pub fn stored_alternative(mut self, attribute: &'static str) -> Self {
        self.stored_alternative = Some(attribute);
        self
    }

    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecation = Some(message.into());
        self
    }

    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }

    pub fn modify(mut self, m: PlanModifier) -> Self {
        self.modifiers.push(m);
        self
    }

    pub fn default_value(&self) -> Option<&Value> {
        self.modifiers.iter().find_map(|m| match m {
            PlanModifier::Default(v) => Some(v),
            _ => None,
        })
    }

    pub fn has(&self, wanted: fn(&PlanModifier) -> bool) -> bool {
        self.modifiers.iter().any(wanted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    pub modifiers: Vec<PlanModifier>,
}

impl NestedBlock {
    pub fn list(name: &'static str, block: Block) -> Self {
        NestedBlock {
            name,
            nesting: Nesting::List,
            block,
            min_items: 0,
            max_items: 0,
            modifiers: Vec::new(),
        }
    }

    pub fn modify(mut self, m: PlanModifier) -> Self {
        self.modifiers.push(m);
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new(description: impl Into<String>) -> Self {
        Block {
            description: description.into(),
            ..Block::default()
        }
    }

    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The object type of this block's values.
    pub fn value_type(&self) -> Type {
        let mut attributes: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.to_string(), a.ty.clone()))
            .collect();
        for b in &self.blocks {
            let inner = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
            };
            attributes.insert(b.name.to_string(), ty);
        }
        Type::Object {
            attributes,
            optional: BTreeSet::new(),
        }
    }

    /// Runs every attribute validator over known, non-null values.
    pub fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if value.is_null() || matches!(value, Value::Unknown(_)) {
            return;
        }
        for a in &self.attributes {
            let v = value.get(a.name);
            let p = path.push_attr(a.name);
            if a.required && v.is_null() {
                // Terraform checks that a required argument is written, not
                // that it is non-null: `name = null` reaches the provider.
                diags.error_at(
                    p,
                    "Missing Configuration for Required Attribute",
                    format!("{} is required and cannot be null. Set it to a value.", a.name),
                );
                continue;
            }
            if let Some(at) = null_element(v) {
                diags.error_at(
                    p,
                    "Invalid null element",
                    format!(
                        "{} holds null at element {at}; every element must be a value. Remove the null (a `compact()` or a conditional that yields null?).",
                        a.name
                    ),
                );
                continue;
            }
            if v.is_null() || !v.is_wholly_known() {
                continue;
            }
            for validator in &a.validators {
                validator.validate(v, &p, diags);
            }
        }
        for b in &self.blocks {
            let v = value.get(b.name);
            let p = path.push_attr(b.name);
            match b.nesting {
                Nesting::Single => b.block.validate(v, &p, diags),
                Nesting::List | Nesting::Set => {
                    for (i, item) in v.elements().iter().enumerate() {
                        b.block.validate(item, &p.push_index(i), diags);
                    }
                }
            }
        }
    }

    /// A warning on every deprecated attribute the configuration sets, with
    /// its path so Terraform shows the line: Terraform itself warns only
    /// where a deprecated attribute is referenced. An attribute that is the
    /// stored alternative of a write-only one is not warned about for a
    /// client without write-only support (OpenTofu before 1.11): it is the
    /// only way there.
    pub fn deprecation_warnings(
        &self,
        value: &Value,
        path: &AttributePath,
        write_only_allowed: bool,
        diags: &mut Diagnostics,
    ) {
        if value.is_null() || matches!(value, Value::Unknown(_)) {
            return;
        }
        let only_way = |name: &str| {
            !write_only_allowed
                && self
                    .attributes
                    .iter()
                    .any(|a| a.write_only && a.stored_alternative == Some(name))
        };
        for a in &self.attributes {
            let Some(message) = &a.deprecation else { continue };
            if value.get(a.name).is_null() || only_way(a.name) {
                continue;
            }
            diags.warning_at(
                path.push_attr(a.name),
                "Deprecated attribute",
                format!("{} is deprecated. {message}", a.name),
            );
        }
        for b in &self.blocks {
            let v = value.get(b.name);
            let p = path.push_attr(b.name);
            match b.nesting {
                Nesting::Single => b.block.deprecation_warnings(v, &p, write_only_allowed, diags),
                Nesting::List | Nesting::Set => {
                    for (i, item) in v.elements().iter().enumerate() {
                        b.block
                            .deprecation_warnings(item, &p.push_index(i), write_only_allowed, diags);
                    }
                }
            }
        }
    }

    /// Paths of write-only attributes that hold a value, for refusing them
    /// when the calling Terraform cannot keep them out of state.
    /// Each comes with the attribute's stored alternative, if it has one.
    pub fn set_write_only_paths(
        &self,
        value: &Value,
        path: &AttributePath,
    ) -> Vec<(AttributePath, Option<&'static str>)> {
        let mut out = Vec::new();
        for a in &self.attributes {
            if a.write_only && !value.get(a.name).is_null() {
                out.push((path.push_attr(a.name), a.stored_alternative));
            }
        }
        for b in &self.blocks {
            let p = path.push_attr(b.name);
            match b.nesting {
                Nesting::Single => out.extend(b.block.set_write_only_paths(value.get(b.name), &p)),
                Nesting::List | Nesting::Set => {
                    for (i, item) in value.get(b.name).elements().iter().enumerate() {
                        out.extend(b.block.set_write_only_paths(item, &p.push_index(i)));
                    }
                }
            }
        }
        out
    }

    /// The same value with every write-only attribute null, as Terraform
    /// requires of plans and state.
    pub fn null_write_only(&self, value: &Value) -> Value {
        let Value::Object(map) = value else {
            return value.clone();
        };
        let mut out = map.clone();
        for a in &self.attributes {
            if a.write_only {
                out.insert(a.name.to_string(), Value::Null);
            }
        }
        for b in &self.blocks {
            if let Some(v) = out.get(b.name) {
                let nulled = match v {
                    Value::List(items) => Value::List(items.iter().map(|i| b.block.null_write_only(i)).collect()),
                    Value::Set(items) => Value::Set(items.iter().map(|i| b.block.null_write_only(i)).collect()),
                    single @ Value::Object(_) => b.block.null_write_only(single),
                    other => other.clone(),
                };
                out.insert(b.name.to_string(), nulled);
            }
        }
        Value::Object(out)
    }
}

/// A versioned schema of a provider, resource, data source or ephemeral
/// resource. The version is what `UpgradeResourceState` upgrades from.
#[derive(Debug, Clone)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }

    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }

    /// Runs every attribute validator over `config`: the static check all
    /// types share, before their own cross-attribute rules.
    pub fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        self.block.validate(config, &AttributePath::root(), &mut diags);
        diags
    }
}

/// The position of the first null element of a known set, list or map.
fn null_element(value: &Value) -> Option<usize> {
    match value {
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => xs.iter().position(Value::is_null),
        Value::Map(m) => m.values().position(Value::is_null),
        _ => None,
    }
}

/// The identity of a managed resource type (protocol 6.9, Terraform 1.12):
/// the few attributes that name one remote object for good, versioned
/// apart from the resource schema. Each is also a state attribute of the
/// same name, from which the framework reads it.
#[derive(Debug, Clone)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

#[derive(Debug, Clone)]
pub struct IdentityAttribute {
    pub name: &'static str,
    pub ty: Type,
    /// Must be given to import by identity.
    pub required_for_import: bool,
    pub description: String,
}

impl IdentitySchema {
    pub fn value_type(&self) -> Type {
        Type::object(self.attributes.iter().map(|a| (a.name, a.ty.clone())))
    }

    /// The identity of a state value: its identity attributes, when every
    /// one is known and set. `None` for a null state, or one whose identity
    /// is not known yet (a create being planned).
    pub fn of(&self, state: &Value) -> Option<Value> {
        if state.is_null() {
            return None;
        }
        let mut fields = BTreeMap::new();
        for a in &self.attributes {
            let v = state.get(a.name);
            if v.is_null() || !v.is_wholly_known() {
                return None;
            }
            fields.insert(a.name.to_string(), v.clone());
        }
        Some(Value::Object(fields))
    }
}

/// Configuration a user would write for `state`, for Terraform's generated
/// config (`terraform query -generate-config-out`, `plan
/// -generate-config-out`): every attribute the configuration can set, with
/// its value, except write-only ones (never in state), computed-only ones,
/// nulls, and values equal to the attribute's default. Nested blocks the
/// same way. Unset attributes are null, as in any configuration value.
pub fn generated_config(block: &Block, state: &Value) -> Value {
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let v = state.get(a.name);
        let settable = (a.required || a.optional) && !a.write_only;
        let is_default = a.default_value().is_some_and(|d| d == v);
        let keep = settable && !v.is_null() && v.is_wholly_known() && !is_default;
        out.insert(a.name.to_string(), if keep { v.clone() } else { Value::Null });
    }
    for b in &block.blocks {
        let v = state.get(b.name);
        let nested = match b.nesting {
            Nesting::Single if v.is_null() => Value::Null,
            Nesting::Single => generated_config(&b.block, v),
            Nesting::List => Value::List(v.elements().iter().map(|e| generated_config(&b.block, e)).collect()),
            Nesting::Set => Value::Set(v.elements().iter().map(|e| generated_config(&b.block, e)).collect()),
        };
        out.insert(b.name.to_string(), nested);
    }
    Value::Object(out)
}
