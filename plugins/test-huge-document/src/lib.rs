//! A hostile formatter: in `finish` it writes 4 GiB of output, a MiB at a
//! time, ignoring every refusal, and then claims success. The host must
//! refuse the document at its size cap, leave no file behind, and write
//! the run's other documents in full.

use inventag_plugin_sdk::prelude::*;

/// What it tries to write.
const TOTAL: u64 = 4 << 30;

struct Huge;

impl Formatter for Huge {
    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "huge-document".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Test only: writes gigabytes".to_string(),
            format: "huge".to_string(),
        }
    }

    fn begin(_run: RunMetadata) {}

    fn add_resources(_batch: Vec<Resource>) {}

    fn add_compliance(_report: ComplianceReport) {}

    fn finish(_coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let piece = vec![b'x'; inventag_plugin_sdk::output::PIECE];
        let mut refused = 0u64;
        let mut sent = 0u64;
        while sent < TOTAL {
            if inventag_plugin_sdk::output::write(&piece).is_err() {
                refused += 1;
            }
            sent += piece.len() as u64;
        }
        log::info(format!("wrote {sent} bytes, {refused} pieces refused"));
        Ok(Document {
            bytes: b"and a tail".to_vec(),
            extension: "txt".to_string(),
            media_type: "text/plain".to_string(),
        })
    }
}

export_formatter!(Huge);
