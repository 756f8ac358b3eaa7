//! Shared harness for the end-to-end tests: a moto server on a free
//! loopback port, the seeding script, the built plugins, and the
//! `inventag` binary. `scripts/test.sh` sets the variables these read.
#![allow(dead_code)]

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Output, Stdio},
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
    /// The pipe a watched server's keeper reads; see [`Moto::start_shared`].
    keeper: Option<ChildStdin>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

/// Runs the command of its arguments and stops it when its own stdin ends
/// (the test process holding the other end exited), or exits with it.
const KEEPER: &str = "import subprocess, sys, threading
server = subprocess.Popen(sys.argv[1:])
def watch():
    sys.stdin.read()
    server.terminate()
threading.Thread(target=watch, daemon=True).start()
sys.exit(server.wait())
";

impl Moto {
    /// Starts moto for a whole test binary, to be kept in a static and
    /// shared by its tests. A static is never dropped, so the server is
    /// held by a small Python keeper that stops it when the test process
    /// ends, however it ends.
    pub fn start_shared() -> Moto {
        Moto::launch(true)
    }

    /// Starts moto and waits until it accepts connections.
    ///
    /// Tests of one binary start servers in parallel, so a port is never
    /// handed out twice in a process (two servers on one port would answer
    /// for each other), and a server that is gone once its port answers is
    /// started again on another.
    pub fn start() -> Moto {
        Moto::launch(false)
    }

    fn launch(kept: bool) -> Moto {
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
            let port_text = port.to_string();
            let mut command = if kept {
                let python = std::env::var("INVENTAG_PYTHON").unwrap_or_else(|_| "python3".into());
                let mut c = Command::new(python);
                c.args(["-c", KEEPER, &server]).stdin(Stdio::piped());
                c
            } else {
                Command::new(&server)
            };
            let mut child = command
                .args(["-H", "127.0.0.1", "-p", &port_text])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
            let keeper = child.stdin.take();
            let mut moto = Moto { child, keeper, url: format!("http://127.0.0.1:{port}") };
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
        // A keeper stops its server when its pipe closes; killing the
        // keeper would leave the server running.
        if self.keeper.take().is_none() {
            let _ = self.child.kill();
        }
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
    seed_suite(moto, dir, accounts, regions, "ec2")
}

/// Seeds moto with a suite of `tests/fixtures/seed.py` (`ec2`, or `full`:
/// every type of every collector), in `dir`.
pub fn seed_suite(moto: &Moto, dir: &Path, accounts: &str, regions: &str, suite: &str) -> Seeded {
    let python = std::env::var("INVENTAG_PYTHON").unwrap_or_else(|_| "python3".into());
    let profile_dir = dir.join("aws");
    let manifest_path = dir.join("manifest.json");
    let accounts_file = dir.join("accounts.json");
    let out = Command::new(python)
        .arg(repo().join("tests/fixtures/seed.py"))
        .args(["--accounts", accounts, "--regions", regions, "--suite", suite])
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
    let mut cmd = inventag_command(moto, profile_dir, args);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot run inventag")
}

/// The `inventag` command with `args`, its environment cleared of AWS
/// settings, pointed at moto's URL and the profiles of `profile_dir`.
pub fn inventag_command(moto: Option<&Moto>, profile_dir: Option<&Path>, args: &[&str]) -> Command {
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
    cmd
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
    run(Some(moto), seeded, out_dir, plugins, extra)
}

/// `inventag run` over the seeded accounts with the plugins of `plugins`,
/// the JSON document written to `out`, and `extra` arguments.
pub fn run_json(
    moto: Option<&Moto>,
    seeded: &Seeded,
    plugins: &Path,
    out: &Path,
    extra: &[&str],
) -> Output {
    let mut args = vec!["--formats", "json"];
    args.extend_from_slice(extra);
    run(moto, seeded, out, plugins, &args)
}

fn run(
    moto: Option<&Moto>,
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
    inventag(moto, Some(&seeded.profile_dir), &args, &[])
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

/// The access key id of a seeded profile (`inventag-ACCOUNT`), as a fault
/// proxy sees it in each request's signature.
pub fn profile_key(profile_dir: &Path, account: &str) -> String {
    let text = std::fs::read_to_string(profile_dir.join("credentials")).unwrap();
    let section = format!("[inventag-{account}]");
    let rest = &text[text.find(&section).expect("profile") + section.len()..];
    rest.lines()
        .find_map(|l| l.trim().strip_prefix("aws_access_key_id"))
        .map(|v| v.trim_start_matches([' ', '=']).trim().to_owned())
        .expect("aws_access_key_id")
}

/// The manifest's expected resources that the named collectors report.
pub fn expected_of<'a>(manifest: &'a Value, collectors: &[&str]) -> Vec<&'a Value> {
    let covered: Vec<&str> =
        manifest["collectors"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for c in collectors {
        assert!(covered.contains(c), "the manifest does not cover the collector {c}: {covered:?}");
    }
    manifest["expected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| collectors.iter().any(|c| e["collector"] == *c))
        .collect()
}

/// The shipped collector of that name, `dist/plugins/collector-NAME.wasm`.
pub fn collector(name: &str) -> PathBuf {
    plugin_dir().join(format!("collector-{name}.wasm"))
}

/// The shipped formatter of that format, `dist/plugins/formatter-NAME.wasm`.
pub fn formatter(format: &str) -> PathBuf {
    plugin_dir().join(format!("formatter-{format}.wasm"))
}

/// Loads every plugin of `dir` with the host's own runtime, as a run
/// does: what each says of itself in `describe`.
pub fn load_plugins(dir: &Path) -> inventag::runtime::Plugins {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let rt = inventag::runtime::Runtime::new(inventag::runtime::Limits::default())
            .expect("the plugin runtime starts");
        let plugins = rt.load_dir(dir).await.expect("the plugin directory is readable");
        assert!(plugins.problems.is_empty(), "plugins failed to load: {:?}", plugins.problems);
        plugins
    })
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
/// The records of the one audit log in `dir`, parsed.
pub fn audit_records(dir: &Path) -> Vec<Value> {
    let log = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("inventag-audit-"))
        .unwrap_or_else(|| panic!("no audit log in {}", dir.display()));
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an audit line is JSON"))
        .collect()
}

pub mod proxy;
