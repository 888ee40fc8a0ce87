//! The `NamespaceHandler` impl: a static `match` on the event name, argument decoding straight
//! from the packet, the handler call and the ack wiring.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Handler, Namespace, ParamKind};

/// The variable holding parameter `i` once extracted.
fn var(i: usize) -> syn::Ident {
    format_ident!("__p{}", i)
}

/// The expressions passed to the user's method: the extracted variables, and the references
/// (recognized as written) to what the dispatch code holds.
fn call_args(h: &Handler) -> Vec<TokenStream> {
    h.params
        .iter()
        .enumerate()
        .map(|(i, p)| match p.kind {
            ParamKind::Typed | ParamKind::FallbackName | ParamKind::FallbackArgs => {
                let v = var(i);
                quote! { #v }
            }
            ParamKind::Extensions => quote! { __event.extensions() },
            ParamKind::Ctx => quote! { &__ctx },
            ParamKind::OutName => quote! { __name },
            ParamKind::OutArgs => quote! { __args },
        })
        .collect()
}

/// `let __pN = <T as Trait>::extract(..);` for every owned parameter, spanned on the user's
/// type (so a type that is no parameter of this kind is reported there). `extract` is the
/// call given the trait path.
fn extractions(h: &Handler, extract: impl Fn(&syn::Type) -> TokenStream) -> Vec<TokenStream> {
    h.params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == ParamKind::Typed)
        .map(|(i, p)| {
            let ty = &p.ty;
            let v = var(i);
            let call = extract(ty);
            quote_spanned! {ty.span()=> let #v: #ty = #call; }
        })
        .collect()
}

/// Sends the handler's return value (`__ret`) as the ack, when the client asked for one.
fn ack_reply(h: &Handler) -> TokenStream {
    if h.err_is_error
        && let Some(ret) = &h.ret
    {
        let name = &h.name;
        let ok = match h.ack_type() {
            Some(t) => quote_spanned! {t.span()=> ::sio_core::__private::Reply::reply(__ret, __ack); },
            None => quote! { let () = __ret; ::sio_core::__private::reply_empty(__ack); },
        };
        return quote_spanned! {ret.span()=>
            match ::sio_core::__private::Fallible::into_result(__ret) {
                ::core::result::Result::Ok(__ret) => { #ok }
                ::core::result::Result::Err(__e) => {
                    ::sio_core::__private::failed(&__conn, __ack, #name, __e).await;
                }
            }
        };
    }
    if let Some(ret) = &h.ret {
        // Spanned on the return type: a type that is not `Serialize` is reported there.
        quote_spanned! {ret.span()=> ::sio_core::__private::Reply::reply(__ret, __ack); }
    } else {
        quote! { let () = __ret; ::sio_core::__private::reply_empty(__ack); }
    }
}

/// The future of a `#[disconnecting]` or `#[disconnect]` handler.
fn leave_future(h: &Handler) -> TokenStream {
    let ident = &h.ident;
    let lets = extractions(
        h,
        |ty| quote_spanned! {ty.span()=> <#ty as ::sio_core::__private::LeaveParam>::extract(&__conn, __reason) },
    );
    let args = call_args(h);
    quote! {
        {
            let __this = ::core::clone::Clone::clone(self);
            #(#lets)*
            async move {
                let _ = (&__conn, &__reason);
                __this.#ident(#(#args),*).await
            }
        }
    }
}

fn event_arm(h: &Handler) -> TokenStream {
    let name = &h.name;
    let ident = &h.ident;
    let typed: Vec<(usize, &syn::Type)> = h
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == ParamKind::Typed)
        .map(|(i, p)| (i, &p.ty))
        .collect();
    let vars: Vec<syn::Ident> = typed.iter().map(|(i, _)| var(*i)).collect();
    let extract = typed.iter().map(|(_, ty)| {
        quote_spanned! {ty.span()=> <#ty as ::sio_core::__private::EventParam>::extract(&mut __parts)? }
    });
    let args = call_args(h);
    let reply = ack_reply(h);
    quote! {
        #name => {
            let __parsed = __event.__decode(|__cursor| {
                let mut __parts = ::sio_core::__private::EventParts::new(&__conn, __cursor);
                let _ = &mut __parts;
                ::core::result::Result::Ok((#(#extract,)*))
            });
            let (#(#vars,)*) = match __parsed {
                ::core::result::Result::Ok(a) => a,
                ::core::result::Result::Err(e) => {
                    return ::sio_core::__private::bad_args(&__conn, &mut __event, #name, e).await;
                }
            };
            let __ack = __event.take_ack();
            let __ret = __this.#ident(#(#args),*).await;
            #reply
        }
    }
}

/// The `_` arm: the `#[fallback]` handler with the event's name and arguments, or a debug log.
fn fallback_arm(h: Option<&Handler>) -> TokenStream {
    let Some(h) = h else {
        return quote! { _ => ::sio_core::__private::unknown_event(__event.name()), };
    };
    let ident = &h.ident;
    let lets = extractions(
        h,
        |ty| quote_spanned! {ty.span()=> <#ty as ::sio_core::__private::HookParam>::extract(&__conn) },
    );
    let name_args = h.params.iter().enumerate().filter_map(|(i, p)| {
        let v = var(i);
        match p.kind {
            ParamKind::FallbackName => {
                Some(quote! { let #v = ::std::borrow::ToOwned::to_owned(__event.name()); })
            }
            ParamKind::FallbackArgs => Some(quote! { let #v = __event.raw(); }),
            _ => None,
        }
    });
    let args = call_args(h);
    let reply = ack_reply(h);
    quote! {
        _ => {
            #(#lets)*
            #(#name_args)*
            let __ack = __event.take_ack();
            let __ret = __this.#ident(#(#args),*).await;
            #reply
        }
    }
}

pub(crate) fn render(ns: &Namespace) -> TokenStream {
    let self_ty = &ns.self_ty;
    let arms: Vec<_> = ns.events.iter().map(event_arm).collect();
    let fallback = fallback_arm(ns.fallback.as_ref());

    let connect = ns.connect.as_ref().map(|h| {
        let ident = &h.ident;
        let auth = extractions(h, |ty| {
            quote_spanned! {ty.span()=>
                match <#ty as ::sio_core::__private::ConnectParam>::extract(&__conn) {
                    ::core::result::Result::Ok(a) => a,
                    ::core::result::Result::Err(e) => {
                        return ::core::result::Result::Err(::sio_core::__private::bad_auth(&e));
                    }
                }
            }
        });
        let args = call_args(h);
        quote! {
            fn connect(
                self: &::std::sync::Arc<Self>,
                __conn: ::sio_core::Conn,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<(), ::sio_core::ConnectError>>
                   + ::core::marker::Send + 'static {
                let __this = ::core::clone::Clone::clone(self);
                async move {
                    #(#auth)*
                    ::sio_core::__private::ConnectOutcome::into_result(__this.#ident(#(#args),*).await)
                }
            }
        }
    });

    let middleware = (!ns.middlewares.is_empty()).then(|| {
        let steps = ns.middlewares.iter().map(|h| {
            let ident = &h.ident;
            let lets = extractions(h, |ty| quote_spanned! {ty.span()=> <#ty as ::sio_core::__private::HookParam>::extract(&__conn) });
            let args = call_args(h);
            let outcome = match &h.ret {
                Some(ret) => quote_spanned! {ret.span()=>
                    ::sio_core::__private::MiddlewareOutcome::into_result(__ret)?;
                },
                None => quote! { let () = __ret; },
            };
            quote! {
                #(#lets)*
                let __ret = __this.#ident(#(#args),*).await;
                #outcome
            }
        });
        quote! {
            #[allow(unused_variables)]
            fn event_middleware(
                self: &::std::sync::Arc<Self>,
                __conn: &::sio_core::Conn,
                __event: &::sio_core::Event,
            ) -> ::core::option::Option<
                impl ::core::future::Future<
                    Output = ::core::result::Result<(), ::sio_core::EventError>,
                > + ::core::marker::Send + 'static,
            > {
                let __this = ::core::clone::Clone::clone(self);
                let __conn: ::sio_core::Conn = ::core::clone::Clone::clone(__conn);
                let __ctx = __event.ctx();
                ::core::option::Option::Some(async move {
                    #(#steps)*
                    ::core::result::Result::Ok(())
                })
            }
        }
    });

    let error = ns.error.as_ref().map(|h| {
        let ident = &h.ident;
        let lets = extractions(h, |ty| {
            quote_spanned! {ty.span()=>
                match <#ty as ::sio_core::__private::ErrorParam>::extract(&__conn, &mut __error) {
                    ::core::option::Option::Some(v) => v,
                    ::core::option::Option::None => return,
                }
            }
        });
        let args = call_args(h);
        quote! {
            fn has_error_hook(&self) -> bool {
                true
            }

            fn error(
                self: &::std::sync::Arc<Self>,
                __conn: ::sio_core::Conn,
                __error: ::sio_core::HandlerError,
            ) -> ::core::option::Option<
                impl ::core::future::Future<Output = ()> + ::core::marker::Send + 'static,
            > {
                let __this = ::core::clone::Clone::clone(self);
                let mut __error = ::core::option::Option::Some(__error);
                ::core::option::Option::Some(async move {
                    #(#lets)*
                    let _ = &mut __error;
                    __this.#ident(#(#args),*).await
                })
            }
        }
    });

    let any_outgoing = ns.any_outgoing.as_ref().map(|h| {
        let ident = &h.ident;
        let lets = extractions(
            h,
            |ty| quote_spanned! {ty.span()=> <#ty as ::sio_core::__private::HookParam>::extract(__conn) },
        );
        let args = call_args(h);
        quote! {
            fn has_any_outgoing(&self) -> bool {
                true
            }

            #[allow(unused_variables)]
            fn any_outgoing(
                self: &::std::sync::Arc<Self>,
                __conn: &::sio_core::Conn,
                __name: &str,
                __args: &::sio_core::RawArgs,
            ) {
                #(#lets)*
                self.#ident(#(#args),*)
            }
        }
    });

    let disconnect = ns.disconnect.as_ref().map(|h| {
        let fut = leave_future(h);
        quote! {
            fn disconnect(
                self: &::std::sync::Arc<Self>,
                __conn: ::sio_core::Conn,
                __reason: ::sio_core::DisconnectReason,
            ) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send + 'static {
                #fut
            }
        }
    });

    let disconnecting = ns.disconnecting.as_ref().map(|h| {
        let fut = leave_future(h);
        quote! {
            fn disconnecting(
                self: &::std::sync::Arc<Self>,
                __conn: ::sio_core::Conn,
                __reason: ::sio_core::DisconnectReason,
            ) -> ::core::option::Option<
                impl ::core::future::Future<Output = ()> + ::core::marker::Send + 'static,
            > {
                ::core::option::Option::Some(#fut)
            }
        }
    });

    quote! {
        impl ::sio_core::NamespaceHandler for #self_ty {
            #connect

            #[allow(unused_variables, clippy::unit_arg)]
            fn event(
                self: &::std::sync::Arc<Self>,
                __conn: ::sio_core::Conn,
                mut __event: ::sio_core::Event,
            ) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send + 'static {
                let __this = ::core::clone::Clone::clone(self);
                async move {
                    match __event.name() {
                        #(#arms)*
                        #fallback
                    }
                }
            }

            #middleware

            #error

            #any_outgoing

            #disconnecting

            #disconnect
        }
    }
}
