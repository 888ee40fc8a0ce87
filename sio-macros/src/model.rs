//! `#[namespace]`: parses an impl block into a [`Namespace`] model and validates it.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, Type};

use crate::attr::{self, Opt};
use crate::ctxt::Ctxt;
use crate::render;

/// A parsed `#[namespace]` impl block.
pub(crate) struct Namespace {
    pub(crate) self_ty: Type,
    pub(crate) path: LitStr,
    pub(crate) emits: Option<Type>,
    pub(crate) docs: String,
    pub(crate) connect: Option<Handler>,
    pub(crate) disconnecting: Option<Handler>,
    pub(crate) disconnect: Option<Handler>,
    pub(crate) fallback: Option<Handler>,
    pub(crate) events: Vec<Handler>,
    /// `#[middleware]` methods, in the order written (the order they run in).
    pub(crate) middlewares: Vec<Handler>,
    pub(crate) error: Option<Handler>,
    pub(crate) any_outgoing: Option<Handler>,
    /// `client`: render a typed client (`sio-client`), under this cargo feature if named.
    pub(crate) client: Option<Gate>,
    /// `server = "feature"`: the handlers, dispatch and schema only under that feature.
    pub(crate) server: Option<Gate>,
}

/// An option that turns on generated code, everywhere (`client`) or under a cargo feature of
/// the user's crate (`client = "feature"`).
#[derive(Clone)]
pub(crate) struct Gate(pub(crate) Option<LitStr>);

impl Gate {
    /// `#[cfg(feature = "..")]`, or nothing.
    pub(crate) fn cfg(&self) -> TokenStream {
        match &self.0 {
            Some(f) => quote! { #[cfg(feature = #f)] },
            None => TokenStream::new(),
        }
    }

    pub(crate) fn parse(cx: &mut Ctxt, opt: &Opt) -> Option<Gate> {
        if opt.value.is_none() {
            return Some(Gate(None));
        }
        attr::string(cx, opt).map(|f| Gate(Some(f)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Connect,
    Event,
    Fallback,
    Middleware,
    Error,
    AnyOutgoing,
    Disconnecting,
    Disconnect,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Connect,
        Kind::Event,
        Kind::Fallback,
        Kind::Middleware,
        Kind::Error,
        Kind::AnyOutgoing,
        Kind::Disconnecting,
        Kind::Disconnect,
    ];

    fn attr_name(self) -> &'static str {
        match self {
            Kind::Connect => "connect",
            Kind::Event => "event",
            Kind::Fallback => "fallback",
            Kind::Middleware => "middleware",
            Kind::Error => "error",
            Kind::AnyOutgoing => "any_outgoing",
            Kind::Disconnecting => "disconnecting",
            Kind::Disconnect => "disconnect",
        }
    }
}

/// One handler method.
pub(crate) struct Handler {
    pub(crate) ident: syn::Ident,
    /// The wire name (events only).
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) docs: String,
    pub(crate) params: Vec<Param>,
    /// `None` when the method returns `()`.
    pub(crate) ret: Option<Type>,
    /// `#[event(err_is_error)]`: `ret` is a `Result` whose `Err` goes to the error hook.
    pub(crate) err_is_error: bool,
}

impl Handler {
    /// The type of the ack reply: the return type, or with `err_is_error` the `Ok` type of
    /// the `Result` (`None` for `()`).
    pub(crate) fn ack_type(&self) -> Option<&Type> {
        if !self.err_is_error {
            return self.ret.as_ref();
        }
        result_ok_type(self.ret.as_ref()?).filter(|t| !is_unit(t))
    }
}

/// `T` of a return type written `Result<T, ..>` (any path ending in `Result`).
pub(crate) fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last().filter(|s| s.ident == "Result")?;
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamKind {
    /// An owned parameter: its role (injected, argument, auth, reason...) comes from its
    /// type, through the trait of the handler's kind (`EventParam`, `ConnectParam`...).
    Typed,
    /// `&Extensions`: the event's per-event data (events, fallback).
    Extensions,
    /// `&EventCtx` (middlewares).
    Ctx,
    /// `&str`, the event name (`#[any_outgoing]`).
    OutName,
    /// `&RawArgs`, the arguments (`#[any_outgoing]`).
    OutArgs,
    /// The event's name, next to last parameter of a `#[fallback]`.
    FallbackName,
    /// The event's arguments, last parameter of a `#[fallback]`.
    FallbackArgs,
}

/// `&T` where the last segment of `T` is `name` (no generics).
fn is_ref_to(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => {
            last_segment(&r.elem).is_some_and(|(id, generic)| id == name && !generic)
        }
        _ => false,
    }
}

