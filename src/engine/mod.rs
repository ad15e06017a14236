//! The layer below both the kinds and the walks: the resource surface every
//! kind implements (`kind`), what a kind works with and how its steps fail
//! (`step`: the run's context without the lockfile, and `StepError`), the
//! SDK clients per region (`clients`), the progress lines (`progress`), and
//! how things wait (`wait`, the generic loop, and `polls`, the waits kinds
//! use). The dependency graph (`graph`) is here too.
//!
//! Layering: `engine` imports neither `kinds` nor `stack`, `lockfile` or
//! `commands`; `kinds` import `engine` and never the walks
//! (the test below holds every layer to it).

pub mod clients;
pub mod graph;
pub mod kind;
pub mod polls;
pub mod progress;
pub mod step;
pub mod wait;

#[cfg(test)]
mod layers {
    use std::path::Path;

    /// The paths each layer must not name: a layer sees only those below
    /// (the shared SDK helpers may use the generic wait loop).
    const RULES: &[(&str, &[&str])] = &[
        (
            "src/resources",
            &[
                "engine::kind",
                "engine::step",
                "engine::polls",
                "engine::clients",
                "engine::progress",
                "kinds",
                "stack",
                "lockfile",
                "commands",
            ],
        ),
        (
            "src/engine",
            &["kinds", "stack", "lockfile", "commands", "profile"],
        ),
        ("src/kinds", &["stack", "lockfile", "commands"]),
    ];

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Code lines that name `crate::<module>` (doc comments may point up,
    /// and a file's tests may use what they like).
    fn offences(text: &str, banned: &[&str]) -> Vec<String> {
        text.lines()
            .take_while(|line| line.trim() != "#[cfg(test)]")
            .enumerate()
            .filter(|(_, line)| !line.trim_start().starts_with("//"))
            .filter(|(_, line)| banned.iter().any(|m| line.contains(&format!("crate::{m}"))))
            .map(|(n, line)| format!("{}: {}", n + 1, line.trim()))
            .collect()
    }

    #[test]
    fn no_layer_imports_one_above_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        for (dir, banned) in RULES {
            let mut files = Vec::new();
            sources(&root.join(dir), &mut files);
            assert!(!files.is_empty(), "{dir} has sources");
            for file in files {
                let text = std::fs::read_to_string(&file).expect("readable");
                for line in offences(&text, banned) {
                    found.push(format!(
                        "{}:{line}",
                        file.strip_prefix(root).unwrap_or(&file).display()
                    ));
                }
            }
        }
        assert!(
            found.is_empty(),
            "imports from a layer above:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn the_check_sees_a_use_and_a_path_but_not_a_comment() {
        let text = "use crate::stack::Ctx;\n// see crate::stack::apply\nlet x = crate::lockfile::State::Ready;\n\
                    #[cfg(test)]\nuse crate::stack::apply;";
        assert_eq!(offences(text, &["stack", "lockfile"]).len(), 2);
    }
}
