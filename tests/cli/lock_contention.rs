//! Two real processes contending for one lockfile.
//!
//! The holder and the contender are this test binary re-executed with a
//! role in the environment; both call the same library code `ahi-edge` runs
//! and the contender exits with the exit status that code maps its error to.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use ahi_edge::lockfile::StateStore;

const ROLE: &str = "AHI_EDGE_TEST_LOCK_ROLE";
const PATH: &str = "AHI_EDGE_TEST_LOCK_PATH";
/// Printed by the holder once it holds the lock (libtest may put it mid-line).
const HELD: &str = "lock-held-by-holder";
const TEST: &str = "lock_contention::a_second_process_exits_5_naming_the_holder";

#[test]
fn a_second_process_exits_5_naming_the_holder() {
    match std::env::var(ROLE).as_deref() {
        Ok("hold") => return hold(),
        Ok("contend") => return contend(),
        _ => {}
    }
    let dir = tempfile::tempdir().unwrap();
    let lockfile = dir.path().join("stack.lock");
    let mut holder = child("hold", &lockfile)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The holder prints a line once it holds the lock: that line is the
    // synchronisation, not a sleep.
    // (libtest prints its own banner first.)
    let mut holder_out = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains(HELD) {
        line.clear();
        let read = holder_out.read_line(&mut line).unwrap();
        assert!(read > 0, "holder exited before taking the lock");
    }

    let contender = child("contend", &lockfile).output().unwrap();
    let stderr = String::from_utf8_lossy(&contender.stderr);
    assert_eq!(contender.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", holder.id())), "{stderr}");
    assert!(stderr.contains("stack.lock.pid"), "names the lock path: {stderr}");
    assert!(stderr.contains("held by another ahi-edge run"), "{stderr}");

    // Once the holder exits, the lock is free again.
    holder.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(holder.wait().unwrap().success());
    let again = child("contend", &lockfile).output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

fn child(role: &str, lockfile: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(PATH, lockfile);
    cmd
}

fn hold() {
    let path = std::env::var(PATH).unwrap();
    let _store = StateStore::open(Path::new(&path), "ahi-prod").expect("first process takes the lock");
    println!("{HELD}");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
}

fn contend() {
    let path = std::env::var(PATH).unwrap();
    match StateStore::open(Path::new(&path), "ahi-prod") {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_status().code());
        }
    }
}
