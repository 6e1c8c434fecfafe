//! The optional `config.toml`: defaults a user may change. Unknown keys are errors,
//! so a typo never silently does nothing.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::paths::Paths;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seconds without a change to the picture before a session counts as idle (default 2).
    pub idle_after_secs: Option<f64>,
    /// Scrollback lines for sessions spawned without `--scrollback` (default 10000).
    pub scrollback: Option<usize>,
    /// Detach key for `attach` without `--detach-key` (default `C-\`).
    pub detach_key: Option<String>,
}

impl Config {
    /// Reads the config file; a missing file is the defaults.
    pub fn load(paths: &Paths) -> Result<Self> {
        let path = paths.config_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("bad config {}", path.display()))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn idle_after(&self) -> Duration {
        let secs = self
            .idle_after_secs
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(2.0);
        Duration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_keys_and_rejects_typos() {
        let config: Config =
            toml::from_str("idle_after_secs = 5\nscrollback = 100\ndetach_key = 'C-a'")
                .expect("parses");
        assert_eq!(config.idle_after(), Duration::from_secs(5));
        assert_eq!(config.scrollback, Some(100));
        assert!(toml::from_str::<Config>("idle_afer_secs = 5").is_err());
    }
}
