//! A malformed accounts file stops `inventag run` before any AWS call,
//! with a message naming the file and the field, and never a panic.

mod common;

fn run_with(name: &str, content: &str) -> (i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(name);
    std::fs::write(&file, content).unwrap();
    let plugins = tmp.path().join("no-plugins-needed");
    let out = common::inventag(
        None,
        None,
        &[
            "run",
            "--accounts-file",
            file.to_str().unwrap(),
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--output-dir",
            tmp.path().join("out").to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "inventag panicked:\n{stderr}");
    assert!(
        stderr.contains(file.to_str().unwrap()),
        "the message does not name the file:\n{stderr}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing should be written for a bad accounts file");
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn bad_json_names_the_file_and_the_position() {
    let (code, stderr) =
        run_with("accounts.json", "{\"accounts\": [ {\"account_id\": \"123456789012\" ");
    assert_ne!(code, 0);
    assert!(stderr.contains("not valid JSON") && stderr.contains("line"), "{stderr}");
}

#[test]
fn unknown_field_is_named() {
    let (code, stderr) = run_with(
        "accounts.json",
        r#"{"accounts":[{"account_id":"123456789012","profile":"prod"}]}"#,
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("accounts[0]") && stderr.contains("`profile`"), "{stderr}");
}

#[test]
fn numeric_account_id_is_refused_with_the_number_read() {
    let (code, stderr) = run_with("accounts.json", r#"{"accounts":[{"account_id":123456789012}]}"#);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("accounts[0].account_id") && stderr.contains("123456789012"),
        "{stderr}"
    );
}

#[test]
fn short_account_id_is_refused() {
    let (code, stderr) = run_with("accounts.json", r#"{"accounts":[{"account_id":"12345"}]}"#);
    assert_ne!(code, 0);
    assert!(stderr.contains("accounts[0].account_id") && stderr.contains("\"12345\""), "{stderr}");
}

#[test]
fn unquoted_yaml_account_id_is_refused() {
    let (code, stderr) = run_with("accounts.yaml", "accounts:\n  - account_id: 123456789012\n");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("accounts[0].account_id") && stderr.contains("123456789012"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn empty_account_list_is_refused() {
    let (code, stderr) = run_with("accounts.json", r#"{"accounts":[]}"#);
    assert_ne!(code, 0);
    assert!(stderr.contains("`accounts`"), "{stderr}");
}
