//! The layout rules of `src/`, read from the source itself (no tool beyond this test):
//!
//! - no import circle among the files of `src/` (a file's dependencies are the `use crate::`,
//!   `use super::`, `use self::` and `use child::` paths it names, and its inline `crate::` and
//!   `super::` paths, each resolved through re-exports to the file that defines the name; a
//!   folder's `pub use child::Y` counts only when the folder's own code uses `Y`, since
//!   `mod x; pub use x::Y` alone is how a folder exposes its parts; the schema's object types in
//!   `graphql/types/` are one unit, since they refer to each other as the schema does);
//! - `state.rs` (what both doors share) imports nothing from `graphql/`;
//! - the service layer (`domain/`) imports no door (`graphql/`, `rest/`, `http/`);
//! - no GraphQL error code is written outside `error.rs`;
//! - `domain/` names no REST `Location`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

type Module = Vec<String>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`; `lib.rs` and `main.rs` the root.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    if parts == ["main"] {
        // The binary is a crate of its own; it has a name here so that its file is read too.
        parts = vec!["<main>".to_owned()];
    }
    parts
}

/// The source without comment lines (doc links name paths that are not dependencies).
fn code_of(file: &Path) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths of a use tree: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let close = tree.rfind('}').expect("balanced use tree");
    let (prefix, inner) = (&tree[..open], &tree[open + 1..close]);
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|item| !item.trim().is_empty())
        .flat_map(|item| expand(item).into_iter().map(|path| format!("{prefix}{path}")))
        .collect()
}

/// Names a module re-exports from its children (`pub use child::Name`), with the path they
/// stand for.
type Reexports = BTreeMap<Module, BTreeMap<String, Vec<String>>>;

/// The module that defines what `path` names: the longest prefix that is a module of the
/// crate, followed through re-exports (`crate::events::Relay` is `events::relay`).
fn resolve(modules: &BTreeSet<Module>, reexports: &Reexports, path: &[String]) -> Option<Module> {
    let mut path = path.to_vec();
    for _ in 0..8 {
        let found = (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|candidate| modules.contains(candidate))?;
        let next = path.get(found.len());
        match next.and_then(|name| reexports.get(&found)?.get(name)) {
            Some(target) => {
                let mut followed = target.clone();
                followed.extend(path[found.len() + 1..].iter().cloned());
                path = followed;
            }
            None => return Some(found),
        }
    }
    None
}

/// `crate::a::b`, `super::a::b`, `self::a` or `child::a` seen from `module`, as segments from
/// the crate root (`None` for another crate's path).
fn absolute(modules: &BTreeSet<Module>, module: &Module, path: &str) -> Option<Vec<String>> {
    let path = path.split(" as ").next().unwrap_or(path);
    let mut segments: Vec<String> = path
        .split("::")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if segments.is_empty() {
        return None;
    }
    let mut base = match segments[0].as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => module[..module.len().saturating_sub(1)].to_vec(),
        child if modules.contains(&[module.clone(), vec![child.to_owned()]].concat()) => {
            let mut base = module.clone();
            base.push(child.to_owned());
            segments.remove(0);
            base.extend(segments);
            return Some(base);
        }
        _ => return None,
    };
    segments.remove(0);
    while segments.first().is_some_and(|s| s == "super") {
        base.pop();
        segments.remove(0);
    }
    base.extend(segments);
    Some(base)
}

struct Crate {
    files: BTreeMap<Module, PathBuf>,
    dependencies: BTreeMap<Module, BTreeSet<Module>>,
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    source_files(&src, &mut paths);
    let files: BTreeMap<Module, PathBuf> = paths
        .into_iter()
        .map(|file| (module_of(&src, &file), file))
        .collect();
    let modules: BTreeSet<Module> = files.keys().cloned().collect();
    let use_statement = Regex::new(r"(?m)^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);").unwrap();
    let inline = Regex::new(r"(?:^|[^:\w])((?:crate|super)(?:::\w+)+)").unwrap();
    let codes: BTreeMap<Module, String> = files.iter().map(|(m, f)| (m.clone(), code_of(f))).collect();

    // What each module re-exports from its children, and the names its own code uses.
    let mut reexports: Reexports = BTreeMap::new();
    for (module, code) in &codes {
        for statement in use_statement.captures_iter(code).filter(|c| c.get(1).is_some()) {
            for path in expand(&statement[2]) {
                let (path, alias) = match path.split_once(" as ") {
                    Some((path, alias)) => (path.trim().to_owned(), Some(alias.trim().to_owned())),
                    None => (path.trim().to_owned(), None),
                };
                let Some(target) = absolute(&modules, module, &path) else {
                    continue;
                };
                if target.len() > module.len() && target.starts_with(module) {
                    let name = alias.unwrap_or_else(|| target.last().cloned().unwrap_or_default());
                    reexports.entry(module.clone()).or_default().insert(name, target);
                }
            }
        }
    }

    let mut dependencies = BTreeMap::new();
    for (module, code) in &codes {
        let mut found = BTreeSet::new();
        let without_uses = use_statement.replace_all(code, "");
        for statement in use_statement.captures_iter(code) {
            let reexport = statement.get(1).is_some();
            for path in expand(&statement[2]) {
                let (path, alias) = match path.split_once(" as ") {
                    Some((path, alias)) => (path.trim().to_owned(), Some(alias.trim().to_owned())),
                    None => (path.trim().to_owned(), None),
                };
                let Some(absolute) = absolute(&modules, module, &path) else {
                    continue;
                };
                if reexport && absolute.len() > module.len() && absolute.starts_with(module) {
                    // Exposing a child's name is no dependency; using it in this file is.
                    let name = alias.unwrap_or_else(|| absolute.last().cloned().unwrap_or_default());
                    let used = Regex::new(&format!(r"\b{}\b", regex::escape(&name))).unwrap();
                    if !used.is_match(&without_uses) {
                        continue;
                    }
                }
                found.extend(resolve(&modules, &reexports, &absolute));
            }
        }
        for path in inline.captures_iter(&without_uses) {
            if let Some(absolute) = absolute(&modules, module, &path[1]) {
                found.extend(resolve(&modules, &reexports, &absolute));
            }
        }
        let unit_of_module = unit(module);
        let found: BTreeSet<Module> = found.iter().map(unit).filter(|d| d != &unit_of_module).collect();
        dependencies
            .entry(unit_of_module)
            .or_insert_with(BTreeSet::new)
            .extend(found);
    }
    Crate { files, dependencies }
}

/// The object types of the GraphQL schema (`graphql/types/`) refer to each other as the schema
/// does (`Post.author` is a `User`, `User.posts` are `Post`s): that folder is one unit for the
/// circle rule. Every other file is its own.
fn unit(module: &Module) -> Module {
    if module.starts_with(&["graphql".to_owned(), "types".to_owned()]) {
        vec!["graphql".to_owned(), "types".to_owned()]
    } else {
        module.clone()
    }
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

/// The circles of the dependency graph (Tarjan's strongly connected components of 2+ files).
fn circles(dependencies: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        found: Vec<Vec<Module>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &Module) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph: dependencies,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for module in dependencies.keys() {
        if !walk.index.contains_key(module) {
            walk.visit(module);
        }
    }
    walk.found
}

#[test]
fn no_file_of_src_imports_itself_through_others() {
    let krate = read_crate();
    let found = circles(&krate.dependencies);
    let described: Vec<String> = found
        .iter()
        .map(|circle| {
            let edges: Vec<String> = circle
                .iter()
                .flat_map(|from| {
                    krate.dependencies[from]
                        .iter()
                        .filter(|to| circle.contains(to))
                        .map(move |to| format!("{} -> {}", name(from), name(to)))
                })
                .collect();
            edges.join(", ")
        })
        .collect();
    assert!(
        described.is_empty(),
        "import circles (move the name to the file that owns it): {described:#?}"
    );
}

/// The walk itself finds a circle and ignores a folder's own children.
#[test]
fn the_circle_finder_finds_circles() {
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<Module>();
    let mut graph = BTreeMap::new();
    graph.insert(m("a"), BTreeSet::from([m("b")]));
    graph.insert(m("b"), BTreeSet::from([m("c")]));
    graph.insert(m("c"), BTreeSet::from([m("a")]));
    graph.insert(m("d"), BTreeSet::from([m("a")]));
    let found = circles(&graph);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 3);
    assert_eq!(
        expand("crate::a::{b, c::{d, e as f}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e as f"]
    );
    let modules = BTreeSet::from([m("x"), m("x::y"), m("x::z"), m("x::z::w")]);
    assert_eq!(
        absolute(&modules, &m("x::y"), "super::z::W"),
        Some(vec!["x".to_owned(), "z".to_owned(), "W".to_owned()])
    );
    // A name re-exported by a folder is its child's: `x::W` is `x::z::w`.
    let reexports: Reexports =
        BTreeMap::from([(m("x"), BTreeMap::from([("W".to_owned(), m("x::z::w::W"))]))]);
    assert_eq!(resolve(&modules, &reexports, &m("x::W")), Some(m("x::z::w")));
}

#[test]
fn the_shared_state_and_the_service_layer_import_no_door() {
    let krate = read_crate();
    let door = |m: &Module| matches!(m.first().map(String::as_str), Some("graphql" | "rest" | "http"));
    let state = vec!["state".to_owned()];
    let graphql: Vec<String> = krate.dependencies[&state]
        .iter()
        .filter(|m| m.first().is_some_and(|s| s == "graphql"))
        .map(name)
        .collect();
    assert!(graphql.is_empty(), "state.rs imports {graphql:?}");
    let mut crossing = Vec::new();
    for (module, deps) in &krate.dependencies {
        if module.first().is_some_and(|s| s == "domain") {
            crossing.extend(
                deps.iter()
                    .filter(|d| door(d))
                    .map(|d| format!("{} -> {}", name(module), name(d))),
            );
        }
    }
    assert!(
        crossing.is_empty(),
        "the service layer reaches a door: {crossing:?}"
    );
}

#[test]
fn graphql_error_codes_are_written_in_error_rs_only() {
    let krate = read_crate();
    let code = Regex::new(
        r#""(BAD_USER_INPUT|BAD_REQUEST|GRAPHQL_VALIDATION_FAILED|RATE_LIMITED|NOT_FOUND|FORBIDDEN|UNAUTHENTICATED|CONFLICT|UNAVAILABLE|INTERNAL|RESPONSE_TOO_LARGE|PERSISTED_QUERY_NOT_FOUND|PERSISTED_QUERY_NOT_ALLOWED)""#,
    )
    .unwrap();
    let error_rs = vec!["error".to_owned()];
    let mut written = Vec::new();
    for (module, file) in &krate.files {
        if module == &error_rs {
            continue;
        }
        for found in code.find_iter(&code_of(file)) {
            written.push(format!("{}: {}", name(module), found.as_str()));
        }
    }
    assert!(written.is_empty(), "GraphQL codes outside error.rs: {written:?}");
}

/// The service layer knows fields, not transports: where a field was read (query, body, path)
/// is the REST door's word, placed at its edge.
#[test]
fn the_service_layer_names_no_rest_location() {
    let krate = read_crate();
    let location = Regex::new(r"\bLocation\b").unwrap();
    let named: Vec<String> = krate
        .files
        .iter()
        .filter(|(module, _)| module.first().is_some_and(|s| s == "domain"))
        .filter(|(_, file)| location.is_match(&code_of(file)))
        .map(|(module, _)| name(module))
        .collect();
    assert!(named.is_empty(), "Location in {named:?}");
}
