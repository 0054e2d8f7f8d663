//! `spec-diff`: compare Strava's published API description with ours, structurally.
//!
//! # Usage
//!
//! ```text
//! cargo xtask spec-diff [--ours PATH] [--deviations PATH] [--verbose] THEIRS.json
//! ```
//!
//! `THEIRS.json` is the description Strava publishes (Swagger 2.0 or OpenAPI 3.x, JSON).
//! It is compared with the project's `openapi/strava.json` (or `--ours PATH`). Differences
//! listed in `openapi/deviations.json` (or `--deviations PATH`) are intentional: they are
//! "explained" and only printed with `--verbose`. The default paths are relative to the
//! workspace root (the `stravalib` package); paths given on the command line are relative
//! to the current directory. When the default deviations file does not exist, no
//! difference is explained.
//!
//! Exit status: `0` when nothing unexplained differs, `1` when something does, `2` on bad
//! input (a missing or unreadable file, invalid JSON, a document that is neither Swagger
//! 2.0 nor OpenAPI 3.x, a malformed deviations file, a bad command line).
//!
//! # What is compared
//!
//! Both documents are first normalised into one model, so that the Swagger 2.0 and OpenAPI
//! 3 spellings of the same thing are equal: `definitions` and `components/schemas`;
//! `in: formData` parameters and the properties of a form or multipart `requestBody` (both
//! are *body fields*, location `body`); an `in: body` parameter and a JSON `requestBody`;
//! `collectionFormat` and `style`/`explode`; `#/parameters/...` and
//! `#/components/parameters/...` references; `type: file` and `string/binary`.
//!
//! * operations: matched by `operationId` (then by method and path), with their method and
//!   path;
//! * each operation's parameters: name, location, required, type/format or `$ref` target,
//!   array item type and serialisation (`csv`, `multi`, ...), enum values;
//! * the request body of an operation (JSON body: type and required);
//! * 2xx responses: status code and body type (`$ref` name or type). A 2xx response
//!   without a schema counts as a raw body, like `string/binary`;
//! * schemas: present on both sides; for objects, each property's type, format, `$ref`
//!   target name, array item type and enum values, recursively for inline objects. `allOf`
//!   is flattened: an object's properties are the union of its parts' properties, and a
//!   `$ref` part contributes the referenced schema's properties. A property a schema gets
//!   from a named schema it includes through `allOf` is reported once, at that named
//!   schema, not again at every schema that includes it. A non-object schema (an enum, an
//!   array) is compared as a type and by its enum values.
//!
//! A `$ref` is known by its last path segment, so `#/TimedZoneRange` and
//! `#/components/schemas/TimedZoneRange` are the same reference. An `allOf`, `oneOf` or
//! `anyOf` with a single part (the usual wrapper to make a `$ref` nullable) is that part.
//! An inline enum on one side and a `$ref` to a named enum schema on the other side are
//! compared by their type and enum values, so hoisting an inline enum into a named schema
//! is not a difference (nor is the existence of that named schema) while the values match.
//!
//! Ignored: prose (descriptions, summaries, examples, titles), `x-` extensions, servers,
//! security, info, tags, `nullable`, `deprecated`, `default`, `readOnly`/`writeOnly`,
//! `required` lists of response schemas, min/max constraints (`minimum`, `maximum`,
//! `minItems`, `maxItems`, `minLength`, ...), media types, and non-2xx responses.
//!
//! # Output
//!
//! One line per difference: `KIND  AT: DETAIL`, where `AT` is a stable key. The kinds:
//!
//! | kind | `AT` | meaning |
//! |---|---|---|
//! | `operation-missing` | `GET /path (operationId)` | an operation exists on one side only |
//! | `operation-path` | `operationId` | the same operation has another method or path |
//! | `operation-id` | `GET /path` | the same method and path have another `operationId` |
//! | `parameter-missing` | `operationId.name` | a parameter or body field exists on one side only |
//! | `parameter-location` | `operationId.name` | `path`, `query`, `header`, `cookie` or `body` differ |
//! | `parameter-required` | `operationId.name` | required on one side, optional on the other |
//! | `parameter-type` | `operationId.name` | type, format, `$ref`, items or serialisation differ |
//! | `request-body` | `operationId.(body)` | the JSON request body differs (presence, required, type) |
//! | `response-missing` | `operationId.(200)` | a 2xx status code exists on one side only |
//! | `response-type` | `operationId.(200)` | the 2xx response body type differs |
//! | `schema-missing` | `Schema` | a named schema exists on one side only |
//! | `schema-type` | `Schema` | a non-object schema has another type |
//! | `property-missing` | `Schema.property` | a property exists on one side only |
//! | `property-type` | `Schema.property` | type, format, `$ref` or item type differ |
//! | `enum-values` | `Schema`, `Schema.property`, `operationId.name` | enum values differ |
//!
//! Properties of inline objects extend the key: `PhotosSummary.primary.urls`. Types are
//! written `number/float`, `ref:Name`, `array<string>`, `map<string>`, `object`, `any`;
//! `enum` marks an enum, and `(csv)` the serialisation of an array parameter.
//!
//! Every run ends with a summary line: `spec-diff: 3 differences, 2 explained, 1 unexplained`.
//!
//! # Deviations file
//!
//! A JSON array (or an object with a `deviations` array) of entries:
//!
//! ```json
//! [
//!   {"kind": "property-type", "at": "DetailedActivity.calories", "why": "the API sends floats"},
//!   {"kind": "property-type", "at": "Lap.*", "detail": "theirs number/float, ours number/double",
//!    "why": "f32 loses precision"}
//! ]
//! ```
//!
//! An entry explains a difference when `kind` is equal and `at` is equal, or `at` ends with
//! `.*` and the difference's key starts with what precedes the `*` (`Lap.*` covers every
//! property of `Lap`, including properties of its inline objects). The optional `detail`
//! must then equal the difference's detail text exactly, which keeps a wildcard entry from
//! hiding unrelated changes. `why` is required. An entry that explains nothing is printed
//! as `stale` (a warning, not a failure) so the list stays honest.

