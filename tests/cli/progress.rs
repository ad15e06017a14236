//! Live progress under a real pseudo-terminal (80x24): `up` runs as a user
//! would see it, Python's `pty` module standing in for the terminal; the
//! screen output is read with timestamps while the distribution deploys.

use serde_json::{Value, json};

use crate::emulator::{Emulator, TIME_SCALE};

#[test]
fn under_a_terminal_up_ticks_its_timers_during_a_wait_and_ends_with_counts() {
    let emu = &Emulator::start();
    // A deploy of about six seconds at the tests' time scale.
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"delays": {"distribution_create": 3000}})),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("profile.toml"),
        "[stack]\nname = \"t-pty\"\nregion = \"us-east-1\"\n\n\
         [origins.api]\nkind = \"http\"\ndomain = \"api.example.com\"\n\n\
         [[routes]]\npath = \"*\"\norigin = \"api\"\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_ahi-edge");
    let seen: Value = emu.boto3(&format!(
        "import fcntl, pty, re, select, struct, subprocess, termios, time\n\
         master, slave = pty.openpty()\n\
         fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))\n\
         env = {{'PATH': os.environ['PATH'], 'TERM': 'xterm-256color', 'AWS_ENDPOINT_URL': os.environ['AHI_EMULATOR'],\n    \
             'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing', 'AWS_REGION': 'us-east-1',\n    \
             'AHI_EDGE_TIME_SCALE': '{TIME_SCALE}'}}\n\
         p = subprocess.Popen(['{bin}', '--profile', 'profile.toml', 'up'], stdin=slave, stdout=slave, stderr=slave,\n    \
             cwd='{dir}', env=env)\n\
         os.close(slave)\n\
         chunks, start = [], time.time()\n\
         while time.time() - start < 120:\n    \
             ready, _, _ = select.select([master], [], [], 0.1)\n    \
             if ready:\n        \
                 try:\n            \
                     data = os.read(master, 65536)\n        \
                 except OSError:\n            \
                     break\n        \
                 if not data:\n            \
                     break\n        \
                 chunks.append((time.time() - start, data.decode('utf-8', 'replace')))\n    \
             elif p.poll() is not None:\n        \
                 break\n\
         code = p.wait()\n\
         ansi = re.compile(r'\\x1b\\[[0-9;?]*[A-Za-z]')\n\
         waits, widths, heights, text = [], [], [], ''\n\
         for t, data in chunks:\n    \
             plain = ansi.sub('', data)\n    \
             text += plain\n    \
             for m in re.finditer(r'distribution_deployed\\s+(\\d+\\.\\d)s', plain):\n        \
                 waits.append([t, float(m.group(1))])\n    \
             # indicatif pads each row to the terminal's width and lets it wrap:\n    \
             # a frame is whole rows of 80 (a longer line would not be).\n    \
             widths += [len(l) for l in re.split(r'[\\r\\n]', plain) if ' to go; elapsed ' in l]\n\
         print(json.dumps({{'code': code, 'waits': waits, 'widths': widths, 'text': text[-3000:],\n    \
             'headers': len(re.findall(r'\\d+ done, \\d+ running, \\d+ to go', text))}}))",
        dir = dir.path().display(),
    ));
    assert_eq!(seen["code"], 0, "{}", seen["text"]);
    let waits = seen["waits"].as_array().unwrap();
    assert!(waits.len() >= 3, "the wait was drawn: {seen}");
    // Two captures seconds apart during the one wait: the elapsed time grew.
    let first = &waits[0];
    let last = waits.last().unwrap();
    assert!(
        last[0].as_f64().unwrap() - first[0].as_f64().unwrap() >= 2.0,
        "{waits:?}"
    );
    assert!(
        last[1].as_f64().unwrap() > first[1].as_f64().unwrap() + 1.5,
        "{waits:?}"
    );
    assert!(
        seen["headers"].as_u64().unwrap() > 3,
        "the header was redrawn: {seen}"
    );
    let rows = seen["widths"].as_array().unwrap();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .map(|w| w.as_u64().unwrap())
                .all(|w| w % 80 == 0 && w <= 23 * 80),
        "every row of the block fits 80 columns and the block 24 rows: {rows:?}"
    );
    let text = seen["text"].as_str().unwrap();
    assert!(
        text.contains("stack t-pty is up: 2 resources, 2 created"),
        "{text}"
    );
    let run = emu.ahi_edge(
        &["--profile", "profile.toml", "down", "--yes", "--purge-logs"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}
