//! `#[derive(TS)]`: ts-rs's own derive, pointed at the ts-rs that `sio_core` re-exports, so a
//! crate that uses sio needs no `ts-rs` dependency of its own.
//!
//! ts-rs's derive names `::ts_rs` unless the item says `#[ts(crate = "..")]`, and a derive
//! cannot add an attribute to the item it is given. So this derive emits, inside
//! `const _: () = { .. };`, a copy of the type under the same name (generics, fields, variants,
//! discriminants, and the `doc`, `serde` and `ts` attributes ts-rs reads) that derives ts-rs's
//! `TS` with the crate path set, and implements `TS` for the user's type by delegating every
//! item of the trait to the copy.
//!
//! The copy keeps the type's name, so ts-rs renders for it exactly what it renders for the type
//! itself (name, declaration, JSDoc), whatever `rename` the user wrote or did not write. Inside
//! the copy, references to the type in its own fields (`Vec<Tree>`, `Box<Self>`) are rewritten
//! to the user's type (through an alias declared outside the copy's scope): its dependencies
//! and `WithoutGenerics` then carry the user type's `TypeId`, as with ts-rs, which is what
//! deduplicates declarations and drops self-imports.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Data, DeriveInput, Fields, GenericParam, Ident, Meta, Token, Type, Visibility};

use crate::ctxt::Ctxt;

/// The path of ts-rs as `sio_core` re-exports it, as `#[ts(crate = "..")]` takes it.
const TS_RS: &str = "::sio_core::__private::ts_rs";

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    if let Data::Union(u) = &input.data {
        cx.error(
            u.union_token,
            "`TS` can only be derived for structs and enums: TypeScript has no union of overlapping fields",
        );
    }
    let options = Options::read(&mut cx, &input.attrs);
    if cx.has_errors() {
        return cx.into_compile_errors();
    }
    render(&input, &options)
}

/// What the derive reads from the type's own `#[ts(..)]` attributes; everything else is left
/// to ts-rs.
struct Options {
    /// The container attributes the copy carries: `doc`, `serde`, `ts` (without `export`), and
    /// `repr` (an enum's discriminants may need it).
    attrs: Vec<Attribute>,
    /// `#[ts(export)]`: the export test must be a module-level item to be run, not one inside
    /// the `const _` that holds the copy, so it is generated here, as ts-rs generates it.
    export: bool,
    /// `#[ts(concrete(T = Type))]`: what `WithoutGenerics` and the export test put in place of
    /// a type parameter instead of `ts_rs::Dummy`.
    concrete: HashMap<Ident, Type>,
}

impl Options {
    fn read(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut options = Options { attrs: Vec::new(), export: false, concrete: HashMap::new() };
        for attr in attrs {
            if attr.path().is_ident("ts") {
                if let Some(attr) = options.read_ts(cx, attr) {
                    options.attrs.push(attr);
                }
            } else if read_by_ts_rs(attr) || attr.path().is_ident("repr") {
                options.attrs.push(attr.clone());
            }
        }
        options
    }

    /// Reads one `#[ts(..)]` container attribute; returns it as the copy carries it (`None` if
    /// nothing is left once `export` is taken out). Arguments this derive does not read, and
    /// malformed ones, are left to ts-rs, which reports them on the user's tokens.
    fn read_ts(&mut self, cx: &mut Ctxt, attr: &Attribute) -> Option<Attribute> {
        let Meta::List(list) = &attr.meta else {
            return Some(attr.clone());
        };
        let args = split_args(list.tokens.clone());
        let mut kept = Vec::new();
        for arg in &args {
            let mut tokens = arg.clone().into_iter();
            match (tokens.next(), tokens.next()) {
                (Some(TokenTree::Ident(key)), None) if key == "export" => self.export = true,
                (Some(TokenTree::Ident(key)), _) if key == "crate" => cx.error(
                    arg,
                    format!(
                        "sio's `TS` derive uses the ts-rs that `sio_core` re-exports \
                         (`{TS_RS}`); `crate` is an option of ts-rs's own derive \
                         (`#[derive(ts_rs::TS)]`)"
                    ),
                ),
                (Some(TokenTree::Ident(key)), Some(TokenTree::Group(group))) if key == "concrete" => {
                    self.read_concrete(group.stream());
                    kept.push(arg.clone());
                }
                _ => kept.push(arg.clone()),
            }
        }
        if kept.is_empty() && !args.is_empty() {
            return None;
        }
        let mut attr = attr.clone();
        if let Meta::List(list) = &mut attr.meta {
            list.tokens = quote!(#(#kept),*);
        }
        Some(attr)
    }

    /// `T = Type, U = Type`, as ts-rs parses it; later attributes override earlier ones, as in
    /// ts-rs. A list that does not parse is reported by ts-rs.
    fn read_concrete(&mut self, tokens: TokenStream) {
        let parser = Punctuated::<(Ident, Type), Token![,]>::parse_terminated_with;
        let pair = |input: syn::parse::ParseStream<'_>| {
            let ident: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok((ident, input.parse::<Type>()?))
        };
        if let Ok(pairs) = (|input: syn::parse::ParseStream<'_>| parser(input, pair)).parse2(tokens) {
            self.concrete.extend(pairs);
        }
    }
}

