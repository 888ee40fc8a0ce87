//! `#[derive(ServerEvents)]`: parses an enum into events (name, fields, ack type) and renders
//! the `ServerEvents`, `ToArgs` and `EventAck` impls.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{Data, DeriveInput, Fields, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::render::schema::type_ref;

struct Variant {
    ident: syn::Ident,
    name: String,
    docs: String,
    fields: Vec<(String, Option<syn::Ident>, Type)>,
    style: Style,
    ack: Option<Type>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Unit,
    Tuple,
    Named,
}

fn rename(ident: &str, rule: &str) -> String {
    let words = split_words(ident);
    match rule {
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.to_lowercase() } else { capitalize(w) })
            .collect(),
        "PascalCase" => words.iter().map(|w| capitalize(w)).collect(),
        "snake_case" => words.iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("_"),
        "kebab-case" => words.iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("-"),
        "SCREAMING_SNAKE_CASE" => words.iter().map(|w| w.to_uppercase()).collect::<Vec<_>>().join("_"),
        "lowercase" => ident.to_lowercase(),
        "UPPERCASE" => ident.to_uppercase(),
        _ => ident.to_owned(),
    }
}

const RULES: &[&str] = &[
    "camelCase",
    "PascalCase",
    "snake_case",
    "kebab-case",
    "SCREAMING_SNAKE_CASE",
    "lowercase",
    "UPPERCASE",
];

fn split_words(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in ident.chars() {
        if c == '_' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        } else if c.is_uppercase() && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
            cur.push(c);
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let item: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let variants = parse(&mut cx, &item);
    if cx.has_errors() {
        return cx.into_compile_errors();
    }
    render(&item, &variants)
}

fn parse(cx: &mut Ctxt, item: &DeriveInput) -> Vec<Variant> {
    let Data::Enum(data) = &item.data else {
        cx.error(&item.ident, "#[derive(ServerEvents)] goes on an enum: one variant per event");
        return Vec::new();
    };
    if !item.generics.params.is_empty() {
        cx.error(&item.generics, "a ServerEvents enum cannot be generic");
    }
    let mut rule = "camelCase".to_owned();
    for opt in attr::opts_of(cx, &item.attrs, "events") {
        if opt.key != "rename_all" {
            attr::unknown(cx, &opt.key, &["rename_all"]);
        } else if let Some(s) = attr::string(cx, &opt) {
            if RULES.contains(&s.value().as_str()) {
                rule = s.value();
            } else {
                cx.error(&s, format!("unknown case `{}`, expected one of: {}", s.value(), RULES.join(", ")));
            }
        }
    }
    let mut out: Vec<Variant> = Vec::new();
    for v in &data.variants {
        let mut name = rename(&v.ident.to_string(), &rule);
        let mut name_span = v.ident.span();
        let mut ack = None;
        for opt in attr::opts_of(cx, &v.attrs, "event") {
            match opt.key.to_string().as_str() {
                "rename" => {
                    if let Some(s) = attr::string(cx, &opt) {
                        name = s.value();
                        name_span = s.span();
                    }
                }
                "ack" => ack = attr::ty(cx, &opt),
                _ => attr::unknown(cx, &opt.key, &["rename", "ack"]),
            }
        }
        attr::check_event_name(cx, &name, name_span);
        if let Some(first) = out.iter().find(|o| o.name == name) {
            cx.push(syn::Error::new(
                name_span,
                format!("duplicate event name `{name}` (already `{}`)", first.ident),
            ));
        }
        let (style, fields) = match &v.fields {
            Fields::Unit => (Style::Unit, Vec::new()),
            Fields::Unnamed(f) => (
                Style::Tuple,
                f.unnamed.iter().enumerate().map(|(i, f)| (format!("arg{i}"), None, f.ty.clone())).collect(),
            ),
            Fields::Named(f) => (
                Style::Named,
                f.named
                    .iter()
                    .map(|f| {
                        let id = f.ident.clone();
                        (id.as_ref().map(|i| i.to_string()).unwrap_or_default(), id, f.ty.clone())
                    })
                    .collect(),
            ),
        };
        if fields.len() > 12 {
            cx.error(&v.ident, "an event carries at most 12 arguments");
        }
        out.push(Variant { ident: v.ident.clone(), name, docs: attr::docs(&v.attrs), fields, style, ack });
    }
    out
}

