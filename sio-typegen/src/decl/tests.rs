//! The reformatter on what ts-rs 12 writes: the inputs are its output, trailing spaces and
//! flush-left JSDoc included.

use super::{Sender, format};

fn client(decl: &str) -> String {
    format(decl, Sender::Client).unwrap_or_else(|| panic!("not understood: {decl}"))
}

fn server(decl: &str) -> String {
    format(decl, Sender::Server).unwrap_or_else(|| panic!("not understood: {decl}"))
}

/// `struct Upload { /// File name.\n name: String, data: Binary, /// Optional labels.\n tags: Option<Vec<String>> }`
const UPLOAD: &str = "type Upload = { \n/**\n * File name.\n */\nname: string, data: ArrayBuffer | Uint8Array, \n/**\n * Optional labels.\n */\ntags: Array<string> | null, };";

#[test]
fn a_struct_is_one_member_per_line_with_its_jsdoc_above_it() {
    assert_eq!(
        server(UPLOAD),
        "type Upload = {\n  \
           /** File name. */\n  \
           name: string;\n  \
           data: ArrayBuffer | Uint8Array;\n  \
           /** Optional labels. */\n  \
           tags: Array<string> | null;\n\
         };"
    );
}

#[test]
fn a_client_may_leave_an_option_field_out() {
    assert_eq!(
        client(UPLOAD),
        "type Upload = {\n  \
           /** File name. */\n  \
           name: string;\n  \
           data: ArrayBuffer | Uint8Array;\n  \
           /** Optional labels. */\n  \
           tags?: Array<string> | null;\n\
         };"
    );
    // Only a union *ending* in `null` at the member's top level is an `Option`.
    assert_eq!(
        client("type A = { a: Array<string | null>, b: null | string, c: [number | null], };"),
        "type A = {\n  a: Array<string | null>;\n  b: null | string;\n  c: [number | null];\n};"
    );
}

#[test]
fn ts_rs_optional_fields_stay_as_they_are() {
    // `#[ts(optional)]` and `#[ts(optional = nullable)]`.
    let decl = "type A = { d?: number, e?: number | null, };";
    let expected = "type A = {\n  d?: number;\n  e?: number | null;\n};";
    assert_eq!(client(decl), expected);
    assert_eq!(server(decl), expected);
}

#[test]
fn multi_line_docs_keep_their_lines_and_indentation() {
    let decl = "type A = { \n/**\n * First.\n *\n * Example:\n *     let x = 1;\n */\na: number, };";
    assert_eq!(
        server(decl),
        "type A = {\n  /**\n   * First.\n   *\n   * Example:\n   *     let x = 1;\n   */\n  a: number;\n};"
    );
    // A Rust block doc comment (`/** ... */`) is passed through by ts-rs as it is.
    assert_eq!(
        server("type A = { \n/** Block\n      doc */\nb: string, };"),
        "type A = {\n  /**\n   * Block\n   * doc\n   */\n  b: string;\n};"
    );
}

#[test]
fn nested_objects_stay_on_one_line_unless_documented_or_long() {
    // `#[ts(inline)] f: Inner`, `Range<u8>`, `HashMap<String, u32>`, and a flattened field.
    let decl = "type A = { l: { start: number, end: number, }, m: { [key in string]: number }, f: { x: number, \n/**\n * y doc\n */\ny: boolean | null, }, };";
    assert_eq!(
        client(decl),
        "type A = {\n  \
           l: { start: number; end: number };\n  \
           m: { [key in string]: number };\n  \
           f: {\n    \
             x: number;\n    \
             /** y doc */\n    \
             y?: boolean | null;\n  \
           };\n\
         };"
    );
    let long = format!(
        "type A = {{ a: {{ {} }}, }};",
        (0..12).map(|i| format!("field{i}: number,")).collect::<Vec<_>>().join(" ")
    );
    let out = server(&long);
    assert!(out.starts_with("type A = {\n  a: {\n    field0: number;\n    field1: number;\n"), "{out}");
    assert!(out.lines().all(|l| l.len() <= 100), "{out}");
}