/// The last segment of a type path (`sio_core::Conn<E>` → `Conn`), and whether it had
/// generic arguments.
fn last_segment(ty: &Type) -> Option<(&syn::Ident, bool)> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| (&s.ident, !matches!(s.arguments, syn::PathArguments::None)))
        }
        _ => None,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemImpl = match syn::parse2(input.clone()) {
        Ok(i) => i,
        Err(_) => {
            let err =
                syn::Error::new_spanned(&input, "#[namespace] goes on an inherent `impl Type { .. }` block")
                    .to_compile_error();
            return quote! { #input #err };
        }
    };
    let mut cx = Ctxt::default();
    let model = parse(&mut cx, args, &mut item);
    // The user's item, with our attributes removed and bare `Conn` made typed.
    let item_tokens = item.to_token_stream();
    match model {
        Some(ns) if !cx.has_errors() => {
            let dispatch = render::dispatch::render(&ns);
            let schema = render::schema::render(&ns);
            let client = ns.client.as_ref().map(|gate| render::client::render(&ns, gate));
            let server = ns.server.as_ref().map(Gate::cfg);
            quote! {
                #server
                #item_tokens
                #server
                const _: () = {
                    #dispatch
                    #schema
                };
                #client
            }
        }
        model => {
            let errors = cx.into_compile_errors();
            // The namespace traits still hold, so `.namespace(T)` and `emits = E` uses type-check
            // and the user sees the errors above only.
            let stub = (item.trait_.is_none() && item.generics.params.is_empty())
                .then(|| render::stub(&item.self_ty, model.as_ref()));
            quote! { #item_tokens #errors #stub }
        }
    }
}

fn parse(cx: &mut Ctxt, args: TokenStream, item: &mut ItemImpl) -> Option<Namespace> {
    let Args { path, emits, rule, client, server } = parse_args(cx, args)?;
    if let Some((_, trait_path, _)) = &item.trait_ {
        cx.error(trait_path, "#[namespace] goes on an inherent impl block, not a trait impl");
    }
    if !item.generics.params.is_empty() {
        cx.error(&item.generics, "a namespace type cannot be generic");
    }
    let mut ns = Namespace {
        self_ty: (*item.self_ty).clone(),
        path,
        emits,
        docs: attr::docs(&item.attrs),
        connect: None,
        disconnecting: None,
        disconnect: None,
        fallback: None,
        events: Vec::new(),
        middlewares: Vec::new(),
        error: None,
        any_outgoing: None,
        client,
        server,
    };
    for impl_item in &mut item.items {
        let ImplItem::Fn(f) = impl_item else { continue };
        let Some((kind, opts, attr_tokens)) = take_kind(cx, f) else { continue };
        let Some(handler) = parse_handler(cx, kind, &opts, &attr_tokens, f, ns.emits.as_ref(), &rule) else {
            continue;
        };
        match kind {
            Kind::Event => {
                if let Some(first) = ns.events.iter().find(|e| e.name == handler.name) {
                    cx.push(syn::Error::new(
                        handler.name_span,
                        format!(
                            "duplicate event name `{}` (already handled by `{}`)",
                            handler.name, first.ident
                        ),
                    ));
                }
                ns.events.push(handler);
            }
            Kind::Middleware => ns.middlewares.push(handler),
            Kind::Connect
            | Kind::Fallback
            | Kind::Error
            | Kind::AnyOutgoing
            | Kind::Disconnecting
            | Kind::Disconnect => {
                let slot = match kind {
                    Kind::Connect => &mut ns.connect,
                    Kind::Fallback => &mut ns.fallback,
                    Kind::Error => &mut ns.error,
                    Kind::AnyOutgoing => &mut ns.any_outgoing,
                    Kind::Disconnecting => &mut ns.disconnecting,
                    _ => &mut ns.disconnect,
                };
                if let Some(first) = slot {
                    cx.error(
                        &f.sig.ident,
                        format!(
                            "a namespace has one #[{}] handler (already `{}`)",
                            kind.attr_name(),
                            first.ident
                        ),
                    );
                } else {
                    *slot = Some(handler);
                }
            }
        }
    }
    Some(ns)
}

/// The arguments of `#[namespace(..)]`.
struct Args {
    path: LitStr,
    emits: Option<Type>,
    rule: String,
    client: Option<Gate>,
    server: Option<Gate>,
}

fn parse_args(cx: &mut Ctxt, args: TokenStream) -> Option<Args> {
    let parser = |input: syn::parse::ParseStream<'_>| -> syn::Result<(LitStr, Vec<Opt>)> {
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the namespace path first: #[namespace(\"/chat\")]")
        })?;
        let mut opts = Vec::new();
        while input.parse::<Option<syn::Token![,]>>()?.is_some() {
            if input.is_empty() {
                break;
            }
            opts.push(input.parse::<Opt>()?);
        }
        Ok((path, opts))
    };
    let (path, opts) = match syn::parse::Parser::parse2(parser, args) {
        Ok(v) => v,
        Err(e) => {
            cx.push(e);
            return None;
        }
    };
    let value = path.value();
    if !value.starts_with('/') || value.contains(',') || value.chars().any(char::is_control) {
        cx.error(&path, "a namespace path starts with `/` and contains no `,`, e.g. \"/chat\"");
    }
    let mut emits = None;
    let mut rule = "camelCase".to_owned();
    let (mut client, mut server) = (None, None);
    for opt in &opts {
        if opt.key == "client" {
            client = Gate::parse(cx, opt);
        } else if opt.key == "server" {
            server = match Gate::parse(cx, opt) {
                Some(Gate(None)) => {
                    cx.error(&opt.key, "`server` names a cargo feature: `server = \"server\"`");
                    None
                }
                g => g,
            };
        } else if opt.key == "emits" {
            emits = attr::ty(cx, opt);
        } else if opt.key == "rename_all" {
            if let Some(r) = crate::events::rename_rule(cx, opt) {
                rule = r;
            }
        } else if opt.key == "emit" || opt.key == "events" {
            // Read as meant, so the handlers' `Conn` is typed and no second error follows.
            cx.error(&opt.key, format!("unknown option `{}`, did you mean `emits`?", opt.key));
            emits = attr::ty(cx, opt);
        } else {
            attr::unknown(cx, &opt.key, &["emits", "rename_all", "client", "server"]);
        }
    }
    Some(Args { path, emits, rule, client, server })
}

