//! The typed operation layer `build.rs` generates over progenitor's builders.
//!
//! progenitor writes one builder per operation whose `send()` builds a request and runs it
//! through its hooks. Here every builder's `send()` becomes `into_request()` (the same
//! statements, up to the built `reqwest::Request`), so the request can go through
//! stravalib's pipeline with typed outcomes; and for each operation a public builder in
//! `stravalib::operations` wraps progenitor's, forwarding its setters and adding `send()`
//! (returning `stravalib::Result<T>`), `send_as::<U>()`, and for page-numbered lists
//! `limit()`, `into_stream()` and `into_stream_as::<U>()`. `Client` gets one method per
//! operation (the snake-cased operation id, required path and query parameters as
//! arguments) and, where the document names one with `x-stravalib-name`, stravalib's name
//! for it, leading to the same builder.

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, ReferenceOr};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// What the document says about one operation.
struct OperationDoc {
    id: String,
    method: String,
    path: String,
    deprecated: Option<String>,
    stravalib_name: Option<String>,
    /// Parameters by normalized name (lowercase, no `_`).
    params: BTreeMap<String, ParamDoc>,
    /// `x-stravalib-paging: cursor`: paged by cursor, its stream written by hand.
    cursor_paged: bool,
}

struct ParamDoc {
    description: String,
    required: bool,
    /// A value the layer sets before the caller's setters (`default` of a required
    /// parameter, or `x-stravalib-default`).
    preset: Option<serde_json::Value>,
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

fn operation_docs(spec: &OpenAPI) -> Result<BTreeMap<String, OperationDoc>, String> {
    let raw = serde_json::to_value(spec).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let Some(id) = op.operation_id.clone() else {
                return Err(format!(
                    "{method} {path}: every operation needs an operationId"
                ));
            };
            let raw_op = &raw["paths"][path][method];
            let mut params = BTreeMap::new();
            for p in op.parameters.iter().chain(item.parameters.iter()) {
                let p = match p {
                    ReferenceOr::Item(p) => p.clone(),
                    ReferenceOr::Reference { reference } => {
                        let name = reference.rsplit('/').next().unwrap_or_default();
                        match spec
                            .components
                            .as_ref()
                            .and_then(|c| c.parameters.get(name))
                        {
                            Some(ReferenceOr::Item(p)) => p.clone(),
                            _ => return Err(format!("{id}: broken parameter ref {reference}")),
                        }
                    }
                };
                let data = p.parameter_data_ref();
                let raw_param = raw_parameter(&raw, raw_op, &data.name);
                let default = raw_param
                    .as_ref()
                    .and_then(|r| r.pointer("/schema/default").cloned());
                let preset = raw_param
                    .as_ref()
                    .and_then(|r| r.get("x-stravalib-default").cloned())
                    .or(if data.required { default } else { None });
                params.insert(
                    normalize(&data.name),
                    ParamDoc {
                        description: data.description.clone().unwrap_or_default(),
                        required: data.required,
                        preset,
                    },
                );
            }
            let deprecated =
                op.deprecated
                    .then(|| match raw_op.get("x-retired").and_then(|v| v.as_str()) {
                        Some(date) => format!("Strava retired this endpoint on {date}"),
                        None => "deprecated by Strava".to_owned(),
                    });
            let stravalib_name = raw_op
                .get("x-stravalib-name")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            let cursor_paged =
                raw_op.get("x-stravalib-paging").and_then(|v| v.as_str()) == Some("cursor");
            out.insert(
                normalize(&id),
                OperationDoc {
                    cursor_paged,
                    id,
                    method: method.to_uppercase(),
                    path: path.clone(),
                    deprecated,
                    stravalib_name,
                    params,
                },
            );
        }
    }
    Ok(out)
}

/// The raw JSON of parameter `name` of an operation (following a `$ref`).
fn raw_parameter(
    raw: &serde_json::Value,
    raw_op: &serde_json::Value,
    name: &str,
) -> Option<serde_json::Value> {
    raw_op
        .get("parameters")?
        .as_array()?
        .iter()
        .map(|p| match p.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => raw
                .pointer(r.trim_start_matches('#'))
                .cloned()
                .unwrap_or_default(),
            None => p.clone(),
        })
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
}

/// One setter of a progenitor builder.
struct Setter {
    sig: syn::Signature,
    /// `T` of `V: TryInto<T>` for value setters; `None` for `body_map`.
    target: Option<syn::Type>,
}

/// One progenitor builder, after its `send` became `into_request`.
struct Builder {
    ident: Ident,
    setters: Vec<Setter>,
    /// `T` of `Result<ResponseValue<T>, _>`.
    response: syn::Type,
}

