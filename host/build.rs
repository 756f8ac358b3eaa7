//! Embeds the operation catalogue: one compressed model per AWS service,
//! generated from botocore by `scripts/gen-catalogue.py`, listed here in a
//! sorted table so the host can find a service without scanning.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("catalogue");
    // Relative paths: a shared build cache may hold a build made from
    // another checkout of this tree, and cargo must compare this one's files.
    // The WIT contract is read by the runtime's bindings macro.
    println!("cargo:rerun-if-changed=catalogue");
    println!("cargo:rerun-if-changed=../wit");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("host/catalogue is missing: run scripts/gen-catalogue.py")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json.gz").map(str::to_owned))
        .collect();
    names.sort();
    let mut out = String::from("pub(crate) static EMBEDDED: &[(&str, &[u8])] = &[\n");
    for name in &names {
        let path = dir.join(format!("{name}.json.gz"));
        out.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("catalogue_index.rs");
    fs::write(dest, out).unwrap();
}
