//! The audit log: one JSON line for every AWS call of a run, allowed or
//! denied, whoever made it, and the tally the compliance report is built
//! from ([`report`]).
//!
//! A record holds who called (plugin and version, or `inventag` for the
//! host), where (account, region), what (service, operation), the verdict
//! and the rule that decided it, and how the exchange went (HTTP status,
//! AWS request id, duration, retries, error code). It never holds an
//! input, an output, a header or an error message: nothing that could
//! carry a secret. Strings a plugin chose (service and operation names)
//! are cut to [`MAX_NAME_CHARS`] and stripped of control characters.
//!
//! Calls through the gateway are recorded by the gateway. The host's
//! credential steps, which use the AWS SDK directly (STS, Secrets Manager,
//! Organizations), are recorded through [`sdk`] with the rule
//! `host-credentials`: the validator does not judge them, since they are
//! fixed in the host's code.

pub mod report;
pub mod sdk;

use std::{
    collections::BTreeMap,
    fmt,
    io::Write,
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
    time::Duration,
};

use serde::Serialize;

use crate::{gateway::CallError, validator::Standard};
pub use report::{ComplianceReport, Severity};

/// The longest service or operation name kept in a record.
pub const MAX_NAME_CHARS: usize = 128;

/// The rule of the host's own credential calls, made outside the gateway.
pub const HOST_CREDENTIALS_RULE: &str = "host-credentials";

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The file could not be opened for appending.
    #[error("{file}: cannot open the audit log: {source}")]
    Open {
        /// The file.
        file: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// When the call started, ISO-8601 UTC with milliseconds.
    pub time: String,
    /// The run it belongs to, as in the BOM.
    pub run_id: String,
    /// The standard in force.
    pub standard: Standard,
    /// The plugin's name, or `inventag` for the host.
    pub plugin: String,
    /// The plugin's version, or the host's.
    pub plugin_version: String,
    /// The collector part the call was made for, when the collector was
    /// run a part at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// The 12-digit account.
    pub account_id: String,
    /// The region called.
    pub region: String,
    /// The service, as the catalogue names it.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// `allowed` or `denied`.
    pub verdict: &'static str,
    /// The rule that decided.
    pub rule: String,
    /// The last HTTP status, when a response came.
    pub http_status: Option<u16>,
    /// AWS's request id of the last response, when it gave one.
    pub request_id: Option<String>,
    /// From the start of the call to its end, retries included.
    pub duration_ms: u64,
    /// Attempts after the first.
    pub retries: u32,
    /// The error code when the call failed (`AccessDenied`,
    /// `UnsupportedProtocol`); never the message.
    pub error_code: Option<String>,
}

/// What the gateway saw of one call's HTTP exchanges.
#[derive(Clone, Debug, Default)]
pub struct Exchange {
    /// Attempts made, the first included.
    pub attempts: u32,
    /// The last response's status.
    pub http_status: Option<u16>,
    /// The last response's request id.
    pub request_id: Option<String>,
}

impl Exchange {
    /// Notes a response: its status and request id header.
    pub fn observe(&mut self, status: u16, headers: &[(String, String)]) {
        self.http_status = Some(status);
        self.request_id = ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
            .iter()
            .find_map(|h| headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(h)))
            .map(|(_, v)| clean(v, MAX_NAME_CHARS));
    }
}

/// Who called, where and what: the parts of a record the caller knows.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The caller's label, `name@version`, or `inventag`.
    pub caller: &'a str,
    /// The collector part it works for, if any.
    pub part: Option<&'a str>,
    /// The account.
    pub account_id: &'a str,
    /// The region.
    pub region: &'a str,
    /// The service.
    pub service: &'a str,
    /// The operation.
    pub operation: &'a str,
    /// When it started.
    pub started: std::time::SystemTime,
    /// How long it took.
    pub elapsed: Duration,
}