#![deny(missing_docs)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `spec-diff` with its arguments (after the subcommand's name).
pub(crate) fn main(args: &[OsString]) -> ExitCode {
    match cli::run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("spec-diff: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Command line handling, file loading and printing.
mod cli {
    use std::fmt::Write as _;
    use std::io::Write as _;

    use super::{OsString, Path, PathBuf, compare, deviations, model};

    /// The project's description, relative to the workspace root.
    const DEFAULT_OURS: &str = "openapi/strava.json";
    /// The project's list of intentional differences, relative to the workspace root.
    const DEFAULT_DEVIATIONS: &str = "openapi/deviations.json";

    /// Usage text for `--help` and command line errors.
    const USAGE: &str =
        "usage: cargo xtask spec-diff [--ours PATH] [--deviations PATH] [--verbose] THEIRS.json

Compares Strava's published API description THEIRS.json (Swagger 2.0 or OpenAPI 3.x)
with ours (default: openapi/strava.json in the workspace root). Intentional differences are
listed in the deviations file (default: openapi/deviations.json in the workspace root).

  --ours PATH        our description
  --deviations PATH  the deviations file
  -v, --verbose      also print explained differences
  -h, --help         print this help

Exit status: 0 nothing unexplained differs, 1 something does, 2 bad input.";

    /// Parsed command line.
    #[derive(Debug)]
    struct Options {
        /// Upstream description.
        theirs: PathBuf,
        /// Our description.
        ours: PathBuf,
        /// Deviations file, and whether it was given explicitly.
        deviations: (PathBuf, bool),
        /// Print explained differences too.
        verbose: bool,
    }

    /// What the command line asks for.
    enum Parsed {
        /// Run the comparison.
        Run(Options),
        /// Print the usage text.
        Help,
    }

    /// Parses the arguments (without the program name).
    fn parse(args: &[OsString]) -> Result<Parsed, String> {
        let crate_root = crate::project_root();
        let mut theirs = None;
        let mut ours = None;
        let mut deviations = None;
        let mut verbose = false;
        let mut it = args.iter();
        let mut only_positional = false;
        while let Some(os_arg) = it.next() {
            // Paths need not be UTF-8; options are.
            let arg = match os_arg.to_str() {
                Some(arg) if !only_positional && arg.starts_with('-') && arg != "-" => arg,
                _ => {
                    if theirs.replace(PathBuf::from(os_arg)).is_some() {
                        return Err(format!("more than one upstream description given\n{USAGE}"));
                    }
                    continue;
                }
            };
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(OsString::from(value))),
                None => (arg, None),
            };
            let mut value = |name: &str| -> Result<PathBuf, String> {
                match inline.clone().or_else(|| it.next().cloned()) {
                    Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                    _ => Err(format!("{name} needs a path\n{USAGE}")),
                }
            };
            match flag {
                "--" => only_positional = true,
                "-h" | "--help" => return Ok(Parsed::Help),
                "-v" | "--verbose" if inline.is_none() => verbose = true,
                "--ours" => ours = Some(value("--ours")?),
                "--deviations" => deviations = Some(value("--deviations")?),
                _ => return Err(format!("unknown option {arg}\n{USAGE}")),
            }
        }
        let theirs = theirs.ok_or_else(|| format!("no upstream description given\n{USAGE}"))?;
        Ok(Parsed::Run(Options {
            theirs,
            ours: ours.unwrap_or_else(|| crate_root.join(DEFAULT_OURS)),
            deviations: match deviations {
                Some(path) => (path, true),
                None => (crate_root.join(DEFAULT_DEVIATIONS), false),
            },
            verbose,
        }))
    }

    /// Reads and parses a JSON file; errors name the file.
    pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))
    }

    /// Loads and normalises one description; errors name the file.
    fn load_model(path: &Path, side: &str) -> Result<model::Model, String> {
        let doc = read_json(path)?;
        let model = model::normalise(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
        for warning in &model.warnings {
            eprintln!("spec-diff: warning: {side} ({}): {warning}", path.display());
        }
        eprintln!(
            "spec-diff: {side}: {} ({}, {} operations, {} schemas)",
            path.display(),
            model.flavour,
            model.operations.len(),
            model.schemas.len()
        );
        Ok(model)
    }

    /// Runs the tool. `Ok(true)`: nothing unexplained differs.
    pub(crate) fn run(args: &[OsString]) -> Result<bool, String> {
        let options = match parse(args)? {
            Parsed::Help => {
                _ = writeln!(std::io::stdout().lock(), "{USAGE}");
                return Ok(true);
            }
            Parsed::Run(options) => options,
        };
        let theirs = load_model(&options.theirs, "theirs")?;
        let ours = load_model(&options.ours, "ours")?;
        let (dev_path, explicit) = &options.deviations;
        let entries = if !explicit && !dev_path.exists() {
            eprintln!(
                "spec-diff: note: {} does not exist; no difference is explained",
                dev_path.display()
            );
            Vec::new()
        } else {
            deviations::load(dev_path)?
        };

        let diffs = compare::compare(&theirs, &ours);
        let report = deviations::apply(&entries, &diffs);
        // Collected and written at once: a closed pipe (`| head`) must not panic.
        let mut out = String::new();
        for (diff, why) in diffs.iter().zip(&report.explained_by) {
            match why {
                None => _ = writeln!(out, "{diff}"),
                Some(why) if options.verbose => _ = writeln!(out, "{diff}  [explained: {why}]"),
                Some(_) => {}
            }
        }
        for entry in &report.stale {
            _ = writeln!(
                out,
                "{:<18} {} {}: no difference matches this entry of {}",
                "stale",
                entry.kind,
                entry.at,
                dev_path.display()
            );
        }
        let explained = report.explained_by.iter().filter(|w| w.is_some()).count();
        let unexplained = diffs.len() - explained;
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        _ = write!(
            out,
            "spec-diff: {} difference{}, {explained} explained, {unexplained} unexplained",
            diffs.len(),
            plural(diffs.len())
        );
        if !report.stale.is_empty() {
            let stale = report.stale.len();
            _ = write!(out, ", {stale} stale deviation{}", plural(stale));
        }
        out.push('\n');
        _ = std::io::stdout().lock().write_all(out.as_bytes());
        Ok(unexplained == 0)
    }
}

/// The normalised model both descriptions are turned into.
mod model {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt;

    use serde_json::{Map, Value};

