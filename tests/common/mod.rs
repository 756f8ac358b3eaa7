//! Shared harness for the end-to-end tests: a moto server on a free
//! loopback port, the seeding script, the built plugins, and the
//! `inventag` binary. `scripts/test.sh` sets the variables these read.
#![allow(dead_code)]

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn required_env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests through scripts/test.sh"))
}

/// The directory of the shipped plugins.
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(required_env("INVENTAG_PLUGIN_DIR"))
}

/// The directory of the test-only plugins.
pub fn test_plugin_dir() -> PathBuf {
    PathBuf::from(required_env("INVENTAG_TEST_PLUGIN_DIR"))
}

/// A moto server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Starts moto and waits until it accepts connections.
    ///
    /// Tests of one binary start servers in parallel, so a port is never
    /// handed out twice in a process (two servers on one port would answer
    /// for each other), and a server that is gone once its port answers is
    /// started again on another.
    pub fn start() -> Moto {
        static USED: Mutex<Vec<u16>> = Mutex::new(Vec::new());
        let server = std::env::var("INVENTAG_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        for _ in 0..5 {
            let port = loop {
                let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
                let mut used = USED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if !used.contains(&port) {
                    used.push(port);
                    break port;
                }
            };
            let child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
            let mut moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
            let deadline = Instant::now() + Duration::from_secs(60);
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "moto did not start on port {port}");
                if moto.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            std::thread::sleep(Duration::from_millis(300));
            if moto.child.try_wait().ok().flatten().is_none() {
                return moto;
            }
        }
        panic!("moto did not stay up on any of five ports");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the seeding script created and read back.
pub struct Seeded {
    /// The accounts file it wrote.
    pub accounts_file: PathBuf,
    /// The directory of the AWS config and credentials files.
    pub profile_dir: PathBuf,
    /// The manifest: accounts, regions and the expected resources.
    pub manifest: Value,
}

/// Seeds moto with the EC2 fixture, in `dir`.
pub fn seed(moto: &Moto, dir: &Path, accounts: &str, regions: &str) -> Seeded {
    let python = std::env::var("INVENTAG_PYTHON").unwrap_or_else(|_| "python3".into());
    let profile_dir = dir.join("aws");
    let manifest_path = dir.join("manifest.json");
    let accounts_file = dir.join("accounts.json");
    let out = Command::new(python)
        .arg(repo().join("tests/fixtures/seed.py"))
        .args(["--accounts", accounts, "--regions", regions])
        .arg("--profile-dir")
        .arg(&profile_dir)
        .arg("--manifest")
        .arg(&manifest_path)
        .arg("--accounts-file")
        .arg(&accounts_file)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("cannot run the seeding script");
    assert!(out.status.success(), "seeding failed: {}", String::from_utf8_lossy(&out.stderr));
    let manifest = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    Seeded { accounts_file, profile_dir, manifest }
}

/// Runs `inventag` with `args`, reaching moto through the seeded profiles
/// and nothing else from the environment's AWS settings.
pub fn inventag(
    moto: Option<&Moto>,
    profile_dir: Option<&Path>,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inventag"));
    cmd.args(args);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(m) = moto {
        cmd.env("AWS_ENDPOINT_URL", &m.url);
    }
    if let Some(dir) = profile_dir {
        cmd.env("AWS_CONFIG_FILE", dir.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot run inventag")
}

/// Runs `inventag run` on the seeded accounts against moto, writing into
/// `out_dir` with the plugins of `plugins`, and `extra` flags.
pub fn run_seeded(
    moto: &Moto,
    seeded: &Seeded,
    out_dir: &Path,
    plugins: &Path,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "run",
        "--accounts-file",
        seeded.accounts_file.to_str().unwrap(),
        "--output-dir",
        out_dir.to_str().unwrap(),
        "--plugin-dir",
        plugins.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    inventag(Some(moto), Some(&seeded.profile_dir), &args, &[])
}

/// The single JSON BOM of `dir` (the compliance report beside it is
/// another file), parsed.
pub fn read_json_bom(dir: &Path) -> Value {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("inventag-bom-") && !n.ends_with(".cdx.json")
            })
        })
        .collect();
    assert_eq!(files.len(), 1, "expected one JSON BOM in {}, found {files:?}", dir.display());
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("inventag-bom-") && name.ends_with(".json"), "unexpected name {name}");
    serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).expect("the BOM is not valid JSON")
}

/// A plugin directory holding copies of the named plugin files, with a
/// lock file made of their entries in the locks beside them (which
/// `scripts/build-plugins.sh` wrote when it built them).
pub fn plugin_set(dir: &Path, files: &[PathBuf]) -> PathBuf {
    let set = dir.join("plugins");
    std::fs::create_dir_all(&set).unwrap();
    let mut entries = Vec::new();
    for f in files {
        let name = f.file_name().unwrap();
        std::fs::copy(f, set.join(name)).unwrap();
        let lock = f.parent().unwrap().join("inventag-plugins.lock");
        let lock: Value = serde_json::from_slice(&std::fs::read(&lock).unwrap()).unwrap();
        let entry = lock["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["file"].as_str() == name.to_str())
            .unwrap_or_else(|| panic!("{} is not in the lock beside it", f.display()));
        entries.push(entry.clone());
    }
    let lock = serde_json::json!({"version": 1, "plugins": entries});
    std::fs::write(set.join("inventag-plugins.lock"), lock.to_string()).unwrap();
    set
}
pub mod proxy;