/// `(service, operation, verdict, rule)`.
pub(crate) type OperationKey = (String, String, &'static str, String);

/// `(plugin, account, region, service, operation, rule)`.
pub(crate) type BlockedKey = (String, String, String, String, String, String);

/// `(plugin, service, operation)`.
pub(crate) type DeclaredKey = (String, String, String);

/// The tally the compliance report is made from.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Calls by operation, verdict and rule.
    pub(crate) operations: BTreeMap<OperationKey, u64>,
    /// Denied calls, with the reason and a count.
    pub(crate) blocked: BTreeMap<BlockedKey, (String, u64)>,
    /// Declared operations the standard denies, with the rule and reason.
    pub(crate) declared: BTreeMap<DeclaredKey, (&'static str, String)>,
    /// Plugins run without being vetted (`--allow-unvetted`), by label,
    /// with what was wrong.
    pub(crate) unvetted: BTreeMap<String, String>,
}

/// The audit log of one run.
pub struct AuditLog {
    run_id: String,
    standard: Standard,
    file: Option<PathBuf>,
    writer: Mutex<Option<Box<dyn Write + Send>>>,
    tally: Mutex<Tally>,
    write_error: Mutex<Option<String>>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("run_id", &self.run_id)
            .field("standard", &self.standard)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A log that writes each record to `writer` (named `file` in
    /// messages) and keeps the tally; `None` keeps the tally only.
    pub fn new(
        run_id: String,
        standard: Standard,
        sink: Option<(PathBuf, Box<dyn Write + Send>)>,
    ) -> AuditLog {
        let (file, writer) = match sink {
            Some((file, writer)) => (Some(file), Some(writer)),
            None => (None, None),
        };
        AuditLog {
            run_id,
            standard,
            file,
            writer: Mutex::new(writer),
            tally: Mutex::new(Tally::default()),
            write_error: Mutex::new(None),
        }
    }

    /// A log appending to `path` (created if missing, kept if present:
    /// every record names its run).
    pub fn append_to(path: &Path, run_id: String, standard: Standard) -> Result<Self, AuditError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| AuditError::Open { file: path.to_owned(), source })?;
        Ok(AuditLog::new(run_id, standard, Some((path.to_owned(), Box::new(file)))))
    }

    /// The run id every record carries.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The standard in force.
    pub fn standard(&self) -> Standard {
        self.standard
    }

    /// The file records go to, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The first write failure, if any; the run reports it as a problem.
    pub fn write_error(&self) -> Option<String> {
        self.write_error.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Records a call the gateway refused before sending.
    pub fn refused(&self, call: Call<'_>, error: &CallError) {
        let rule = refusal_rule(error);
        let record = self.record(call, "denied", rule.clone(), None, Some(&error.code));
        let key = (
            record.plugin_label(),
            record.account_id.clone(),
            record.region.clone(),
            record.service.clone(),
            record.operation.clone(),
            rule,
        );
        {
            let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = tally.blocked.entry(key).or_insert_with(|| (clean(&error.message, 500), 0));
            entry.1 += 1;
        }
        self.write(record);
    }

    /// Records a call the gateway sent, allowed by `rule`.
    pub fn sent(
        &self,
        call: Call<'_>,
        rule: &str,
        exchange: &Exchange,
        outcome: Result<(), &CallError>,
    ) {
        let mut exchange = exchange.clone();
        if let Err(e) = outcome {
            exchange.http_status = exchange.http_status.or(e.http_status);
            if exchange.request_id.is_none() {
                exchange.request_id = e.request_id.as_deref().map(|id| clean(id, MAX_NAME_CHARS));
            }
        }
        let code = outcome.err().map(|e| e.code.as_str());
        let record = self.record(call, "allowed", rule.to_owned(), Some(&exchange), code);
        self.write(record);
    }

    /// Records one of the host's own calls made through the AWS SDK.
    pub fn host_sdk_call(&self, call: Call<'_>, exchange: &Exchange, error_code: Option<&str>) {
        let record = self.record(
            call,
            "allowed",
            HOST_CREDENTIALS_RULE.to_owned(),
            Some(exchange),
            error_code,
        );
        self.write(record);
    }

    /// Notes that `plugin` declared an operation the standard denies.
    pub fn declared_denied(
        &self,
        plugin: &str,
        service: &str,
        operation: &str,
        rule: &'static str,
        reason: &str,
    ) {
        let key = (
            clean(plugin, MAX_NAME_CHARS),
            clean(service, MAX_NAME_CHARS),
            clean(operation, MAX_NAME_CHARS),
        );
        let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        tally.declared.insert(key, (rule, clean(reason, 500)));
    }

    /// Records that a plugin ran without being vetted, under
    /// `--allow-unvetted`: a high finding of kind `unvetted-plugin`.
    pub fn unvetted_plugin(&self, plugin: &str, why: &str) {
        let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        tally.unvetted.insert(clean(plugin, MAX_NAME_CHARS), clean(why, 500));
    }

    /// The compliance report of what was recorded so far.
    pub fn report(&self) -> ComplianceReport {
        let tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        ComplianceReport::from_tally(&self.run_id, self.standard, &tally)
    }

    fn record(
        &self,
        call: Call<'_>,
        verdict: &'static str,
        rule: String,
        exchange: Option<&Exchange>,
        error_code: Option<&str>,
    ) -> AuditRecord {
        let (plugin, plugin_version) = split_label(call.caller);
        AuditRecord {
            time: iso8601_millis(call.started),
            run_id: self.run_id.clone(),
            standard: self.standard,
            plugin,
            plugin_version,
            part: call.part.map(|p| clean(p, MAX_NAME_CHARS)),
            account_id: clean(call.account_id, MAX_NAME_CHARS),
            region: clean(call.region, MAX_NAME_CHARS),
            service: clean(call.service, MAX_NAME_CHARS),
            operation: clean(call.operation, MAX_NAME_CHARS),
            verdict,
            rule,
            http_status: exchange.and_then(|e| e.http_status),
            request_id: exchange.and_then(|e| e.request_id.clone()),
            duration_ms: call.elapsed.as_millis().try_into().unwrap_or(u64::MAX),
            retries: exchange.map_or(0, |e| e.attempts.saturating_sub(1)),
            error_code: error_code.map(|c| clean(c, MAX_NAME_CHARS)),
        }
    }

    fn write(&self, record: AuditRecord) {
        {
            let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
            let key = (
                record.service.clone(),
                record.operation.clone(),
                record.verdict,
                record.rule.clone(),
            );
            *tally.operations.entry(key).or_insert(0) += 1;
        }
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(out) = writer.as_mut() else { return };
        let result =
            serde_json::to_vec(&record).map_err(std::io::Error::other).and_then(|mut line| {
                line.push(b'\n');
                out.write_all(&line)?;
                out.flush()
            });
        if let Err(e) = result {
            let mut first = self.write_error.lock().unwrap_or_else(PoisonError::into_inner);
            let file = self.file.as_deref().map(Path::display);
            first.get_or_insert_with(|| match file {
                Some(file) => format!("{file}: cannot write the audit log: {e}"),
                None => format!("cannot write the audit log: {e}"),
            });
        }
    }
}

impl AuditRecord {
    fn plugin_label(&self) -> String {
        format!("{}@{}", self.plugin, self.plugin_version)
    }
}

/// The rule a refusal is recorded under: the validator's rule, or what
/// the gateway checked before asking it.
fn refusal_rule(error: &CallError) -> String {
    match (error.kind, error.code.as_str()) {
        (crate::gateway::ErrorKind::Denied, code) => clean(code, MAX_NAME_CHARS),
        (_, "InvalidRegion") => "invalid-region".into(),
        (_, "UnknownService" | "UnknownOperation") => {
            crate::validator::rules::UNKNOWN_OPERATION.into()
        }
        (_, "InvalidInput") => "invalid-input".into(),
        _ => "host-refusal".into(),
    }
}

/// `name@version` into its parts; the host's label is `inventag`.
fn split_label(label: &str) -> (String, String) {
    match label.rsplit_once('@') {
        Some((name, version)) => (clean(name, MAX_NAME_CHARS), clean(version, MAX_NAME_CHARS)),
        None if label == "inventag" => ("inventag".into(), crate::VERSION.into()),
        None => (clean(label, MAX_NAME_CHARS), String::new()),
    }
}

/// At most `max` characters of `text`, control characters replaced.
pub(crate) fn clean(text: &str, max: usize) -> String {
    text.chars().take(max).map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

/// `time` as ISO-8601 UTC with milliseconds.
pub fn iso8601_millis(time: std::time::SystemTime) -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    let exact = DateTime::from(time);
    let millis = exact.to_millis().map(DateTime::from_millis).unwrap_or(exact);
    let text = millis.fmt(Format::DateTime).unwrap_or_else(|_| exact.secs().to_string());
    // Whole seconds print without a fraction; keep the width constant.
    match text.strip_suffix('Z') {
        Some(body) if !body.contains('.') => format!("{body}.000Z"),
        Some(body) => {
            let fraction = body.rsplit('.').next().map_or(0, str::len);
            format!("{body}{}Z", "0".repeat(3usize.saturating_sub(fraction)))
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::Arc,
        time::{Duration, SystemTime},
    };

    use super::*;
    use crate::gateway::ErrorKind;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn call<'a>(operation: &'a str) -> Call<'a> {
        Call {
            caller: "probe@1.2.3",
            part: None,
            account_id: "111111111111",
            region: "us-east-1",
            service: "ec2",
            operation,
            started: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_120),
            elapsed: Duration::from_millis(42),
        }
    }

    #[test]
    fn records_hold_the_documented_fields_and_nothing_of_the_call_itself() {
        let out = Shared::default();
        let log = AuditLog::new(
            "run-1".into(),
            Standard::General,
            Some(("audit.jsonl".into(), Box::new(out.clone()))),
        );
        let exchange =
            Exchange { attempts: 3, http_status: Some(200), request_id: Some("req-1".into()) };
        log.sent(call("DescribeVpcs"), "read-only", &exchange, Ok(()));
        let denied = CallError::host(
            ErrorKind::Denied,
            "not-read-only",
            "ec2:TerminateInstances is Write".into(),
        );
        log.refused(call("TerminateInstances"), &denied);

        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first["time"], "2023-11-14T22:13:20.120Z");
        assert_eq!(first["plugin"], "probe");
        assert_eq!(first["plugin_version"], "1.2.3");
        assert_eq!(first["verdict"], "allowed");
        assert_eq!(first["retries"], 2);
        assert_eq!(first["request_id"], "req-1");
        assert_eq!(first["duration_ms"], 42);
        let second = &lines[1];
        assert_eq!(
            (second["verdict"].as_str(), second["rule"].as_str()),
            (Some("denied"), Some("not-read-only"))
        );
        let fields: Vec<&String> = second.as_object().unwrap().keys().collect();
        assert_eq!(
            fields,
            [
                "time",
                "run_id",
                "standard",
                "plugin",
                "plugin_version",
                "account_id",
                "region",
                "service",
                "operation",
                "verdict",
                "rule",
                "http_status",
                "request_id",
                "duration_ms",
                "retries",
                "error_code"
            ]
        );
        assert!(!text.contains("is Write"), "a message reached the audit log");

        let report = log.report();
        assert_eq!(report.summary.allowed_calls, 1);
        assert_eq!(report.blocked.len(), 1);
    }

    #[test]
    fn plugin_chosen_names_are_cut_and_cleaned() {
        let log = AuditLog::new("run-1".into(), Standard::General, None);
        let long = format!("Describe\u{1b}[31m{}", "X".repeat(500));
        let record = log.record(call(&long), "denied", "undeclared".into(), None, None);
        assert_eq!(record.operation.chars().count(), MAX_NAME_CHARS);
        assert!(!record.operation.contains('\u{1b}'));
    }
}
