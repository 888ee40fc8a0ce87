//! The `TypedNamespace` impl: the namespace's path and a description of its events for
//! generators (TypeScript typings).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::model::{Handler, Namespace, ParamKind};

/// The type as written, for the schema (`Vec<ChatMsg>`).
fn written(ty: &syn::Type) -> String {
    ty.to_token_stream().to_string().replace(" < ", "<").replace(" >", ">").replace(" ,", ",")
}

pub(crate) fn type_ref(ty: &syn::Type) -> TokenStream {
    let written = written(ty);
    quote::quote_spanned! {syn::spanned::Spanned::span(ty)=> ::sio_core::__private::type_ref::<#ty>(#written) }
}

fn event(h: &Handler) -> TokenStream {
    let name = &h.name;
    let handler = h.ident.to_string();
    let docs = &h.docs;
    let args = h.params.iter().filter(|p| p.kind == ParamKind::Typed).map(|p| {
        let pname = &p.name;
        let ty = &p.ty;
        let written = written(ty);
        quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
            <#ty as ::sio_core::__private::EventParam>::schema(#pname, #written)
        }
    });
    let (ack, ack_spread) = match h.ack_type() {
        Some(t) => {
            let spread = quote::quote_spanned! {syn::spanned::Spanned::span(t)=> ::sio_core::__private::reply_spreads::<#t>() };
            let t = type_ref(t);
            (quote! { ::core::option::Option::Some(#t) }, spread)
        }
        None => (quote! { ::core::option::Option::None }, quote! { false }),
    };
    quote! {
        ::sio_core::schema::EventSchema {
            name: #name,
            handler: #handler,
            docs: #docs,
            args: ::sio_core::__private::event_args([#(#args),*]),
            ack: #ack,
            ack_spread: #ack_spread,
        }
    }
}

pub(crate) fn render(ns: &Namespace) -> TokenStream {
    let self_ty = &ns.self_ty;
    let path = &ns.path;
    let rust_name = self_ty.to_token_stream().to_string();
    let docs = &ns.docs;
    let events = ns.events.iter().map(event);
    let auth = ns.connect.iter().flat_map(|c| &c.params).filter(|p| p.kind == ParamKind::Typed).map(|p| {
        let ty = &p.ty;
        let written = written(ty);
        quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
            <#ty as ::sio_core::__private::ConnectParam>::auth(#written)
        }
    });
    let auth = quote! { ::sio_core::__private::auth_type([#(#auth),*]) };
    let events_ty = match &ns.emits {
        Some(e) => quote! { #e },
        None => quote! { ::sio_core::Untyped },
    };
    let server_events = match &ns.emits {
        Some(e) => quote! { <#e as ::sio_core::ServerEvents>::schema() },
        None => quote! { ::std::vec::Vec::new() },
    };
    quote! {
        impl ::sio_core::TypedNamespace for #self_ty {
            const PATH: &'static str = #path;
            type Events = #events_ty;

            fn schema() -> ::sio_core::schema::NamespaceSchema {
                ::sio_core::schema::NamespaceSchema {
                    path: #path,
                    rust_name: #rust_name,
                    docs: #docs,
                    auth: #auth,
                    events: ::std::vec![#(#events),*],
                    server_events: #server_events,
                }
            }
        }
    }
}
