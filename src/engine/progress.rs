//! Progress while a command works through the stack.
//!
//! On a terminal: one compact block, redrawn four times a second, so every
//! timer ticks. A header counts the steps (`23 done, 3 running, 2 to go`)
//! with the elapsed time and an ETA; below it, only what is running or
//! waiting, longest first, each with what AWS last said, for how long, and
//! how much of the typical duration of that operation (create, update,
//! delete, readiness) is left; finished work collapses into the counts;
//! every line fits the terminal's width and the block its height.
//! Off a terminal or with `--no-progress`: one plain line per state change,
//! and a heartbeat line for each minute a step keeps waiting, so CI logs
//! and runbooks read well and never look hung.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress shows: live lines on a terminal, a plain line per state
/// change elsewhere, or nothing (`-q`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Live,
    Plain,
    Nothing,
}

/// How often the live block is redrawn.
const TICK: Duration = Duration::from_millis(250);
/// How often a plain log says a step is still waiting.
const HEARTBEAT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
struct Step {
    /// `None` until the first state change: planned, not started.
    started: Option<Instant>,
    /// When the current state began (what "for 8.2s" counts from).
    since: Instant,
    /// The typical AWS duration of what is running now.
    typical: Duration,
    state: String,
    /// The outcome once finished (`created`, `failed`, ...).
    outcome: Option<String>,
    /// Plain mode: when it last printed a line.
    last_line: Instant,
}

#[derive(Debug)]
struct Board {
    started: Instant,
    steps: BTreeMap<String, Step>,
}

enum Mode {
    Live(ProgressBar),
    Plain,
    Silent,
}

pub struct Progress {
    mode: Mode,
    board: Arc<Mutex<Board>>,
    stop: Arc<AtomicBool>,
}

fn lock(board: &Mutex<Board>) -> std::sync::MutexGuard<'_, Board> {
    board.lock().unwrap_or_else(|p| p.into_inner())
}

