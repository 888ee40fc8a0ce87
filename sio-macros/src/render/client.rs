//! `#[namespace(.., client)]`: a typed client for `sio-client`, from the same handlers. For a
//! namespace type `Chat`: `ChatClient` (a method per event, the arguments and the ack reply
//! typed as the handler's) and `ChatClientBuilder` (the auth payload typed as the `#[connect]`
//! handler's, the server events as the `emits` enum).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use crate::model::{Gate, Handler, Namespace, ParamKind};

/// The last segment of a type path, and its generic arguments if any.
fn last(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// A parameter the server injects (the socket, the handshake): not sent by the client.
fn injected(ty: &Type) -> bool {
    last(ty).is_some_and(|s| s.ident == "Conn" || s.ident == "Handshake")
}

/// `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = last(ty).filter(|s| s.ident == "Option")?;
    let syn::PathArguments::AngleBracketed(a) = &seg.arguments else { return None };
    match a.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// The arguments a client sends to `h`: `None` when one is the remaining arguments
/// (`RawArgs`), which a typed method cannot spell.
fn client_args(h: &Handler) -> Option<Vec<(syn::Ident, &Type)>> {
    let mut out = Vec::new();
    for (i, p) in h.params.iter().enumerate() {
        if p.kind != ParamKind::Typed || injected(&p.ty) {
            continue;
        }
        if last(&p.ty).is_some_and(|s| s.ident == "RawArgs") {
            return None;
        }
        let name = syn::parse_str::<syn::Ident>(&p.name).unwrap_or_else(|_| format_ident!("arg{}", i));
        out.push((name, &p.ty));
    }
    Some(out)
}

fn method(h: &Handler) -> Option<TokenStream> {
    let args = client_args(h)?;
    let ident = &h.ident;
    let name = &h.name;
    let docs = format!(
        " Emits `{name}`{}",
        if h.docs.is_empty() { ".".to_owned() } else { format!(": {}", h.docs) }
    );
    let names = args.iter().map(|(n, _)| n);
    let params = args.iter().map(|(n, t)| quote_spanned! {t.span()=> #n: #t });
    // Bounds on the method rather than calls in its body: a type the client cannot send or
    // receive is reported once, on the user's type, and the body checks under the bound.
    let bounds: Vec<TokenStream> =
        args.iter().map(|(_, t)| quote_spanned! {t.span()=> #t: ::sio_client::__private::Sent }).collect();
    Some(match h.ack_type() {
        Some(r) => {
            let check = quote_spanned! {r.span()=> #r: ::sio_client::__private::Received };
            quote! {
                #[doc = #docs]
                #[doc = ""]
                #[doc = " Resolves with the handler's return value (the ack)."]
                pub fn #ident(&self, #(#params),*)
                    -> impl ::core::future::Future<Output = ::core::result::Result<#r, ::sio_client::Error>> + ::core::marker::Send + 'static
                where
                    #(#bounds,)*
                    #check
                {
                    self.socket.emit_with_ack::<_, #r>(#name, (#(#names,)*))
                }
            }
        }
        None => quote! {
            #[doc = #docs]
            pub fn #ident(&self, #(#params),*) -> ::core::result::Result<(), ::sio_client::Error>
            where
                #(#bounds,)*
            {
                self.socket.emit(#name, (#(#names,)*))
            }
        },
    })
}

pub(crate) fn render(ns: &Namespace, gate: &Gate) -> TokenStream {
    let cfg = gate.cfg();
    let Some(seg) = last(&ns.self_ty).filter(|s| s.arguments.is_empty()) else {
        return syn::Error::new(ns.self_ty.span(), "`client` needs a namespace type named by a plain path")
            .to_compile_error();
    };
    let client = format_ident!("{}Client", seg.ident);
    let builder = format_ident!("{}ClientBuilder", seg.ident);
    let path = &ns.path;
    let methods = ns.events.iter().filter_map(method);
    let auth = ns
        .connect
        .iter()
        .flat_map(|c| &c.params)
        .find(|p| p.kind == ParamKind::Typed && !injected(&p.ty))
        .map(|p| option_inner(&p.ty).unwrap_or(&p.ty));
    let auth_method = auth.map(|t| {
        quote_spanned! {t.span()=>
            /// The auth payload, typed as the `#[connect]` handler's.
            pub fn auth(self, auth: &#t) -> Self
            where
                #t: ::sio_client::__private::Sent,
            {
                Self { inner: self.inner.auth(auth) }
            }
        }
    });
    let connect = match auth {
        Some(t) => quote! {
            /// Connects to the server at `url` (`http://host:port`) with `auth`.
            ///
            /// # Errors
            /// As [`sio_client::SocketBuilder::connect`].
            pub async fn connect(url: &str, auth: &#t) -> ::core::result::Result<Self, ::sio_client::Error>
            where
                #t: ::sio_client::__private::Sent,
            {
                Self::builder(url).auth(auth).connect().await
            }
        },
        None => quote! {
            /// Connects to the server at `url` (`http://host:port`).
            ///
            /// # Errors
            /// As [`sio_client::SocketBuilder::connect`].
            pub async fn connect(url: &str) -> ::core::result::Result<Self, ::sio_client::Error> {
                Self::builder(url).connect().await
            }
        },
    };
    let on_event = ns.emits.as_ref().map(|e| {
        quote! {
            /// Calls `f` with each event of the namespace's `emits` enum the server sends
            /// (events that ask for an ack are registered with [`Self::handle`]).
            pub fn on_event(self, f: impl Fn(#e) + ::core::marker::Send + ::core::marker::Sync + 'static) -> Self {
                Self { inner: ::sio_client::__private::on_events::<#e>(self.inner, f) }
            }

            /// Answers an event that asks for an ack, with a handler made by the `emits`
            /// enum's `on_*` functions (typed by its `#[event(ack = ..)]`).
            pub fn handle(self, handler: ::sio_client::__private::TypedHandler<#e>) -> Self {
                Self { inner: handler.register(self.inner) }
            }
        }
    });
    let doc = format!(
        " A typed client of the `{}` namespace (`{}`), generated from its handlers.",
        path.value(),
        seg.ident
    );
    quote! {
        #cfg
        #[doc = #doc]
        #[derive(Clone, Debug)]
        pub struct #client {
            socket: ::sio_client::Socket,
        }

        #cfg
        #[doc = " Builds a typed client; see its `connect`."]
        pub struct #builder {
            inner: ::sio_client::SocketBuilder,
        }

        #cfg
        impl #client {
            /// A builder for a client of the server at `url` (`http://host:port`).
            pub fn builder(url: &str) -> #builder {
                #builder { inner: ::sio_client::Socket::builder(url).namespace(#path) }
            }

            #connect

            /// The untyped socket underneath.
            pub fn socket(&self) -> &::sio_client::Socket {
                &self.socket
            }

            #(#methods)*
        }

        #cfg
        impl #builder {
            #auth_method

            #on_event

            /// Changes the underlying [`sio_client::SocketBuilder`] (transports, reconnection,
            /// untyped handlers...).
            pub fn configure(self, f: impl ::core::ops::FnOnce(::sio_client::SocketBuilder) -> ::sio_client::SocketBuilder) -> Self {
                Self { inner: f(self.inner) }
            }

            /// Connects.
            ///
            /// # Errors
            /// As [`sio_client::SocketBuilder::connect`].
            pub async fn connect(self) -> ::core::result::Result<#client, ::sio_client::Error> {
                ::core::result::Result::Ok(#client { socket: self.inner.connect().await? })
            }
        }
    }
}
