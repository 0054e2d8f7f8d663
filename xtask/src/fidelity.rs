//! `fidelity`: does the sandbox answer like Strava? Every operation it serves, checked
//! against Strava's published description and against recorded Strava answers.
//!
//! ```text
//! cargo xtask fidelity SHARED_DIR [--description PATH] [--recordings DIR]
//!                      [--ledger PATH] [--spec PATH] [--verbose]
//! ```
//!
//! `SHARED_DIR` holds `reference/strava-oas3-facts.json` (Strava's description, OpenAPI 3)
//! and `recordings/` (recorded traffic, `{"interactions":[{request, response}]}`, and bare
//! bodies named like `activity.3.json`); `--description` and `--recordings` point
//! elsewhere.
//!
//! 1. An embedded sandbox is started and every operation of `openapi/strava.json` (what
//!    the sandbox serves) is called, on several activities of different sports, a created
//!    and an uploaded one, clubs, gear, routes, segments and efforts. An operation of ours
//!    without a probe here is an error, so a new operation cannot go unchecked.
//! 2. Each 2xx JSON body is validated against the response schema of the same operation
//!    (by `operationId`) in the description: types (an `integer` is a JSON number without
//!    a fraction or exponent), `null` (the description allows none), enum values, formats
//!    (`date-time`, `date`), `minItems`/`maxItems`, `minimum`/`maximum`, `required`.
//!    `$ref`s are followed by their last segment, so the description's broken
//!    `#/TimedZoneDistribution` resolves. A violation is keyed by the schema it was found
//!    in and the property path: `ActivityZone.score`, `Lap.athlete.id`,
//!    `DetailedActivity.segment_efforts[].kom_rank`.
//! 3. Each body is compared with the recorded answers of the same operation: where the
//!    recordings always send a whole number, so must the sandbox; where they send a
//!    string, a boolean, an array or an object, so must it.
//!
//! The description's own errors are allowed by the ledger (`openapi/fidelity.json`, the
//! shape of `openapi/deviations.json`): `{"kind", "at", "why", "recording"}` entries,
//! where `recording` names a file under the recordings directory whose answers show the
//! same violation of the description. An entry is checked: a recording that does not show
//! it is an error, so only what Strava really does is allowed. Entries that allow nothing
//! the sandbox sent are printed as stale (a warning).
//!
//! Prints what was walked and each finding, ends with
//! `fidelity: N operations walked, M validated against the description, ...`, and exits 0
//! when nothing is unexplained, 1 otherwise, 2 on unusable input.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

const USAGE: &str = "usage: cargo xtask fidelity SHARED_DIR [--description PATH] [--recordings DIR]
                            [--ledger PATH] [--spec PATH] [--verbose]

Walks every operation the embedded sandbox serves and validates each answer against
Strava's description (SHARED_DIR/reference/strava-oas3-facts.json) and the shapes of
recorded answers (SHARED_DIR/recordings). Allowed description errors are listed, each
with a recording that shows it, in openapi/fidelity.json.";

