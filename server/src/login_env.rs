//! `HOME` and `SHELL` for a program whose environment lacks them, read from
//! `/etc/passwd` itself rather than through the C library's password database.
//!
//! Why: portable-pty asks `getpwuid` for them when the environment has none (or
//! names a shell that is not executable): the program's environment, and for
//! `SHELL` also the server's own, at every spawn (`CommandBuilder::new` starts
//! from the server's environment). symp is a static executable, and in a
//! static glibc that lookup loads the host's NSS modules (`systemd`, `sss`, ...)
//! into a process with its own libc: the whole server crashed, seen with a uid
//! not in `/etc/passwd` and `passwd: files systemd`. With both set here, the
//! lookup never happens. The values are what the `files` source gives, else
//! portable-pty's own fallbacks (`/` and `/bin/sh`): a user known only to
//! another source (LDAP, sssd) whose environment lacks them gets those, where a
//! dynamic build would have found the real ones. (Environments nearly always
//! carry both: login, sshd, cron and systemd set them.)

use std::path::Path;

use anyhow::{bail, Result};

/// Where `HOME` and `SHELL` come from when the environment lacks them.
const PASSWD: &str = "/etc/passwd";
const FALLBACK_HOME: &str = "/";
const FALLBACK_SHELL: &str = "/bin/sh";

/// Sets the server's own `SHELL` where its environment has none (a server
/// started by a client run with `env -i`), so that portable-pty does not look it
/// up at each spawn. Only while the process has one thread: other threads may
/// read the environment.
pub fn give_the_server_a_shell() {
    if std::env::var_os("SHELL").is_none() {
        std::env::set_var("SHELL", shell_for_this_user());
    }
}

/// This user's shell as `/etc/passwd` gives it, if it can run, else `/bin/sh`.
fn shell_for_this_user() -> String {
    let passwd = std::fs::read_to_string(PASSWD).unwrap_or_default();
    entry_for(&passwd, nix::unistd::getuid().as_raw())
        .map(|(_, shell)| shell)
        .filter(|shell| is_executable(shell))
        .unwrap_or(FALLBACK_SHELL)
        .to_owned()
}

/// The `(name, value)` pairs to add to `env` so that it has a `HOME` and an
/// executable `SHELL`; none when it has both already. An error where no shell
/// can run at all (no `SHELL`, and not even `/bin/sh`): portable-pty would
/// then ask the password database after all.
pub fn missing(env: &[(String, String)]) -> Result<Vec<(&'static str, String)>> {
    let last = |key: &str| env.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
    let needs_home = last("HOME").is_none();
    let needs_shell = !last("SHELL").is_some_and(|shell| is_executable(shell));
    if !needs_home && !needs_shell {
        return Ok(Vec::new());
    }
    let mut added = Vec::new();
    if needs_home {
        let passwd = std::fs::read_to_string(PASSWD).unwrap_or_default();
        let entry = entry_for(&passwd, nix::unistd::getuid().as_raw());
        let home = entry.map_or(FALLBACK_HOME, |(home, _)| home);
        added.push(("HOME", home.to_owned()));
    }
    if needs_shell {
        let shell = shell_for_this_user();
        if !is_executable(&shell) {
            bail!("no shell to put in SHELL: the environment has none that runs, and neither does {shell}; set SHELL");
        }
        added.push(("SHELL", shell));
    }
    Ok(added)
}

/// The home directory and shell of `uid` in passwd-format `text`.
fn entry_for(text: &str, uid: u32) -> Option<(&str, &str)> {
    text.lines().find_map(|line| {
        // name:password:uid:gid:gecos:home:shell
        let fields: Vec<&str> = line.split(':').collect();
        let [_, _, entry_uid, _, _, home, shell] = fields.as_slice() else {
            return None;
        };
        (entry_uid.parse() == Ok(uid)).then_some((*home, *shell))
    })
}

/// The check portable-pty makes of a shell (`access(X_OK)`), so that a shell
/// passed here never sends it to the password database after all.
fn is_executable(path: &str) -> bool {
    nix::unistd::access(Path::new(path), nix::unistd::AccessFlags::X_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "root:x:0:0:root:/root:/bin/bash\n\
                          # a comment\n\
                          ada:x:1000:1000:Ada,,,:/home/ada:/usr/bin/zsh\n\
                          short:x:1001\n";

    #[test]
    fn finds_the_entry_of_a_uid_and_skips_what_is_not_one() {
        assert_eq!(entry_for(SAMPLE, 0), Some(("/root", "/bin/bash")));
        assert_eq!(entry_for(SAMPLE, 1000), Some(("/home/ada", "/usr/bin/zsh")));
        assert_eq!(entry_for(SAMPLE, 1001), None);
        assert_eq!(entry_for(SAMPLE, 4242), None);
    }

    #[test]
    fn adds_nothing_to_an_environment_with_a_home_and_a_working_shell() {
        let env = vec![
            ("HOME".to_owned(), "/somewhere".to_owned()),
            ("SHELL".to_owned(), "/bin/sh".to_owned()),
        ];
        assert!(missing(&env).expect("a shell").is_empty());
    }

    #[test]
    fn fills_in_a_home_and_replaces_a_shell_that_cannot_run() {
        let env = vec![("SHELL".to_owned(), "/no/such/shell".to_owned())];
        let added = missing(&env).expect("a shell");
        let keys: Vec<&str> = added.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["HOME", "SHELL"]);
        assert!(added.iter().all(|(_, v)| !v.is_empty()));
        assert!(is_executable(&added[1].1), "{added:?}");
    }
}
