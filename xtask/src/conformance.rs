//! Checks recorded Strava traffic against the generated types.
//!
//! ```text
//! cargo xtask conformance DIR [--spec openapi/strava.json]
//! ```
//!
//! Walks `DIR` for JSON recordings of the form
//! `{"interactions":[{"request":{method,path,query},"response":{status,body}}]}`. Each
//! interaction whose method and path match an operation of the OpenAPI document is checked:
//! a 2xx JSON body must deserialize into the operation's generated response type, a
//! non-JSON 2xx body must belong to an operation that declares a non-JSON response, and a
//! 4xx/5xx answer must map to a typed [`stravalib::Error`] (its JSON into `Fault`, anything
//! else kept as an excerpt with its status). Files that are a bare response body are
//! checked when their name says what they are (`activity*.json` -> `DetailedActivity`...).
//!
//! Prints `N of M interactions conform`, then each failure with the serde path, and exits
//! 1 when anything fails, 2 on unusable input.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use stravalib::registry::check_json;

#[derive(Deserialize)]
struct Recording<'a> {
    #[serde(borrow)]
    interactions: Option<Vec<Interaction<'a>>>,
}

#[derive(Deserialize)]
struct Interaction<'a> {
    request: RecordedRequest,
    #[serde(borrow)]
    response: RecordedResponse<'a>,
}

#[derive(Deserialize)]
struct RecordedRequest {
    method: String,
    path: String,
}

#[derive(Deserialize)]
struct RecordedResponse<'a> {
    status: u16,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
}

/// A response the spec declares for an operation.
enum Expected {
    /// JSON of the named schema, a list of it when `list`.
    Json { schema: String, list: bool },
    /// JSON of any of the named schemas (a `oneOf` response).
    Other(String),
}

/// The document's component schemas, to find recorded fields it does not describe.
struct Schemas(serde_json::Map<String, Value>);

impl Schemas {
    /// Property schemas of `name`, with `allOf` parts and their references merged.
    fn properties(&self, name: &str, depth: usize) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        let Some(schema) = self.0.get(name) else {
            return out;
        };
        let parts = std::iter::once(schema).chain(
            schema
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for part in parts {
            if let Some(target) = ref_name(part).filter(|_| depth < 8) {
                out.extend(self.properties(&target, depth + 1));
            }
            if let Some(props) = part.get("properties").and_then(Value::as_object) {
                out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }

    /// The schema a property refers to, and whether it is a list of it.
    fn target(property: &Value) -> Option<(String, bool)> {
        if let Some(name) = ref_name(property) {
            return Some((name, false));
        }
        if let Some(name) = property
            .get("allOf")
            .and_then(|a| a.get(0))
            .and_then(ref_name)
        {
            return Some((name, false));
        }
        if property.get("type").and_then(Value::as_str) == Some("array") {
            return property.get("items").and_then(ref_name).map(|n| (n, true));
        }
        None
    }

    /// Counts, per `Schema.field`, the fields of `body` that `schema` does not describe.
    fn undescribed(
        &self,
        body: &Value,
        schema: &str,
        list: bool,
        depth: usize,
        out: &mut std::collections::BTreeMap<String, usize>,
    ) {
        if depth > 16 {
            return;
        }
        if list {
            for item in body.as_array().into_iter().flatten() {
                self.undescribed(item, schema, false, depth + 1, out);
            }
            return;
        }
        let Some(object) = body.as_object() else {
            // A named array schema (`LatLng`, `ZoneRanges`...): look inside its items.
            if let Some(items) = self
                .0
                .get(schema)
                .and_then(|s| s.get("items"))
                .and_then(ref_name)
            {
                self.undescribed(body, &items, true, depth + 1, out);
            }
            return;
        };
        let props = self.properties(schema, 0);
        for (key, value) in object {
            match props.iter().find(|(k, _)| k == key) {
                None => *out.entry(format!("{schema}.{key}")).or_default() += 1,
                Some((_, property)) => {
                    if let Some((target, list)) = Self::target(property) {
                        self.undescribed(value, &target, list, depth + 1, out);
                    }
                }
            }
        }
    }
}

struct Operation {
    method: String,
    id: String,
    segments: Vec<String>,
    success: Option<Expected>,
}

/// Runs `conformance` with its arguments (after the subcommand's name).
pub(crate) fn main(args: &[OsString]) -> ExitCode {
    let mut args = args.iter();
    let mut dir = None;
    let mut spec = crate::project_root().join("openapi/strava.json");
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--spec") => match args.next() {
                Some(p) => spec = PathBuf::from(p),
                None => return usage("--spec needs a path"),
            },
            Some("-h" | "--help") => return usage(""),
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => return usage(&format!("unexpected argument {}", arg.to_string_lossy())),
        }
    }
    let Some(dir) = dir else {
        return usage("missing the recordings directory");
    };
    let (operations, schemas) = match load_operations(&spec) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("conformance: {}: {e}", spec.display());
            return ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    if let Err(e) = collect_json_files(&dir, &mut files) {
        eprintln!("conformance: {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    files.sort();

    let mut report = Report::default();
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                report.fail(file, "-", format!("cannot read: {e}"));
                continue;
            }
        };
        // Bodies are kept as raw text: a `Value` would turn 30-digit ids into floats.
        if text.trim_start().starts_with('[') {
            check_bare_body(file, text.as_bytes(), &mut report);
            continue;
        }
        let recording: Recording<'_> = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                report.fail(file, "-", format!("not JSON: {e}"));
                continue;
            }
        };
        match recording.interactions {
            Some(list) => {
                for (i, interaction) in list.iter().enumerate() {
                    check_interaction(&operations, &schemas, file, i, interaction, &mut report);
                }
            }
            None => check_bare_body(file, text.as_bytes(), &mut report),
        }
    }
    report.print();
    if report.failures.is_empty() && report.checked > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("conformance: {problem}");
    }
    eprintln!("usage: cargo xtask conformance DIR [--spec openapi/strava.json]");
    ExitCode::from(2)
}

