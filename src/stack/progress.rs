//! Progress while a command works through the stack: on a TTY, one live
//! line per resource (state, elapsed time) under a header with an overall
//! ETA from typical AWS durations; off a TTY or with `--no-progress`, one
//! plain line per state change, so CI logs and runbooks read well.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress shows: live lines on a terminal, a plain line per state
/// change elsewhere, or nothing (`-q`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Live,
    Plain,
    Nothing,
}

enum Mode {
    Live {
        multi: MultiProgress,
        header: ProgressBar,
    },
    Plain,
    Silent,
}

struct Line {
    /// `None` until the first state change: planned, not started.
    started: Option<Instant>,
    typical: Duration,
    state: String,
    done: bool,
    bar: Option<ProgressBar>,
}

pub struct Progress {
    mode: Mode,
    started: Instant,
    lines: Mutex<BTreeMap<String, Line>>,
}

impl Progress {
    /// How progress shows, as the command layer decided it (the engine
    /// never sees the printer).
    pub fn new(shown: Shown) -> Self {
        let mode = if shown == Shown::Nothing {
            Mode::Silent
        } else if shown == Shown::Live {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let header = multi.add(ProgressBar::new_spinner());
            header.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            header.enable_steady_tick(Duration::from_millis(120));
            Mode::Live { multi, header }
        } else {
            Mode::Plain
        };
        Progress {
            mode,
            started: Instant::now(),
            lines: Mutex::new(BTreeMap::new()),
        }
    }

    /// A progress sink that prints nothing (for `status` and `plan`).
    pub fn silent() -> Self {
        Progress {
            mode: Mode::Silent,
            started: Instant::now(),
            lines: Mutex::new(BTreeMap::new()),
        }
    }

    /// Registers the steps to come, so the ETA covers them from the start.
    pub fn expect(&self, steps: impl IntoIterator<Item = (String, Duration)>) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        for (id, typical) in steps {
            lines.entry(id).or_insert_with(|| Line {
                started: None,
                typical: crate::engine::wait::scaled(typical),
                state: String::new(),
                done: false,
                bar: None,
            });
        }
    }

    /// `id` is now in `state` (e.g. "creating", "waiting: InProgress").
    pub fn state(&self, id: &str, typical: Duration, state: &str) {
        self.update(id, typical, state, false);
    }

    /// `id` is finished, with the outcome shown (e.g. "created", "failed").
    pub fn done(&self, id: &str, outcome: &str) {
        self.update(id, Duration::ZERO, outcome, true);
    }

    fn update(&self, id: &str, typical: Duration, state: &str, done: bool) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let line = lines.entry(id.to_string()).or_insert_with(|| Line {
            started: None,
            typical: crate::engine::wait::scaled(typical),
            state: String::new(),
            done: false,
            bar: None,
        });
        if line.started.is_none() {
            line.started = Some(Instant::now());
        }
        if line.bar.is_none()
            && let Mode::Live { multi, .. } = &self.mode
        {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<24} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(id.to_string());
            line.bar = Some(bar);
        }
        if line.state == state && line.done == done {
            return;
        }
        line.state = state.to_string();
        line.done = done;
        let elapsed = line.started.map(|s| s.elapsed()).unwrap_or_default();
        let text = format!("{state} ({})", seconds(elapsed));
        match &self.mode {
            Mode::Silent => {}
            Mode::Plain => eprintln!("[{:>7}] {id}: {text}", seconds(self.started.elapsed())),
            Mode::Live { header, .. } => {
                if let Some(bar) = &line.bar {
                    if done {
                        bar.finish_with_message(text);
                    } else {
                        bar.set_message(text);
                    }
                }
                // The slowest unfinished step bounds what is left: steps run
                // as soon as what they need exists, so the waits overlap.
                let eta = lines
                    .values()
                    .filter(|l| !l.done)
                    .map(|l| {
                        l.typical
                            .saturating_sub(l.started.map(|s| s.elapsed()).unwrap_or_default())
                    })
                    .max()
                    .unwrap_or_default();
                header.set_message(format!(
                    "elapsed {}, about {} left (typical AWS durations)",
                    seconds(self.started.elapsed()),
                    seconds(eta)
                ));
            }
        }
    }

    /// Removes the live lines (before the final result is printed).
    pub fn clear(&self) {
        if let Mode::Live { multi, header } = &self.mode {
            header.finish_and_clear();
            let _ = multi.clear();
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
