//! The AWS protocol conformance vectors (botocore's, kept unchanged in the
//! shared folder beside the checkout) run against the host's serialisers
//! and parsers. Every case is run; the figure is cases passed over all
//! cases, per protocol and direction, and must reach 95%.
//!
//! A failing case is excused only when it is on the reasoned list below
//! (a feature a read-only client never uses) or on botocore's own
//! ignore-list; every excused case is printed with its reason. Any other
//! failure is printed with what differed.
//!
//! The vectors are found through `INVENTAG_PROTOCOL_TESTS`, else at
//! `../shared/aws-protocol-tests` from the repository root.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use base64::Engine;
use inventag::gateway::{
    catalogue::{ServiceModel, ShapeType},
    protocol::{self, WireResponse},
    request_url,
};
use serde_json::{Map, Value, json};

/// Failures excused because the feature is one a read-only inventory
/// client never uses. Matched on case id or suite description.
const EXCUSED: &[(&str, &str)] = &[
    (
        "Idempotency token auto fill",
        "idempotency tokens are filled by SDKs for writes; a read-only client sends none",
    ),
    (
        "Test cases for QueryIdempotencyTokenAutoFill operation",
        "idempotency tokens are filled by SDKs for writes; a read-only client sends none",
    ),
    (
        "Test cases for PutWithContentEncoding operation",
        "request compression (gzip content encoding) is for large uploads, never reads",
    ),
    ("RestJsonHttpChecksumRequired", "request checksums (Content-MD5) guard uploads, never reads"),
    (
        "MediaTypeHeaderInputBase64",
        "media-type headers carry uploaded documents, never sent by a reader",
    ),
    (
        "Ec2ComplexError",
        "expects an empty message although the body carries one; the host keeps AWS's \
         message (also on botocore's ignore-list)",
    ),
    (
        "ComplexError",
        "expects an empty message although the body carries one; the host keeps AWS's \
         message (also on botocore's ignore-list)",
    ),
    (
        "HttpPayloadWithXmlName",
        "names the payload root after its shape, where real S3 models name it after the \
         member (also on botocore's ignore-list)",
    ),
    (
        "HttpPayloadWithXmlNamespace",
        "names the payload root after its shape, where real S3 models name it after the \
         member (also on botocore's ignore-list)",
    ),
    (
        "HttpPayloadWithXmlNamespaceAndPrefix",
        "names the payload root after its shape, where real S3 models name it after the \
         member (also on botocore's ignore-list)",
    ),
    (
        "RestXmlHttpPayloadWithUnion",
        "names the payload root after its shape, where real S3 models name it after the \
         member (also on botocore's ignore-list)",
    ),
    (
        "XmlAttributesOnPayload",
        "names the payload root after its shape, where real S3 models name it after the \
         member (also on botocore's ignore-list)",
    ),
];

struct Vectors {
    dir: PathBuf,
    ignore: Value,
}

fn vectors() -> Vectors {
    let dir = std::env::var_os("INVENTAG_PROTOCOL_TESTS").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/aws-protocol-tests")
    });
    assert!(
        dir.join("input").is_dir() && dir.join("output").is_dir(),
        "the AWS protocol test vectors are missing: expected them at {} (set \
         INVENTAG_PROTOCOL_TESTS to their folder, the one holding input/, output/ and \
         ignore-list.json)",
        dir.display()
    );
    let ignore = read_json(&dir.join("ignore-list.json"));
    Vectors { dir, ignore }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

impl Vectors {
    /// Why a failure of this case is excused, if it is.
    fn excuse(&self, protocol: &str, direction: &str, suite: &str, id: &str) -> Option<String> {
        if let Some((_, why)) = EXCUSED.iter().find(|(key, _)| *key == id || *key == suite) {
            return Some((*why).to_owned());
        }
        let listed = |list: &Value| {
            let has = |field: &str, wanted: &str| {
                list[field].as_array().is_some_and(|a| a.iter().any(|v| v == wanted))
            };
            has("suites", suite) || has("cases", id)
        };
        let general = &self.ignore["general"][direction];
        let own = &self.ignore["protocols"][protocol][direction];
        (listed(general) || listed(own)).then(|| "on botocore's own ignore-list".to_owned())
    }
}