    /// The kind of document a description was.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Flavour {
        /// `swagger: "2.0"`.
        Swagger2,
        /// `openapi: 3.x`.
        OpenApi3,
    }

    impl fmt::Display for Flavour {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Flavour::Swagger2 => "Swagger 2.0",
                Flavour::OpenApi3 => "OpenAPI 3",
            })
        }
    }

    /// The structure of a type, without prose and constraints.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) enum Shape {
        /// No type information.
        Any,
        /// A primitive: `type` and optional `format`.
        Prim {
            /// `string`, `number`, `integer`, `boolean`.
            ty: String,
            /// `int64`, `date-time`, ...
            format: Option<String>,
        },
        /// A reference to a named schema, by name.
        Ref(String),
        /// An array of items.
        Array(Box<Node>),
        /// An object with `additionalProperties` and no properties.
        Map(Box<Node>),
        /// An object with properties (after flattening `allOf`).
        Object(BTreeMap<String, Prop>),
        /// `oneOf` or `anyOf` with several parts.
        Union(&'static str, Vec<Node>),
    }

    /// A normalised type with its enum values.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Node {
        /// The structure.
        pub(crate) shape: Shape,
        /// Enum values as text (strings unquoted, other values as JSON), `null` left out.
        pub(crate) values: Option<BTreeSet<String>>,
    }

    impl Node {
        /// A node without enum values.
        pub(crate) fn of(shape: Shape) -> Node {
            Node {
                shape,
                values: None,
            }
        }

        /// A raw body: a binary string.
        pub(crate) fn binary() -> Node {
            Node::of(Shape::Prim {
                ty: "string".into(),
                format: Some("binary".into()),
            })
        }
    }

    impl fmt::Display for Node {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match &self.shape {
                Shape::Any => f.write_str("any")?,
                Shape::Prim { ty, format: None } => f.write_str(ty)?,
                Shape::Prim {
                    ty,
                    format: Some(format),
                } => write!(f, "{ty}/{format}")?,
                Shape::Ref(name) => write!(f, "ref:{name}")?,
                Shape::Array(items) => write!(f, "array<{items}>")?,
                Shape::Map(values) => write!(f, "map<{values}>")?,
                Shape::Object(_) => f.write_str("object")?,
                Shape::Union(kind, parts) => {
                    let parts: Vec<String> = parts.iter().map(Node::to_string).collect();
                    write!(f, "{kind}<{}>", parts.join(" | "))?
                }
            }
            if self.values.is_some() {
                f.write_str(" enum")?;
            }
            Ok(())
        }
    }

    /// A property of an object.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Prop {
        /// Its type.
        pub(crate) node: Node,
        /// The named schema that declares it (for properties of named schemas).
        pub(crate) origin: Option<String>,
    }

    /// A named schema.
    #[derive(Clone, Debug)]
    pub(crate) struct NamedSchema {
        /// Its normalised type.
        pub(crate) node: Node,
        /// The named schemas it includes through `allOf`, directly or not.
        pub(crate) bases: BTreeSet<String>,
    }

    /// A parameter or body field.
    #[derive(Clone, Debug)]
    pub(crate) struct Param {
        /// `path`, `query`, `header`, `cookie` or `body` (a form field).
        pub(crate) location: String,
        /// Whether it is required.
        pub(crate) required: bool,
        /// Its type.
        pub(crate) node: Node,
        /// For arrays outside a body: `csv`, `multi`, `ssv`, `tsv`, `pipes`, ...
        pub(crate) style: Option<String>,
    }

    /// A JSON (or other non-form) request body.
    #[derive(Clone, Debug)]
    pub(crate) struct Body {
        /// Whether it is required.
        pub(crate) required: bool,
        /// Its type.
        pub(crate) node: Node,
    }

    /// One operation.
    #[derive(Clone, Debug)]
    pub(crate) struct Operation {
        /// `operationId`, or `METHOD /path` when there is none.
        pub(crate) id: String,
        /// `operationId`, if any.
        pub(crate) op_id: Option<String>,
        /// Upper-case HTTP method.
        pub(crate) method: String,
        /// Path template.
        pub(crate) path: String,
        /// Parameters and body fields by name.
        pub(crate) params: BTreeMap<String, Param>,
        /// Non-form request body.
        pub(crate) body: Option<Body>,
        /// 2xx responses: status code to body type.
        pub(crate) responses: BTreeMap<String, Node>,
    }

    impl Operation {
        /// `GET /path (operationId)`.
        pub(crate) fn label(&self) -> String {
            match &self.op_id {
                Some(op_id) => format!("{} {} ({op_id})", self.method, self.path),
                None => format!("{} {}", self.method, self.path),
            }
        }
    }

    /// A normalised description.
    #[derive(Clone, Debug)]
    pub(crate) struct Model {
        /// The kind of document.
        pub(crate) flavour: Flavour,
        /// Operations, sorted by id.
        pub(crate) operations: Vec<Operation>,
        /// Named schemas.
        pub(crate) schemas: BTreeMap<String, NamedSchema>,
        /// Oddities found while normalising (not errors).
        pub(crate) warnings: Vec<String>,
    }

    /// HTTP methods an OpenAPI path item may hold.
    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// The name a `$ref` points to: its last path segment.
    pub(crate) fn ref_name(reference: &str) -> String {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        name.trim_start_matches('#')
            .replace("~1", "/")
            .replace("~0", "~")
    }

    /// Turns a JSON document into the model.
    pub(crate) fn normalise(doc: &Value) -> Result<Model, String> {
        let root = doc
            .as_object()
            .ok_or("unrecognised format: the document is not a JSON object")?;
        let flavour = match (root.get("swagger"), root.get("openapi")) {
            (Some(Value::String(v)), _) if v == "2.0" => Flavour::Swagger2,
            (Some(v), _) => {
                return Err(format!(
                    "unrecognised format: swagger version {v}, expected \"2.0\""
                ));
            }
            (None, Some(Value::String(v))) if v.starts_with("3.") => Flavour::OpenApi3,
            (None, Some(v)) => {
                return Err(format!(
                    "unrecognised format: openapi version {v}, expected 3.x"
                ));
            }
            (None, None) => {
                return Err("unrecognised format: neither a Swagger 2.0 document \
                            (`swagger: \"2.0\"`) nor an OpenAPI 3 document (`openapi: 3.x`)"
                    .into());
            }
        };
        let schemas_at = match flavour {
            Flavour::Swagger2 => "/definitions",
            Flavour::OpenApi3 => "/components/schemas",
        };
        let raw_schemas = match doc.pointer(schemas_at) {
            None => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err(format!("{} is not an object", &schemas_at[1..])),
        };
        let mut cx = Cx {
            doc,
            flavour,
            raw_schemas,
            warnings: Vec::new(),
        };

        let mut schemas = BTreeMap::new();
        let names: Vec<String> = cx.raw_schemas.keys().cloned().collect();
        for name in names {
            let raw = cx.raw_schemas[&name].clone();
            let mut bases = BTreeSet::new();
            let mut stack = vec![name.clone()];
            let node = cx.node_with(&raw, Some(&name), &mut stack, &mut bases);
            schemas.insert(name, NamedSchema { node, bases });
        }

        let mut operations = Vec::new();
        match root.get("paths") {
            None => {}
            Some(Value::Object(paths)) => {
                for (path, item) in paths {
                    let item = cx.deref(item).map_err(|e| format!("paths.{path}: {e}"))?;
                    let item = item
                        .as_object()
                        .ok_or_else(|| format!("paths.{path} is not an object"))?;
                    let common = item.get("parameters");
                    for method in METHODS {
                        if let Some(op) = item.get(*method) {
                            let op = cx
                                .operation(path, method, op, common)
                                .map_err(|e| format!("{} {path}: {e}", method.to_uppercase()))?;
                            operations.push(op);
                        }
                    }
                }
            }
            Some(_) => return Err("paths is not an object".into()),
        }
        operations.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Model {
            flavour,
            operations,
            schemas,
            warnings: cx.warnings,
        })
    }

    /// Normalisation context.
    struct Cx<'a> {
        /// The whole document, for local `$ref`s.
        doc: &'a Value,
        /// Swagger 2.0 or OpenAPI 3.
        flavour: Flavour,
        /// The named schemas as written.
        raw_schemas: Map<String, Value>,
        /// Oddities found.
        warnings: Vec<String>,
    }

    /// Enum values of a schema, as text.
    fn enum_values(schema: &Map<String, Value>) -> Option<BTreeSet<String>> {
        let values = schema.get("enum")?.as_array()?;
        Some(
            values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        )
    }

    /// `type` of a schema: a string, or the first non-`null` entry of a list.
    fn type_of(schema: &Map<String, Value>) -> Option<&str> {
        match schema.get("type")? {
            Value::String(ty) => Some(ty),
            Value::Array(types) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        }
    }

    /// The schema of the preferred media type of a `content` map: JSON first.
    fn content_schema(content: Option<&Value>) -> Option<(&str, Option<&Value>)> {
        let content = content?.as_object()?;
        let (media, entry) = content
            .iter()
            .find(|(media, _)| media.as_str() == "application/json")
            .or_else(|| content.iter().find(|(media, _)| media.ends_with("+json")))
            .or_else(|| content.iter().next())?;
        Some((media, entry.get("schema")))
    }

    /// Whether a media type carries form fields.
    fn is_form(media: &str) -> bool {
        media == "application/x-www-form-urlencoded" || media == "multipart/form-data"
    }

    /// Serialisation of an OpenAPI 3 array parameter in Swagger 2.0 terms.
    fn oas3_style(param: &Map<String, Value>, location: &str) -> String {
        let style = param.get("style").and_then(Value::as_str).unwrap_or(
            if location == "query" || location == "cookie" {
                "form"
            } else {
                "simple"
            },
        );
        let explode = param
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == "form");
        match (style, explode) {
            ("form", true) => "multi".into(),
            ("form", false) | ("simple", _) => "csv".into(),
            ("spaceDelimited", _) => "ssv".into(),
            ("pipeDelimited", _) => "pipes".into(),
            (other, _) => other.into(),
        }
    }

    impl<'a> Cx<'a> {
        /// Follows local `$ref`s (for parameters, request bodies, responses, path items).
        fn deref(&self, value: &'a Value) -> Result<&'a Value, String> {
            let mut current = value;
            for _ in 0..32 {
                let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                    return Ok(current);
                };
                let pointer = reference
                    .strip_prefix('#')
                    .ok_or_else(|| format!("cannot follow non-local $ref {reference}"))?;
                current = self
                    .doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("$ref {reference} points to nothing"))?;
            }
            Err("$ref chain too long (a loop?)".into())
        }

        /// Normalises an inline schema.
        fn node(&mut self, schema: &Value, stack: &mut Vec<String>) -> Node {
            self.node_with(schema, None, stack, &mut BTreeSet::new())
        }

        /// Normalises a schema. `origin` names the named schema being normalised (its own
        /// properties get it as origin); `bases` collects the named schemas included
        /// through `allOf`.
        fn node_with(
            &mut self,
            schema: &Value,
            origin: Option<&str>,
            stack: &mut Vec<String>,
            bases: &mut BTreeSet<String>,
        ) -> Node {
            let Some(obj) = schema.as_object() else {
                return Node::of(Shape::Any);
            };
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
                return Node::of(Shape::Ref(ref_name(reference)));
            }
            let values = enum_values(obj);
            if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
                if parts.len() == 1 && !obj.contains_key("properties") {
                    return self.node_with(&parts[0], origin, stack, bases);
                }
                let mut props = BTreeMap::new();
                self.collect_props(schema, origin, stack, bases, &mut props);
                return Node::of(Shape::Object(props));
            }
            for key in ["oneOf", "anyOf"] {
                if let Some(parts) = obj.get(key).and_then(Value::as_array) {
                    let parts: Vec<&Value> = parts
                        .iter()
                        .filter(|p| p.get("type").and_then(Value::as_str) != Some("null"))
                        .collect();
                    if parts.len() == 1 {
                        return self.node_with(parts[0], origin, stack, bases);
                    }
                    let nodes = parts.into_iter().map(|p| self.node(p, stack)).collect();
                    let kind = if key == "oneOf" { "oneOf" } else { "anyOf" };
                    return Node::of(Shape::Union(kind, nodes));
                }
            }
            let ty = type_of(obj).or_else(|| {
                if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
                    Some("object")
                } else if obj.contains_key("items") {
                    Some("array")
                } else {
                    None
                }
            });
            let shape = match ty {
                None => Shape::Any,
                Some("file") => return Node::binary(),
                Some("array") => {
                    let items = match obj.get("items") {
                        Some(items) => self.node(items, stack),
                        None => Node::of(Shape::Any),
                    };
                    Shape::Array(Box::new(items))
                }
                Some("object") => {
                    let has_props = obj
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_some_and(|p| !p.is_empty());
                    match obj.get("additionalProperties") {
                        Some(extra @ Value::Object(_)) if !has_props => {
                            Shape::Map(Box::new(self.node(extra, stack)))
                        }
                        Some(Value::Bool(true)) if !has_props => {
                            Shape::Map(Box::new(Node::of(Shape::Any)))
                        }
                        _ => {
                            let mut props = BTreeMap::new();
                            self.collect_props(schema, origin, stack, bases, &mut props);
                            Shape::Object(props)
                        }
                    }
                }
                Some(ty) => Shape::Prim {
                    ty: ty.to_string(),
                    format: obj
                        .get("format")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                },
            };
            Node { shape, values }
        }

        /// Collects the properties of an object schema, flattening `allOf`.
        fn collect_props(
            &mut self,
            schema: &Value,
            origin: Option<&str>,
            stack: &mut Vec<String>,
            bases: &mut BTreeSet<String>,
            out: &mut BTreeMap<String, Prop>,
        ) {
            let Some(obj) = schema.as_object() else {
                return;
            };
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
                let name = ref_name(reference);
                if stack.contains(&name) {
                    self.warnings
                        .push(format!("allOf includes {name} inside itself; ignored"));
                    return;
                }
                let Some(target) = self.raw_schemas.get(&name).cloned() else {
                    self.warnings.push(format!(
                        "allOf $ref {reference} points to no schema; ignored"
                    ));
                    return;
                };
                bases.insert(name.clone());
                stack.push(name.clone());
                self.collect_props(&target, Some(&name), stack, bases, out);
                stack.pop();
                return;
            }
            if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
                for part in parts {
                    self.collect_props(part, origin, stack, bases, out);
                }
            }
            if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    let node = self.node(prop, stack);
                    out.insert(
                        name.clone(),
                        Prop {
                            node,
                            origin: origin.map(str::to_string),
                        },
                    );
                }
            }
        }

        /// Collects the `required` names of an object schema, flattening `allOf`.
        fn collect_required(
            &self,
            schema: &Value,
            stack: &mut Vec<String>,
            out: &mut BTreeSet<String>,
        ) {
            let Some(obj) = schema.as_object() else {
                return;
            };
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
                let name = ref_name(reference);
                if let Some(target) = self
                    .raw_schemas
                    .get(&name)
                    .filter(|_| !stack.contains(&name))
                {
                    stack.push(name.clone());
                    self.collect_required(target, stack, out);
                    stack.pop();
                }
                return;
            }
            for part in obj
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.collect_required(part, stack, out);
            }
            let names = obj.get("required").and_then(Value::as_array);
            out.extend(
                names
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(String::from),
            );
        }

        /// Normalises one operation.
        fn operation(
            &mut self,
            path: &str,
            method: &str,
            op: &'a Value,
            common: Option<&'a Value>,
        ) -> Result<Operation, String> {
            let op = op.as_object().ok_or("the operation is not an object")?;
            let op_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string);
            let method = method.to_uppercase();
            let id = op_id.clone().unwrap_or_else(|| format!("{method} {path}"));

            // Path-level parameters first; operation-level ones override by (name, in).
            let mut raw_params: Vec<&'a Map<String, Value>> = Vec::new();
            for list in [common, op.get("parameters")].into_iter().flatten() {
                let list = list.as_array().ok_or("parameters is not an array")?;
                for param in list {
                    let param = self
                        .deref(param)?
                        .as_object()
                        .ok_or("a parameter is not an object")?;
                    let key =
                        |p: &Map<String, Value>| (p.get("name").cloned(), p.get("in").cloned());
                    raw_params.retain(|p| key(p) != key(param));
                    raw_params.push(param);
                }
            }

            let mut params = BTreeMap::new();
            let mut body = None;
            let mut add = |name: String, param: Param| {
                let key = if params.contains_key(&name) {
                    format!("{name}[{}]", param.location)
                } else {
                    name
                };
                params.insert(key, param);
            };
            for param in raw_params {
                let name = param
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("a parameter has no name")?
                    .to_string();
                let location = param
                    .get("in")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("parameter {name} has no `in`"))?;
                let required = param.get("required").and_then(Value::as_bool) == Some(true);
                let mut stack = Vec::new();
                match (self.flavour, location) {
                    (Flavour::Swagger2, "body") => {
                        let schema = param.get("schema").unwrap_or(&Value::Null);
                        let node = self.node(schema, &mut stack);
                        body = Some(Body { required, node });
                    }
                    (Flavour::Swagger2, _) => {
                        let node = self.node(&Value::Object(param.clone()), &mut stack);
                        let is_array = matches!(node.shape, Shape::Array(_));
                        let (location, style) = if location == "formData" {
                            ("body", None)
                        } else {
                            let format = param.get("collectionFormat").and_then(Value::as_str);
                            (
                                location,
                                is_array.then(|| format.unwrap_or("csv").to_string()),
                            )
                        };
                        let location = location.to_string();
                        add(
                            name,
                            Param {
                                location,
                                required,
                                node,
                                style,
                            },
                        );
                    }
                    (Flavour::OpenApi3, _) => {
                        let schema = match param.get("schema") {
                            Some(schema) => Some(schema),
                            None => content_schema(param.get("content")).and_then(|(_, s)| s),
                        };
                        let node = match schema {
                            Some(schema) => self.node(schema, &mut stack),
                            None => Node::of(Shape::Any),
                        };
                        let style = matches!(node.shape, Shape::Array(_))
                            .then(|| oas3_style(param, location));
                        let location = location.to_string();
                        add(
                            name,
                            Param {
                                location,
                                required,
                                node,
                                style,
                            },
                        );
                    }
                }
            }

            if let Some(request_body) = op.get("requestBody") {
                let request_body = self.deref(request_body)?;
                let required = request_body.get("required").and_then(Value::as_bool) == Some(true);
                match content_schema(request_body.get("content")) {
                    Some((media, schema)) if is_form(media) => {
                        let schema = schema.unwrap_or(&Value::Null);
                        let mut stack = Vec::new();
                        let mut props = BTreeMap::new();
                        self.collect_props(
                            schema,
                            None,
                            &mut stack,
                            &mut BTreeSet::new(),
                            &mut props,
                        );
                        let mut required_names = BTreeSet::new();
                        self.collect_required(schema, &mut stack, &mut required_names);
                        for (name, prop) in props {
                            let param = Param {
                                location: "body".into(),
                                required: required_names.contains(&name),
                                node: prop.node,
                                style: None,
                            };
                            add(name, param);
                        }
                    }
                    Some((_, schema)) => {
                        let node = match schema {
                            Some(schema) => self.node(schema, &mut Vec::new()),
                            None => Node::of(Shape::Any),
                        };
                        body = Some(Body { required, node });
                    }
                    None => {
                        body = Some(Body {
                            required,
                            node: Node::of(Shape::Any),
                        })
                    }
                }
            }

            let mut responses = BTreeMap::new();
            if let Some(list) = op.get("responses") {
                let list = list.as_object().ok_or("responses is not an object")?;
                for (code, response) in list {
                    if !code.starts_with('2') {
                        continue;
                    }
                    let response = self.deref(response)?;
                    let schema = match self.flavour {
                        Flavour::Swagger2 => response.get("schema"),
                        Flavour::OpenApi3 => {
                            content_schema(response.get("content")).and_then(|(_, s)| s)
                        }
                    };
                    let node = match schema {
                        Some(schema) => self.node(schema, &mut Vec::new()),
                        None => Node::binary(),
                    };
                    responses.insert(code.to_uppercase(), node);
                }
            }

            Ok(Operation {
                id,
                op_id,
                method,
                path: path.to_string(),
                params,
                body,
                responses,
            })
        }
    }
}