#[test]
fn a_short_union_is_one_line_and_a_long_one_one_variant_per_line() {
    assert_eq!(server("type Color = \"red\" | \"blue\";"), "type Color = \"red\" | \"blue\";");
    let many: Vec<String> = (0..20).map(|i| format!("\"color{i}\"")).collect();
    let out = server(&format!("type Color = {};", many.join(" | ")));
    assert!(out.starts_with("type Color =\n  | \"color0\"\n  | \"color1\"\n"), "{out}");
    assert!(out.ends_with("\n  | \"color19\";"), "{out}");
}

#[test]
fn documented_variants_are_laid_out_as_prettier_does() {
    // `#[serde(tag = "kind")] enum Shape { Circle { /// Its center.\n center: Point, radius: f64 }, Polygon { points: Vec<Point> } }`
    let decl = "type Shape = { \"kind\": \"circle\", \n/**\n * Its center.\n */\ncenter: Point, radius: number, } | { \"kind\": \"polygon\", points: Array<Point>, };";
    assert_eq!(
        server(decl),
        "type Shape =\n  \
           | {\n      \
               \"kind\": \"circle\";\n      \
               /** Its center. */\n      \
               center: Point;\n      \
               radius: number;\n    \
             }\n  \
           | { \"kind\": \"polygon\"; points: Array<Point> };"
    );
}

#[test]
fn enum_representation_keys_and_results_are_never_optional() {
    // Externally tagged `Struct { a: u8, b: Option<u8> }` and `New(Option<u8>)`, adjacently
    // tagged `New(Option<u8>)`, and `Result<Option<u8>, String>`: serde needs those keys.
    let decl = "type E = \"Unit\" | { \"New\": number | null } | { \"Str\": { a: number, b: number | null, } } | { \"t\": \"N\", \"c\": number | null };";
    assert_eq!(
        client(decl),
        "type E =\n  \
           | \"Unit\"\n  \
           | { \"New\": number | null }\n  \
           | { \"Str\": { a: number; b?: number | null } }\n  \
           | { \"t\": \"N\"; \"c\": number | null };"
    );
    assert_eq!(
        client("type R = { r: { Ok : number | null } | { Err : string }, };"),
        "type R = {\n  r: { Ok: number | null } | { Err: string };\n};"
    );
    // A field renamed to a non-identifier is quoted, and still a field.
    assert_eq!(
        client("type A = { \"foo-bar\": string | null, };"),
        "type A = {\n  \"foo-bar\"?: string | null;\n};"
    );
    // A map's mapped key is not a field.
    assert_eq!(
        client("type A = { m: { [key in string]: number | null }, };"),
        "type A = {\n  m: { [key in string]: number | null };\n};"
    );
}

#[test]
fn generics_intersections_tuples_and_empty_types() {
    assert_eq!(
        client("type G<T, U = number> = { t: T, u: U | null, };"),
        "type G<T, U = number> = {\n  t: T;\n  u?: U | null;\n};"
    );
    assert_eq!(
        server(
            "type Int = { \"kind\": \"A\", x: number, } | { \"kind\": \"B\" } & Inner | { \"kind\": \"C\" };"
        ),
        "type Int = { \"kind\": \"A\"; x: number } | { \"kind\": \"B\" } & Inner | { \"kind\": \"C\" };"
    );
    assert_eq!(server("type T = [number, string | null];"), "type T = [number, string | null];");
    assert_eq!(server("type E = Record<symbol, never>;"), "type E = Record<symbol, never>;");
    assert_eq!(server("type E = {  };"), "type E = {};");
    assert_eq!(server("type U = null;"), "type U = null;");
    assert_eq!(server("type N = string | null;"), "type N = string | null;");
    assert_eq!(server("type A = { a: string[], };"), "type A = {\n  a: string[];\n};");
    // A documented object inside a tuple, a paren and a generic.
    let doc = "{ \n/**\n * x\n */\nx: number, }";
    assert_eq!(
        server(&format!("type T = [{doc}, string];")),
        "type T = [\n  {\n    /** x */\n    x: number;\n  },\n  string,\n];"
    );
    assert_eq!(
        server(&format!("type P = Array<({doc} | null)>;")),
        "type P = Array<(\n  | {\n      /** x */\n      x: number;\n    }\n  | null\n)>;"
    );
    assert_eq!(
        server(&format!("type T = [{doc} | null];")),
        "type T = [\n  | {\n      /** x */\n      x: number;\n    }\n  | null,\n];"
    );
}