#[derive(Default)]
struct Report {
    /// `Schema.field` -> how many recorded bodies carry a field the document lacks.
    undescribed: std::collections::BTreeMap<String, usize>,
    checked: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    fn pass(&mut self) {
        self.checked += 1;
    }
    fn fail(&mut self, file: &Path, at: &str, why: String) {
        self.checked += 1;
        self.failures
            .push(format!("{} [{at}]: {why}", file.display()));
    }
    fn print(&self) {
        let ok = self.checked - self.failures.len();
        println!("{ok} of {} interactions conform", self.checked);
        for f in &self.failures {
            println!("  FAIL {f}");
        }
        if !self.undescribed.is_empty() {
            println!(
                "{} recorded fields are not described in the document (typed clients drop them):",
                self.undescribed.len()
            );
            for (field, count) in &self.undescribed {
                println!("  undescribed {field} ({count}x)");
            }
        }
        if !self.skipped.is_empty() {
            println!(
                "{} interactions match no operation in the document (not checked):",
                self.skipped.len()
            );
            for s in &self.skipped {
                println!("  skip {s}");
            }
        }
    }
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn load_operations(spec: &Path) -> Result<(Vec<Operation>, Schemas), String> {
    let text = std::fs::read_to_string(spec).map_err(|e| e.to_string())?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("no `paths` object")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let success = op
                .get("responses")
                .and_then(Value::as_object)
                .and_then(|r| r.iter().find(|(code, _)| code.starts_with('2')))
                .map(|(_, r)| expected_of(r));
            out.push(Operation {
                method: method.to_uppercase(),
                id: id.to_owned(),
                segments: path
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect(),
                success,
            });
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok((out, Schemas(schemas)))
}

fn ref_name(v: &Value) -> Option<String> {
    v.get("$ref")?
        .as_str()?
        .rsplit('/')
        .next()
        .map(str::to_owned)
}

fn expected_of(response: &Value) -> Expected {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Expected::Other("no content".into());
    };
    let Some(schema) = content
        .get("application/json")
        .and_then(|c| c.get("schema"))
    else {
        let types: Vec<&String> = content.keys().collect();
        return Expected::Other(format!("non-JSON content {types:?}"));
    };
    if let Some(name) = ref_name(schema) {
        return Expected::Json {
            schema: name,
            list: false,
        };
    }
    if schema.get("type").and_then(Value::as_str) == Some("array")
        && let Some(name) = schema.get("items").and_then(ref_name)
    {
        return Expected::Json {
            schema: name,
            list: true,
        };
    }
    Expected::Other("an inline JSON schema".into())
}

/// A recorded body: JSON (kept raw), a string (XML, HTML, empty), or nothing.
enum Body {
    Json,
    Text(String),
    Null,
}

impl Body {
    fn of(raw: &str) -> Self {
        match raw.trim_start().as_bytes().first() {
            Some(b'{' | b'[') => Body::Json,
            Some(b'"') => Body::Text(serde_json::from_str(raw).unwrap_or_default()),
            _ => Body::Null,
        }
    }
}