/// The model of one suite and case, in the catalogue's format.
fn model(suite: &Value, case: &Value, direction: &str) -> (ServiceModel, String) {
    let given = &case["given"];
    let name = given["name"].as_str().unwrap_or("OperationName").to_owned();
    let mut http = given["http"].clone();
    if let Some(prefix) = given["endpoint"]["hostPrefix"].as_str() {
        http["hostPrefix"] = json!(prefix);
    }
    let mut operation = json!({"http": http});
    if let Some(input) = given.get("input") {
        operation["input"] = input.clone();
    }
    if let Some(output) = given.get("output") {
        let mut output = output.clone();
        // As botocore's own runner does: query outputs are wrapped in
        // `<OperationResult>`, which the vectors' models do not declare.
        let shape = &suite["shapes"][output["shape"].as_str().unwrap_or("")];
        let has_members = shape["members"].as_object().is_some_and(|m| !m.is_empty());
        if suite["metadata"]["protocol"] == "query" && direction == "output" && has_members {
            output["resultWrapper"] = json!(format!("{name}Result"));
        }
        operation["output"] = output;
    }
    let mut metadata = suite["metadata"].clone();
    metadata["endpointPrefix"] = json!("protocoltest");
    if metadata.get("apiVersion").is_none() {
        metadata["apiVersion"] = json!("2020-01-01");
    }
    let doc = json!({
        "service": "protocoltest",
        "metadata": metadata,
        "operations": {name.clone(): operation},
        "shapes": suite["shapes"],
    });
    let model = serde_json::from_value(doc).unwrap_or_else(|e| panic!("model of {name}: {e}"));
    (model, name)
}

#[derive(Default)]
struct Tally {
    passed: usize,
    total: usize,
    excused: Vec<(String, String)>,
    failed: Vec<(String, String)>,
}

