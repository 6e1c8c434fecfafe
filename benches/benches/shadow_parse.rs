//! The shadow screen's own parse rate (MB/s) on the three throughput workloads:
//! `symp_server::shadow::Shadow` alone, 120x40 with 10,000 lines of scrollback.
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

fn parse_rate(c: &mut Criterion) {
    let workloads = [
        ("seq", as_pty_output(&seq_bytes(200_000))),
        ("coloured cat", as_pty_output(&coloured_bytes(INPUT_BYTES))),
        (
            "TUI repaint",
            as_pty_output(&tui_bytes(INPUT_BYTES, COLS, ROWS)),
        ),
    ];
    let mut group = c.benchmark_group("shadow parse");
    group
        .sample_size(10)
        // Iterations take tens of milliseconds: one timing each, no regression.
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, bytes) in &workloads {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |b| {
            b.iter_batched(
                || {
                    Shadow::new(
                        Size {
                            cols: COLS,
                            rows: ROWS,
                        },
                        SCROLLBACK_LINES,
                    )
                },
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

criterion_group!(benches, parse_rate);
criterion_main!(benches);