/// Finds the operation for a recorded request. Literal segments beat `{param}` ones, so
/// `/segments/starred` is not taken for `/segments/{id}`.
fn find_operation<'a>(ops: &'a [Operation], method: &str, path: &str) -> Option<&'a Operation> {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    ops.iter()
        .filter(|op| op.method == method && op.segments.len() == segs.len())
        .filter_map(|op| {
            let mut literal = 0;
            for (want, got) in op.segments.iter().zip(&segs) {
                if want.starts_with('{') {
                    continue;
                }
                if want != got {
                    return None;
                }
                literal += 1;
            }
            Some((literal, op))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, op)| op)
}

fn check_interaction(
    ops: &[Operation],
    schemas: &Schemas,
    file: &Path,
    index: usize,
    interaction: &Interaction<'_>,
    report: &mut Report,
) {
    let method = interaction.request.method.to_uppercase();
    let path = interaction.request.path.as_str();
    let at = format!("#{index} {method} {path}");
    let Some(op) = find_operation(ops, &method, path) else {
        report.skipped.push(format!("{} {at}", file.display()));
        return;
    };
    let at = format!("{at} ({})", op.id);
    let status = interaction.response.status;
    let raw = interaction.response.body.map_or("null", RawValue::get);
    let body = Body::of(raw);
    let bytes: Vec<u8> = match &body {
        Body::Text(s) => s.clone().into_bytes(),
        Body::Null => Vec::new(),
        Body::Json => raw.as_bytes().to_vec(),
    };
    if (200..300).contains(&status) {
        match (&op.success, &body) {
            (Some(Expected::Json { schema, list }), Body::Json) => {
                match check_json(schema, *list, &bytes) {
                    Some(Ok(())) => {
                        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                            schemas.undescribed(&value, schema, *list, 0, &mut report.undescribed);
                        }
                        report.pass()
                    }
                    Some(Err(e)) => {
                        let what = if *list {
                            format!("[{schema}]")
                        } else {
                            schema.clone()
                        };
                        report.fail(file, &at, format!("does not deserialize as {what} {e}"))
                    }
                    None => report.fail(file, &at, format!("no generated type for {schema}")),
                }
            }
            (Some(Expected::Other(what)), Body::Text(_)) if what.starts_with("non-JSON") => {
                report.pass()
            }
            (Some(Expected::Other(what)), Body::Json) if what.starts_with("an inline") => {
                report.pass()
            }
            (Some(Expected::Json { .. }), _) => {
                report.fail(file, &at, "a JSON response was expected".into())
            }
            _ => report.fail(
                file,
                &at,
                "the response shape is not the declared one".into(),
            ),
        }
        return;
    }
    // Errors: whatever Strava sent must become a typed error with the status.
    let status = match reqwest::StatusCode::from_u16(status) {
        Ok(s) => s,
        Err(_) => {
            report.fail(file, &at, format!("invalid status {status}"));
            return;
        }
    };
    let error = stravalib::Error::from_response(status, &reqwest::header::HeaderMap::new(), &bytes);
    if error.status() != Some(status) {
        report.fail(file, &at, "error lost its status".into());
        return;
    }
    if matches!(body, Body::Json) && raw.trim_start().starts_with('{') {
        match check_json("Fault", false, &bytes) {
            Some(Ok(())) => report.pass(),
            Some(Err(e)) => report.fail(file, &at, format!("does not deserialize as Fault {e}")),
            None => report.fail(file, &at, "no generated Fault type".into()),
        }
    } else {
        // Not JSON (empty body, HTML page): kept as an excerpt with the status.
        report.pass();
    }
}

/// Bodies saved without their request, identified by file name.
fn check_bare_body(file: &Path, bytes: &[u8], report: &mut Report) {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (schema, list) = if name.starts_with("activity") {
        ("DetailedActivity", false)
    } else if name.starts_with("athlete.3") {
        ("DetailedAthlete", false)
    } else if name.starts_with("athlete") {
        ("SummaryAthlete", false)
    } else if name.contains("route") {
        ("Route", false)
    } else if name.contains("zone") {
        ("ActivityZone", true)
    } else {
        report
            .skipped
            .push(format!("{} (a body of unknown type)", file.display()));
        return;
    };
    match check_json(schema, list, bytes) {
        Some(Ok(())) => report.pass(),
        Some(Err(e)) => report.fail(
            file,
            "body",
            format!("does not deserialize as {schema} {e}"),
        ),
        None => report.fail(file, "body", format!("no generated type for {schema}")),
    }
}