/// Removes our attribute from the method and returns which kind it is, with its options.
fn take_kind(cx: &mut Ctxt, f: &mut ImplItemFn) -> Option<(Kind, Vec<Opt>, TokenStream)> {
    let mut found: Option<(Kind, Vec<Opt>, TokenStream)> = None;
    let mut keep = Vec::new();
    for a in std::mem::take(&mut f.attrs) {
        let kind = Kind::ALL.into_iter().find(|k| a.path().is_ident(k.attr_name()));
        let Some(kind) = kind else {
            keep.push(a);
            continue;
        };
        let opts = match &a.meta {
            syn::Meta::Path(_) => Vec::new(),
            syn::Meta::List(l) => match attr::parse_opts(l.tokens.clone()) {
                Ok(o) => o,
                Err(e) => {
                    cx.push(e);
                    Vec::new()
                }
            },
            syn::Meta::NameValue(nv) => {
                cx.error(
                    nv,
                    format!("write #[{}] or #[{}(option = ..)]", kind.attr_name(), kind.attr_name()),
                );
                Vec::new()
            }
        };
        if found.is_some() {
            cx.error(
                &a,
                "a method handles one thing: #[event], #[fallback], #[middleware], #[error], #[any_outgoing], \
                 #[connect], #[disconnecting] or #[disconnect]",
            );
            continue;
        }
        found = Some((kind, opts, a.to_token_stream()));
    }
    f.attrs = keep;
    found
}

