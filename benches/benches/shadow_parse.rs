//! The shadow screen's own parse rate (MB/s) on the three throughput workloads:
//! `symp_server::shadow::Shadow` alone, 120x40 with 10,000 lines of scrollback;
//! as the floor under any screen model, the `vte` tokenizer alone; and what
//! packing an idle screen, and rebuilding it, costs after each workload; and
//! whole floods parsed as the server does when far behind them (skimming).
//! Run with `cargo bench -p symp-benches`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use symp_benches::plan::{COLS, ROWS, SCROLLBACK_LINES};
use symp_benches::workloads::coloured::coloured_bytes;
use symp_benches::workloads::tui::tui_bytes;
use symp_benches::workloads::{as_pty_output, seq_bytes};
use symp_protocol::Size;
use symp_server::shadow::Shadow;

/// Per-iteration input: big enough to fill the scrollback ring several times
/// over, small enough that ten samples take a few seconds.
const INPUT_BYTES: usize = 4 * 1024 * 1024;

fn workloads() -> [(&'static str, Vec<u8>); 3] {
    [
        ("seq", as_pty_output(&seq_bytes(200_000))),
        ("coloured cat", as_pty_output(&coloured_bytes(INPUT_BYTES))),
        (
            "TUI repaint",
            as_pty_output(&tui_bytes(INPUT_BYTES, COLS, ROWS)),
        ),
    ]
}

/// Ten samples of one timing each: iterations take tens of milliseconds.
fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
}

/// A shadow as a benchmark session's: 120x40, 10,000 lines of scrollback.
fn session_shadow() -> Shadow {
    let size = Size {
        cols: COLS,
        rows: ROWS,
    };
    Shadow::new(size, SCROLLBACK_LINES)
}

fn parse_rate(c: &mut Criterion) {
    let mut group = c.benchmark_group("shadow parse");
    configure(&mut group);
    for (name, bytes) in &workloads() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |b| {
            b.iter_batched(
                session_shadow,
                |mut shadow| {
                    // The server hands the parser up to 64 KiB at a time.
                    for chunk in bytes.chunks(64 * 1024) {
                        shadow.process(chunk);
                    }
                    shadow
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// The benchmark's whole floods (`seq 1 1000000`, a 16 MiB coloured `cat`) as
/// the parser takes them when they are far ahead of it: each batch paced with
/// the output still waiting behind it (so it skims and fast-forwards), and the
/// history settled at the end; "while it lasts" leaves that settling out (the
/// parser does it once the flood is over: what it takes to keep up with one).
/// Against `shadow parse`, which formats every departing row.
fn skimmed_parse_rate(c: &mut Criterion) {
    let mut group = c.benchmark_group("shadow parse, a flood far ahead");
    configure(&mut group);
    let floods = [
        ("seq", as_pty_output(&seq_bytes(1_000_000))),
        (
            "coloured cat",
            as_pty_output(&coloured_bytes(16 * 1024 * 1024)),
        ),
    ];
    let ways = [
        ("every row", false, true),
        ("skimmed", true, true),
        ("skimmed, while it lasts", true, false),
    ];
    for (name, bytes) in &floods {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        for (label, skim, settle) in ways {
            group.bench_function(format!("{name}, {label}"), |b| {
                b.iter_batched(
                    session_shadow,
                    |mut shadow| {
                        let mut waiting = bytes.len();
                        for chunk in bytes.chunks(64 * 1024) {
                            waiting -= chunk.len();
                            if skim && shadow.pace_history(waiting as u64) {
                                shadow.settle_history();
                            }
                            shadow.process(chunk);
                        }
                        if settle {
                            shadow.settle_history();
                        }
                        shadow
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

/// Counts what the tokenizer finds and does nothing else.
#[derive(Default)]
struct Tally {
    chars: usize,
    controls: usize,
}

impl vte::Perform for Tally {
    fn print(&mut self, _: char) {
        self.chars += 1;
    }

    fn execute(&mut self, _: u8) {
        self.controls += 1;
    }

    fn csi_dispatch(&mut self, _: &vte::Params, _: &[u8], _: bool, _: char) {
        self.controls += 1;
    }
}

fn tokenizer_rate(c: &mut Criterion) {
    let mut group = c.benchmark_group("vte tokenizer alone");
    configure(&mut group);
    for (name, bytes) in &workloads() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let (mut parser, mut tally) = (vte::Parser::new(), Tally::default());
                for chunk in bytes.chunks(64 * 1024) {
                    parser.advance(&mut tally, chunk);
                }
                std::hint::black_box((tally.chars, tally.controls))
            })
        });
    }
    group.finish();
}

/// The screen each workload leaves, at rest behind a prompt.
fn idle_after(tail: &[u8]) -> Shadow {
    let size = Size {
        cols: COLS,
        rows: ROWS,
    };
    let mut shadow = Shadow::new(size, 0);
    shadow.process(tail);
    shadow.process(b"\x1b[m\r\n$ ");
    shadow
}

/// Packing the screen each workload leaves (the parser thread's work when a
/// session turns idle), and reading a packed one (a temporary rebuild, on the
/// I/O thread for an attach, a capture or a `send`).
fn pack_and_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("pack an idle screen");
    group.sample_size(20);
    for (name, bytes) in &workloads() {
        let tail = &bytes[bytes.len().saturating_sub(256 * 1024)..];
        group.bench_function(*name, |b| {
            b.iter_batched(
                || idle_after(tail),
                |mut shadow| {
                    assert!(shadow.pack() > 0 && shadow.is_packed(), "{name} packs");
                    shadow
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    let mut group = c.benchmark_group("read a packed screen");
    for (name, bytes) in &workloads() {
        let mut shadow = idle_after(&bytes[bytes.len().saturating_sub(256 * 1024)..]);
        assert!(shadow.pack() > 0, "{name} packs");
        group.bench_function(*name, |b| {
            b.iter(|| shadow.with_screen(|screen| screen.cursor_position()))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    parse_rate,
    skimmed_parse_rate,
    tokenizer_rate,
    pack_and_read
);
criterion_main!(benches);