/// Turns every builder's `send` into `into_request` and returns the builders.
fn rewrite_builders(file: &mut syn::File) -> Result<Vec<Builder>, String> {
    let items = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .ok_or("generated code has no `builder` module")?;
    let mut builders = Vec::new();
    for item in items.1.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(self_ty) = &*imp.self_ty else {
            continue;
        };
        let ident = self_ty
            .path
            .segments
            .last()
            .ok_or("builder impl without a name")?
            .ident
            .clone();
        let mut setters = Vec::new();
        let mut response = None;
        for impl_item in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            let name = f.sig.ident.to_string();
            match name.as_str() {
                "new" => {}
                "send" => {
                    response = Some(
                        response_type(&f.sig)
                            .ok_or_else(|| format!("{ident}::send: unexpected return type"))?,
                    );
                    to_into_request(f).map_err(|e| format!("{ident}::send: {e}"))?;
                }
                _ => setters.push(Setter {
                    target: try_into_target(&f.sig),
                    sig: f.sig.clone(),
                }),
            }
        }
        let response = response.ok_or_else(|| format!("builder {ident} has no send()"))?;
        builders.push(Builder {
            ident,
            setters,
            response,
        });
    }
    Ok(builders)
}

/// `Result<ResponseValue<T>, Error<E>>` -> `T`.
fn response_type(sig: &syn::Signature) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let ok = first_generic(ty)?;
    first_generic(&ok)
}

fn first_generic(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// `T` from `where V: std::convert::TryInto<T>`.
fn try_into_target(sig: &syn::Signature) -> Option<syn::Type> {
    let wc = sig.generics.where_clause.as_ref()?;
    wc.predicates.iter().find_map(|p| {
        let syn::WherePredicate::Type(pt) = p else {
            return None;
        };
        pt.bounds.iter().find_map(|b| {
            let syn::TypeParamBound::Trait(tb) = b else {
                return None;
            };
            let seg = tb.path.segments.last()?;
            if seg.ident != "TryInto" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
        })
    })
}

/// Keeps the statements of `send` that build the request and returns it.
fn to_into_request(f: &mut syn::ImplItemFn) -> Result<(), String> {
    let position = f
        .block
        .stmts
        .iter()
        .position(|s| match s {
            syn::Stmt::Local(local) => matches!(
                &local.pat,
                syn::Pat::Ident(p) if p.ident == "request"
            ),
            _ => false,
        })
        .ok_or("no `let mut request = ...` statement: progenitor's code shape changed")?;
    f.block.stmts.truncate(position + 1);
    f.block.stmts.push(syn::parse_quote!(return Ok(request);));
    f.sig.asyncness = None;
    f.sig.ident = format_ident!("into_request");
    f.sig.output = syn::parse_quote!(-> Result<reqwest::Request, Error<types::Fault>>);
    f.vis = syn::parse_quote!(pub(crate));
    f.attrs.retain(|a| !a.path().is_ident("doc"));
    f.attrs.push(syn::parse_quote!(
        #[doc = "The request `send` would have sent, for stravalib's pipeline."]
    ));
    Ok(())
}

/// The generated client's builder methods: method name -> (docs, builder ident).
fn client_methods(file: &syn::File) -> BTreeMap<String, (Vec<syn::Attribute>, Ident)> {
    let mut out = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(p) = &*imp.self_ty else {
            continue;
        };
        if imp.trait_.is_some() || !p.path.is_ident("Client") {
            continue;
        }
        for impl_item in &imp.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            let syn::Type::Path(rp) = &**ty else { continue };
            if rp.path.segments.len() != 2 || rp.path.segments[0].ident != "builder" {
                continue;
            }
            let docs = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect();
            out.insert(
                f.sig.ident.to_string(),
                (docs, rp.path.segments[1].ident.clone()),
            );
        }
    }
    out
}

fn is_byte_stream(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ByteStream"))
}

/// `Vec<T>` -> `T`.
fn vec_item(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    if p.path.segments.last()?.ident != "Vec" {
        return None;
    }
    first_generic(ty)
}