/// The arguments of an attribute, split at its top-level commas (a comma inside a group, a
/// string or a `concrete(..)` list does not split).
fn split_args(tokens: TokenStream) -> Vec<TokenStream> {
    let mut args = vec![TokenStream::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => args.push(TokenStream::new()),
            _ => {
                if let Some(last) = args.last_mut() {
                    last.extend([token]);
                }
            }
        }
    }
    args.retain(|arg| !arg.is_empty());
    args
}

/// The attributes ts-rs reads on a type, a variant or a field.
fn read_by_ts_rs(attr: &Attribute) -> bool {
    let path = attr.path();
    path.is_ident("doc") || path.is_ident("serde") || path.is_ident("ts")
}

fn render(input: &DeriveInput, options: &Options) -> TokenStream {
    let ts_rs = quote!(::sio_core::__private::ts_rs);
    let ident = &input.ident;
    let alias = Ident::new("__SioTsOriginal", Span::call_site());
    let generics = &input.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    // The alias names the user's type where the copy does not shadow it: its parameters
    // without bounds or defaults (an alias ignores bounds).
    let alias_params = generics.params.iter().map(|param| match param {
        GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
        GenericParam::Type(t) => t.ident.to_token_stream(),
        GenericParam::Const(c) => {
            let (ident, ty) = (&c.ident, &c.ty);
            quote!(const #ident: #ty)
        }
    });
    let user_ty = match syn::parse2::<Type>(quote!(#alias #ty_generics)) {
        Ok(ty) => ty,
        Err(e) => return e.to_compile_error(),
    };

    let copy = copy(input, options, &alias, &user_ty);
    let copy_ty = quote!(#ident #ty_generics);

    // `WithoutGenerics` as ts-rs writes it: `Dummy` (or the `concrete` type) for each type
    // parameter, lifetimes and const parameters as they are.
    let without_generics = generics.params.iter().map(|param| match param {
        GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
        GenericParam::Type(t) => match options.concrete.get(&t.ident) {
            Some(ty) => ty.to_token_stream(),
            None => quote!(#ts_rs::Dummy),
        },
        GenericParam::Const(c) => c.ident.to_token_stream(),
    });
    let mut predicates: Vec<TokenStream> =
        where_clause.iter().flat_map(|w| &w.predicates).map(ToTokens::to_token_stream).collect();
    // The copy's impl holds exactly when ts-rs's impl on the type would (its bounds, or the
    // `#[ts(bound)]` the user wrote); if ts-rs refused the type, this is the one error left.
    predicates.push(quote!(#copy_ty: #ts_rs::TS));

    // ts-rs's name for the test; an identifier that lowercases to no identifier is reported,
    // not a panic.
    let test = format!("export_bindings_{}", ident.to_string().to_lowercase().replace("r#", ""));
    let test = match options.export.then(|| syn::parse_str::<Ident>(&test)).transpose() {
        Ok(test) => test,
        Err(_) => {
            return syn::Error::new_spanned(ident, format!("`#[ts(export)]`: `{test}` is not an identifier"))
                .to_compile_error();
        }
    };
    let export_test = test.map(|test| {
        let args = generics.type_params().map(|t| match options.concrete.get(&t.ident) {
            Some(ty) => ty.to_token_stream(),
            None => quote!(#ts_rs::Dummy),
        });
        quote! {
            #[cfg(test)]
            #[test]
            fn #test() {
                let cfg = #ts_rs::Config::from_env();
                <#ident<#(#args),*> as #ts_rs::TS>::export_all(&cfg).expect("could not export type");
            }
        }
    });

    let string = quote!(::std::string::String);
    let delegate = quote!(<#copy_ty as #ts_rs::TS>);
    quote! {
        // The copy is never built and carries the user's spans: lints about the type itself are
        // reported once, on the type.
        #[doc(hidden)]
        #[allow(dead_code, deprecated, nonstandard_style, clippy::all, clippy::pedantic)]
        const _: () = {
            type #alias<#(#alias_params),*> = #ident #ty_generics;
            const _: () = {
                #[derive(#ts_rs::TS, ::sio_core::__private::SerdeAttributes)]
                #[ts(crate = #TS_RS)]
                #copy

                #[automatically_derived]
                impl #impl_generics #ts_rs::TS for #user_ty where #(#predicates),* {
                    type WithoutGenerics = #alias<#(#without_generics),*>;
                    type OptionInnerType = Self;
                    const IS_OPTION: bool = #delegate::IS_OPTION;
                    const IS_ENUM: bool = #delegate::IS_ENUM;

                    fn docs() -> ::std::option::Option<#string> {
                        #delegate::docs()
                    }
                    fn ident(cfg: &#ts_rs::Config) -> #string {
                        #delegate::ident(cfg)
                    }
                    fn decl(cfg: &#ts_rs::Config) -> #string {
                        #delegate::decl(cfg)
                    }
                    fn decl_concrete(cfg: &#ts_rs::Config) -> #string {
                        #delegate::decl_concrete(cfg)
                    }
                    fn name(cfg: &#ts_rs::Config) -> #string {
                        #delegate::name(cfg)
                    }
                    fn inline(cfg: &#ts_rs::Config) -> #string {
                        #delegate::inline(cfg)
                    }
                    fn inline_flattened(cfg: &#ts_rs::Config) -> #string {
                        #delegate::inline_flattened(cfg)
                    }
                    fn visit_dependencies(v: &mut impl #ts_rs::TypeVisitor)
                    where
                        Self: 'static,
                    {
                        #delegate::visit_dependencies(v)
                    }
                    fn visit_generics(v: &mut impl #ts_rs::TypeVisitor)
                    where
                        Self: 'static,
                    {
                        #delegate::visit_generics(v)
                    }
                    fn output_path() -> ::std::option::Option<::std::path::PathBuf> {
                        #delegate::output_path()
                    }
                }
            };
        };
        #export_test
    }
}

/// The copy of the type that ts-rs's derive sees: the type as written, with only the attributes
/// ts-rs reads, and references to itself pointed at the user's type.
fn copy(input: &DeriveInput, options: &Options, alias: &Ident, user_ty: &Type) -> DeriveInput {
    let mut copy = input.clone();
    copy.attrs.clone_from(&options.attrs);
    // Private, fields included: lints for public types (`missing_debug_implementations`,
    // `unreachable_pub`, ...) are about the type, and fire on the type itself.
    copy.vis = Visibility::Inherited;
    let mut rewrite = SelfReferences { ident: &input.ident, alias, user_ty };
    let mut fields = |fields: &mut Fields| {
        for field in fields.iter_mut() {
            field.attrs.retain(read_by_ts_rs);
            field.vis = Visibility::Inherited;
            rewrite.visit_type_mut(&mut field.ty);
        }
    };
    match &mut copy.data {
        Data::Struct(s) => fields(&mut s.fields),
        Data::Enum(e) => {
            for variant in &mut e.variants {
                variant.attrs.retain(read_by_ts_rs);
                fields(&mut variant.fields);
            }
        }
        Data::Union(_) => {}
    }
    copy
}

/// Points `Tree` and `Self` in a field type at the user's type: inside the copy, both would
/// name the copy.
struct SelfReferences<'a> {
    ident: &'a Ident,
    alias: &'a Ident,
    user_ty: &'a Type,
}

impl VisitMut for SelfReferences<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty
            && path.qself.is_none()
            && path.path.leading_colon.is_none()
            && path.path.segments.len() == 1
            && let Some(segment) = path.path.segments.first_mut()
        {
            if segment.ident == "Self" && segment.arguments.is_none() {
                *ty = self.user_ty.clone();
                return;
            }
            if segment.ident == *self.ident {
                segment.ident = Ident::new(&self.alias.to_string(), segment.ident.span());
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
