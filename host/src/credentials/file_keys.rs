//! Keys written in the accounts file itself. They are accepted only from a
//! private file: not readable by group or others, and not tracked by git.
//! Anything else is refused with the fix, before the keys are used.

use std::{
    path::Path,
    process::{Command, Stdio},
};

/// Why a file holding keys is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Group or others may read it; the mode is given.
    Readable(u32),
    /// git tracks it, so the keys are (or will be) in the history.
    TrackedByGit,
}

/// Checks that `file` is private. `Ok` when it is.
pub fn check_private(file: &Path) -> Result<(), Exposure> {
    if let Some(mode) = open_mode(file) {
        return Err(Exposure::Readable(mode));
    }
    if tracked_by_git(file) {
        return Err(Exposure::TrackedByGit);
    }
    Ok(())
}

/// The permission bits when group or others have any access.
#[cfg(unix)]
fn open_mode(file: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    // A file that cannot be inspected is treated as open: refusing is the
    // safe side, and the error tells what to do.
    let mode = std::fs::metadata(file).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o777);
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn open_mode(_file: &Path) -> Option<u32> {
    None
}

/// Whether git tracks the file. No git, or no repository around the file,
/// means not tracked.
fn tracked_by_git(file: &Path) -> bool {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return false;
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn mode_decides() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.json");
        std::fs::write(&file, "{}").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check_private(&file), Err(Exposure::Readable(0o644)));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(check_private(&file), Ok(()));
    }

    #[cfg(unix)]
    #[test]
    fn a_tracked_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            Command::new("git").arg("-C").arg(dir.path()).args(args).output().map(|o| o.status)
        };
        assert!(git(&["init", "-q"]).is_ok_and(|s| s.success()), "git init failed");
        let file = dir.path().join("accounts.json");
        std::fs::write(&file, "{}").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(check_private(&file), Ok(()));
        assert!(git(&["add", "accounts.json"]).unwrap().success());
        assert_eq!(check_private(&file), Err(Exposure::TrackedByGit));
    }
}