fn render(item: &DeriveInput, variants: &[Variant]) -> TokenStream {
    let ty = &item.ident;
    let names = variants.iter().map(|v| {
        let id = &v.ident;
        let name = &v.name;
        match v.style {
            Style::Unit => quote! { Self::#id => #name },
            Style::Tuple => quote! { Self::#id(..) => #name },
            Style::Named => quote! { Self::#id { .. } => #name },
        }
    });
    let writes = variants.iter().map(|v| {
        let id = &v.ident;
        let binds: Vec<syn::Ident> = (0..v.fields.len()).map(|i| format_ident!("__f{}", i)).collect();
        let pattern = match v.style {
            Style::Unit => quote! { Self::#id },
            Style::Tuple => quote! { Self::#id(#(#binds),*) },
            Style::Named => {
                let fields = v.fields.iter().zip(&binds).map(|((_, f, _), b)| quote! { #f: #b });
                quote! { Self::#id { #(#fields),* } }
            }
        };
        quote! { #pattern => ::sio_core::ToArgs::write_args(&(#(#binds,)*), __out, __first) }
    });
    let acks = variants.iter().map(|v| {
        let id = &v.ident;
        let pat = match v.style {
            Style::Unit => quote! { Self::#id },
            Style::Tuple => quote! { Self::#id(..) },
            Style::Named => quote! { Self::#id { .. } },
        };
        match &v.ack {
            Some(t) => quote! { #pat => ::core::option::Option::Some(::core::any::TypeId::of::<#t>()) },
            None => quote! { #pat => ::core::option::Option::None },
        }
    });
    let schema = variants.iter().map(|v| {
        let name = &v.name;
        let variant = v.ident.to_string();
        let docs = &v.docs;
        let args = v.fields.iter().map(|(n, _, t)| {
            let r = type_ref(t);
            quote! { ::sio_core::schema::ArgSchema { name: #n, ty: #r, optional: false, rest: false } }
        });
        let ack = match &v.ack {
            Some(t) => {
                let r = type_ref(t);
                quote! { ::core::option::Option::Some(#r) }
            }
            None => quote! { ::core::option::Option::None },
        };
        quote! {
            ::sio_core::schema::ServerEventSchema { name: #name, variant: #variant, docs: #docs, args: ::std::vec![#(#args),*], ack: #ack }
        }
    });
    let mut seen = Vec::new();
    let ack_impls = variants.iter().filter_map(|v| v.ack.as_ref()).filter_map(|t| {
        let key = t.to_token_stream().to_string();
        if seen.contains(&key) {
            return None;
        }
        seen.push(key);
        Some(quote! {
            impl ::sio_core::EventAck<#t> for #ty {}
        })
    });
    let ack_asserts = variants.iter().filter_map(|v| v.ack.as_ref()).map(|t| {
        quote::quote_spanned! {syn::spanned::Spanned::span(t)=> ::sio_core::__private::assert_arg::<#t>(); }
    });
    let field_asserts = variants.iter().flat_map(|v| v.fields.iter()).map(|(_, _, t)| {
        quote::quote_spanned! {syn::spanned::Spanned::span(t)=> ::sio_core::__private::assert_ack::<#t>(); }
    });
    let empty_match = if variants.is_empty() {
        quote! { _ => match *self {} }
    } else {
        quote! {}
    };
    let empty_match2 = empty_match.clone();
    let empty_match3 = empty_match.clone();
    quote! {
        const _: () = {
            impl ::sio_core::ServerEvents for #ty {
                fn event_name(&self) -> &'static str {
                    match self { #(#names,)* #empty_match }
                }
                fn args(&self) -> &dyn ::sio_core::protocol::WriteArgs {
                    self
                }
                fn ack_type(&self) -> ::core::option::Option<::core::any::TypeId> {
                    match self { #(#acks,)* #empty_match2 }
                }
                fn schema() -> ::std::vec::Vec<::sio_core::schema::ServerEventSchema> {
                    ::std::vec![#(#schema),*]
                }
            }
            impl ::sio_core::ToArgs for #ty {
                fn write_args(
                    &self,
                    __out: &mut ::std::vec::Vec<u8>,
                    __first: bool,
                ) -> ::sio_core::__private::serde_json::Result<()> {
                    match self { #(#writes,)* #empty_match3 }
                }
            }
            #(#ack_impls)*
            #[allow(dead_code)]
            fn __sio_type_checks() {
                #(#ack_asserts)*
                #(#field_asserts)*
            }
        };
    }
}
