//! Generates the typed Strava client from `openapi/strava.json`.
//!
//! Steps, each failing the build with a message that names the document and the problem:
//! 1. read and parse the OpenAPI 3.0 document;
//! 2. check the rules the rest of the crate relies on (no inline enums, see below);
//! 3. exclude, by rule, operations progenitor cannot generate (multipart bodies) and check
//!    the excluded set is the expected one;
//! 4. turn every named string enum into an *open* enum (known variants + `Unknown(String)`)
//!    and register it, and the `x-stravalib-replace` schemas, as typify replacements;
//! 5. run progenitor (builder interface, `ClientHooks` expected, `JsonSchema` derived),
//!    add the open enums to the generated `types` module, format, write `$OUT_DIR/codegen.rs`.
//!
//! Nothing here is hand-maintained per operation: changing the document and running
//! `cargo build` regenerates everything.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use openapiv3::OpenAPI;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote};

#[path = "build/operations.rs"]
mod operations;
#[path = "build/rules.rs"]
mod rules;
use rules::{
    OpenEnum, check_no_inline_enums, collect_open_enums, collect_replacements,
    exclude_multipart_operations, read_spec,
};

/// The document the crate is generated from, relative to the crate root.
const SPEC_PATH: &str = "openapi/strava.json";

/// Operations we expect the multipart rule to exclude. They are written by hand on the same
/// hooks (`src/upload.rs`). If the rule starts excluding something else, or stops excluding
/// one of these, the build fails so the change is noticed.
const EXPECTED_EXCLUDED: &[&str] = &["createUpload"];

/// The type every `integer/int64` (an object id) is generated as.
const ID_TYPE: &str = "crate::id::Id";

/// Where the generated code is mounted in the crate (see `src/generated.rs`).
const TYPES_PATH: &str = "crate::generated::types";