/// A JSON preset value as a Rust literal for a setter.
fn preset_literal(v: &serde_json::Value) -> Result<TokenStream, String> {
    match v {
        serde_json::Value::Bool(b) => Ok(quote!(#b)),
        serde_json::Value::Number(n) if n.is_i64() => {
            let n = n.as_i64().unwrap_or_default();
            Ok(quote!(#n))
        }
        serde_json::Value::String(s) => Ok(quote!(#s)),
        other => Err(format!("unsupported preset value {other}")),
    }
}

/// Generates `operations.rs` and rewrites progenitor's builders. Returns the code and the
/// number of operations.
pub fn generate(file: &mut syn::File, spec: &OpenAPI) -> Result<(TokenStream, usize), String> {
    let docs = operation_docs(spec)?;
    let builders = rewrite_builders(file)?;
    let methods = client_methods(file);
    let mut out = TokenStream::new();
    let mut count = 0;
    for (method_name, (method_docs, builder_ident)) in &methods {
        let op = docs.get(&normalize(method_name)).ok_or_else(|| {
            format!("generated method {method_name} matches no operation of the document")
        })?;
        let builder = builders
            .iter()
            .find(|b| b.ident == *builder_ident)
            .ok_or_else(|| format!("no builder {builder_ident}"))?;
        out.extend(operation_tokens(method_name, method_docs, builder, op)?);
        count += 1;
    }
    Ok((out, count))
}

fn operation_tokens(
    method_name: &str,
    method_docs: &[syn::Attribute],
    builder: &Builder,
    op: &OperationDoc,
) -> Result<TokenStream, String> {
    let ident = &builder.ident;
    let method = Ident::new(method_name, Span::call_site());
    let op_id = &op.id;
    let op_path = &op.path;
    let response = &builder.response;
    let struct_doc = format!(
        "`{} {}` ({op_id}): set parameters, then [`send`](Self::send).",
        op.method, op.path
    );
    let deprecated = op
        .deprecated
        .as_ref()
        .map(|note| quote!(#[deprecated(note = #note)]));

    let paged = !op.cursor_paged
        && !is_byte_stream(response)
        && vec_item(response).is_some()
        && builder.setters.iter().any(|s| s.sig.ident == "page")
        && builder.setters.iter().any(|s| s.sig.ident == "per_page");

    // Setters: forwarded with the document's parameter descriptions as docs.
    let mut setters = TokenStream::new();
    let mut positional = Vec::new();
    let mut presets = Vec::new();
    for setter in &builder.setters {
        let sig = &setter.sig;
        let name = &sig.ident;
        let name_str = name.to_string();
        let args: Vec<&syn::Pat> = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => Some(&*t.pat),
                _ => None,
            })
            .collect();
        let param = op.params.get(&normalize(&name_str));
        let doc = match (name_str.as_str(), param) {
            ("body", _) => "The request body.".to_owned(),
            ("body_map", _) => "Edits the request body with its builder.".to_owned(),
            (_, Some(p)) if !p.description.is_empty() => p.description.clone(),
            _ => format!("Sets `{name_str}`."),
        };
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let inputs = &sig.inputs;
        if op.cursor_paged && name_str == "page_size" {
            // Kept for the handwritten cursor stream too.
            setters.extend(quote! {
                #[doc = #doc]
                pub fn page_size(mut self, page_size: u32) -> Self {
                    self.page_size = Some(page_size);
                    self.inner = self.inner.page_size(page_size);
                    self
                }
            });
            continue;
        }
        if paged && name_str == "per_page" {
            // Kept for `into_stream` too (200 a page otherwise).
            setters.extend(quote! {
                #[doc = #doc]
                pub fn per_page(mut self, per_page: u32) -> Self {
                    self.per_page = Some(per_page);
                    self.inner = self.inner.per_page(per_page);
                    self
                }
            });
            continue;
        }
        setters.extend(quote! {
            #[doc = #doc]
            pub fn #name #generics (#inputs) -> Self #where_clause {
                self.inner = self.inner.#name(#(#args),*);
                self
            }
        });
        if let Some(p) = param {
            if let Some(value) = &p.preset {
                let lit = preset_literal(value).map_err(|e| format!("{op_id}.{name_str}: {e}"))?;
                presets.push(quote!(.#name(#lit)));
            } else if p.required {
                let target = setter
                    .target
                    .clone()
                    .ok_or_else(|| format!("{op_id}.{name_str}: setter without TryInto"))?;
                positional.push((name.clone(), target));
            }
        }
    }

    let arg_decls: Vec<TokenStream> = positional
        .iter()
        .map(|(n, t)| quote!(#n: impl ::std::convert::TryInto<#t>))
        .collect();
    let arg_names: Vec<&Ident> = positional.iter().map(|(n, _)| n).collect();
    let arg_sets: Vec<TokenStream> = positional.iter().map(|(n, _)| quote!(.#n(#n))).collect();

    let (send, extra) = if is_byte_stream(response) {
        (
            quote! {
                /// Sends the request through the pipeline; the document's bytes.
                pub async fn send(self) -> crate::Result<::bytes::Bytes> {
                    crate::call::send_bytes(self.client, #op_id, #op_path, self.inner.into_request()).await
                }
            },
            TokenStream::new(),
        )
    } else {
        let send = quote! {
            /// Sends the request through the pipeline and decodes the answer.
            pub async fn send(self) -> crate::Result<#response> {
                crate::call::send_json(self.client, #op_id, #op_path, self.inner.into_request()).await
            }

            /// Sends the same request and decodes the answer as your own type `U` (only
            /// the fields `U` names are read).
            pub async fn send_as<U: ::serde::de::DeserializeOwned>(self) -> crate::Result<U> {
                crate::call::send_json(self.client, #op_id, #op_path, self.inner.into_request()).await
            }
        };
        let extra = match (paged, vec_item(response)) {
            (true, Some(item)) => quote! {
                /// The most items [`into_stream`](Self::into_stream) yields.
                pub fn limit(mut self, limit: usize) -> Self {
                    self.limit = Some(limit);
                    self
                }

                /// Every item, fetched page by page (200 a page unless `per_page` is set)
                /// as the stream is polled; an error ends the stream.
                pub fn into_stream(self) -> impl ::futures::Stream<Item = crate::Result<#item>> + Send + 'a {
                    self.into_stream_as::<#item>()
                }

                /// [`into_stream`](Self::into_stream), decoding each item as your own type `U`.
                pub fn into_stream_as<U>(self) -> impl ::futures::Stream<Item = crate::Result<U>> + Send + 'a
                where
                    U: ::serde::de::DeserializeOwned + Send + 'a,
                {
                    let Self { client, inner, limit, per_page } = self;
                    crate::call::paged(per_page, limit, move |page, per_page| {
                        let request = inner.clone().page(page).per_page(per_page).into_request();
                        crate::call::send_json::<Vec<U>>(client, #op_id, #op_path, request)
                    })
                }
            },
            _ => TokenStream::new(),
        };
        (send, extra)
    };
    let send_output = if is_byte_stream(response) {
        quote!(::bytes::Bytes)
    } else {
        quote!(#response)
    };
    let (limit_field, limit_init) = if paged {
        (
            quote!(limit: Option<usize>, per_page: Option<u32>,),
            quote!(limit: None, per_page: None,),
        )
    } else if op.cursor_paged {
        (
            quote!(pub(crate) limit: Option<usize>, pub(crate) page_size: Option<u32>,),
            quote!(limit: None, page_size: None,),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let cursor_limit = op.cursor_paged.then(|| {
        quote! {
            /// The most items `into_stream` yields.
            pub fn limit(mut self, limit: usize) -> Self {
                self.limit = Some(limit);
                self
            }
        }
    });

    let alias = op.stravalib_name.as_ref().map(|alias| {
        let alias_ident = Ident::new(alias, Span::call_site());
        let doc = format!("stravalib's name for [`{method_name}`](Self::{method_name}).");
        quote! {
            #[doc = #doc]
            #deprecated
            #[allow(deprecated)]
            pub fn #alias_ident(&self, #(#arg_decls),*) -> #ident<'_> {
                self.#method(#(#arg_names),*)
            }
        }
    });

    Ok(quote! {
        #[doc = #struct_doc]
        #deprecated
        #[derive(Debug, Clone)]
        #[must_use = "a request does nothing until sent"]
        pub struct #ident<'a> {
            pub(crate) client: &'a crate::Client,
            pub(crate) inner: crate::generated::builder::#ident<'a>,
            #limit_field
        }

        #[allow(deprecated)]
        impl<'a> #ident<'a> {
            /// The operation id in `openapi/strava.json` (named in errors and logs).
            pub const OPERATION_ID: &'static str = #op_id;
            /// The operation's path template in `openapi/strava.json`.
            pub const PATH: &'static str = #op_path;

            #setters
            #send
            #extra
            #cursor_limit
        }

        /// Awaiting the builder sends it: `client.get_athlete().await` is
        /// `client.get_athlete().send().await`.
        #[allow(deprecated)]
        impl<'a> ::std::future::IntoFuture for #ident<'a> {
            type Output = crate::Result<#send_output>;
            type IntoFuture = ::futures::future::BoxFuture<'a, Self::Output>;
            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }

        impl crate::Client {
            #(#method_docs)*
            #deprecated
            #[allow(deprecated)]
            pub fn #method(&self, #(#arg_decls),*) -> #ident<'_> {
                #ident {
                    client: self,
                    inner: self.generated().#method() #(#presets)* #(#arg_sets)*,
                    #limit_init
                }
            }
            #alias
        }
    })
}