impl Progress {
    /// How progress shows, as the command layer decided it (the engine
    /// never sees the printer).
    pub fn new(shown: Shown) -> Self {
        let board = Arc::new(Mutex::new(Board {
            started: Instant::now(),
            steps: BTreeMap::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mode = match shown {
            Shown::Nothing => Mode::Silent,
            Shown::Plain => Mode::Plain,
            Shown::Live => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                Mode::Live(bar)
            }
        };
        let progress = Progress { mode, board, stop };
        progress.tick_in_background();
        progress
    }

    /// A progress sink that prints nothing (for `status` and `plan`).
    pub fn silent() -> Self {
        Progress::new(Shown::Nothing)
    }

    /// Redraws the block (live) or writes heartbeats (plain) until cleared.
    fn tick_in_background(&self) {
        let (board, stop) = (self.board.clone(), self.stop.clone());
        match &self.mode {
            Mode::Silent => {}
            Mode::Live(bar) => {
                let bar = bar.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let (rows, cols) = console::Term::stderr().size();
                        let text = render(&lock(&board), Instant::now(), cols as usize, rows as usize);
                        bar.set_message(text);
                        std::thread::sleep(TICK);
                    }
                });
            }
            Mode::Plain => {
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_secs(1));
                        let mut b = lock(&board);
                        let started = b.started;
                        let now = Instant::now();
                        for (id, s) in b.steps.iter_mut() {
                            if s.outcome.is_none() && s.started.is_some() && now - s.last_line >= HEARTBEAT {
                                s.last_line = now;
                                eprintln!(
                                    "[{:>7}] {id}: still {} (for {})",
                                    short(now - started),
                                    s.state,
                                    short(now - s.since)
                                );
                            }
                        }
                    }
                });
            }
        }
    }

    /// Registers the steps to come, so the counts and the ETA cover them
    /// from the start.
    pub fn expect(&self, steps: impl IntoIterator<Item = (String, Duration)>) {
        let mut b = lock(&self.board);
        let now = Instant::now();
        for (id, typical) in steps {
            b.steps.entry(id).or_insert_with(|| Step {
                started: None,
                since: now,
                typical: crate::engine::wait::scaled(typical),
                state: String::new(),
                outcome: None,
                last_line: now,
            });
        }
    }

    /// `id` is now in `state` ("creating", "waiting: InProgress"); `typical`
    /// is how long AWS usually takes for what it is doing now (zero: keep
    /// the step's current figure).
    pub fn state(&self, id: &str, typical: Duration, state: &str) {
        self.update(id, typical, state, None);
    }

    /// `id` is finished, with the outcome shown (e.g. "created", "failed").
    pub fn done(&self, id: &str, outcome: &str) {
        self.update(id, Duration::ZERO, outcome, Some(outcome.to_string()));
    }

    fn update(&self, id: &str, typical: Duration, state: &str, outcome: Option<String>) {
        let now = Instant::now();
        let mut b = lock(&self.board);
        let elapsed = now - b.started;
        let step = b.steps.entry(id.to_string()).or_insert_with(|| Step {
            started: None,
            since: now,
            typical: Duration::ZERO,
            state: String::new(),
            outcome: None,
            last_line: now,
        });
        step.started.get_or_insert(now);
        if step.state == state && step.outcome == outcome {
            return;
        }
        // A new kind of state (creating -> waiting) restarts its clock; a
        // wait whose detail changes (InProgress -> 1/2 running) does not.
        if kind_of(&step.state) != kind_of(state) {
            step.since = now;
        }
        if !typical.is_zero() {
            step.typical = crate::engine::wait::scaled(typical);
        }
        step.state = state.to_string();
        step.last_line = now;
        let finished = outcome.is_some();
        step.outcome = outcome;
        let shown = format!(
            "{state} ({})",
            short(step.started.map_or(Duration::ZERO, |s| now - s))
        );
        drop(b);
        match &self.mode {
            Mode::Plain => eprintln!("[{:>7}] {id}: {shown}", short(elapsed)),
            Mode::Live(bar) if finished && state == "failed" => {
                bar.println(format!("  {id}: failed"));
            }
            _ => {}
        }
    }

    /// Removes the live block (before the final result is printed).
    pub fn clear(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Mode::Live(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The part of a state that names what is happening (`waiting`, `creating`).
fn kind_of(state: &str) -> &str {
    state.split(':').next().unwrap_or(state).trim()
}

/// The block for a terminal of `width` x `height`: a header with counts,
/// elapsed time and ETA, then the running steps (longest running first),
/// each cut to the width; at most `height - 1` lines in all.
fn render(board: &Board, now: Instant, width: usize, height: usize) -> String {
    let width = width.max(40);
    let (mut done, mut failed, mut to_go) = (0, 0, 0);
    let mut running: Vec<(&String, &Step)> = Vec::new();
    for (id, s) in &board.steps {
        match (&s.outcome, s.started) {
            (Some(o), _) if o == "failed" => failed += 1,
            (Some(_), _) => done += 1,
            (None, Some(_)) => running.push((id, s)),
            (None, None) => to_go += 1,
        }
    }
    running.sort_by_key(|(id, s)| (s.started, id.as_str()));
    // The slowest unfinished step bounds what is left: steps start as soon
    // as what they need exists, so their waits overlap.
    let eta = board
        .steps
        .values()
        .filter(|s| s.outcome.is_none())
        .map(|s| {
            s.typical
                .saturating_sub(s.started.map_or(Duration::ZERO, |_| now - s.since))
        })
        .max()
        .unwrap_or_default();
    let mut header = format!("{done} done, {} running, {to_go} to go", running.len());
    if failed > 0 {
        header.push_str(&format!(", {failed} failed"));
    }
    header.push_str(&format!(
        "; elapsed {}, ~{} left",
        short(now - board.started),
        short(eta)
    ));
    let mut lines = vec![cut(&header, width)];
    let room = height.saturating_sub(2).max(3);
    let shown = running.len().min(room);
    for (id, s) in running
        .iter()
        .take(if shown < running.len() { room - 1 } else { shown })
    {
        let for_ = now - s.since;
        // Timers first: a long state from AWS is what gets cut, not them.
        let left = if s.typical.is_zero() {
            String::new()
        } else if for_ <= s.typical {
            format!("~{} left", short(s.typical - for_))
        } else {
            format!("over {}", short(s.typical))
        };
        lines.push(cut(
            &format!("  {id:<22} {:>6} {left:<12} {}", short(for_), s.state),
            width,
        ));
    }
    if shown < running.len() {
        lines.push(format!("  ... and {} more running", running.len() - (room - 1)));
    }
    lines.join("\n")
}

/// `line` cut to `width` characters (with an ellipsis).
fn cut(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut out: String = line.chars().take(width.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// `4.2s`, `1m05s`, `2h03m`.
fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(
        started: Option<Instant>,
        since: Instant,
        typical: u64,
        state: &str,
        outcome: Option<&str>,
    ) -> Step {
        Step {
            started,
            since,
            typical: Duration::from_secs(typical),
            state: state.into(),
            outcome: outcome.map(str::to_string),
            last_line: since,
        }
    }

    #[test]
    fn the_block_counts_finished_work_and_shows_what_waits_within_80_by_24() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_secs(100);
        let mut steps = BTreeMap::new();
        for i in 0..23 {
            steps.insert(
                format!("done_{i:02}"),
                step(Some(t0), t0, 2, "created", Some("created")),
            );
        }
        steps.insert(
            "distribution_deployed".into(),
            step(
                Some(t0),
                t0 + Duration::from_secs(90),
                266,
                "waiting: InProgress",
                None,
            ),
        );
        steps.insert(
            "service_steady".into(),
            step(
                Some(t0),
                t0 + Duration::from_secs(10),
                60,
                "waiting: 0/1 running, rollout IN_PROGRESS",
                None,
            ),
        );
        steps.insert("later".into(), step(None, t0, 5, "", None));
        let board = Board { started: t0, steps };
        let text = render(&board, now, 80, 24);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() <= 23, "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{text}");
        assert_eq!(
            lines[0], "23 done, 2 running, 1 to go; elapsed 1m40s, ~4m16s left",
            "{text}"
        );
        assert!(
            text.contains("  distribution_deployed   10.0s ~4m16s left  waiting: InProgress"),
            "{text}"
        );
        assert!(
            text.contains("  service_steady          1m30s over 1m00s   waiting: 0/1 running"),
            "{text}"
        );
        // Later, the same wait shows more time: the timers tick on redraw.
        let later = render(&board, now + Duration::from_secs(5), 80, 24);
        assert!(
            later.contains("  distribution_deployed   15.0s ~4m11s left  waiting"),
            "{later}"
        );
    }

    #[test]
    fn many_running_steps_fit_a_small_terminal() {
        let t0 = Instant::now();
        let steps = (0..40)
            .map(|i| (format!("step_{i:02}"), step(Some(t0), t0, 10, "creating", None)))
            .collect();
        let text = render(&Board { started: t0, steps }, t0 + Duration::from_secs(1), 60, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() <= 9, "{text}");
        assert_eq!(lines.last().copied(), Some("  ... and 33 more running"));
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(short(Duration::from_millis(4200)), "4.2s");
        assert_eq!(short(Duration::from_secs(65)), "1m05s");
        assert_eq!(short(Duration::from_secs(7380)), "2h03m");
        assert_eq!(kind_of("waiting: InProgress"), "waiting");
    }
}
