//! `#[derive(Model)]` for the tfplugin framework.
//!
//! A model is a struct whose fields are the attributes (and nested blocks) of
//! a schema, named as in the schema. The derive writes the one conversion
//! between the struct and the codec's object value, so that resource code
//! never looks an attribute up by string: a misspelt field is a decode error
//! (the schema-shaped value has no such key), caught by the model's schema
//! test, instead of a silent null.
//!
//! Field attributes:
//! - `#[tf(rename = "type")]`: the attribute's name when it is not a valid
//!   Rust identifier or reads badly as one;
//! - `#[tf(flatten)]`: the field is itself a model whose attributes sit at
//!   this level (one mapping shared by several schemas).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

#[proc_macro_derive(Model, attributes(tf))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct Field {
    ident: syn::Ident,
    ty: syn::Type,
    name: String,
    flatten: bool,
}

fn fields_of(input: &DeriveInput) -> syn::Result<Vec<Field>> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "Model can only be derived for structs",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(&input.ident, "Model needs named fields"));
    };
    let mut out = Vec::new();
    for f in &named.named {
        let Some(ident) = f.ident.clone() else {
            return Err(syn::Error::new_spanned(f, "Model needs named fields"));
        };
        let mut name = ident.to_string().trim_start_matches("r#").to_string();
        let mut flatten = false;
        for attr in &f.attrs {
            if !attr.path().is_ident("tf") {
                continue;
            }
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let lit: LitStr = meta.value()?.parse()?;
                    name = lit.value();
                    Ok(())
                } else if meta.path.is_ident("flatten") {
                    flatten = true;
                    Ok(())
                } else {
                    Err(meta.error("expected `rename = \"...\"` or `flatten`"))
                }
            })?;
        }
        out.push(Field {
            ident,
            ty: f.ty.clone(),
            name,
            flatten,
        });
    }
    Ok(out)
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    let fields = fields_of(input)?;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    let names = fields.iter().map(|f| {
        let (name, ty) = (&f.name, &f.ty);
        if f.flatten {
            quote! { <#ty as ::tfplugin::model::Model>::attribute_names(out); }
        } else {
            quote! { out.push(#name); }
        }
    });
    let reads = fields.iter().map(|f| {
        let (field, name, ty) = (&f.ident, &f.name, &f.ty);
        if f.flatten {
            quote! { #field: <#ty as ::tfplugin::model::Model>::from_fields(fields, path)?, }
        } else {
            quote! {
                #field: <#ty as ::tfplugin::model::FromValue>::from_value(
                    ::tfplugin::model::field(fields, #name, path)?,
                    &path.push_attr(#name),
                )?,
            }
        }
    });
    let writes = fields.iter().map(|f| {
        let (field, name, ty) = (&f.ident, &f.name, &f.ty);
        if f.flatten {
            quote! { <#ty as ::tfplugin::model::Model>::write_fields(&self.#field, out); }
        } else {
            quote! {
                out.insert(
                    ::std::string::String::from(#name),
                    ::tfplugin::model::ToValue::to_value(&self.#field),
                );
            }
        }
    });

    Ok(quote! {
        impl #impl_generics ::tfplugin::model::Model for #ident #ty_generics #where_clause {
            fn attribute_names(out: &mut ::std::vec::Vec<&'static str>) {
                #(#names)*
            }

            fn from_fields(
                fields: &::std::collections::BTreeMap<::std::string::String, ::tfplugin::codec::Value>,
                path: &::tfplugin::codec::AttributePath,
            ) -> ::std::result::Result<Self, ::tfplugin::model::ModelError> {
                ::std::result::Result::Ok(#ident { #(#reads)* })
            }

            fn write_fields(
                &self,
                out: &mut ::std::collections::BTreeMap<::std::string::String, ::tfplugin::codec::Value>,
            ) {
                #(#writes)*
            }
        }

        impl #impl_generics ::tfplugin::model::FromValue for #ident #ty_generics #where_clause {
            fn from_value(
                value: &::tfplugin::codec::Value,
                path: &::tfplugin::codec::AttributePath,
            ) -> ::std::result::Result<Self, ::tfplugin::model::ModelError> {
                ::tfplugin::model::decode_object::<Self>(value, path)
            }
        }

        impl #impl_generics ::tfplugin::model::ToValue for #ident #ty_generics #where_clause {
            fn to_value(&self) -> ::tfplugin::codec::Value {
                let mut out = ::std::collections::BTreeMap::new();
                ::tfplugin::model::Model::write_fields(self, &mut out);
                ::tfplugin::codec::Value::Object(out)
            }
        }
    })
}