/// Runs `fidelity` with its arguments (after the subcommand's name).
pub(crate) fn main(args: &[OsString]) -> ExitCode {
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("fidelity: error: {message}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    description: PathBuf,
    recordings: PathBuf,
    ledger: PathBuf,
    spec: PathBuf,
    verbose: bool,
}

fn parse_args(args: &[OsString]) -> Result<Option<Options>, String> {
    let mut shared = None;
    let (mut description, mut recordings, mut ledger, mut spec) = (None, None, None, None);
    let mut verbose = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let text = arg.to_string_lossy();
        let mut value = |name: &str| {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match text.as_ref() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--description" => description = Some(value("--description")?),
            "--recordings" => recordings = Some(value("--recordings")?),
            "--ledger" => ledger = Some(value("--ledger")?),
            "--spec" => spec = Some(value("--spec")?),
            "--verbose" => verbose = true,
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option `{flag}`\n\n{USAGE}"));
            }
            _ if shared.is_none() => shared = Some(PathBuf::from(arg)),
            other => return Err(format!("unexpected argument `{other}`\n\n{USAGE}")),
        }
    }
    let shared = shared.ok_or_else(|| format!("SHARED_DIR is missing\n\n{USAGE}"))?;
    let root = crate::project_root();
    Ok(Some(Options {
        description: description.unwrap_or_else(|| shared.join("reference/strava-oas3-facts.json")),
        recordings: recordings.unwrap_or_else(|| shared.join("recordings")),
        ledger: ledger.unwrap_or_else(|| root.join("openapi/fidelity.json")),
        spec: spec.unwrap_or_else(|| root.join("openapi/strava.json")),
        verbose,
    }))
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(args: &[OsString]) -> Result<bool, String> {
    let Some(options) = parse_args(args)? else {
        return Ok(true);
    };
    let description = Description::new(read_json(&options.description)?)?;
    let ours = Description::new(read_json(&options.spec)?)?;
    let recordings = Recordings::load(&options.recordings, &ours)?;
    let ledger = load_ledger(&options.ledger)?;

    // Every ledger entry must be shown by its recording.
    let mut ok = true;
    for entry in &ledger {
        let shown = recordings.violations_in(&entry.recording, &description);
        if !shown.contains(&(entry.kind.clone(), entry.at.clone())) {
            println!(
                "unproven  {} {}: {} does not show it",
                entry.kind, entry.at, entry.recording
            );
            ok = false;
        }
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("a runtime: {e}"))?;
    let answers = runtime.block_on(walk(&ours))?;

    let mut walked = BTreeSet::new();
    let mut validated = BTreeSet::new();
    let mut absent = BTreeSet::new();
    let mut schemaless = BTreeSet::new();
    // (kind, at) -> (detail, operation, count)
    let mut violations: BTreeMap<(String, String), (String, String, usize)> = BTreeMap::new();
    let mut shapes: BTreeMap<(String, String), String> = BTreeMap::new();
    for answer in &answers {
        walked.insert(answer.operation.clone());
        let Some(op) = description.operations.get(&answer.operation) else {
            absent.insert(answer.operation.clone());
            continue;
        };
        let Some(body) = &answer.body else {
            // Not JSON (GPX, TCX): the description must not promise JSON either.
            if op.schema.is_some() {
                violations
                    .entry(("type".into(), format!("{}.(200)", answer.operation)))
                    .or_insert((
                        "the description promises JSON".into(),
                        answer.operation.clone(),
                        0,
                    ))
                    .2 += 1;
            } else {
                schemaless.insert(answer.operation.clone());
            }
            continue;
        };
        validated.insert(answer.operation.clone());
        let mut declared = BTreeMap::new();
        if let Some(schema) = &op.schema {
            let root = format!("{}.(200)", answer.operation);
            let (found, types) = description.validate_with_types(schema, body, &root);
            declared = types;
            for v in found {
                violations
                    .entry((v.kind, v.at))
                    .or_insert((v.detail, answer.operation.clone(), 0))
                    .2 += 1;
            }
        }
        for (path, detail) in recordings.shape_differences(&answer.operation, body, &declared) {
            shapes
                .entry((answer.operation.clone(), path))
                .or_insert(detail);
        }
    }

    let mut used = vec![false; ledger.len()];
    let (mut explained, mut unexplained) = (0, 0);
    for ((kind, at), (detail, operation, count)) in &violations {
        let entry = ledger.iter().position(|e| e.kind == *kind && e.at == *at);
        match entry {
            Some(i) => {
                used[i] = true;
                explained += 1;
                if options.verbose {
                    println!(
                        "allowed   {kind} {at}: {detail} ({operation}, {count}x) -- {}",
                        ledger[i].why
                    );
                }
            }
            None => {
                unexplained += 1;
                println!("VIOLATION {kind} {at}: {detail} ({operation}, {count}x)");
            }
        }
    }
    for ((operation, path), detail) in &shapes {
        println!("SHAPE     {operation} {path}: {detail}");
    }
    for (entry, used) in ledger.iter().zip(&used) {
        if !used {
            println!(
                "stale     {} {}: allows nothing the sandbox sent",
                entry.kind, entry.at
            );
        }
    }
    if options.verbose || !absent.is_empty() {
        for op in &absent {
            println!("note      {op}: not in the description; compared with recordings only");
        }
    }
    println!(
        "fidelity: {} operations walked ({} answers), {} validated against the description, \
         {} without a JSON body, {} not in it; {} violations ({} allowed by the ledger, {} \
         unexplained), {} shape differences from recordings",
        walked.len(),
        answers.len(),
        validated.len(),
        schemaless.len(),
        absent.len(),
        violations.len(),
        explained,
        unexplained,
        shapes.len(),
    );
    Ok(ok && unexplained == 0 && shapes.is_empty())
}

