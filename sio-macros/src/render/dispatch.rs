//! The `NamespaceHandler` impl: a static `match` on the event name, argument decoding straight
//! from the packet, the handler call and the ack wiring.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Handler, Namespace, ParamKind};

/// The expression passed to the user's method for parameter `i` of `h`.
fn call_args(h: &Handler, payload: &[syn::Ident]) -> Vec<TokenStream> {
    let mut next_payload = payload.iter();
    h.params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Conn => quote! { ::sio_core::__private::typed(::core::clone::Clone::clone(&__conn)) },
            ParamKind::Handshake => quote! { ::core::clone::Clone::clone(__conn.handshake()) },
            ParamKind::Reason => quote! { __reason },
            ParamKind::Auth => quote! { __auth },
            ParamKind::Extensions => quote! { __event.extensions() },
            ParamKind::Ctx => quote! { &__ctx },
            ParamKind::Error => quote! { __error },
            ParamKind::OutName => quote! { __name },
            ParamKind::OutArgs => quote! { __args },
            ParamKind::Arg { .. } | ParamKind::Rest => {
                let id = next_payload.next();
                quote! { #id }
            }
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
    let args = call_args(h, &[]);
    quote! {
        {
            let __this = ::core::clone::Clone::clone(self);
            async move {
                let _ = &__reason;
                __this.#ident(#(#args),*).await
            }
        }
    }
}

fn event_arm(h: &Handler) -> TokenStream {
    let name = &h.name;
    let ident = &h.ident;
    let payload: Vec<_> = h.params.iter().filter(|p| !p.is_injected()).collect();
    let vars: Vec<syn::Ident> = (0..payload.len()).map(|i| format_ident!("__a{}", i)).collect();
    let tys: Vec<&syn::Type> = payload.iter().map(|p| &p.ty).collect();
    let decode: Vec<TokenStream> = payload
        .iter()
        .map(|p| {
            let ty = &p.ty;
            if p.kind == ParamKind::Rest {
                quote_spanned! {ty.span()=> ::sio_core::protocol::ArgCursor::rest(__args)? }
            } else {
                quote_spanned! {ty.span()=> ::sio_core::protocol::ArgCursor::next::<#ty>(__args)? }
            }
        })
        .collect();
    let args = call_args(h, &vars);
    let reply = ack_reply(h);
    quote! {
        #name => {
            struct __Args(#(#tys),*);
            impl ::sio_core::FromArgs for __Args {
                fn from_args(
                    __args: &mut ::sio_core::protocol::ArgCursor<'_>,
                ) -> ::core::result::Result<Self, ::sio_core::__private::serde_json::Error> {
                    ::core::result::Result::Ok(__Args(#(#decode),*))
                }
            }
            let __Args(#(#vars),*) = match __event.args::<__Args>() {
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
    let vars = [format_ident!("__a0"), format_ident!("__a1")];
    let args = call_args(h, &vars);
    let reply = ack_reply(h);
    quote! {
        _ => {
            let __a0 = ::std::borrow::ToOwned::to_owned(__event.name());
            let __a1 = __event.raw();
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
        let auth = h.params.iter().find(|p| p.kind == ParamKind::Auth).map(|p| {
            let ty = &p.ty;
            quote_spanned! {ty.span()=>
                let __auth: #ty = match __conn.auth::<#ty>() {
                    ::core::result::Result::Ok(a) => a,
                    ::core::result::Result::Err(e) => {
                        return ::core::result::Result::Err(::sio_core::__private::bad_auth(&e));
                    }
                };
            }
        });
        let args = call_args(h, &[]);
        quote! {
            fn connect(
                self: &::std::sync::Arc<Self>,
                __conn: ::sio_core::Conn,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<(), ::sio_core::ConnectError>>
                   + ::core::marker::Send + 'static {
                let __this = ::core::clone::Clone::clone(self);
                async move {
                    #auth
                    ::sio_core::__private::ConnectOutcome::into_result(__this.#ident(#(#args),*).await)
                }
            }
        }
    });

    let middleware = (!ns.middlewares.is_empty()).then(|| {
        let steps = ns.middlewares.iter().map(|h| {
            let ident = &h.ident;
            let args = call_args(h, &[]);
            let outcome = match &h.ret {
                Some(ret) => quote_spanned! {ret.span()=>
                    ::sio_core::__private::MiddlewareOutcome::into_result(__ret)?;
                },
                None => quote! { let () = __ret; },
            };
            quote! {
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
        let args = call_args(h, &[]);
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
                ::core::option::Option::Some(async move { __this.#ident(#(#args),*).await })
            }
        }
    });

    let any_outgoing = ns.any_outgoing.as_ref().map(|h| {
        let ident = &h.ident;
        let args = call_args(h, &[]);
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
                let __conn: ::sio_core::Conn = ::core::clone::Clone::clone(__conn);
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
