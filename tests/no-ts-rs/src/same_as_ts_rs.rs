//! sio's `#[derive(TS)]` renders what ts-rs's own derive renders for the same type, byte for
//! byte: every type below is declared twice, in `sio_side` with sio's derive and in `ts_side`
//! with ts-rs's (reached through `sio_core::ts_rs`, the only way without a ts-rs dependency),
//! and every item of the trait is compared.

use std::any::{TypeId, type_name};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sio_core::schema::Declarations;
use sio_core::ts_rs::{Config, TS, TypeVisitor};

/// Declares the items once per side, each with that side's `#[derive(TS)]`.
macro_rules! both {
    ($({ $($item:tt)* })*) => {
        mod sio_side {
            #![allow(dead_code)]
            use super::*;
            $( #[derive(::sio_core::TS)] $($item)* )*

            // `#[ts(export)]` generates this test, as ts-rs does: at module level, where the
            // test harness finds it (it also runs on its own).
            #[test]
            fn export_test_writes_the_file() {
                export_bindings_exported();
                let written = std::fs::read_to_string(format!("{}Exported.ts", export_dir()));
                assert_eq!(written.ok(), <Exported as TS>::export_to_string(&Config::from_env()).ok());
            }
        }
        mod ts_side {
            #![allow(dead_code)]
            use super::*;
            $( #[derive(::sio_core::ts_rs::TS)] #[ts(crate = "::sio_core::ts_rs")] $($item)* )*
        }
    };
}

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Where the `#[ts(export)]` type is written: outside the source tree, one directory per run.
/// (Its fields have no declarations of their own: those would go to ts-rs's default
/// directory, `./bindings`.)
fn export_dir() -> String {
    format!("{}/sio-no-ts-rs-{}/", std::env::temp_dir().display(), std::process::id())
}

both! {
    {
        /// A point.
        ///
        /// Two lines of docs, with `code`.
        #[derive(Clone, Serialize, Deserialize)]
        pub(crate) struct Point {
            /// Across.
            x: i32,
            y: i32,
        }
    }
    {
        /// Every kind of field.
        #[derive(Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub(crate) struct Player {
            display_name: String,
            /// Absent until the first game.
            best_score: Option<u32>,
            tags: Vec<String>,
            home: Point,
            visited: Vec<Option<Point>>,
            ratings: HashMap<String, f64>,
            ordered: BTreeMap<u8, Vec<i64>>,
            big: u64,
            pair: (bool, char),
            fixed: [u8; 4],
            #[serde(rename = "ADMIN")]
            admin: bool,
            #[serde(skip)]
            secret: String,
            #[serde(skip_serializing_if = "Option::is_none", default)]
            nickname: Option<String>,
            #[ts(optional)]
            maybe: Option<i8>,
            #[ts(type = "Date")]
            joined: String,
            #[ts(inline)]
            inline_point: Point,
            boxed: Box<Point>,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Flattened {
            id: u32,
            #[serde(flatten)]
            point: Point,
            #[serde(flatten)]
            extra: HashMap<String, String>,
        }
    }
    {
        /// A generic page.
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Page<T> {
            items: Vec<T>,
            total: u64,
            next: Option<String>,
        }
    }
    {
        pub(crate) struct Bounded<'a, A: Clone, B = u8, const N: usize = 2>
        where
            B: Copy,
        {
            a: A,
            b: Option<B>,
            label: &'a str,
            arr: [B; N],
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[ts(concrete(T = u16))]
        pub(crate) struct Concrete<T: Into<u64>> {
            value: T,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Results {
            players: Page<Player>,
            points: Page<Page<Point>>,
        }
    }
    {
        /// A tree: refers to itself by name and as `Self`.
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Tree {
            value: i32,
            children: Vec<Tree>,
            parent: Option<Box<Self>>,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Node<T> {
            value: T,
            next: Option<Box<Node<T>>>,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Pair(i32, String);
    }
    {
        /// A newtype.
        #[derive(Serialize, Deserialize)]
        pub(crate) struct UserId(u64);
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Unit;
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct EmptyNamed {}
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) struct EmptyTuple();
    }
    {
        #[derive(Serialize, Deserialize)]
        #[serde(rename = "SerdeName")]
        pub(crate) struct SerdeRenamed {
            a: i32,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[ts(rename = "TsName", rename_all = "UPPERCASE")]
        pub(crate) struct TsRenamed {
            a: i32,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[allow(non_camel_case_types)]
        pub(crate) struct r#type {
            r#match: i32,
        }
    }
    {
        /// Externally tagged, every variant shape.
        #[derive(Serialize, Deserialize)]
        pub(crate) enum Shape {
            /// A circle.
            Circle { radius: f64 },
            Square(f64),
            Segment(Point, Point),
            Empty,
            #[serde(rename = "tri")]
            Triangle { a: Point, b: Point, c: Point },
            #[serde(skip)]
            Hidden,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
        pub(crate) enum Internal {
            UserJoined { user_name: String },
            UserLeft { user_name: String, was_kicked: bool },
            Ping,
            Wrapped(Point),
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[serde(tag = "t", content = "c")]
        pub(crate) enum Adjacent {
            Text(String),
            Image { url: String },
            Nothing,
            Many(i32, i32),
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[serde(untagged)]
        pub(crate) enum Untagged {
            Num(f64),
            Text(String),
            Obj { a: i32 },
            Nothing,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) enum Mixed {
            Plain(i32),
            #[serde(untagged)]
            Other(String),
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub(crate) enum Color {
            DarkRed,
            LightGreen,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) enum Never {}
    }
    {
        #[derive(Serialize, Deserialize)]
        #[ts(repr(enum))]
        #[repr(u8)]
        pub(crate) enum Level {
            Low = 1,
            Mid,
            High = 10,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[ts(repr(enum = name))]
        pub(crate) enum Direction {
            Up,
            Down,
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        pub(crate) enum Either<L, R> {
            Left(L),
            Right(R),
        }
    }
    {
        #[derive(Serialize, Deserialize)]
        #[ts(export, export_to = export_dir())]
        pub(crate) struct Exported {
            id: u64,
            name: Option<String>,
        }
    }
}

/// Everything `TS` says about a type, as strings; a method that panics (ts-rs's answer for,
/// e.g., the declaration of a type that has none) is recorded as `None`.
#[derive(Debug, PartialEq)]
struct Rendered {
    name: String,
    ident: String,
    docs: Option<String>,
    decl: Option<String>,
    decl_concrete: Option<String>,
    inline: Option<String>,
    inline_flattened: Option<String>,
    output_path: Option<std::path::PathBuf>,
    is_enum: bool,
    is_option: bool,
    /// `WithoutGenerics`, with this side's module in the path replaced by `SIDE`.
    without_generics: String,
    /// `(name, output path, is the type itself)` of each dependency, sorted: ts-rs's derive
    /// visits them in the order of a `HashSet`, which differs from one expansion to the next.
    dependencies: Vec<(String, std::path::PathBuf, bool)>,
    /// The types `visit_generics` visits, by name.
    generics: Vec<String>,
    /// The file `export` would write.
    export: Option<String>,
    /// The declarations `sio_core::schema` collects for the type, sorted (they come in the
    /// order ts-rs visits dependencies).
    schema: Vec<(String, String, Option<String>)>,
}

fn render<T: TS + ?Sized + 'static>(config: fn() -> Config, side: &str) -> Rendered {
    let cfg = &config();
    struct Names<'a>(&'a Config, Vec<String>);
    impl TypeVisitor for Names<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            self.1.push(U::name(self.0));
        }
    }
    let quiet = |f: &dyn Fn() -> String| catch_unwind(AssertUnwindSafe(f)).ok();
    let mut generics = Names(cfg, Vec::new());
    T::visit_generics(&mut generics);
    let mut schema = Declarations::new(config());
    schema.visit::<T>();
    Rendered {
        name: T::name(cfg),
        ident: T::ident(cfg),
        docs: T::docs(),
        decl: quiet(&|| T::decl(cfg)),
        decl_concrete: quiet(&|| T::decl_concrete(cfg)),
        inline: quiet(&|| T::inline(cfg)),
        inline_flattened: quiet(&|| T::inline_flattened(cfg)),
        output_path: T::output_path(),
        is_enum: T::IS_ENUM,
        is_option: T::IS_OPTION,
        without_generics: type_name::<T::WithoutGenerics>().replace(&format!("::{side}::"), "::SIDE::"),
        dependencies: sorted(
            T::dependencies(cfg)
                .into_iter()
                .map(|d| (d.ts_name, d.output_path, d.type_id == TypeId::of::<T>())),
        ),
        generics: generics.1,
        export: T::output_path().and_then(|_| T::export_to_string(cfg).ok()),
        schema: sorted(schema.into_vec().into_iter().map(|d| (d.name, d.decl, d.docs))),
    }
}

fn sorted<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort();
    items
}

/// Renders both sides of each type, under two configurations: `(type, sio's, ts-rs's)`.
macro_rules! render_both {
    ($($ty:ty),* $(,)?) => {{
        // ts-rs panics for what a type cannot do (declare a primitive, flatten a tuple): those
        // panics are expected, and kept quiet while rendering.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let configs: [fn() -> Config; 2] =
            [Config::new, || Config::new().with_large_int("bigint").with_array_tuple_limit(2)];
        let mut rendered = Vec::new();
        for cfg in configs {
            $({
                #[allow(unused_imports)]
                use sio_side::*;
                let sio = render::<$ty>(cfg, "sio_side");
                let ts = {
                    #[allow(unused_imports)]
                    use ts_side::*;
                    render::<$ty>(cfg, "ts_side")
                };
                rendered.push((stringify!($ty), sio, ts));
            })*
        }
        std::panic::set_hook(hook);
        rendered
    }};
}

#[test]
fn sio_derive_renders_what_ts_rs_renders() {
    let rendered = render_both!(
        Point,
        Player,
        Flattened,
        Page<i32>,
        Page<Player>,
        Page<Option<Page<Point>>>,
        Bounded<'static, String, u16, 3>,
        Bounded<'static, Point>,
        Concrete<u32>,
        Results,
        Tree,
        Node<String>,
        Pair,
        UserId,
        Unit,
        EmptyNamed,
        EmptyTuple,
        SerdeRenamed,
        TsRenamed,
        r#type,
        Shape,
        Internal,
        Adjacent,
        Untagged,
        Mixed,
        Color,
        Never,
        Level,
        Direction,
        Either<Point, Vec<Shape>>,
        Exported,
    );
    assert_eq!(rendered.len(), 62);
    for (ty, sio, ts) in rendered {
        assert_eq!(sio, ts, "{ty} renders differently");
    }
}