// ---------------------------------------------------------------------------------------
// The ledger
// ---------------------------------------------------------------------------------------

/// One allowed error of the description.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kind: String,
    at: String,
    #[allow(dead_code)]
    #[serde(default)]
    detail: Option<String>,
    why: String,
    /// A file under the recordings directory whose answers show the same violation.
    recording: String,
}

const KINDS: [&str; 9] = [
    "type",
    "null",
    "enum",
    "format",
    "min-items",
    "max-items",
    "minimum",
    "maximum",
    "required",
];

fn load_ledger(path: &Path) -> Result<Vec<Entry>, String> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let doc = read_json(path)?;
    let list = match &doc {
        Value::Array(list) => list.clone(),
        Value::Object(o) => match o.get("deviations") {
            Some(Value::Array(list)) => list.clone(),
            _ => return Err(format!("{}: expected an array of entries", path.display())),
        },
        _ => return Err(format!("{}: expected an array of entries", path.display())),
    };
    let mut entries = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        let entry: Entry = serde_json::from_value(item)
            .map_err(|e| format!("{}: entry {}: {e}", path.display(), i + 1))?;
        if !KINDS.contains(&entry.kind.as_str()) {
            return Err(format!(
                "{}: entry {}: unknown kind `{}` (known: {})",
                path.display(),
                i + 1,
                entry.kind,
                KINDS.join(", ")
            ));
        }
        if entry.why.trim().is_empty() || entry.recording.trim().is_empty() {
            return Err(format!(
                "{}: entry {} ({} {}): `why` and `recording` are needed",
                path.display(),
                i + 1,
                entry.kind,
                entry.at
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

// ---------------------------------------------------------------------------------------
// A description and its validator
// ---------------------------------------------------------------------------------------

/// One operation: method, path template, the 2xx JSON response schema if any.
#[derive(Clone, Debug)]
struct Operation {
    method: String,
    path: String,
    schema: Option<Value>,
}

/// An OpenAPI 3 document: operations by id, schemas by name.
struct Description {
    operations: BTreeMap<String, Operation>,
    schemas: Map<String, Value>,
}

/// Where a validation writes what it finds.
struct Walk<'a> {
    out: &'a mut Vec<Violation>,
    types: &'a mut BTreeMap<String, String>,
}

/// A violation of the description.
#[derive(Debug, PartialEq)]
struct Violation {
    kind: String,
    at: String,
    detail: String,
}

impl Description {
    fn new(doc: Value) -> Result<Self, String> {
        if !doc
            .get("openapi")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with('3'))
        {
            return Err("the description must be OpenAPI 3 (the facts file)".into());
        }
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut operations = BTreeMap::new();
        for (path, item) in doc
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let responses = op.get("responses").and_then(Value::as_object);
                let schema = responses
                    .into_iter()
                    .flatten()
                    .filter(|(status, _)| status.starts_with('2'))
                    .find_map(|(_, r)| r.pointer("/content/application~1json/schema").cloned());
                operations.insert(
                    id.to_owned(),
                    Operation {
                        method: method.to_ascii_uppercase(),
                        path: path.clone(),
                        schema,
                    },
                );
            }
        }
        Ok(Self {
            operations,
            schemas,
        })
    }

    /// The schema a `$ref` names (by its last segment).
    fn target(&self, reference: &str) -> Option<(&str, &Value)> {
        let name = reference.rsplit('/').next()?;
        self.schemas
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
    }

    fn validate(&self, schema: &Value, value: &Value, root: &str) -> Vec<Violation> {
        self.validate_with_types(schema, value, root).0
    }

    /// The violations, and the type the description declares at each place of the value
    /// (`$.laps[].distance` -> `number`).
    fn validate_with_types(
        &self,
        schema: &Value,
        value: &Value,
        root: &str,
    ) -> (Vec<Violation>, BTreeMap<String, String>) {
        let mut out = Vec::new();
        let mut types = BTreeMap::new();
        let mut cx = Walk {
            out: &mut out,
            types: &mut types,
        };
        self.check(schema, value, root, "$", &mut cx, 0);
        (out, types)
    }

    fn check(
        &self,
        schema: &Value,
        v: &Value,
        at: &str,
        place: &str,
        cx: &mut Walk<'_>,
        depth: usize,
    ) {
        let out = &mut *cx.out;
        let Some(s) = schema.as_object() else {
            return;
        };
        if depth > 64 {
            return;
        }
        // A null is reported where it is (`DetailedActivity.gear`), not in the schema a
        // `$ref` leads to.
        if v.is_null() {
            let typed = ["$ref", "type", "properties", "allOf"]
                .iter()
                .any(|k| s.contains_key(*k));
            if typed && !s.get("nullable").and_then(Value::as_bool).unwrap_or(false) {
                violation(
                    out,
                    at,
                    "null",
                    "null where the description allows none".into(),
                );
            }
            return;
        }
        if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
            match self.target(reference) {
                Some((name, target)) => self.check(target, v, name, place, cx, depth + 1),
                None => violation(out, at, "type", format!("unresolvable $ref {reference}")),
            }
            return;
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            for part in parts {
                self.check(part, v, at, place, cx, depth + 1);
            }
        }
        let t = s
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| s.contains_key("properties").then_some("object"));
        let out = &mut *cx.out;
        if let Some(t) = t {
            cx.types.insert(place.to_owned(), t.to_owned());
            let fits = match t {
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => true,
            };
            if !fits {
                violation(
                    out,
                    at,
                    "type",
                    format!("expected {t}, found {}", excerpt(v)),
                );
                return;
            }
        }
        if let (Some(values), Some(text)) = (s.get("enum").and_then(Value::as_array), v.as_str())
            && !values.iter().any(|x| x.as_str() == Some(text))
        {
            violation(
                out,
                at,
                "enum",
                format!("`{text}` is not one of its values"),
            );
        }
        if let (Some(format), Some(text)) = (s.get("format").and_then(Value::as_str), v.as_str()) {
            let fits = match format {
                "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                _ => true,
            };
            if !fits {
                violation(out, at, "format", format!("`{text}` is not a {format}"));
            }
        }
        if let Some(x) = v.as_f64() {
            if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                violation(out, at, "minimum", format!("{x} < {min}"));
            }
            if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                violation(out, at, "maximum", format!("{x} > {max}"));
            }
        }
        if let Some(items) = v.as_array() {
            if let Some(min) = s.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                violation(
                    out,
                    at,
                    "min-items",
                    format!("{} items, at least {min}", items.len()),
                );
            }
            if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > max
            {
                violation(
                    out,
                    at,
                    "max-items",
                    format!("{} items, at most {max}", items.len()),
                );
            }
            if let Some(item_schema) = s.get("items") {
                let (item_at, item_place) = (format!("{at}[]"), format!("{place}[]"));
                for item in items {
                    self.check(item_schema, item, &item_at, &item_place, cx, depth + 1);
                }
            }
        }
        if let Some(object) = v.as_object() {
            let out = &mut *cx.out;
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(r) {
                    out.push(Violation {
                        kind: "required".into(),
                        at: format!("{at}.{r}"),
                        detail: "missing".into(),
                    });
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, x) in object {
                let inner = format!("{place}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => self.check(ps, x, &format!("{at}.{k}"), &inner, cx, depth + 1),
                    None => {
                        if let Some(extra) = s.get("additionalProperties")
                            && extra.is_object()
                        {
                            self.check(extra, x, &format!("{at}.*"), &inner, cx, depth + 1);
                        }
                    }
                }
            }
        }
    }
}