fn main() {
    println!("cargo::rerun-if-changed=openapi");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=build");
    if let Err(message) = run() {
        // `cargo::error` fails the build and shows the message as is.
        for line in message.lines() {
            println!("cargo::error={line}");
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let spec_file = manifest_dir.join(SPEC_PATH);
    let mut spec = read_spec(&spec_file)?;
    let fail = |problem: String| format!("{}: {problem}", spec_file.display());

    check_no_inline_enums(&spec).map_err(fail)?;
    let excluded = exclude_multipart_operations(&mut spec);
    let excluded_ids: BTreeSet<&str> = excluded.iter().map(|(id, _)| id.as_str()).collect();
    let expected: BTreeSet<&str> = EXPECTED_EXCLUDED.iter().copied().collect();
    if excluded_ids != expected {
        return Err(fail(format!(
            "the operations excluded from generation changed: expected {expected:?}, now {excluded_ids:?}. \
             Write the new ones by hand (like src/upload.rs) and update EXPECTED_EXCLUDED in build.rs"
        )));
    }

    let open_enums = collect_open_enums(&spec).map_err(fail)?;
    let replacements = collect_replacements(&spec).map_err(fail)?;

    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("schemars::JsonSchema");
    for e in &open_enums {
        settings.with_replacement(
            &e.name,
            format!("{TYPES_PATH}::{}", e.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    for (schema, rust_type) in &replacements {
        settings.with_replacement(schema, rust_type, std::iter::empty());
    }
    // Every `integer/int64` in Strava's API is an object id: generate it as `Id`, which
    // keeps ids of any length exact (see src/id.rs).
    settings.with_conversion(
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::Integer.into()),
            format: Some("int64".to_owned()),
            ..Default::default()
        },
        ID_TYPE,
        [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
    );

    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| fail(format!("progenitor could not generate the client: {e}")))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| fail(format!("generated code does not parse: {e}")))?;

    let types_mod = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| fail("generated code has no `types` module".into()))?;
    let type_count = types_mod.1.iter().filter(|i| is_type_item(i)).count() + open_enums.len();
    fast_dates(&mut types_mod.1);
    for e in &open_enums {
        let item: syn::File = syn::parse2(open_enum_tokens(e))
            .map_err(|err| fail(format!("open enum {} does not parse: {err}", e.name)))?;
        types_mod.1.extend(item.items);
    }
    // Handwritten replacements are re-exported where the generated types are, so
    // `types::LatLng` or `types::StreamKeys` work like any other model.
    for (schema, rust_type) in &replacements {
        let path: syn::Path = syn::parse_str(rust_type).map_err(|err| {
            fail(format!(
                "{schema}: x-stravalib-replace is not a path: {err}"
            ))
        })?;
        types_mod.1.push(syn::parse_quote!(pub use #path;));
    }

    // Every builder's `send` becomes `into_request`, and the public operation layer is
    // generated over the builders (see build/operations.rs).
    let (operations_code, operation_builders) =
        operations::generate(&mut file, &spec).map_err(fail)?;
    let operations_file: syn::File = syn::parse2(operations_code)
        .map_err(|e| fail(format!("generated operations do not parse: {e}")))?;

    let code = prettyplease::unparse(&file);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    write(&out_dir.join("codegen.rs"), &code)?;
    write(
        &out_dir.join("operations.rs"),
        &prettyplease::unparse(&operations_file),
    )?;

    let replaced: BTreeSet<&str> = replacements.iter().map(|(n, _)| n.as_str()).collect();
    let generated_names: Vec<String> = types_mod_names(&file);
    let registry: syn::File = syn::parse2(registry_tokens(&spec, &replaced, &generated_names))
        .map_err(|e| fail(format!("schema registry does not parse: {e}")))?;
    write(
        &out_dir.join("registry.rs"),
        &prettyplease::unparse(&registry),
    )?;

    let operation_count: usize = spec
        .paths
        .iter()
        .filter_map(|(_, p)| p.as_item())
        .map(|p| p.iter().count())
        .sum();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "generated {operation_count} operations ({operation_builders} builders) and {type_count} types ({} open enums) from {SPEC_PATH}",
        open_enums.len()
    );
    for (id, why) in &excluded {
        let _ = writeln!(report, "excluded {id}: {why}");
    }
    write(&out_dir.join("generation-report.txt"), &report)?;
    for line in report.lines() {
        build_print::info!("{line}");
    }
    Ok(())
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("build.rs: environment variable {name} is not set"))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Names of the structs, enums and aliases in the generated `types` module.
fn types_mod_names(file: &syn::File) -> Vec<String> {
    let mut out = Vec::new();
    for item in &file.items {
        if let syn::Item::Mod(m) = item
            && m.ident == "types"
            && let Some((_, items)) = &m.content
        {
            for i in items {
                match i {
                    syn::Item::Struct(s) => out.push(s.ident.to_string()),
                    syn::Item::Enum(e) => out.push(e.ident.to_string()),
                    syn::Item::Type(t) => out.push(t.ident.to_string()),
                    _ => {}
                }
            }
        }
    }
    out
}

/// Points every `DateTime<Utc>` field of the models (plain or `Option`) at the crate's
/// date deserializers (`src/decode.rs`): chrono's rules, with a fast path for Strava's
/// `YYYY-MM-DDTHH:MM:SSZ`. Serializing is unchanged.
fn fast_dates(items: &mut [syn::Item]) {
    fn compact(ty: &syn::Type) -> String {
        quote!(#ty).to_string().replace(' ', "")
    }
    const UTC: &str = "::chrono::DateTime<::chrono::offset::Utc>";
    let plain = UTC.to_owned();
    let optional = format!("::std::option::Option<{UTC}>");
    for item in items {
        let syn::Item::Struct(s) = item else { continue };
        let syn::Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        for field in &mut fields.named {
            let ty = compact(&field.ty);
            let has_default = field.attrs.iter().any(|a| {
                a.path().is_ident("serde") && {
                    let tokens = a.meta.to_token_stream().to_string();
                    tokens
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == "default")
                }
            });
            if ty == plain {
                field
                    .attrs
                    .push(syn::parse_quote!(#[serde(deserialize_with = "crate::decode::utc")]));
            } else if ty == optional {
                // `default`: a missing field stays `None`, as without `deserialize_with`.
                let attr: syn::Attribute = if has_default {
                    syn::parse_quote!(#[serde(deserialize_with = "crate::decode::utc_option")])
                } else {
                    syn::parse_quote!(#[serde(default, deserialize_with = "crate::decode::utc_option")])
                };
                field.attrs.push(attr);
            }
        }
    }
}

fn is_type_item(item: &syn::Item) -> bool {
    matches!(
        item,
        syn::Item::Struct(_) | syn::Item::Enum(_) | syn::Item::Type(_)
    )
}

/// A lookup from component schema name to its generated type, so tools (the conformance
/// check, the sandbox tests) can check a JSON body against "the type named X".
fn registry_tokens(spec: &OpenAPI, replaced: &BTreeSet<&str>, generated: &[String]) -> TokenStream {
    // typify renames some schemas (`SummaryPRSegmentEffort` -> `SummaryPrSegmentEffort`):
    // match the generated type whose name is the same ignoring case.
    let mut names = Vec::new();
    let mut idents = Vec::new();
    for name in spec.components.iter().flat_map(|c| c.schemas.keys()) {
        if replaced.contains(name.as_str()) {
            continue;
        }
        if let Some(rust) = generated.iter().find(|g| g.eq_ignore_ascii_case(name)) {
            names.push(name.clone());
            idents.push(Ident::new(rust, Span::call_site()));
        }
    }
    quote! {
        /// Names of every component schema with a generated type.
        pub const SCHEMA_NAMES: &[&str] = &[#(#names),*];

        /// Deserializes `body` as the generated type of schema `name` (or a list of it when
        /// `list` is true). `None` when no such schema exists; otherwise the outcome, with
        /// the serde path of the first failure.
        pub fn check_json(name: &str, list: bool, body: &[u8]) -> Option<Result<(), String>> {
            fn check<T: ::serde::de::DeserializeOwned>(list: bool, body: &[u8]) -> Result<(), String> {
                let mut de = ::serde_json::Deserializer::from_slice(body);
                let outcome = if list {
                    ::serde_path_to_error::deserialize::<_, Vec<T>>(&mut de).map(drop)
                } else {
                    ::serde_path_to_error::deserialize::<_, T>(&mut de).map(drop)
                };
                outcome.map_err(|e| format!("at `{}`: {}", e.path(), e.inner()))
            }
            match name {
                #( #names => Some(check::<super::types::#idents>(list, body)), )*
                _ => None,
            }
        }
    }
}

fn open_enum_tokens(e: &OpenEnum) -> TokenStream {
    let name = Ident::new(&e.name, Span::call_site());
    let idents: Vec<Ident> = e
        .variants
        .iter()
        .map(|(_, v)| Ident::new(v, Span::call_site()))
        .collect();
    let values: Vec<&str> = e.variants.iter().map(|(v, _)| v.as_str()).collect();
    let docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let type_doc = if e.doc.is_empty() {
        format!("Values of `{}`.", e.name)
    } else {
        e.doc.clone()
    };
    let open_doc = "\n\nThis enum is *open*: a value Strava adds later arrives as `Unknown` with the \
                    text Strava sent, and serializes back unchanged.";
    let type_doc = format!("{type_doc}{open_doc}");
    let name_str = e.name.as_str();
    quote! {
        #[doc = #type_doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #docs] #idents, )*
            /// A value this version of the crate does not know, kept as Strava sent it.
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every value this version of the crate knows, as sent on the wire.
            pub const KNOWN_VALUES: &'static [&'static str] = &[#(#values),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#idents => #values, )*
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// `true` for a value this version of the crate does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#idents, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #( #values => Self::#idents, )*
                    _ => Self::Unknown(value),
                }
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;
                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", #name_str, " string"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> ::std::result::Result<#name, E> {
                        Ok(#name::from(value))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, value: ::std::string::String) -> ::std::result::Result<#name, E> {
                        Ok(#name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::string::String {
                #name_str.to_owned()
            }
            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                // Open: any string is valid; the known values are listed as examples.
                ::schemars::schema::SchemaObject {
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    metadata: Some(Box::new(::schemars::schema::Metadata {
                        description: Some(#type_doc.to_owned()),
                        examples: vec![#(::serde_json::json!(#values)),*],
                        ..Default::default()
                    })),
                    ..Default::default()
                }
                .into()
            }
        }
    }
}