fn parse_handler(
    cx: &mut Ctxt,
    kind: Kind,
    opts: &[Opt],
    attr_tokens: &TokenStream,
    f: &mut ImplItemFn,
    emits: Option<&Type>,
    rule: &str,
) -> Option<Handler> {
    let mut name = crate::events::rename(&f.sig.ident.to_string(), rule);
    let mut name_span = f.sig.ident.span();
    let mut err_is_error = false;
    for opt in opts {
        match (kind, opt.key.to_string().as_str()) {
            (Kind::Event, "rename") => {
                if let Some(s) = attr::string(cx, opt) {
                    name = s.value();
                    name_span = s.span();
                }
            }
            (Kind::Event, "err_is_error") => match &opt.value {
                None => err_is_error = true,
                Some(v) => cx.error(v, "`err_is_error` takes no value: #[event(err_is_error)]"),
            },
            (Kind::Event, _) => attr::unknown(cx, &opt.key, &["rename", "err_is_error"]),
            _ => attr::unknown(cx, &opt.key, &[]),
        }
    }
    let _ = attr_tokens;
    if kind == Kind::AnyOutgoing {
        if let Some(a) = f.sig.asyncness {
            cx.error(
                a,
                "#[any_outgoing] runs synchronously on the emitting task: write a plain `fn`, not `async fn`",
            );
        }
    } else if f.sig.asyncness.is_none() {
        cx.error(f.sig.fn_token, format!("#[{}] handlers must be `async fn`", kind.attr_name()));
    }
    if !f.sig.generics.params.is_empty() {
        cx.error(&f.sig.generics, "handlers cannot be generic");
    }
    if kind == Kind::Event {
        attr::check_event_name(cx, &name, name_span);
    }
    let sig_tokens = f.sig.to_token_stream();
    let typed_count = f.sig.inputs.iter().filter(|i| matches!(i, FnArg::Typed(_))).count();
    let mut inputs = f.sig.inputs.iter_mut();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(other) => cx.error(&*other, "handlers take `&self` first"),
        None => cx.error(sig_tokens, "handlers take `&self` first"),
    }
    let mut params = Vec::new();
    for (i, input) in inputs.enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        // Bare `Conn` in a namespace with `emits = E` is that namespace's typed handle.
        if let (Some(e), Type::Path(tp)) = (emits, &*pt.ty)
            && tp.qself.is_none()
            && tp.path.segments.len() == 1
            && tp.path.is_ident("Conn")
        {
            // Keep the user's own `Conn` path (so their import stays used), add the type.
            let ident = &tp.path.segments[0].ident;
            let span = pt.ty.span();
            *pt.ty = syn::parse_quote_spanned!(span=> #ident<#e>);
        }
        let pname = match &*pt.pat {
            Pat::Ident(p) => p.ident.to_string().trim_start_matches('_').to_owned(),
            _ => format!("arg{i}"),
        };
        let pname = if pname.is_empty() { format!("arg{i}") } else { pname };
        let pkind = if kind == Kind::Fallback && i + 2 == typed_count {
            ParamKind::FallbackName
        } else if kind == Kind::Fallback && i + 1 == typed_count {
            ParamKind::FallbackArgs
        } else if let Type::Reference(_) = &*pt.ty {
            let Some(k) = reference_kind(cx, kind, &pt.ty) else { continue };
            k
        } else {
            ParamKind::Typed
        };
        params.push(Param { name: pname, ty: (*pt.ty).clone(), kind: pkind });
    }
    let fallback_ok = || {
        let n = params.len();
        n >= 2
            && last_segment(&params[n - 2].ty).is_some_and(|(id, g)| id == "String" && !g)
            && last_segment(&params[n - 1].ty).is_some_and(|(id, g)| id == "RawArgs" && !g)
    };
    if kind == Kind::Fallback && !fallback_ok() {
        cx.error(
            &f.sig.inputs,
            "#[fallback] handlers take the event's name then its arguments: \
             `(&self, [s: Conn,] name: String, args: RawArgs)`",
        );
    }
    validate_order(cx, &params);
    let ret = match &f.sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, t) if is_unit(t) => None,
        syn::ReturnType::Type(_, t) => Some((**t).clone()),
    };
    if matches!(kind, Kind::Disconnecting | Kind::Disconnect | Kind::Error | Kind::AnyOutgoing)
        && let Some(r) = &ret
    {
        cx.error(r, format!("#[{}] handlers return nothing", kind.attr_name()));
    }
    if err_is_error && ret.as_ref().and_then(result_ok_type).is_none() {
        match &ret {
            Some(r) => cx.error(r, "`err_is_error` handlers return `Result<T, E>`"),
            None => cx.error(&f.sig.ident, "`err_is_error` handlers return `Result<T, E>`"),
        }
    }
    Some(Handler {
        ident: f.sig.ident.clone(),
        name,
        name_span,
        docs: attr::docs(&f.attrs),
        params,
        ret,
        err_is_error,
    })
}