/// The structural comparison of two models.
mod compare {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt;

    use super::model::{Model, NamedSchema, Node, Operation, Param, Prop, Shape};

    /// The kinds of difference, in the order of the table in the top comment.
    pub(crate) const KINDS: &[&str] = &[
        "operation-missing",
        "operation-path",
        "operation-id",
        "parameter-missing",
        "parameter-location",
        "parameter-required",
        "parameter-type",
        "request-body",
        "response-missing",
        "response-type",
        "schema-missing",
        "schema-type",
        "property-missing",
        "property-type",
        "enum-values",
    ];

    /// One difference.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct Diff {
        /// One of [`KINDS`].
        pub(crate) kind: &'static str,
        /// The stable key: `Schema.property`, `operationId.parameter`, ...
        pub(crate) at: String,
        /// What differs, `theirs ..., ours ...`.
        pub(crate) detail: String,
    }

    impl fmt::Display for Diff {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{:<18} {}: {}", self.kind, self.at, self.detail)
        }
    }

    /// Which side something is on, for messages.
    fn only_in(theirs: bool) -> &'static str {
        if theirs {
            "in theirs, not in ours"
        } else {
            "in ours, not in theirs"
        }
    }

    /// `[a, b]`.
    fn list(values: &BTreeSet<String>) -> String {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        format!("[{}]", values.join(", "))
    }

    /// The comparison state.
    struct Cmp<'m> {
        /// Upstream.
        theirs: &'m Model,
        /// Ours.
        ours: &'m Model,
        /// Differences found so far.
        diffs: Vec<Diff>,
        /// Named enum schemas (theirs, ours) that matched an inline enum on the other side.
        hoisted: [BTreeSet<String>; 2],
    }

    /// Compares the two models; differences come out in a stable order (operations by id,
    /// then schemas by key).
    pub(crate) fn compare(theirs: &Model, ours: &Model) -> Vec<Diff> {
        let mut cmp = Cmp {
            theirs,
            ours,
            diffs: Vec::new(),
            hoisted: [BTreeSet::new(), BTreeSet::new()],
        };
        cmp.operations();
        let operations_end = cmp.diffs.len();
        cmp.schemas();
        // Schema differences come out by key (missing schemas are found last).
        cmp.diffs[operations_end..].sort_by(|a, b| a.at.cmp(&b.at));
        cmp.diffs
    }

    impl<'m> Cmp<'m> {
        /// Records a difference.
        fn push(&mut self, kind: &'static str, at: impl Into<String>, detail: impl Into<String>) {
            debug_assert!(KINDS.contains(&kind));
            self.diffs.push(Diff {
                kind,
                at: at.into(),
                detail: detail.into(),
            });
        }

        /// Matches operations by `operationId`, then by method and path, and compares them.
        fn operations(&mut self) {
            let theirs = &self.theirs.operations;
            let ours = &self.ours.operations;
            let mut pair_of: Vec<Option<usize>> = vec![None; theirs.len()];
            let mut taken = vec![false; ours.len()];
            for (i, t) in theirs.iter().enumerate() {
                if t.op_id.is_none() {
                    continue;
                }
                if let Some(j) = (0..ours.len()).find(|&j| !taken[j] && ours[j].op_id == t.op_id) {
                    pair_of[i] = Some(j);
                    taken[j] = true;
                }
            }
            for (i, t) in theirs.iter().enumerate() {
                if pair_of[i].is_some() {
                    continue;
                }
                if let Some(j) = (0..ours.len())
                    .find(|&j| !taken[j] && ours[j].method == t.method && ours[j].path == t.path)
                {
                    pair_of[i] = Some(j);
                    taken[j] = true;
                }
            }
            for (i, t) in theirs.iter().enumerate() {
                match pair_of[i] {
                    Some(j) => self.operation(t, &ours[j]),
                    None => self.push("operation-missing", t.label(), only_in(true)),
                }
            }
            for (j, o) in ours.iter().enumerate() {
                if !taken[j] {
                    self.push("operation-missing", o.label(), only_in(false));
                }
            }
        }

        /// Compares two matched operations.
        fn operation(&mut self, t: &Operation, o: &Operation) {
            let key = o.id.clone();
            if t.op_id != o.op_id {
                let id = |op: &Operation| op.op_id.clone().unwrap_or_else(|| "none".into());
                self.push(
                    "operation-id",
                    format!("{} {}", o.method, o.path),
                    format!("theirs {}, ours {}", id(t), id(o)),
                );
            } else if t.method != o.method || t.path != o.path {
                self.push(
                    "operation-path",
                    &key,
                    format!(
                        "theirs {} {}, ours {} {}",
                        t.method, t.path, o.method, o.path
                    ),
                );
            }

            let names: BTreeSet<&String> = t.params.keys().chain(o.params.keys()).collect();
            for name in names {
                let at = format!("{key}.{name}");
                match (t.params.get(name), o.params.get(name)) {
                    (Some(tp), Some(op)) => self.param(&at, tp, op),
                    (Some(tp), None) => self.push(
                        "parameter-missing",
                        at,
                        format!("{} ({})", only_in(true), tp.location),
                    ),
                    (None, Some(op)) => self.push(
                        "parameter-missing",
                        at,
                        format!("{} ({})", only_in(false), op.location),
                    ),
                    (None, None) => {}
                }
            }

            let at = format!("{key}.(body)");
            match (&t.body, &o.body) {
                (None, None) => {}
                (Some(tb), None) => {
                    self.push("request-body", at, format!("theirs {}, ours none", tb.node))
                }
                (None, Some(ob)) => {
                    self.push("request-body", at, format!("theirs none, ours {}", ob.node))
                }
                (Some(tb), Some(ob)) => {
                    if tb.required != ob.required {
                        self.push(
                            "request-body",
                            &at,
                            format!(
                                "theirs {}, ours {}",
                                required(tb.required),
                                required(ob.required)
                            ),
                        );
                    }
                    self.node(&at, "request-body", &tb.node, &ob.node);
                }
            }

            let codes: BTreeSet<&String> = t.responses.keys().chain(o.responses.keys()).collect();
            for code in codes {
                let at = format!("{key}.({code})");
                match (t.responses.get(code), o.responses.get(code)) {
                    (Some(tr), Some(or)) => self.node(&at, "response-type", tr, or),
                    (Some(_), None) => self.push("response-missing", at, only_in(true)),
                    (None, Some(_)) => self.push("response-missing", at, only_in(false)),
                    (None, None) => {}
                }
            }
        }

        /// Compares a parameter present on both sides.
        fn param(&mut self, at: &str, t: &Param, o: &Param) {
            if t.location != o.location {
                self.push(
                    "parameter-location",
                    at,
                    format!("theirs {}, ours {}", t.location, o.location),
                );
            }
            // A path parameter is always required; when it moved, that says nothing new.
            let moved_from_path =
                t.location != o.location && (t.location == "path" || o.location == "path");
            if t.required != o.required && !moved_from_path {
                self.push(
                    "parameter-required",
                    at,
                    format!(
                        "theirs {}, ours {}",
                        required(t.required),
                        required(o.required)
                    ),
                );
            }
            if !self.same_shape(&t.node, &o.node) || t.style != o.style {
                let show = |p: &Param| match &p.style {
                    Some(style) => format!("{}({style})", p.node),
                    None => p.node.to_string(),
                };
                self.push(
                    "parameter-type",
                    at,
                    format!("theirs {}, ours {}", show(t), show(o)),
                );
            } else {
                self.walk(at, &t.node, &o.node);
            }
        }

        /// Compares two types at `at`; a structural difference is reported as `kind`.
        fn node(&mut self, at: &str, kind: &'static str, t: &Node, o: &Node) {
            if self.same_shape(t, o) {
                self.walk(at, t, o);
            } else {
                self.push(kind, at, format!("theirs {t}, ours {o}"));
            }
        }

        /// The named enum schema a `$ref` points to, if it is one.
        fn enum_schema<'a>(model: &'a Model, node: &Node) -> Option<(&'a String, &'a Node)> {
            let Shape::Ref(name) = &node.shape else {
                return None;
            };
            let (name, schema) = model.schemas.get_key_value(name)?;
            let is_enum = schema.node.values.is_some()
                && matches!(schema.node.shape, Shape::Prim { .. } | Shape::Any);
            is_enum.then_some((name, &schema.node))
        }

        /// Replaces a `$ref` to a named enum by that enum when the other side is an inline
        /// enum. Returns the nodes to compare and the names of the schemas used so.
        fn hoist<'a>(&self, t: &'a Node, o: &'a Node) -> (&'a Node, &'a Node, [Option<String>; 2])
        where
            'm: 'a,
        {
            let inline_enum = |n: &Node| n.values.is_some() && !matches!(n.shape, Shape::Ref(_));
            if inline_enum(o)
                && let Some((name, schema)) = Self::enum_schema(self.theirs, t)
            {
                return (schema, o, [Some(name.clone()), None]);
            }
            if inline_enum(t)
                && let Some((name, schema)) = Self::enum_schema(self.ours, o)
            {
                return (t, schema, [None, Some(name.clone())]);
            }
            (t, o, [None, None])
        }

        /// Whether two types have the same structure (enum values and the properties of
        /// inline objects aside; those are compared by [`Cmp::walk`]).
        fn same_shape(&self, t: &Node, o: &Node) -> bool {
            let (t, o, _) = self.hoist(t, o);
            match (&t.shape, &o.shape) {
                (Shape::Any, Shape::Any) | (Shape::Object(_), Shape::Object(_)) => true,
                (Shape::Prim { .. }, Shape::Prim { .. }) | (Shape::Ref(_), Shape::Ref(_)) => {
                    t.shape == o.shape
                }
                (Shape::Array(ti), Shape::Array(oi)) | (Shape::Map(ti), Shape::Map(oi)) => {
                    self.same_shape(ti, oi)
                }
                (Shape::Union(tk, tp), Shape::Union(ok, op)) => {
                    tk == ok
                        && tp.len() == op.len()
                        && tp.iter().zip(op).all(|(a, b)| self.same_shape(a, b))
                }
                _ => false,
            }
        }

        /// Compares enum values and nested parts of two types of the same shape.
        fn walk(&mut self, at: &str, t: &Node, o: &Node) {
            let (t, o, used) = self.hoist(t, o);
            for (side, name) in used.into_iter().enumerate() {
                if let Some(name) = name {
                    self.hoisted[side].insert(name);
                }
            }
            match (&t.values, &o.values) {
                (Some(tv), Some(ov)) if tv != ov => {
                    let mut parts = Vec::new();
                    let theirs_only: BTreeSet<String> = tv.difference(ov).cloned().collect();
                    let ours_only: BTreeSet<String> = ov.difference(tv).cloned().collect();
                    if !theirs_only.is_empty() {
                        parts.push(format!("theirs adds {}", list(&theirs_only)));
                    }
                    if !ours_only.is_empty() {
                        parts.push(format!("ours adds {}", list(&ours_only)));
                    }
                    self.push("enum-values", at, parts.join("; "));
                }
                (Some(tv), None) => self.push(
                    "enum-values",
                    at,
                    format!("theirs {}, ours no enum", list(tv)),
                ),
                (None, Some(ov)) => self.push(
                    "enum-values",
                    at,
                    format!("theirs no enum, ours {}", list(ov)),
                ),
                _ => {}
            }
            match (&t.shape, &o.shape) {
                (Shape::Array(ti), Shape::Array(oi)) | (Shape::Map(ti), Shape::Map(oi)) => {
                    self.walk(at, ti, oi)
                }
                (Shape::Union(_, tp), Shape::Union(_, op)) => {
                    for (a, b) in tp.iter().zip(op) {
                        self.walk(at, a, b);
                    }
                }
                (Shape::Object(tp), Shape::Object(op)) => self.props(at, tp, op, None),
                _ => {}
            }
        }

        /// Compares the properties of two objects. `named` is given for the top level of
        /// a named schema present on both sides: (its name, theirs, ours).
        fn props(
            &mut self,
            prefix: &str,
            t: &BTreeMap<String, Prop>,
            o: &BTreeMap<String, Prop>,
            named: Option<(&str, &NamedSchema, &NamedSchema)>,
        ) {
            let names: BTreeSet<&String> = t.keys().chain(o.keys()).collect();
            for name in names {
                let (tp, op) = (t.get(name), o.get(name));
                if let Some((schema, ts, os)) = named
                    && reported_at_base(schema, tp, op, ts, os)
                {
                    continue;
                }
                let at = format!("{prefix}.{name}");
                match (tp, op) {
                    (Some(tp), Some(op)) => self.node(&at, "property-type", &tp.node, &op.node),
                    (Some(_), None) => self.push("property-missing", at, only_in(true)),
                    (None, Some(_)) => self.push("property-missing", at, only_in(false)),
                    (None, None) => {}
                }
            }
        }

        /// Compares the named schemas.
        fn schemas(&mut self) {
            for (name, ts) in &self.theirs.schemas {
                let Some(os) = self.ours.schemas.get(name) else {
                    continue;
                };
                match (&ts.node.shape, &os.node.shape) {
                    (Shape::Object(tp), Shape::Object(op))
                        if ts.node.values.is_none() && os.node.values.is_none() =>
                    {
                        self.props(name, tp, op, Some((name, ts, os)))
                    }
                    _ => self.node(name, "schema-type", &ts.node, &os.node),
                }
            }
            // Last, so that hoisted enums are known.
            let sides = [
                (self.theirs, self.ours, true),
                (self.ours, self.theirs, false),
            ];
            for (side, (this, other, theirs)) in sides.into_iter().enumerate() {
                for name in this.schemas.keys() {
                    if !other.schemas.contains_key(name) && !self.hoisted[side].contains(name) {
                        self.push("schema-missing", name, only_in(theirs));
                    }
                }
            }
        }
    }

    /// `required` / `optional`.
    fn required(required: bool) -> &'static str {
        if required { "required" } else { "optional" }
    }

    /// Whether a property difference of schema `schema` is also, and only, a difference of
    /// a named schema it includes through `allOf` on both sides (then it is reported there).
    fn reported_at_base(
        schema: &str,
        t: Option<&Prop>,
        o: Option<&Prop>,
        ts: &NamedSchema,
        os: &NamedSchema,
    ) -> bool {
        let base_of = |p: &Prop| p.origin.clone().filter(|origin| origin != schema);
        match (t, o) {
            (Some(t), Some(o)) => base_of(t).is_some() && base_of(t) == base_of(o),
            (Some(t), None) => base_of(t).is_some_and(|b| os.bases.contains(&b)),
            (None, Some(o)) => base_of(o).is_some_and(|b| ts.bases.contains(&b)),
            (None, None) => true,
        }
    }
}

