//! `#[server_events]`: parses an enum into events (name, fields, ack type) and renders
//! the `ServerEvents`, `ToArgs` and `EventAck` impls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Fields, ItemEnum, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::model::Gate;
use crate::render::schema::type_ref;

struct Variant {
    ident: syn::Ident,
    name: String,
    docs: String,
    fields: Vec<(String, Option<syn::Ident>, Type)>,
    style: Style,
    ack: Option<Type>,
    /// The variant's own attributes (docs, `cfg`...), kept on its constructor.
    attrs: Vec<syn::Attribute>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Unit,
    Tuple,
    Named,
}

pub(crate) fn rename(ident: &str, rule: &str) -> String {
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

pub(crate) const RULES: &[&str] = &[
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

/// `rename_all = ".."` (in `opts`): the case rule for event names, `camelCase` by default.
pub(crate) fn rename_rule(cx: &mut Ctxt, opt: &attr::Opt) -> Option<String> {
    let s = attr::string(cx, opt)?;
    if RULES.contains(&s.value().as_str()) {
        Some(s.value())
    } else {
        cx.error(&s, format!("unknown case `{}`, expected one of: {}", s.value(), RULES.join(", ")));
        None
    }
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemEnum = match syn::parse2(input.clone()) {
        Ok(i) => i,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &input,
                "#[server_events] goes on an enum: one variant per event the server sends",
            )
            .to_compile_error();
            return quote! { #input #err };
        }
    };
    let mut cx = Ctxt::default();
    let mut rule = "camelCase".to_owned();
    let mut client = None;
    match syn::parse::Parser::parse2(
        syn::punctuated::Punctuated::<attr::Opt, syn::Token![,]>::parse_terminated,
        args,
    ) {
        Ok(opts) => {
            for opt in &opts {
                if opt.key == "rename_all" {
                    if let Some(r) = rename_rule(&mut cx, opt) {
                        rule = r;
                    }
                } else if opt.key == "client" {
                    client = Gate::parse(&mut cx, opt);
                } else {
                    attr::unknown(&mut cx, &opt.key, &["rename_all", "client"]);
                }
            }
        }
        Err(e) => cx.push(e),
    }
    let generic = !item.generics.params.is_empty();
    if generic {
        cx.error(&item.generics, "a #[server_events] enum cannot be generic");
    }
    let variants = parse(&mut cx, &mut item, &rule);
    let errors = cx.into_compile_errors();
    if generic {
        return quote! { #item #errors };
    }
    // Rendered even after an error (every event is still known), so the enum, its
    // constructors and its `ServerEvents` impl exist and the user sees this one error only.
    let rendered = render(&item, &variants);
    let client = client.map(|gate| render_client(&item, &variants, &gate));
    quote! { #rendered #client #errors }
}

/// Reads the events and strips our `#[event]` attributes; variants with an ack leave the enum
/// (they become constructors).
fn parse(cx: &mut Ctxt, item: &mut ItemEnum, rule: &str) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    for v in &mut item.variants {
        let mut name = rename(&v.ident.to_string(), rule);
        let mut name_span = v.ident.span();
        let mut ack = None;
        let opts = attr::opts_of(cx, &v.attrs, "event");
        v.attrs.retain(|a| !a.path().is_ident("event"));
        for opt in opts {
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
        if let Some((_, d)) = &v.discriminant {
            cx.error(d, "an event variant has no discriminant");
        }
        out.push(Variant {
            ident: v.ident.clone(),
            name,
            docs: attr::docs(&v.attrs),
            attrs: v.attrs.clone(),
            fields,
            style,
            ack,
        });
    }
    item.variants = std::mem::take(&mut item.variants)
        .into_pairs()
        .zip(&out)
        .filter(|(_, v)| v.ack.is_none())
        .map(|(p, _)| p)
        .collect();
    out
}

fn pattern(v: &Variant, binds: &[syn::Ident]) -> TokenStream {
    let id = &v.ident;
    match v.style {
        Style::Unit => quote! { Self::#id },
        Style::Tuple => quote! { Self::#id(#(#binds),*) },
        Style::Named => {
            let fields = v.fields.iter().zip(binds).map(|((_, f, _), b)| quote! { #f: #b });
            quote! { Self::#id { #(#fields),* } }
        }
    }
}

/// The constructor of an event with an ack: a `const` for a unit variant (so it reads as
/// one), a function taking the fields in order otherwise.
fn ask_constructor(ty: &syn::Ident, vis: &syn::Visibility, v: &Variant, ack: &Type) -> TokenStream {
    let id = &v.ident;
    let name = &v.name;
    let attrs = v.attrs.iter().filter(|a| {
        ["doc", "cfg", "allow", "expect", "warn", "deny", "deprecated"].iter().any(|k| a.path().is_ident(k))
    });
    let tys: Vec<&Type> = v.fields.iter().map(|(_, _, t)| t).collect();
    let ret = quote! { ::sio_core::Ask<#ty, #ack, (#(#tys,)*)> };
    if v.style == Style::Unit {
        return quote! {
            #(#attrs)*
            #[allow(non_upper_case_globals)]
            #vis const #id: #ret = ::sio_core::Ask::__new(#name, ());
        };
    }
    let params: Vec<syn::Ident> = v
        .fields
        .iter()
        .enumerate()
        .map(|(i, (_, f, _))| f.clone().unwrap_or_else(|| format_ident!("arg{}", i)))
        .collect();
    quote! {
        #(#attrs)*
        #[allow(non_snake_case, clippy::too_many_arguments)]
        #vis fn #id(#(#params: #tys),*) -> #ret {
            ::sio_core::Ask::__new(#name, (#(#params,)*))
        }
    }
}

fn render(item: &ItemEnum, variants: &[Variant]) -> TokenStream {
    let ty = &item.ident;
    let plain: Vec<&Variant> = variants.iter().filter(|v| v.ack.is_none()).collect();
    let names = plain.iter().map(|v| {
        let name = &v.name;
        let binds: Vec<syn::Ident> = Vec::new();
        let pat = match v.style {
            Style::Unit => pattern(v, &binds),
            Style::Tuple => {
                let id = &v.ident;
                quote! { Self::#id(..) }
            }
            Style::Named => {
                let id = &v.ident;
                quote! { Self::#id { .. } }
            }
        };
        quote! { #pat => #name }
    });
    let writes = plain.iter().map(|v| {
        let binds: Vec<syn::Ident> = (0..v.fields.len()).map(|i| format_ident!("__f{}", i)).collect();
        let pat = pattern(v, &binds);
        quote! { #pat => ::sio_core::ToArgs::write_args(&(#(#binds,)*), __out, __first) }
    });
    let schema = variants.iter().map(|v| {
        let name = &v.name;
        let variant = v.ident.to_string();
        let docs = &v.docs;
        let args = v.fields.iter().map(|(n, _, t)| {
            let r = type_ref(t);
            quote! {
                ::sio_core::schema::ArgSchema {
                    name: #n,
                    optional: ::sio_core::schema::TypeRef::is_option(&#r),
                    ty: #r,
                    rest: false,
                }
            }
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
    let constructors: Vec<TokenStream> = variants
        .iter()
        .filter_map(|v| v.ack.as_ref().map(|ack| ask_constructor(ty, &item.vis, v, ack)))
        .collect();
    let constructors = (!constructors.is_empty()).then(|| quote! { impl #ty { #(#constructors)* } });
    let ack_asserts = variants.iter().filter_map(|v| v.ack.as_ref()).map(|t| {
        quote::quote_spanned! {syn::spanned::Spanned::span(t)=> ::sio_core::__private::assert_ack_reply::<#t>(); }
    });
    let field_asserts = variants.iter().flat_map(|v| v.fields.iter()).map(|(_, _, t)| {
        quote::quote_spanned! {syn::spanned::Spanned::span(t)=> ::sio_core::__private::assert_server_arg::<#t>(); }
    });
    let empty_match = plain.is_empty().then(|| quote! { _ => match *self {} });
    let empty_match2 = empty_match.clone();
    quote! {
        #item
        #constructors
        const _: () = {
            impl ::sio_core::ServerEvents for #ty {
                fn event_name(&self) -> &'static str {
                    match self { #(#names,)* #empty_match }
                }
                fn args(&self) -> &dyn ::sio_core::protocol::WriteArgs {
                    self
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
                    match self { #(#writes,)* #empty_match2 }
                }
            }
            #[allow(dead_code)]
            fn __sio_type_checks() {
                #(#ack_asserts)*
                #(#field_asserts)*
            }
        };
    }
}

/// `client`: reading the events on the client side (`sio-client`): plain events into the
/// enum, events with an ack through a typed handler (`on_<variant>`) whose return value is
/// the ack.
fn render_client(item: &ItemEnum, variants: &[Variant], gate: &Gate) -> TokenStream {
    use quote::quote_spanned;
    use syn::spanned::Spanned;
    let cfg = gate.cfg();
    let ty = &item.ident;
    let vis = &item.vis;
    let binds =
        |v: &Variant| -> Vec<syn::Ident> { (0..v.fields.len()).map(|i| format_ident!("__f{}", i)).collect() };
    // Bounds, not calls: a type the client cannot read is reported once, on the user's type.
    let checks = |v: &Variant| -> Vec<TokenStream> {
        v.fields
            .iter()
            .map(|(_, _, t)| quote_spanned! {t.span()=> #t: ::sio_client::__private::Received })
            .collect()
    };
    let all_checks: Vec<TokenStream> = variants.iter().filter(|v| v.ack.is_none()).flat_map(checks).collect();
    let arms = variants.iter().filter(|v| v.ack.is_none()).map(|v| {
        let name = &v.name;
        let b = binds(v);
        let tys = v.fields.iter().map(|(_, _, t)| t);
        let build = pattern(v, &b);
        quote! {
            #name => {
                ::core::option::Option::Some(
                    ev.args::<(#(#tys,)*)>().map(|(#(#b,)*)| #build)
                )
            }
        }
    });
    let handlers = variants.iter().filter_map(|v| {
        let ack = v.ack.as_ref()?;
        let name = &v.name;
        let f = format_ident!("on_{}", rename(&v.ident.to_string(), "snake_case"));
        let b = binds(v);
        let tys: Vec<&Type> = v.fields.iter().map(|(_, _, t)| t).collect();
        let checks = checks(v);
        let ack_check = quote_spanned! {ack.span()=> #ack: ::sio_client::__private::Sent };
        let doc = format!(" Answers `{name}` with `f`'s return value (its ack).");
        Some(quote! {
            #[doc = #doc]
            #vis fn #f(
                f: impl ::core::ops::Fn(#(#tys),*) -> #ack + ::core::marker::Send + ::core::marker::Sync + 'static,
            ) -> ::sio_client::__private::TypedHandler<#ty>
            where
                #(#checks,)*
                #ack_check
            {
                ::sio_client::__private::TypedHandler::new(#name, move |ev: &::sio_client::Event| {
                    let (#(#b,)*) = ev.args::<(#(#tys,)*)>()?;
                    ev.ack((f(#(#b),*),))
                })
            }
        })
    });
    quote! {
        #cfg
        impl ::sio_client::__private::ClientEvents for #ty
        where
            #(#all_checks,)*
        {
            fn decode(ev: &::sio_client::Event) -> ::core::option::Option<::core::result::Result<Self, ::sio_client::Error>> {
                match ev.name() {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #cfg
        impl #ty {
            #(#handlers)*
        }
    }
}
