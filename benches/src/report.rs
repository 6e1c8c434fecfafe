//! The results table: one row per measurement, each contender's median and range,
//! and symp's ratios to the bare pty and to tmux, as Markdown.

use std::fmt::Write as _;

use crate::scenarios::Unit;
use crate::stats::{summarize, Summary};
use crate::suite::Results;
use crate::tools::Contender;

/// Formats one value in the unit's natural scale.
pub fn format_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Seconds if value >= 1.0 => format!("{value:.2} s"),
        Unit::Seconds => {
            let ms = value * 1000.0;
            match ms {
                ms if ms < 10.0 => format!("{ms:.2} ms"),
                ms if ms < 100.0 => format!("{ms:.1} ms"),
                ms => format!("{ms:.0} ms"),
            }
        }
        Unit::KiB => format!("{:.1} MiB", value / 1024.0),
    }
}

fn cell(unit: Unit, summary: Option<Summary>) -> String {
    match summary {
        None => "—".into(),
        Some(s) if s.runs == 1 => format_value(unit, s.median),
        Some(s) => format!(
            "{} ({}–{})",
            format_value(unit, s.median),
            format_value(unit, s.min),
            format_value(unit, s.max)
        ),
    }
}

fn ratio(numerator: Option<Summary>, denominator: Option<Summary>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d.median > 0.0 => format!("{:.2}×", n.median / d.median),
        _ => "—".into(),
    }
}

/// The Markdown table (and any failures below it).
pub fn render(results: &Results, contenders: &[Contender]) -> String {
    let has_tmux = contenders.contains(&Contender::Tmux);
    let mut rows: Vec<(&str, Unit)> = Vec::new();
    for (_, sample) in &results.samples {
        if !rows.iter().any(|(row, _)| *row == sample.row) {
            rows.push((&sample.row, sample.unit));
        }
    }
    let summary_of = |row: &str, who: Contender| {
        let values: Vec<f64> = results
            .samples
            .iter()
            .filter(|(c, s)| *c == who && s.row == row)
            .map(|(_, s)| s.value)
            .collect();
        summarize(&values)
    };
    let mut out = String::new();
    if has_tmux {
        out.push_str(
            "| measurement | bare pty | symp | tmux | symp ÷ bare | symp ÷ tmux | tmux ÷ bare |\n",
        );
        out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    } else {
        out.push_str("| measurement | bare pty | symp | symp ÷ bare |\n");
        out.push_str("|---|---:|---:|---:|\n");
    }
    for (row, unit) in rows {
        let bare = summary_of(row, Contender::Bare);
        let symp = summary_of(row, Contender::Symp);
        let _ = write!(
            out,
            "| {row} | {} | {} |",
            cell(unit, bare),
            cell(unit, symp)
        );
        if has_tmux {
            let tmux = summary_of(row, Contender::Tmux);
            let _ = writeln!(
                out,
                " {} | {} | {} | {} |",
                cell(unit, tmux),
                ratio(symp, bare),
                ratio(symp, tmux),
                ratio(tmux, bare)
            );
        } else {
            let _ = writeln!(out, " {} |", ratio(symp, bare));
        }
    }
    if !results.failures.is_empty() {
        out.push_str("\nFailed runs (left out of the table):\n");
        for failure in &results.failures {
            let _ = writeln!(out, "- {failure}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::Sample;

    #[test]
    fn values_take_their_natural_scale() {
        assert_eq!(format_value(Unit::Seconds, 1.234), "1.23 s");
        assert_eq!(format_value(Unit::Seconds, 0.2345), "234 ms");
        assert_eq!(format_value(Unit::Seconds, 0.0012), "1.20 ms");
        assert_eq!(format_value(Unit::KiB, 2048.0), "2.0 MiB");
    }

    #[test]
    fn the_table_shows_medians_ranges_and_ratios() {
        let sample = |v: f64| Sample {
            row: "seq".into(),
            unit: Unit::Seconds,
            value: v,
        };
        let results = Results {
            samples: vec![
                (Contender::Bare, sample(1.0)),
                (Contender::Symp, sample(1.2)),
                (Contender::Symp, sample(1.1)),
                (Contender::Symp, sample(1.3)),
                (Contender::Tmux, sample(2.4)),
            ],
            failures: vec![],
        };
        let table = render(
            &results,
            &[Contender::Bare, Contender::Symp, Contender::Tmux],
        );
        assert!(
            table.contains(
                "| seq | 1.00 s | 1.20 s (1.10 s–1.30 s) | 2.40 s | 1.20× | 0.50× | 2.40× |"
            ),
            "{table}"
        );
    }
}
