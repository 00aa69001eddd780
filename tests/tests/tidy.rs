//! Repository hygiene checked as an ordinary test: every Rust module opens with a `//!` line
//! saying what it is for, and every migration is referenced by its crate.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    pitstop_tests::ui::repo_root()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_has_a_doc_line() {
    let mut files = Vec::new();
    for dir in ["api", "core", "platform", "tests", "ui", "src-tauri"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a //! line: {missing:?}"
    );
}

#[test]
fn every_migration_is_wired_in() {
    for (dir, source) in [
        ("migrations", "core/src/store.rs"),
        ("platform/migrations", "platform/src/db.rs"),
    ] {
        let code = std::fs::read_to_string(root().join(source)).unwrap();
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                code.contains(&name),
                "{dir}/{name} is not applied by {source}"
            );
        }
    }
}
