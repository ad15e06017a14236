//! `ahi-edge completions` and `ahi-edge man`: what a shell and `man` do
//! with them, checked with bash's own completion machinery and groff.

use std::path::Path;
use std::process::Command;

use crate::support::run;

/// What bash offers after `words` (the last one is being completed), using
/// the script `ahi-edge completions bash` prints and bash's `complete -p`.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["completions", "bash"], dir.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let script = dir.path().join("ahi-edge.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let line = words.join(" ");
    // Call the function bash registered for `ahi-edge` (read from `complete
    // -p`, not assumed), with the variables bash sets on <TAB>.
    let program = format!(
        "source {script}\n\
         spec=$(complete -p ahi-edge) || exit 90\n\
         func=$(sed -E 's/.*-F ([^ ]+) .*/\\1/' <<<\"$spec\")\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE={line:?}\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         \"$func\" ahi-edge {last:?} {prev:?}\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display(),
        words = words
            .iter()
            .map(|w| format!("{w:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        cword = words.len() - 1,
        last = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let done = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        done.status.success(),
        "bash: {}\n{}",
        String::from_utf8_lossy(&done.stderr),
        program
    );
    String::from_utf8_lossy(&done.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_subcommands_and_their_flags() {
    let offered = bash_completes(&["ahi-edge", "st"]);
    assert!(offered.contains(&"status".to_string()), "{offered:?}");
    assert!(offered.iter().all(|w| w.starts_with("st")), "{offered:?}");

    let offered = bash_completes(&["ahi-edge", "down", "--wa"]);
    assert_eq!(offered, ["--wait-replicas"], "down's own flag");

    let offered = bash_completes(&["ahi-edge", "init", "--template", "reverse"]);
    assert_eq!(offered, ["reverse-proxy"], "the template names are values");
}

#[test]
fn every_shell_clap_supports_gets_a_script_and_an_unknown_one_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell], dir.path());
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("ahi-edge"), "{shell}");
        assert!(out.stdout.contains("wait-replicas"), "{shell}: flags are there");
    }
    let out = run(&["completions", "tcsh"], dir.path());
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("tcsh"), "{}", out.stderr);
    assert!(out.stderr.contains("bash"), "lists the shells: {}", out.stderr);
}

/// Every request groff makes of a page: unknown macros and bad escapes are
/// warnings under `-ww`, which this treats as errors.
fn groff_errors(page: &Path) -> Option<String> {
    let Ok(done) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
    else {
        return None;
    };
    assert!(done.status.success(), "groff failed on {}", page.display());
    Some(String::from_utf8_lossy(&done.stderr).into_owned())
}

#[test]
fn man_pages_cover_every_subcommand_and_format_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--out", "pages"], dir.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pages = dir.path().join("pages");
    for name in [
        "ahi-edge.1",
        "ahi-edge-up.1",
        "ahi-edge-down.1",
        "ahi-edge-status.1",
        "ahi-edge-plan.1",
        "ahi-edge-routes-test.1",
        "ahi-edge-completions.1",
    ] {
        let page = pages.join(name);
        let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            text.starts_with(".ie") || text.contains("\n.TH "),
            "{name}: a roff page"
        );
        match groff_errors(&page) {
            Some(errors) => assert!(errors.is_empty(), "{name}: groff says {errors}"),
            None => eprintln!("note: groff is not installed; {name} checked for its .TH only"),
        }
    }
    let down = std::fs::read_to_string(pages.join("ahi-edge-down.1")).unwrap();
    assert!(down.contains("wait\\-replicas"), "the page documents the flags");

    // Without --out the main page goes to stdout, as `man -l -` reads it.
    let out = run(&["man"], dir.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(".TH ahi-edge 1"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
}
