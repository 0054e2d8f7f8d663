//! The library's layout rules, checked on its source: no import cycle between its files,
//! and no synthetic headers carrying typed outcomes as text.
//!
//! A file depends on the file that *defines* each `crate::…` item it names (re-exports in
//! a `mod.rs` are followed to the defining file). Generated code (in `OUT_DIR`) is not
//! part of the check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Every `.rs` file under `crate_dir/src/`, by module path (`auth::oauth`, `error`...).
fn modules_of(crate_dir: &str) -> BTreeMap<Vec<String>, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(crate_dir)
        .join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "bin" {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().map(String::as_str) == Some("mod") {
                parts.pop();
            }
            if parts == ["lib"] {
                parts.clear();
            }
            if parts == ["main"] {
                continue;
            }
            out.insert(parts, path);
        }
    }
    out
}

/// `crate::a::b::Item` paths a file names, as segment lists.
#[derive(Default)]
struct CratePaths(Vec<Vec<String>>);

impl CratePaths {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                full.push(n.ident.to_string());
                self.0.push(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.0.push(full);
            }
            syn::UseTree::Glob(_) => self.0.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for CratePaths {
    // Inline modules (unit tests) have their own `super`; they are not the file's imports.
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if matches!(
            segs.first().map(String::as_str),
            Some("crate" | "super" | "self")
        ) {
            self.0.push(segs);
        }
        syn::visit::visit_path(self, path);
    }
}

struct Tree {
    files: BTreeMap<Vec<String>, syn::File>,
}

/// The library's files.
fn modules() -> BTreeMap<Vec<String>, PathBuf> {
    modules_of(".")
}

impl Tree {
    fn load() -> Self {
        Self::load_crate(".")
    }

    fn load_crate(crate_dir: &str) -> Self {
        let files = modules_of(crate_dir)
            .into_iter()
            .map(|(m, path)| {
                let text = std::fs::read_to_string(&path).unwrap();
                (
                    m,
                    syn::parse_file(&text).unwrap_or_else(|e| panic!("{path:?}: {e}")),
                )
            })
            .collect();
        Self { files }
    }

    /// The module that defines `item` named as `module::item`, following `pub use`
    /// re-exports of the module to a child.
    fn defining(&self, module: &[String], item: &str, depth: usize) -> Vec<String> {
        if depth > 8 {
            return module.to_vec();
        }
        let Some(file) = self.files.get(module) else {
            return module.to_vec();
        };
        for it in &file.items {
            if let syn::Item::Use(u) = it {
                let mut paths = CratePaths::default();
                paths.use_tree(&mut Vec::new(), &u.tree);
                for p in paths.0 {
                    if p.last().map(String::as_str) != Some(item) {
                        continue;
                    }
                    let (head, rest) = match p.first().map(String::as_str) {
                        Some("self") => (module.to_vec(), &p[1..]),
                        Some("crate") => (Vec::new(), &p[1..]),
                        Some(first) if self.files.contains_key(&child(module, first)) => {
                            (module.to_vec(), &p[..])
                        }
                        _ => continue,
                    };
                    let mut target = head;
                    target.extend(rest[..rest.len() - 1].iter().cloned());
                    if self.files.contains_key(&target) && target != module {
                        return self.defining(&target, item, depth + 1);
                    }
                }
            }
        }
        module.to_vec()
    }

    /// The file a `crate::…` path points at.
    fn resolve(&self, path: &[String]) -> Option<Vec<String>> {
        let segs = &path[1..];
        // The longest prefix that is a module file.
        for n in (0..=segs.len()).rev() {
            let module = segs[..n].to_vec();
            if self.files.contains_key(&module) {
                return Some(match segs.get(n) {
                    Some(item) => self.defining(&module, item, 0),
                    None => module,
                });
            }
        }
        None
    }

    fn edges(&self) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
        let mut edges = BTreeMap::new();
        for (module, file) in &self.files {
            let mut paths = CratePaths::default();
            paths.visit_file(file);
            let targets: &mut BTreeSet<Vec<String>> = edges.entry(module.clone()).or_default();
            for p in paths.0 {
                let p = match p.first().map(String::as_str) {
                    Some("crate") => p,
                    Some("super") if !module.is_empty() => {
                        let mut abs = vec!["crate".to_owned()];
                        abs.extend(module[..module.len() - 1].iter().cloned());
                        abs.extend(p[1..].iter().cloned());
                        abs
                    }
                    Some("self") => {
                        let mut abs = vec!["crate".to_owned()];
                        abs.extend(module.iter().cloned());
                        abs.extend(p[1..].iter().cloned());
                        abs
                    }
                    _ => continue,
                };
                if let Some(target) = self.resolve(&p)
                    && target != *module
                    && !target.is_empty()
                {
                    targets.insert(target);
                }
            }
        }
        edges
    }
}

fn child(module: &[String], name: &str) -> Vec<String> {
    let mut c = module.to_vec();
    c.push(name.to_owned());
    c
}

fn find_cycle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn dfs(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|m| m.join("::")).collect();
            cycle.push(node.join("::"));
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = dfs(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(c) = dfs(node, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_library_has_no_import_cycle() {
    let tree = Tree::load();
    let edges = tree.edges();
    assert!(edges.len() > 20, "the checker found the library's files");
    // The checker sees real dependencies: the client depends on the pipeline.
    assert!(edges[&vec!["client".to_owned()]].contains(&vec!["pipeline".to_owned()]));
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_sandbox_has_no_import_cycle() {
    let tree = Tree::load_crate("sandbox");
    let edges = tree.edges();
    assert!(edges.len() > 10, "the checker found the sandbox's files");
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle in the sandbox: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cli_has_no_import_cycle() {
    let tree = Tree::load_crate("cli");
    let edges = tree.edges();
    assert!(edges.len() > 10, "the checker found the CLI's files");
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle in the CLI: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_checker_finds_a_cycle() {
    let a = vec!["a".to_owned()];
    let b = vec!["b".to_owned()];
    let mut edges = BTreeMap::new();
    edges.insert(a.clone(), BTreeSet::from([b.clone()]));
    edges.insert(b.clone(), BTreeSet::from([a.clone()]));
    assert_eq!(find_cycle(&edges).unwrap(), ["a", "b", "a"]);
}

#[test]
fn error_is_a_leaf_of_the_pipeline() {
    let tree = Tree::load();
    let edges = tree.edges();
    let error = &edges[&vec!["error".to_owned()]];
    for forbidden in ["pipeline", "api_v3", "client", "call", "auth"] {
        assert!(
            !error
                .iter()
                .any(|t| t.first().map(String::as_str) == Some(forbidden)),
            "error.rs depends on {forbidden}: {error:?}"
        );
    }
}

#[test]
fn no_source_file_mentions_a_synthetic_header() {
    for path in modules().values() {
        let text = std::fs::read_to_string(path).unwrap().to_lowercase();
        for needle in [
            "x-stravalib-local",
            "x-stravalib-message",
            "x-stravalib-fault",
            "x-stravalib-retry",
            "x-stravalib-body",
        ] {
            assert!(!text.contains(needle), "{path:?} mentions {needle}");
        }
    }
}