/// The list of intentional differences.
mod deviations {
    use serde::Deserialize;
    use serde_json::Value;

    use super::Path;
    use super::compare::{Diff, KINDS};

    /// One intentional difference.
    #[derive(Clone, Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Entry {
        /// One of the kinds.
        pub(crate) kind: String,
        /// The key, exact or ending with `.*`.
        pub(crate) at: String,
        /// If given, the difference's detail text must be equal.
        #[serde(default)]
        pub(crate) detail: Option<String>,
        /// Why the difference is intended.
        pub(crate) why: String,
    }

    impl Entry {
        /// Whether this entry explains the difference.
        pub(crate) fn matches(&self, diff: &Diff) -> bool {
            let at_matches = match self.at.strip_suffix('*') {
                Some(prefix) if prefix.ends_with('.') => diff.at.starts_with(prefix),
                _ => diff.at == self.at,
            };
            self.kind == diff.kind
                && at_matches
                && self.detail.as_ref().is_none_or(|d| *d == diff.detail)
        }
    }

    /// Reads and checks a deviations file; errors name the file.
    pub(crate) fn load(path: &Path) -> Result<Vec<Entry>, String> {
        let doc = super::cli::read_json(path)?;
        parse(&doc).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks a deviations document: an array of entries, or `{"deviations": [...]}`.
    pub(crate) fn parse(doc: &Value) -> Result<Vec<Entry>, String> {
        let list = match doc {
            Value::Array(list) => list,
            Value::Object(obj) => match obj.get("deviations") {
                Some(Value::Array(list)) => list,
                _ => {
                    return Err(
                        "expected an array of entries, or an object with a `deviations` array"
                            .into(),
                    );
                }
            },
            _ => {
                return Err(
                    "expected an array of entries, or an object with a `deviations` array".into(),
                );
            }
        };
        let mut entries = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let n = i + 1;
            let entry: Entry =
                serde_json::from_value(item.clone()).map_err(|e| format!("entry {n}: {e}"))?;
            if !KINDS.contains(&entry.kind.as_str()) {
                return Err(format!(
                    "entry {n}: unknown kind `{}` (known: {})",
                    entry.kind,
                    KINDS.join(", ")
                ));
            }
            if entry.at.trim().is_empty() {
                return Err(format!("entry {n}: `at` is empty"));
            }
            if entry.why.trim().is_empty() {
                return Err(format!(
                    "entry {n} ({} {}): `why` is empty",
                    entry.kind, entry.at
                ));
            }
            entries.push(entry);
        }
        Ok(entries)
    }

    /// The outcome of applying the entries to the differences.
    pub(crate) struct Report<'e> {
        /// For each difference, the reason of the first entry that explains it.
        pub(crate) explained_by: Vec<Option<&'e str>>,
        /// Entries that explain nothing.
        pub(crate) stale: Vec<&'e Entry>,
    }

    /// Matches entries to differences.
    pub(crate) fn apply<'e>(entries: &'e [Entry], diffs: &[Diff]) -> Report<'e> {
        let mut used = vec![false; entries.len()];
        let explained_by = diffs
            .iter()
            .map(|diff| {
                let mut why = None;
                for (i, entry) in entries.iter().enumerate() {
                    if entry.matches(diff) {
                        used[i] = true;
                        why.get_or_insert(entry.why.as_str());
                    }
                }
                why
            })
            .collect();
        let stale = entries
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(entry, _)| entry)
            .collect();
        Report {
            explained_by,
            stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::compare::{Diff, compare};
    use super::{deviations, model};

    fn diffs(theirs: serde_json::Value, ours: serde_json::Value) -> Vec<String> {
        let theirs = model::normalise(&theirs).unwrap();
        let ours = model::normalise(&ours).unwrap();
        compare(&theirs, &ours)
            .iter()
            .map(Diff::to_string)
            .collect()
    }

    #[test]
    fn ref_names_use_the_last_segment() {
        assert_eq!(model::ref_name("#/definitions/Foo"), "Foo");
        assert_eq!(model::ref_name("#/components/schemas/Foo"), "Foo");
        assert_eq!(model::ref_name("#/Foo"), "Foo");
    }

    #[test]
    fn hoisted_enum_is_not_a_difference() {
        let theirs = json!({"swagger": "2.0", "definitions": {"A": {"type": "object",
            "properties": {"sex": {"type": "string", "enum": ["M", "F"]}}}}});
        let ours = json!({"openapi": "3.0.3", "components": {"schemas": {
            "A": {"type": "object", "properties": {"sex": {"$ref": "#/components/schemas/Sex"}}},
            "Sex": {"type": "string", "enum": ["F", "M"]}}}});
        assert_eq!(diffs(theirs.clone(), ours.clone()), Vec::<String>::new());
        let ours_changed = json!({"openapi": "3.0.3", "components": {"schemas": {
            "A": {"type": "object", "properties": {"sex": {"$ref": "#/components/schemas/Sex"}}},
            "Sex": {"type": "string", "enum": ["F"]}}}});
        let found = diffs(theirs, ours_changed);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("enum-values"), "{found:?}");
        assert!(found[0].contains("A.sex: theirs adds [M]"), "{found:?}");
    }

    #[test]
    fn inherited_differences_are_reported_once() {
        let doc = |format: &str| {
            json!({"swagger": "2.0", "definitions": {
                "Base": {"type": "object", "properties": {"x": {"type": "number", "format": format}}},
                "Derived": {"allOf": [{"$ref": "#/definitions/Base"},
                    {"properties": {"y": {"type": "string"}}}]}}})
        };
        let found = diffs(doc("float"), doc("double"));
        assert_eq!(
            found,
            vec!["property-type      Base.x: theirs number/float, ours number/double"]
        );
    }

    #[test]
    fn wildcard_and_detail_matching() {
        let entries = deviations::parse(&json!([{"kind": "property-type", "at": "Lap.*",
            "detail": "theirs number/float, ours number/double", "why": "precision"}]))
        .unwrap();
        let diff = |at: &str, detail: &str| Diff {
            kind: "property-type",
            at: at.into(),
            detail: detail.into(),
        };
        assert!(entries[0].matches(&diff(
            "Lap.distance",
            "theirs number/float, ours number/double"
        )));
        assert!(!entries[0].matches(&diff("Lap.distance", "theirs integer, ours number")));
        assert!(!entries[0].matches(&diff(
            "Laps.distance",
            "theirs number/float, ours number/double"
        )));
        assert!(deviations::parse(&json!([{"kind": "nope", "at": "x", "why": "y"}])).is_err());
        assert!(deviations::parse(&json!([{"kind": "property-type", "at": "x"}])).is_err());
    }
}