#[test]
fn protocol_vectors_pass_at_least_95_percent() {
    let v = vectors();
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for direction in ["input", "output"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(v.dir.join(direction))
            .unwrap_or_else(|e| panic!("cannot list {direction}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let protocol = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            let suites = read_json(&file);
            let tally = tallies.entry((protocol.clone(), direction.to_owned())).or_default();
            for suite in suites.as_array().into_iter().flatten() {
                let description = suite["description"].as_str().unwrap_or("");
                for case in suite["cases"].as_array().into_iter().flatten() {
                    let id = case["id"].as_str().unwrap_or("?").to_owned();
                    tally.total += 1;
                    let outcome = std::panic::catch_unwind(|| {
                        if direction == "input" {
                            run_input(suite, case)
                        } else {
                            run_output(suite, case)
                        }
                    })
                    .unwrap_or_else(|_| Err("the runner panicked".into()));
                    match outcome {
                        Ok(()) => tally.passed += 1,
                        Err(why) => match v.excuse(&protocol, direction, description, &id) {
                            Some(reason) => {
                                if std::env::var_os("INVENTAG_PROTOCOL_VERBOSE").is_some() {
                                    println!("  excused {protocol} {direction} {id}: {why}");
                                }
                                tally.excused.push((id, reason))
                            }
                            None => tally.failed.push((id, why)),
                        },
                    }
                }
            }
        }
    }

    let (mut passed, mut total) = (0, 0);
    println!(
        "\n{:<10} {:<7} {:>7} {:>6} {:>8} {:>7}",
        "protocol", "dir", "passed", "total", "skipped", "failed"
    );
    for ((protocol, direction), t) in &tallies {
        println!(
            "{protocol:<10} {direction:<7} {:>7} {:>6} {:>8} {:>7}",
            t.passed,
            t.total,
            t.excused.len(),
            t.failed.len()
        );
        passed += t.passed;
        total += t.total;
    }
    let percent = 100.0 * passed as f64 / total.max(1) as f64;
    println!("overall: {passed}/{total} cases passed ({percent:.1}%)\n");
    println!("skipped (failed, excused):");
    for ((protocol, direction), t) in &tallies {
        for (id, reason) in &t.excused {
            println!("  {protocol} {direction} {id}: {reason}");
        }
    }
    println!("failed:");
    for ((protocol, direction), t) in &tallies {
        for (id, why) in &t.failed {
            println!("  {protocol} {direction} {id}: {why}");
        }
    }
    assert!(total > 600, "expected the whole suite, found {total} cases");
    assert!(percent >= 95.0, "only {percent:.1}% of the protocol vectors pass");
}

// ---------------------------------------------------------------- input

fn run_input(suite: &Value, case: &Value) -> Result<(), String> {
    let (model, name) = model(suite, case, "input");
    let protocol_name = suite["metadata"]["protocol"].as_str().unwrap_or("");
    let wire = protocol::serialize(&model, &name, &case["params"]).map_err(|e| e.to_string())?;
    let expected = &case["serialized"];

    // The client's configured endpoint; a suite about endpoints with a
    // path names it in the expected host.
    let expected_host = expected["host"].as_str();
    let endpoint = match expected_host {
        Some(h) if h.contains('/') => format!("https://{h}"),
        _ => "https://example.com".to_owned(),
    };
    let url = request_url(&endpoint, wire.host_prefix.as_deref(), &wire.path_and_query);
    let after_scheme = url.strip_prefix("https://").unwrap_or(&url);
    let slash = after_scheme.find('/').unwrap_or(after_scheme.len());
    let (authority, uri) = after_scheme.split_at(slash);
    if let Some(host) = expected_host {
        let wanted = host.split('/').next().unwrap_or(host);
        if authority != wanted {
            return Err(format!("host {authority:?}, expected {wanted:?}"));
        }
    }
    if let Some(method) = expected["method"].as_str()
        && wire.method != method
    {
        return Err(format!("method {}, expected {method}", wire.method));
    }
    let want_uri = expected["uri"].as_str().unwrap_or("");
    if uri != want_uri {
        return Err(format!("uri {uri:?}, expected {want_uri:?}"));
    }

    let body = String::from_utf8_lossy(&wire.body).into_owned();
    let want_body = expected["body"].as_str().unwrap_or("");
    let same = match protocol_name {
        // A case without a body says nothing about it.
        _ if expected.get("body").is_none() => true,
        "query" | "ec2" => form_pairs(&body) == form_pairs(want_body),
        "json" | "rest-json" => same_json(&body, want_body),
        "rest-xml" => same_xml(&body, want_body),
        _ => body == want_body,
    };
    if !same {
        return Err(format!("body {body:?}, expected {want_body:?}"));
    }

    let header = |name: &str| {
        wire.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    };
    for (name, want) in expected["headers"].as_object().into_iter().flatten() {
        let want = want.as_str().unwrap_or("");
        let Some(got) = header(name) else {
            return Err(format!("header {name} missing (expected {want:?})"));
        };
        if !same_header(name, got, want) {
            return Err(format!("header {name}: {got:?}, expected {want:?}"));
        }
    }
    for name in expected["forbidHeaders"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or("");
        if header(name).is_some() {
            return Err(format!("header {name} must not be sent"));
        }
    }
    // `requireHeaders` names only Content-Length, which the HTTP client
    // adds when it sends the body.
    Ok(())
}

fn same_header(name: &str, got: &str, want: &str) -> bool {
    if name.eq_ignore_ascii_case("content-type") {
        // Parameters such as `charset=utf-8` are the sender's choice.
        let media = |v: &str| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        return media(got) == media(want);
    }
    // List headers: `a, b` and `a,b` are the same list.
    got == want || got.replace(", ", ",") == want.replace(", ", ",")
}

fn form_pairs(body: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = body
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    pairs.sort();
    pairs
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn same_json(got: &str, want: &str) -> bool {
    match (serde_json::from_str::<Value>(got), serde_json::from_str::<Value>(want)) {
        (Ok(a), Ok(b)) => same_value(&a, &b),
        _ => got == want,
    }
}

/// Equality with numbers compared by value (`1` and `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() < 1e-6
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// XML documents compared as trees: element names and namespaces,
/// attributes as sets, text trimmed, whitespace-only text ignored.
fn same_xml(got: &str, want: &str) -> bool {
    if got.trim().is_empty() || want.trim().is_empty() {
        return got.trim() == want.trim();
    }
    match (roxmltree::Document::parse(got), roxmltree::Document::parse(want)) {
        (Ok(a), Ok(b)) => xml_tree(a.root_element()) == xml_tree(b.root_element()),
        _ => got == want,
    }
}

fn xml_tree(node: roxmltree::Node) -> Value {
    let mut attributes: Vec<String> = node
        .attributes()
        .map(|a| format!("{}|{}={}", a.namespace().unwrap_or(""), a.name(), a.value()))
        .collect();
    attributes.sort();
    let children: Vec<Value> = node.children().filter(|c| c.is_element()).map(xml_tree).collect();
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_owned();
    json!({
        "name": node.tag_name().name(),
        "ns": node.tag_name().namespace().unwrap_or(""),
        "attributes": attributes,
        "text": text,
        "children": children,
    })
}

// --------------------------------------------------------------- output

fn run_output(suite: &Value, case: &Value) -> Result<(), String> {
    let (model, name) = model(suite, case, "output");
    let response = &case["response"];
    let wire = WireResponse {
        status: response["status_code"].as_u64().unwrap_or(200) as u16,
        headers: response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
            .collect(),
        body: response["body"].as_str().unwrap_or("").as_bytes().to_vec(),
    };
    if let Some(expected_members) = case.get("error") {
        let parsed = protocol::parse_error(&model, &wire);
        let want_code = case["errorCode"].as_str().unwrap_or("");
        let want_message = case["errorMessage"].as_str().unwrap_or("");
        if parsed.code != want_code || parsed.message != want_message {
            return Err(format!(
                "error {:?}/{:?}, expected {want_code:?}/{want_message:?}",
                parsed.code, parsed.message
            ));
        }
        // The exception shape named by the code, directly or through its
        // `error.code`, as botocore's runner finds it.
        let error_shape = suite["shapes"].as_object().and_then(|shapes| {
            shapes
                .iter()
                .find(|(name, s)| {
                    s["exception"] == json!(true)
                        && (*name == want_code || s["error"]["code"] == json!(want_code))
                })
                .map(|(name, _)| name.clone())
        });
        let members = match error_shape {
            Some(shape) => {
                let got = protocol::parse_error_members(&model, &shape, &wire)
                    .map_err(|e| e.to_string())?;
                comparable(&model, &shape, &got)
            }
            None => json!({}),
        };
        if !same_value(&members, expected_members) {
            return Err(format!("error members {members}, expected {expected_members}"));
        }
        return Ok(());
    }
    let got = protocol::parse_output(&model, &name, &wire).map_err(|e| e.to_string())?;
    let got = match case["given"]["output"]["shape"].as_str() {
        Some(shape) => comparable(&model, shape, &got),
        None => got,
    };
    let want = &case["result"];
    if !same_value(&got, want) {
        return Err(format!("result {got}, expected {want}"));
    }
    Ok(())
}

/// The host's output in the vectors' terms: timestamps as epoch seconds,
/// blobs decoded to their UTF-8 text.
fn comparable(model: &ServiceModel, shape_name: &str, value: &Value) -> Value {
    let Some(shape) = model.shapes.get(shape_name) else { return value.clone() };
    if shape.document {
        return value.clone();
    }
    match (shape.kind, value) {
        (ShapeType::Structure, Value::Object(map)) => {
            let mut out = Map::new();
            for (k, v) in map {
                let converted = match shape.members.get(k) {
                    Some(member) if !member.jsonvalue => comparable(model, &member.shape, v),
                    _ => v.clone(),
                };
                out.insert(k.clone(), converted);
            }
            Value::Object(out)
        }
        (ShapeType::List, Value::Array(items)) => {
            let element = shape.member.as_ref().map(|m| m.shape.as_str()).unwrap_or("");
            Value::Array(items.iter().map(|i| comparable(model, element, i)).collect())
        }
        (ShapeType::Map, Value::Object(map)) => {
            let element = shape.value.as_ref().map(|m| m.shape.as_str()).unwrap_or("");
            Value::Object(
                map.iter().map(|(k, v)| (k.clone(), comparable(model, element, v))).collect(),
            )
        }
        (ShapeType::Timestamp, Value::String(text)) => epoch(text).unwrap_or_else(|| value.clone()),
        (ShapeType::Blob, Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Value::String)
            .unwrap_or_else(|| value.clone()),
        _ => value.clone(),
    }
}

/// Epoch seconds of the host's `YYYY-MM-DDTHH:MM:SS(.fff)Z`.
fn epoch(text: &str) -> Option<Value> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>());
    let (h, min, s) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + h * 3600 + min * 60 + s;
    if fraction.is_empty() {
        return Some(json!(secs));
    }
    let f: f64 = format!("0.{fraction}").parse().ok()?;
    Some(json!(secs as f64 + f))
}
