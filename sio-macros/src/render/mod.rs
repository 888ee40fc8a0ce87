//! Code generation from the validated model: one module per output.

pub(crate) mod client;
pub(crate) mod dispatch;
pub(crate) mod schema;

/// The impls of a namespace whose macro reported errors: nothing is dispatched, nothing is
/// described, but the type is a namespace (with its `emits` type, when it was read).
pub(crate) fn stub(self_ty: &syn::Type, ns: Option<&crate::model::Namespace>) -> proc_macro2::TokenStream {
    let path = ns.map_or_else(|| "/".to_owned(), |n| n.path.value());
    let events = match ns.and_then(|n| n.emits.as_ref()) {
        Some(e) => quote::quote! { #e },
        None => quote::quote! { ::sio_core::Untyped },
    };
    quote::quote! {
        const _: () = {
            impl ::sio_core::NamespaceHandler for #self_ty {
                fn event(
                    self: &::std::sync::Arc<Self>,
                    _: ::sio_core::Conn,
                    _: ::sio_core::Event,
                ) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send + 'static {
                    async {}
                }
            }
            impl ::sio_core::TypedNamespace for #self_ty {
                const PATH: &'static str = #path;
                type Events = #events;
                fn schema() -> ::sio_core::schema::NamespaceSchema {
                    ::sio_core::schema::NamespaceSchema {
                        path: #path,
                        rust_name: "",
                        docs: "",
                        auth: ::core::option::Option::None,
                        events: ::std::vec::Vec::new(),
                        server_events: ::std::vec::Vec::new(),
                    }
                }
            }
        };
    }
}
