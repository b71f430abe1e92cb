//! The house's rule, checked on the source: layers only point down. Every `crate::…` path in
//! `src/` is read; the module graph (one node per top-level module) must have no cycle, the
//! platform layer must use no feature, and only the entry layer (`lib.rs`, `router.rs`) may use
//! the router.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            out.push((path.display().to_string(), text));
        }
    }
}

/// Top-level module → the top-level modules it names through `crate::`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20, "read the sources");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files {
        let rel = path
            .split("/src/")
            .last()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        let top = rel.split('/').next().unwrap_or_default().to_string();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = BTreeSet::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + 7..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    named.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                named.insert(name);
            }
        }
        named.retain(|n| !n.is_empty() && *n != top && n != "self");
        g.entry(top).or_default().extend(named);
    }
    g
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        assert!(
            !path.iter().any(|p| p == node),
            "modules import each other: {} → {node}",
            path.join(" → ")
        );
        path.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            visit(g, next, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in g.keys() {
        visit(&g, node, &mut Vec::new(), &mut done);
    }
    assert!(g.contains_key("platform") && g.contains_key("router"));
}

#[test]
fn the_platform_uses_no_feature_and_features_do_not_use_the_router() {
    let g = graph();
    let platform = &g["platform"];
    assert!(platform.is_empty(), "platform uses {platform:?}");
    for (module, uses) in &g {
        if module != "lib" && module != "router" {
            assert!(!uses.contains("router"), "{module} uses the router");
        }
    }
}