/// The kind of a reference parameter; `None` (reported) for a reference this handler does not
/// take. References are recognized as written: they borrow from the event being handled.
fn reference_kind(cx: &mut Ctxt, kind: Kind, ty: &Type) -> Option<ParamKind> {
    let (k, allowed_in): (ParamKind, &[Kind]) = if is_ref_to(ty, "Extensions") {
        (ParamKind::Extensions, &[Kind::Event, Kind::Fallback])
    } else if is_ref_to(ty, "EventCtx") {
        (ParamKind::Ctx, &[Kind::Middleware])
    } else if is_ref_to(ty, "str") {
        (ParamKind::OutName, &[Kind::AnyOutgoing])
    } else if is_ref_to(ty, "RawArgs") {
        (ParamKind::OutArgs, &[Kind::AnyOutgoing])
    } else {
        cx.error(
            ty,
            "handler parameters are owned values (`String`, not `&str`); the references a handler may take \
             are `&Extensions` (#[event], #[fallback]), `&EventCtx` (#[middleware]), `&str` and `&RawArgs` \
             (#[any_outgoing])",
        );
        return None;
    };
    if allowed_in.contains(&kind) {
        return Some(k);
    }
    let what = match k {
        ParamKind::Extensions => {
            "`&Extensions` is an event's per-event data: #[event] and #[fallback] take it"
        }
        ParamKind::Ctx => "`&EventCtx` is what a #[middleware] inspects: only #[middleware] takes it",
        _ => {
            "`&str` and `&RawArgs` are the event an #[any_outgoing] hook sees: only #[any_outgoing] takes them"
        }
    };
    cx.error(ty, format!("{what}, not #[{}]", kind.attr_name()));
    None
}

/// Checks what the spelling tells for sure: `RawArgs` takes the remaining arguments.
fn validate_order(cx: &mut Ctxt, params: &[Param]) {
    let typed: Vec<&Param> = params.iter().filter(|p| p.kind == ParamKind::Typed).collect();
    for (i, p) in typed.iter().enumerate() {
        if last_segment(&p.ty).is_some_and(|(id, generic)| id == "RawArgs" && !generic)
            && i + 1 != typed.len()
        {
            let later_payload = typed[i + 1..]
                .iter()
                .any(|q| !last_segment(&q.ty).is_some_and(|(id, _)| id == "Conn" || id == "Handshake"));
            if later_payload {
                cx.error(
                    &p.ty,
                    "`RawArgs` captures the remaining arguments, so it must be the last argument",
                );
            }
        }
    }
}