#[test]
fn what_it_cannot_read_is_left_to_the_caller() {
    for decl in [
        // `#[ts(type = "...")]` overrides outside the subset.
        "type W = { f: (a: number) => void, };",
        "type W = { k: keyof Foo | null, };",
        "type W = { k: `tmpl`, };",
        // ts-rs's `#[ts(repr(enum))]`.
        "enum Repr { \"A\", \"B\" }",
        // A `*/` in a Rust doc comment ends ts-rs's JSDoc early.
        "type A = { \n/**\n * has */ in it\n */\na: number, };",
        // Not one declaration.
        "type A = number; type B = string;",
        "type A = { a: number, }",
        "type A = { // c\n a: number, };",
        "type A = { a: number b: string };",
        "type = number;",
        "",
    ] {
        assert_eq!(format(decl, Sender::Client), None, "{decl}");
    }
}

#[test]
fn the_output_is_stable_and_clean() {
    let decls = [
        UPLOAD,
        "type E = \"Unit\" | { \"New\": number } | { \"Tup\": [number, string] } | { \"Str\": { \n/**\n * doc\n */\na: number, b: number | null, } };",
        "type Adj = { \"t\": \"Unit\" } | { \"t\": \"New\", \"c\": number } | { \"t\": \"Str\", \"c\": { a: number, } };",
        "type Un = number | { b: string, } | null;",
    ];
    for decl in decls {
        for sender in [Sender::Client, Sender::Server] {
            let once = format(decl, sender).expect("understood");
            assert!(once.lines().all(|l| l == l.trim_end() && !l.contains('\t')), "{once}");
            // Formatting the output again changes nothing.
            assert_eq!(format(&once, sender).as_deref(), Some(once.as_str()));
        }
    }
}

#[test]
fn a_type_in_a_signature_is_tidied_on_one_line() {
    assert_eq!(super::inline("{ Ok : number } | { Err : string }"), "{ Ok: number } | { Err: string }");
    assert_eq!(super::inline("{ start: number, end: number, }"), "{ start: number; end: number }");
    assert_eq!(super::inline("Array<Page<Shape>>"), "Array<Page<Shape>>");
    assert_eq!(super::inline("(a: number) => void"), "(a: number) => void");
    assert_eq!(super::inline("number | "), "number | ");
}

#[test]
fn no_input_makes_it_panic() {
    // Every prefix of real declarations (cut anywhere, mid-string and mid-comment included),
    // with non-ASCII text: either read and written cleanly, or left alone.
    let decls = [
        UPLOAD,
        "type E = \"Unit\" | { \"N\\\"é\": number } | { \"Str\": { \n/**\n * doc é\n */\na: number, b: number | null, } };",
        "type G<T, U = Array<number>> = { t: [T, ...U], m: { [key in string]?: T | null }, r: (A | B)[], };",
    ];
    for decl in decls {
        assert!(format(decl, Sender::Server).is_some(), "{decl}");
        for (i, _) in decl.char_indices() {
            for sender in [Sender::Client, Sender::Server] {
                if let Some(out) = format(&decl[..i], sender) {
                    assert_eq!(format(&out, sender).as_deref(), Some(out.as_str()), "{out}");
                }
            }
            let _ = super::inline(&decl[..i]);
        }
    }
}
