//! The server refuses a peer of another user, even when the files would let it in.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::harness::{Home, SYMP};

const NOBODY: u32 = 65534;

#[test]
fn a_client_of_another_uid_is_refused_by_the_server() {
    if !crate::harness::can_switch_users() {
        return;
    }
    let home = Home::new();
    home.spawn("mine", &["sleep", "1000"]);
    // Open the door the file modes normally keep shut; the uid check must still hold.
    let open = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    open(home.path(), 0o755);
    open(&home.socket(), 0o666);

    // Several times: whether our hello reaches the server before it hangs up is a race.
    for attempt in 0..5 {
        let out = Command::new(SYMP)
            .args(["list", "--all"])
            .env("SYMP_HOME", home.path())
            .current_dir("/")
            .stdin(Stdio::null())
            .uid(NOBODY)
            .gid(NOBODY)
            .output()
            .expect("run symp as nobody");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "attempt {attempt}: {stderr}");
        assert!(out.stdout.is_empty(), "nobody saw the sessions");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("symp: permission denied"),
            "not the server's refusal: {stderr}"
        );
    }
    assert_eq!(home.names(true), ["mine"]);
    assert_eq!(home.session("mine")["status"], "running");
}
