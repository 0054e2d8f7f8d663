//! The rules `build.rs` applies to the OpenAPI document before generating code. Kept in
//! their own file so the tests (`tests/build_rules.rs`) can run them on broken documents.

use std::collections::BTreeSet;
use std::path::Path;

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StringType, Type};

/// Reads and parses the document, naming the file and the problem on failure.
pub fn read_spec(path: &Path) -> Result<OpenAPI, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the API description: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
    match value.get("openapi").and_then(|v| v.as_str()) {
        Some(v) if v.starts_with("3.0.") => {}
        other => {
            return Err(format!(
                "{}: expected an OpenAPI 3.0.x document, found `openapi: {other:?}`",
                path.display()
            ));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| format!("{}: not a valid OpenAPI 3.0 document: {e}", path.display()))
}

/// Every enum must be a named component schema, so it becomes one open enum type that all
/// its users share (an inline enum would be copied into every struct that uses it, closed).
pub fn check_no_inline_enums(spec: &OpenAPI) -> Result<(), String> {
    let value = serde_json::to_value(spec).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    find_inline_enums(&value, String::new(), 0, &mut found);
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "inline enums are not allowed; move each to a named schema under components/schemas and $ref it: {}",
            found.join(", ")
        ))
    }
}

fn find_inline_enums(v: &serde_json::Value, at: String, depth: usize, found: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            // components/schemas/<Name> itself may be an enum: depth 3 from the root.
            let top_level_schema = at.starts_with("/components/schemas/") && depth == 3;
            if map.contains_key("enum") && !top_level_schema {
                found.push(at.clone());
            }
            for (k, child) in map {
                find_inline_enums(child, format!("{at}/{k}"), depth + 1, found);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                find_inline_enums(child, format!("{at}/{i}"), depth + 1, found);
            }
        }
        _ => {}
    }
}

/// Removes operations with a `multipart/form-data` request body (progenitor 0.15 rejects
/// them) and returns their ids with the reason.
pub fn exclude_multipart_operations(spec: &mut OpenAPI) -> Vec<(String, String)> {
    let mut excluded = Vec::new();
    for (path, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let slots = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ];
        for (method, slot) in slots {
            let multipart = slot.as_ref().is_some_and(|op| {
                matches!(&op.request_body, Some(ReferenceOr::Item(body))
                    if body.content.keys().any(|ct| ct.starts_with("multipart/")))
            });
            if multipart {
                let op = slot.take().expect("checked above");
                let id = op
                    .operation_id
                    .unwrap_or_else(|| format!("{method} {path}"));
                excluded.push((
                    id,
                    format!("{method} {path} has a multipart/form-data body, which progenitor cannot generate; written by hand"),
                ));
            }
        }
    }
    excluded
}

/// A named string enum, generated as an open enum.
pub struct OpenEnum {
    pub name: String,
    pub doc: String,
    /// (wire value, Rust variant name)
    pub variants: Vec<(String, String)>,
}

pub fn collect_open_enums(spec: &OpenAPI) -> Result<Vec<OpenEnum>, String> {
    let mut out = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(Schema {
            schema_kind: SchemaKind::Type(Type::String(StringType { enumeration, .. })),
            schema_data,
        }) = schema
        else {
            continue;
        };
        if enumeration.is_empty() {
            continue;
        }
        let values: Vec<String> = enumeration.iter().flatten().cloned().collect();
        let names: Vec<String> = match schema_data.extensions.get("x-enum-varnames") {
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| format!("{name}: x-enum-varnames must be a list of names: {e}"))?,
            None => values.iter().map(|v| variant_name(v)).collect(),
        };
        if names.len() != values.len() {
            return Err(format!(
                "{name}: x-enum-varnames has {} names for {} values",
                names.len(),
                values.len()
            ));
        }
        let unique: BTreeSet<&String> = names.iter().collect();
        if unique.len() != names.len() || unique.contains(&"Unknown".to_string()) {
            return Err(format!(
                "{name}: enum values give clashing Rust variant names {names:?}; set x-enum-varnames"
            ));
        }
        out.push(OpenEnum {
            name: name.clone(),
            doc: schema_data.description.clone().unwrap_or_default(),
            variants: values.into_iter().zip(names).collect(),
        });
    }
    Ok(out)
}

/// `x-stravalib-replace: "crate::path::Type"` on a component schema swaps the generated type
/// for a handwritten one (csv query parameters, which progenitor would send exploded).
pub fn collect_replacements(spec: &OpenAPI) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        if let Some(v) = schema.schema_data.extensions.get("x-stravalib-replace") {
            let path = v
                .as_str()
                .filter(|p| p.starts_with("crate::"))
                .ok_or_else(|| format!("{name}: x-stravalib-replace must be a `crate::` path"))?;
            out.push((name.clone(), path.to_string()));
        }
    }
    Ok(out)
}

/// `velocity_smooth` -> `VelocitySmooth`, `fit.gz` -> `FitGz`, `4` -> `X4`.
pub fn variant_name(value: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'X');
    }
    out
}