fn violation(out: &mut Vec<Violation>, at: &str, kind: &str, detail: String) {
    out.push(Violation {
        kind: kind.into(),
        at: at.to_owned(),
        detail,
    });
}

fn excerpt(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The operation of `doc` a request is for: method and path (after `/api/v3`), the
/// template with the most literal segments winning.
fn match_operation<'a>(doc: &'a Description, method: &str, path: &str) -> Option<&'a str> {
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    doc.operations
        .iter()
        .filter(|(_, op)| op.method.eq_ignore_ascii_case(method))
        .filter_map(|(id, op)| {
            let t: Vec<&str> = op.path.split('/').filter(|s| !s.is_empty()).collect();
            if t.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in t.iter().zip(&segs) {
                if a.starts_with('{') {
                    continue;
                }
                if a != b {
                    return None;
                }
                literal += 1;
            }
            Some((literal, id.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, id)| id)
}

// ---------------------------------------------------------------------------------------
// Recordings
// ---------------------------------------------------------------------------------------

/// What JSON sends at a place: the kinds shape comparison tells apart.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "fraction",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every place in `v` (`$.laps[].moving_time`) with the kind found there.
fn places(v: &Value, at: &str, out: &mut Vec<(String, &'static str)>) {
    out.push((at.to_owned(), kind(v)));
    match v {
        Value::Array(items) => {
            let item_at = format!("{at}[]");
            for item in items {
                places(item, &item_at, out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                places(x, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Recorded 2xx JSON answers, by the operation of ours they answer.
struct Recordings {
    /// (file relative to the recordings directory, operation, body)
    answers: Vec<(String, String, Value)>,
    /// operation -> place -> kinds seen
    seen: BTreeMap<String, BTreeMap<String, BTreeSet<&'static str>>>,
}

/// Bare bodies (no request recorded) by file name: which operation answered them.
const BARE: [(&str, &str); 4] = [
    ("activity", "getActivityById"),
    ("athlete", "getLoggedInAthlete"),
    ("example_route", "getRouteById"),
    ("example_zone", "getZonesByActivityId"),
];

impl Recordings {
    fn load(dir: &Path, ours: &Description) -> Result<Self, String> {
        let mut files = Vec::new();
        collect_files(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
        files.sort();
        let mut answers = Vec::new();
        for file in files {
            let rel = file
                .strip_prefix(dir)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            let Ok(doc) = read_json(&file) else {
                continue;
            };
            match doc.get("interactions").and_then(Value::as_array) {
                Some(list) => {
                    for i in list {
                        let method = i.pointer("/request/method").and_then(Value::as_str);
                        let path = i.pointer("/request/path").and_then(Value::as_str);
                        let status = i.pointer("/response/status").and_then(Value::as_u64);
                        let body = i.pointer("/response/body");
                        let (Some(method), Some(path), Some(status), Some(body)) =
                            (method, path, status, body)
                        else {
                            continue;
                        };
                        if !(200..300).contains(&status) || !(body.is_object() || body.is_array()) {
                            continue;
                        }
                        if let Some(op) = match_operation(ours, method, path) {
                            answers.push((rel.clone(), op.to_owned(), body.clone()));
                        }
                    }
                }
                None => {
                    let name = file.file_name().unwrap_or_default().to_string_lossy();
                    if let Some((_, op)) = BARE.iter().find(|(p, _)| name.starts_with(p))
                        && (doc.is_object() || doc.is_array())
                    {
                        answers.push((rel.clone(), (*op).to_owned(), doc));
                    }
                }
            }
        }
        let mut seen: BTreeMap<String, BTreeMap<String, BTreeSet<&'static str>>> = BTreeMap::new();
        for (_, op, body) in &answers {
            let mut found = Vec::new();
            places(body, "$", &mut found);
            let map = seen.entry(op.clone()).or_default();
            for (place, k) in found {
                map.entry(place).or_default().insert(k);
            }
        }
        Ok(Self { answers, seen })
    }

    /// The violations of the description the answers in `file` show.
    fn violations_in(&self, file: &str, description: &Description) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (rel, op, body) in &self.answers {
            if rel != file {
                continue;
            }
            let Some(schema) = description
                .operations
                .get(op)
                .and_then(|o| o.schema.as_ref())
            else {
                continue;
            };
            for v in description.validate(schema, body, &format!("{op}.(200)")) {
                out.insert((v.kind, v.at));
            }
        }
        out
    }

    /// Where `body` differs in kind from every recorded answer of `operation`: a
    /// fraction where the recordings only have whole numbers (unless the description
    /// declares a fractional `number` there), or another kind of value where they agree
    /// on one (null aside).
    fn shape_differences(
        &self,
        operation: &str,
        body: &Value,
        declared: &BTreeMap<String, String>,
    ) -> Vec<(String, String)> {
        let Some(seen) = self.seen.get(operation) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        places(body, "$", &mut found);
        let mut out = Vec::new();
        for (place, k) in found {
            let Some(kinds) = seen.get(&place) else {
                continue;
            };
            let recorded: BTreeSet<&str> = kinds.iter().copied().filter(|k| *k != "null").collect();
            if k == "null" || recorded.is_empty() || recorded.contains(k) {
                continue;
            }
            if k == "integer" && recorded.contains("fraction") {
                // A whole number where Strava sends fractions too: the same number type.
                continue;
            }
            if k == "fraction"
                && recorded.iter().all(|r| *r == "integer")
                && declared.get(&place).is_some_and(|t| t == "number")
            {
                // A number the description declares fractional, which the few recorded
                // answers happen to have whole (`"distance": 0`).
                continue;
            }
            out.push((
                place,
                format!(
                    "the sandbox sends {k}, the recordings {}",
                    recorded.into_iter().collect::<Vec<_>>().join("/")
                ),
            ));
        }
        out
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------------------

/// One answer of the sandbox.
struct Answer {
    operation: String,
    /// The JSON body; `None` for another content type.
    body: Option<Value>,
}

/// Our fixture: a short run, written for this check.
const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="xtask-fidelity" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>Fidelity loop</name><type>running</type><trkseg>
  <trkpt lat="45.5200" lon="-122.6800"><ele>15.0</ele><time>2026-02-01T07:00:00Z</time></trkpt>
  <trkpt lat="45.5210" lon="-122.6790"><ele>15.4</ele><time>2026-02-01T07:00:30Z</time></trkpt>
  <trkpt lat="45.5221" lon="-122.6778"><ele>16.1</ele><time>2026-02-01T07:01:00Z</time></trkpt>
  <trkpt lat="45.5230" lon="-122.6765"><ele>15.8</ele><time>2026-02-01T07:01:30Z</time></trkpt>
 </trkseg></trk>
</gpx>"#;

struct Walker {
    http: reqwest::Client,
    api: String,
    token: String,
    answers: Vec<Answer>,
}

enum Send {
    Get,
    Put(Vec<(&'static str, String)>),
    Post(Vec<(&'static str, String)>),
    Upload,
}

impl Walker {
    async fn call(&mut self, operation: &str, path: &str, send: Send) -> Result<Value, String> {
        let url = format!("{}{path}", self.api);
        let request = match send {
            Send::Get => self.http.get(&url),
            Send::Put(form) => self.http.put(&url).form(&form),
            Send::Post(form) => self.http.post(&url).form(&form),
            Send::Upload => self.http.post(&url).multipart(
                reqwest::multipart::Form::new()
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(GPX.as_bytes().to_vec())
                            .file_name("fidelity.gpx"),
                    )
                    .text("data_type", "gpx"),
            ),
        };
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("{operation} {path}: {e}"))?;
        let status = response.status();
        let json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("{operation} {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{operation} {path}: {status} {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        let body = if json {
            Some(
                serde_json::from_slice::<Value>(&bytes)
                    .map_err(|e| format!("{operation} {path}: {e}"))?,
            )
        } else {
            None
        };
        self.answers.push(Answer {
            operation: operation.to_owned(),
            body: body.clone(),
        });
        Ok(body.unwrap_or(Value::Null))
    }
}

fn id(v: &Value) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| format!("no id in {}", excerpt(v)))
}

/// Calls every operation of ours on the sandbox; returns the answers.
async fn walk(ours: &Description) -> Result<Vec<Answer>, String> {
    let sandbox = stravalib_sandbox::Sandbox::builder()
        .seed(11)
        .athletes(4)
        .activities_per_athlete(300)
        .retired_endpoints(false)
        .upload_processing(0, Duration::ZERO)
        .rate_limits(100_000, 100_000, 100_000, 100_000)
        .start()
        .await
        .map_err(|e| format!("the sandbox: {e}"))?;
    let token = sandbox
        .issue_tokens(0, stravalib::auth::Scope::ALL)
        .access_token
        .expose()
        .to_owned();
    let mut w = Walker {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?,
        api: sandbox.api_base(),
        token,
        answers: Vec::new(),
    };
    let me = sandbox.athlete_id(0).ok_or("no athlete")?;

    // The athlete.
    let athlete = w.call("getLoggedInAthlete", "/athlete", Send::Get).await?;
    w.call(
        "updateLoggedInAthlete",
        "/athlete",
        Send::Put(vec![("weight", "68.5".into())]),
    )
    .await?;
    w.call("getLoggedInAthleteZones", "/athlete/zones", Send::Get)
        .await?;
    w.call("getStats", &format!("/athletes/{me}/stats"), Send::Get)
        .await?;
    let clubs = w
        .call("getLoggedInAthleteClubs", "/athlete/clubs", Send::Get)
        .await?;
    let list = w
        .call(
            "getLoggedInAthleteActivities",
            "/athlete/activities?per_page=200",
            Send::Get,
        )
        .await?;

    // Activities: the first of each sport, and ones with comments, kudos and photos.
    let mut chosen: Vec<u64> = Vec::new();
    let mut sports = BTreeSet::new();
    let all = list.as_array().cloned().unwrap_or_default();
    for a in &all {
        if sports.insert(a["sport_type"].as_str().unwrap_or("").to_owned()) {
            chosen.push(id(&a["id"])?);
        }
    }
    for want in ["comment_count", "kudos_count", "total_photo_count"] {
        if let Some(a) = all.iter().find(|a| a[want].as_u64() > Some(1)) {
            chosen.push(id(&a["id"])?);
        }
    }
    let created = w
        .call(
            "createActivity",
            "/activities",
            Send::Post(vec![
                ("name", "Fidelity run".into()),
                ("sport_type", "Run".into()),
                ("start_date_local", "2026-02-02T07:00:00Z".into()),
                ("elapsed_time", "1800".into()),
                ("distance", "5000".into()),
            ]),
        )
        .await?;
    let created = id(&created["id"])?;
    w.call(
        "updateActivityById",
        &format!("/activities/{created}"),
        Send::Put(vec![("name", "Fidelity run, renamed".into())]),
    )
    .await?;
    let upload = w.call("createUpload", "/uploads", Send::Upload).await?;
    let upload = w
        .call(
            "getUploadById",
            &format!("/uploads/{}", id(&upload["id"])?),
            Send::Get,
        )
        .await?;
    chosen.push(created);
    chosen.push(id(&upload["activity_id"])?);
    chosen.sort_unstable();
    chosen.dedup();

    let mut effort = None;
    for a in &chosen {
        let detailed = w
            .call("getActivityById", &format!("/activities/{a}"), Send::Get)
            .await?;
        if effort.is_none() {
            effort = detailed["segment_efforts"]
                .as_array()
                .and_then(|e| e.first())
                .map(|e| (e["id"].clone(), e["segment"]["id"].clone()));
        }
        for (op, suffix) in [
            ("getLapsByActivityId", "/laps"),
            ("getZonesByActivityId", "/zones"),
            ("getCommentsByActivityId", "/comments"),
            ("getKudoersByActivityId", "/kudos"),
            ("getActivityPhotos", "/photos?size=600"),
            (
                "getActivityStreams",
                "/streams?keys=time,distance,latlng,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth&key_by_type=true",
            ),
        ] {
            w.call(op, &format!("/activities/{a}{suffix}"), Send::Get)
                .await?;
        }
    }

    // Clubs (the retired endpoints served), gear, routes.
    let club = id(&clubs[0]["id"])?;
    for (op, suffix) in [
        ("getClubById", ""),
        ("getClubMembersById", "/members"),
        ("getClubAdminsById", "/admins"),
        ("getClubActivitiesById", "/activities"),
    ] {
        w.call(op, &format!("/clubs/{club}{suffix}"), Send::Get)
            .await?;
    }
    for kind in ["shoes", "bikes"] {
        if let Some(gear) = athlete[kind][0]["id"].as_str() {
            w.call("getGearById", &format!("/gear/{gear}"), Send::Get)
                .await?;
        }
    }
    let routes = w
        .call(
            "getRoutesByAthleteId",
            &format!("/athletes/{me}/routes"),
            Send::Get,
        )
        .await?;
    let route = id(&routes[0]["id"])?;
    for (op, suffix) in [
        ("getRouteById", ""),
        ("getRouteAsGPX", "/export_gpx"),
        ("getRouteAsTCX", "/export_tcx"),
        ("getRouteStreams", "/streams"),
    ] {
        w.call(op, &format!("/routes/{route}{suffix}"), Send::Get)
            .await?;
    }

    // Segments and efforts.
    let (effort, segment) = effort.ok_or("no segment effort in the chosen activities")?;
    let (effort, segment) = (id(&effort)?, id(&segment)?);
    let detailed_segment = w
        .call("getSegmentById", &format!("/segments/{segment}"), Send::Get)
        .await?;
    w.call(
        "starSegment",
        &format!("/segments/{segment}/starred"),
        Send::Put(vec![("starred", "true".into())]),
    )
    .await?;
    w.call(
        "getLoggedInAthleteStarredSegments",
        "/segments/starred",
        Send::Get,
    )
    .await?;
    let (lat, lng) = (
        detailed_segment["start_latlng"][0].as_f64().unwrap_or(0.0),
        detailed_segment["start_latlng"][1].as_f64().unwrap_or(0.0),
    );
    let kind = if detailed_segment["activity_type"] == json!("Run") {
        "running"
    } else {
        "riding"
    };
    w.call(
        "exploreSegments",
        &format!(
            "/segments/explore?bounds={},{},{},{}&activity_type={kind}",
            lat - 0.2,
            lng - 0.2,
            lat + 0.2,
            lng + 0.2
        ),
        Send::Get,
    )
    .await?;
    w.call(
        "getSegmentStreams",
        &format!("/segments/{segment}/streams?keys=distance,latlng,altitude&key_by_type=true"),
        Send::Get,
    )
    .await?;
    w.call(
        "getEffortsBySegmentId",
        &format!("/segment_efforts?segment_id={segment}"),
        Send::Get,
    )
    .await?;
    w.call(
        "getSegmentEffortById",
        &format!("/segment_efforts/{effort}"),
        Send::Get,
    )
    .await?;
    w.call(
        "getSegmentEffortStreams",
        &format!(
            "/segment_efforts/{effort}/streams?keys=latlng,altitude,heartrate&key_by_type=true"
        ),
        Send::Get,
    )
    .await?;
    sandbox.shutdown().await;

    // Every operation of ours was walked.
    let walked: BTreeSet<&str> = w.answers.iter().map(|a| a.operation.as_str()).collect();
    let missing: Vec<&String> = ours
        .operations
        .keys()
        .filter(|op| !walked.contains(op.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no probe for {missing:?}: add them to the walk in xtask/src/fidelity.rs"
        ));
    }
    Ok(w.answers)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Description, match_operation};

    fn doc() -> Description {
        Description::new(json!({
            "openapi": "3.0.3",
            "paths": {
                "/zones": {"get": {"operationId": "zones", "responses": {"200": {"content":
                    {"application/json": {"schema": {"type": "array", "items":
                    {"$ref": "#/components/schemas/Zone"}}}}}}}},
                "/segments/{id}": {"get": {"operationId": "segment", "responses": {}}},
                "/segments/starred": {"get": {"operationId": "starred", "responses": {}}}
            },
            "components": {"schemas": {
                "Zone": {"type": "object", "required": ["score"], "properties": {
                    "score": {"type": "integer"},
                    "buckets": {"$ref": "#/Buckets"},
                    "type": {"type": "string", "enum": ["heartrate", "power"]},
                    "at": {"type": "string", "format": "date-time"}}},
                "Buckets": {"type": "array", "minItems": 1, "items": {"allOf": [
                    {"$ref": "#/components/schemas/Range"},
                    {"properties": {"time": {"type": "integer"}}}]}},
                "Range": {"type": "object", "properties": {"min": {"type": "integer"}}}
            }}
        }))
        .unwrap()
    }

    #[test]
    fn violations_are_keyed_by_schema_and_property() {
        let d = doc();
        let schema = d.operations["zones"].schema.clone().unwrap();
        let body = json!([{"score": 104.5, "type": "pace", "at": "yesterday",
            "buckets": [{"min": null, "time": 3.0}]}, {"buckets": []}]);
        let mut found: Vec<(String, String)> = d
            .validate(&schema, &body, "zones.(200)")
            .into_iter()
            .map(|v| (v.kind, v.at))
            .collect();
        found.sort();
        let expected: Vec<(String, String)> = [
            ("enum", "Zone.type"),
            ("format", "Zone.at"),
            ("min-items", "Buckets"),
            ("null", "Range.min"),
            ("required", "Zone.score"),
            ("type", "Buckets[].time"),
            ("type", "Zone.score"),
        ]
        .iter()
        .map(|(k, a)| ((*k).to_owned(), (*a).to_owned()))
        .collect();
        assert_eq!(found, expected);
        let good = json!([{"score": 104, "type": "power", "at": "2026-01-01T00:00:00Z",
            "buckets": [{"min": 0, "time": 3}], "extra": "ignored"}]);
        assert!(d.validate(&schema, &good, "zones.(200)").is_empty());
    }

    #[test]
    fn literal_segments_win() {
        let d = doc();
        assert_eq!(
            match_operation(&d, "GET", "/api/v3/segments/starred"),
            Some("starred")
        );
        assert_eq!(
            match_operation(&d, "GET", "/api/v3/segments/12"),
            Some("segment")
        );
        assert_eq!(match_operation(&d, "POST", "/api/v3/segments/12"), None);
    }
}
