//! `inventag plugins`: list, inspect and vet plugins, make a signing key
//! and sign a build. `main` parses the arguments and asks before writing;
//! the work and the output shapes live here.
//!
//! Listing and inspecting run each plugin's `describe` in the sandbox (no
//! AWS, no files, no network), so an unvetted plugin can be looked at
//! before it is trusted.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    Digest, LockEntry, LockFile, SigningKey, Status, Vetting, VettingError, VettingOptions, signing,
};
use crate::{
    runtime::{Declaration, Limits, LoadError, Runtime},
    validator::{Judgement, Standard, Validator, Verdict},
};

/// Why an `inventag plugins` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Vetting could not read or write its files.
    #[error(transparent)]
    Vetting(#[from] VettingError),
    /// The plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// One plugin as `list` and `inspect` show it.
#[derive(Clone, Debug, Serialize)]
pub struct PluginReport {
    /// The file.
    pub file: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// `locked`, `signed`, `unvetted` or `altered`.
    pub status: &'static str,
    /// For `signed`, the key id; for `altered`, the digest the lock
    /// expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_detail: Option<String>,
    /// What the plugin declares, when it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration: Option<Declaration>,
    /// Why it did not load, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn report(runtime: &Runtime, vetting: &Vetting, file: &Path) -> PluginReport {
    let checked = match vetting.check(file) {
        Ok(checked) => checked,
        Err(e) => {
            return PluginReport {
                file: file.to_owned(),
                sha256: String::new(),
                bytes: 0,
                status: Status::Unvetted.word(),
                status_detail: None,
                declaration: None,
                error: Some(e.to_string()),
            };
        }
    };
    let status_detail = match &checked.status {
        Status::Signed { key_id } => Some(format!("key {key_id}")),
        Status::Altered { expected } => Some(format!("the lock expects sha256 {expected}")),
        _ => None,
    };
    let mut out = PluginReport {
        file: file.to_owned(),
        sha256: checked.digest.to_string(),
        bytes: checked.bytes.len() as u64,
        status: checked.status.word(),
        status_detail,
        declaration: None,
        error: None,
    };
    match runtime.declaration(file, checked.bytes, checked.digest).await {
        Ok(declaration) => out.declaration = Some(declaration),
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

/// Every plugin of `dir`.
pub async fn list(dir: &Path, options: &VettingOptions) -> Result<Vec<PluginReport>, CommandError> {
    let vetting = Vetting::open(dir, options)?;
    let runtime = Runtime::new(Limits::default())?;
    let mut out = Vec::new();
    for file in Runtime::plugin_files(dir)? {
        out.push(report(&runtime, &vetting, &file).await);
    }
    Ok(out)
}

/// One plugin file, judged against the lock of its own directory unless
/// `options` names another.
pub async fn inspect(file: &Path, options: &VettingOptions) -> Result<PluginReport, CommandError> {
    let vetting = Vetting::open(&parent(file), options)?;
    let runtime = Runtime::new(Limits::default())?;
    Ok(report(&runtime, &vetting, file).await)
}

fn parent(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The `list` table: file, kind, name@version, WIT, status, sha256.
pub fn render_list(reports: &[PluginReport]) -> String {
    let mut out = format!(
        "{:<34} {:<10} {:<28} {:<6} {:<9} {}\n",
        "FILE", "KIND", "PLUGIN", "WIT", "STATUS", "SHA256"
    );
    for r in reports {
        let name = r.file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        let (kind, plugin, wit) = match &r.declaration {
            Some(d) => (d.kind, format!("{}@{}", d.name, d.version), d.wit_version.as_str()),
            None => ("?", "(did not load)".to_owned(), "?"),
        };
        out.push_str(&format!(
            "{name:<34} {kind:<10} {plugin:<28} {wit:<6} {:<9} {}\n",
            r.status, r.sha256
        ));
    }
    for r in reports {
        if let Some(e) = &r.error {
            out.push_str(&format!("error: {e}\n"));
        }
    }
    out
}

/// One plugin in full, as text.
pub fn render_inspect(r: &PluginReport) -> String {
    let mut out = format!("file:     {}\n", r.file.display());
    out.push_str(&format!("sha256:   {}\nbytes:    {}\n", r.sha256, r.bytes));
    out.push_str(&format!("status:   {}", r.status));
    if let Some(detail) = &r.status_detail {
        out.push_str(&format!(" ({detail})"));
    }
    out.push('\n');
    match &r.declaration {
        Some(d) => {
            out.push_str(&format!("kind:     {}\nname:     {}\n", d.kind, d.name));
            out.push_str(&format!(
                "version:  {}\nwit:      inventag:plugin@{}\n",
                d.version, d.wit_version
            ));
            out.push_str(&format!("summary:  {}\n", d.summary));
            if let Some(format) = &d.format {
                out.push_str(&format!("format:   {format}\n"));
            }
            if let Some(global) = d.global {
                out.push_str(&format!("global:   {global}\n"));
            }
            if !d.parts.is_empty() {
                out.push_str(&format!("parts:    {}\n", d.parts.join(", ")));
            }
            if d.kind == "collector" {
                out.push_str("calls:\n");
                for (service, operations) in &d.calls {
                    for operation in operations {
                        out.push_str(&format!("  {service}:{operation}\n"));
                    }
                }
            }
        }
        None => out.push_str(&format!("error:    {}\n", r.error.as_deref().unwrap_or("?"))),
    }
    out
}

/// What vetting a plugin would grant, before the lock is written.
#[derive(Debug, Serialize)]
pub struct VetPlan {
    /// The plugin.
    pub plugin: PluginReport,
    /// The validator's verdict on each declared operation.
    pub verdicts: Vec<Judgement>,
    /// The lock file the entry goes to.
    pub lock: PathBuf,
}

/// Loads `file` and judges each operation it declares under `standard`.
pub async fn vet_plan(
    file: &Path,
    options: &VettingOptions,
    standard: Standard,
) -> Result<VetPlan, CommandError> {
    let lock = options.lock_path(&parent(file));
    let plugin = inspect(file, options).await?;
    let validator = Validator::new(standard);
    let verdicts = plugin
        .declaration
        .iter()
        .flat_map(|d| d.calls.iter())
        .flat_map(|(service, operations)| operations.iter().map(move |op| (service, op)))
        .map(|(service, operation)| validator.judge(service, operation, None))
        .collect();
    Ok(VetPlan { plugin, verdicts, lock })
}

/// The plan as text: the plugin, then what it will be allowed to call.
pub fn render_vet(plan: &VetPlan) -> String {
    let mut out = render_inspect(&plan.plugin);
    if plan.plugin.declaration.as_ref().is_some_and(|d| d.kind == "collector") {
        out.push_str("what it will be allowed to call:\n");
        for j in &plan.verdicts {
            let name = format!("{}:{}", j.service, j.operation);
            match &j.verdict {
                Verdict::Allowed { rule } => {
                    out.push_str(&format!("  allowed  {name:<44} {rule}\n"))
                }
                Verdict::Denied { rule, reason } => out
                    .push_str(&format!("  DENIED   {name:<44} {rule}: {reason} (never granted)\n")),
            }
        }
        if plan.verdicts.is_empty() {
            out.push_str("  nothing: it declares no AWS operation\n");
        }
    } else {
        out.push_str("a formatter calls nothing: it sees the BOM and returns bytes\n");
    }
    out.push_str(&format!("lock: {}\n", plan.lock.display()));
    out
}

/// Adds the planned plugin to its lock. Refuses a plugin that did not
/// load: a lock entry vouches for a plugin someone has seen describe
/// itself.
pub fn vet_commit(plan: &VetPlan) -> Result<PathBuf, CommandError> {
    let Some(declaration) = &plan.plugin.declaration else {
        return Err(VettingError::Lock {
            file: plan.lock.clone(),
            message: format!(
                "{} did not load, so it cannot be vetted: {}",
                plan.plugin.file.display(),
                plan.plugin.error.as_deref().unwrap_or("unknown error")
            ),
        }
        .into());
    };
    let mut lock = LockFile::load(&plan.lock)?;
    let file = plan.plugin.file.file_name().map(|n| n.to_string_lossy().into_owned());
    lock.insert(LockEntry {
        file: file.unwrap_or_default(),
        sha256: plan.plugin.sha256.clone(),
        plugin: Some(format!("{}@{}", declaration.name, declaration.version)),
        kind: Some(declaration.kind.to_owned()),
        vetted: Some("inventag plugins vet".into()),
    });
    Ok(lock.save(&plan.lock)?)
}

/// Signs `file` with the private key at `key`, writing `FILE.sig`;
/// returns the signature file, the digest and the key id.
pub fn sign(file: &Path, key: &Path) -> Result<(PathBuf, Digest, String), CommandError> {
    let key = SigningKey::load(key)?;
    let bytes =
        std::fs::read(file).map_err(|e| VettingError::io(file, "cannot read the plugin", e))?;
    let digest = Digest::of(&bytes);
    let sig = signing::signature_path(file);
    // Through a temporary file and a rename, which replaces a symbolic
    // link at that name instead of writing where it points.
    let dir = match sig.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let fail = |e: std::io::Error| VettingError::io(&sig, "cannot write the signature", e);
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    std::io::Write::write_all(&mut tmp, key.sign(&digest).as_bytes()).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let public = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(tmp.path(), public).map_err(fail)?;
    }
    tmp.persist(&sig).map_err(|e| fail(e.error))?;
    Ok((sig, digest, key.key_id()))
}
