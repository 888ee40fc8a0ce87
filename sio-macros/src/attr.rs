//! Parsing of attribute options: `key = value` pairs with errors that name the allowed keys.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use crate::ctxt::Ctxt;

/// One `key = value` (or bare `key`) option.
pub(crate) struct Opt {
    pub(crate) key: Ident,
    pub(crate) value: Option<Expr>,
}

impl Parse for Opt {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Opt { key, value })
    }
}

/// Parses `a = 1, b = "x"`.
pub(crate) fn parse_opts(tokens: proc_macro2::TokenStream) -> syn::Result<Vec<Opt>> {
    let parser = Punctuated::<Opt, Token![,]>::parse_terminated;
    Ok(syn::parse::Parser::parse2(parser, tokens)?.into_iter().collect())
}

/// The options of every `#[name(...)]` attribute in `attrs`; malformed ones are reported.
pub(crate) fn opts_of(cx: &mut Ctxt, attrs: &[syn::Attribute], name: &str) -> Vec<Opt> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident(name)) {
        match a.meta.require_list().and_then(|l| parse_opts(l.tokens.clone())) {
            Ok(o) => out.extend(o),
            Err(e) => cx.push(e),
        }
    }
    out
}

/// Reports an option not in `allowed`.
pub(crate) fn unknown(cx: &mut Ctxt, key: &Ident, allowed: &[&str]) {
    let list = if allowed.is_empty() {
        "this attribute takes no options".to_owned()
    } else {
        format!(
            "expected one of: {}",
            allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
        )
    };
    cx.error(key, format!("unknown option `{key}`, {list}"));
}

/// The string literal of `key = "..."`.
pub(crate) fn string(cx: &mut Ctxt, opt: &Opt) -> Option<LitStr> {
    match &opt.value {
        Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) => Some(s.clone()),
        Some(other) => {
            cx.error(other, format!("`{}` takes a string literal", opt.key));
            None
        }
        None => {
            cx.error(&opt.key, format!("`{}` needs a value: `{} = \"...\"`", opt.key, opt.key));
            None
        }
    }
}

/// The type of `key = Type`.
pub(crate) fn ty(cx: &mut Ctxt, opt: &Opt) -> Option<syn::Type> {
    match &opt.value {
        Some(e) => match syn::parse2::<syn::Type>(quote::ToTokens::to_token_stream(e)) {
            Ok(t) => Some(t),
            Err(_) => {
                cx.error(e, format!("`{}` takes a type", opt.key));
                None
            }
        },
        None => {
            cx.error(&opt.key, format!("`{}` needs a type: `{} = Type`", opt.key, opt.key));
            None
        }
    }
}

/// Doc comment text of `attrs`, lines joined with `\n`.
pub(crate) fn docs(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs {
        if !a.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &a.meta
            && let Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value
        {
            let v = s.value();
            lines.push(v.strip_prefix(' ').map(str::to_owned).unwrap_or(v));
        }
    }
    lines.join("\n").trim().to_owned()
}

/// Event names the JS client reserves; emitting or handling them is refused.
pub(crate) const RESERVED: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
    "connection",
    "new_namespace",
];

pub(crate) fn check_event_name(cx: &mut Ctxt, name: &str, span: Span) {
    if RESERVED.contains(&name) {
        cx.push(syn::Error::new(
            span,
            format!("`{name}` is a reserved event name of Socket.IO; choose another"),
        ));
    } else if name.is_empty() {
        cx.push(syn::Error::new(span, "an event name cannot be empty"));
    }
}
