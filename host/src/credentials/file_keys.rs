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
    /// It lies inside a git work tree and git could not say whether it is
    /// tracked (git missing, a repository owned by someone else); refused,
    /// since the answer may be yes.
    Unverifiable(String),
}

/// Checks that `file` is private. `Ok` when it is.
pub fn check_private(file: &Path) -> Result<(), Exposure> {
    if let Some(mode) = open_mode(file) {
        return Err(Exposure::Readable(mode));
    }
    // The file a symlink points at is the one that may be committed.
    let real = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    match git_tracked(&real) {
        Ok(false) => Ok(()),
        Ok(true) => Err(Exposure::TrackedByGit),
        Err(why) => Err(Exposure::Unverifiable(why)),
    }
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

/// The nearest directory above `file` holding a `.git` entry.
fn work_tree(file: &Path) -> Option<&Path> {
    file.ancestors().skip(1).find(|dir| dir.join(".git").exists())
}

/// Whether git tracks `file`. Outside any work tree the answer is no
/// without asking git. Inside one, git is asked with a clean environment
/// (no `GIT_DIR` steering it elsewhere), no hooks or fsmonitor, and the
/// ownership check waived for this read-only question; any failure to
/// answer is an error.
fn git_tracked(file: &Path) -> Result<bool, String> {
    let Some(root) = work_tree(file) else { return Ok(false) };
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Err("the file has no name".into());
    };
    let mut git = Command::new("git");
    git.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        git.env("PATH", path);
    }
    let status = git
        .args(["-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-C"])
        .arg(dir)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| {
            format!("it is inside the git work tree {} and git cannot run: {e}", root.display())
        })?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(format!(
            "it is inside the git work tree {} and git could not tell whether it is tracked \
             ({status})",
            root.display()
        )),
    }
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
        // Through a symlink from outside the work tree, still refused.
        let outside = tempfile::tempdir().unwrap();
        let link = outside.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(check_private(&link), Err(Exposure::TrackedByGit));
    }
}
