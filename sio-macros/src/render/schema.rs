//! The `TypedNamespace` impl: the namespace's path and a description of its events for
//! generators (TypeScript typings).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::model::{Handler, Namespace, ParamKind};

pub(crate) fn type_ref(ty: &syn::Type) -> TokenStream {
    let written = ty.to_token_stream().to_string().replace(" < ", "<").replace(" >", ">").replace(" ,", ",");
    quote::quote_spanned! {syn::spanned::Spanned::span(ty)=> ::sio_core::schema::TypeRef::of::<#ty>(#written) }
}

fn event(h: &Handler) -> TokenStream {
    let name = &h.name;
    let handler = h.ident.to_string();
    let docs = &h.docs;
    let args = h.params.iter().filter(|p| !p.is_injected()).map(|p| {
        let pname = &p.name;
        let ty = type_ref(&p.ty);
        let optional = matches!(p.kind, ParamKind::Arg { optional: true });
        let rest = p.kind == ParamKind::Rest;
        quote! { ::sio_core::schema::ArgSchema { name: #pname, ty: #ty, optional: #optional, rest: #rest } }
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
            args: ::std::vec![#(#args),*],
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
    let auth = match ns.connect.as_ref().and_then(|c| c.params.iter().find(|p| p.kind == ParamKind::Auth)) {
        Some(p) => {
            let t = type_ref(&p.ty);
            quote! { ::core::option::Option::Some(#t) }
        }
        None => quote! { ::core::option::Option::None },
    };
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
