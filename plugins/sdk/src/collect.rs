//! Running a collection made of independent parts.
//!
//! A collector usually lists several resource types, one AWS operation
//! each. One of them failing (access denied to `DescribeVolumes`, say) must
//! not stop the others. [`Collection`] runs each part, turns a part's error
//! into a warning, emits records through an [`Emitter`], stops when the
//! host's record limit is reached, and at the end decides between a
//! [`CollectSummary`] and a [`CollectError`].

use serde_json::Value;

use crate::aws::{self, AwsError};
use crate::collector::{CollectError, CollectSummary, Resource, Target};
use crate::emit::{EmitError, Emitter};
use crate::log;
use crate::record::ResourceBuilder;

/// One `collect` call in progress; see the [module docs](self).
///
/// ```ignore
/// fn collect(target: Target) -> Result<CollectSummary, CollectError> {
///     let mut c = Collection::new(&target);
///     c.collect_items("volumes", "ec2", "DescribeVolumes", &json!({}), "Volumes", volume);
///     c.collect_items("vpcs", "ec2", "DescribeVpcs", &json!({}), "Vpcs", vpc);
///     c.finish()
/// }
/// ```
#[derive(Debug)]
pub struct Collection {
    target: Target,
    emitter: Emitter,
    warnings: Vec<String>,
    parts: u32,
    failed: u32,
    denied: u32,
}

impl Collection {
    /// Starts a collection of `target`.
    pub fn new(target: &Target) -> Self {
        Collection {
            target: target.clone(),
            emitter: Emitter::new(),
            warnings: Vec::new(),
            parts: 0,
            failed: 0,
            denied: 0,
        }
    }

    /// The target being collected.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Starts a record of this target; see [`ResourceBuilder::new`].
    pub fn builder(&self, service: &str, resource_type: &str, id: &str) -> ResourceBuilder {
        ResourceBuilder::new(&self.target, service, resource_type, id)
    }

    /// Adds a warning to the summary and writes it to the log.
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        log::warn(&message);
        self.warnings.push(message);
    }

    /// The warnings so far.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Hands one record to the emitter. A refused batch becomes a warning;
    /// once the host's record limit is reached the collection is stopped
    /// and later records are dropped.
    pub fn emit(&mut self, record: Resource) {
        if self.emitter.is_stopped() {
            return;
        }
        let dropped = self.emitter.dropped();
        if let Err(e) = self.emitter.push(record) {
            self.emit_failed(e, dropped);
        }
    }

    fn emit_failed(&mut self, error: EmitError, dropped_before: u64) {
        let lost = self.emitter.dropped() - dropped_before;
        match error {
            EmitError::LimitReached(limit) => self.warn(format!(
                "the host's limit of {limit} records was reached; collection stopped \
                 ({lost} records dropped)"
            )),
            EmitError::Invalid(why) => {
                self.warn(format!("the host refused a batch of {lost} records: {why}"))
            }
        }
    }

    /// True once the host's record limit is reached; a part should stop.
    pub fn is_stopped(&self) -> bool {
        self.emitter.is_stopped()
    }

    /// How many records the host has accepted so far.
    pub fn emitted(&self) -> u64 {
        self.emitter.emitted()
    }

    /// Whether the host asked for `what` (every part, when it named none).
    pub fn wants(&self, what: &str) -> bool {
        self.target.part.as_deref().is_none_or(|p| p == what)
    }

    /// Runs one part of the collection (`what` names it in warnings, e.g.
    /// `"volumes"`, and must be one of the collector's declared `parts`).
    /// An error from the part becomes a warning and counts as a failed
    /// part; a stopped collection, or one the host asked for another part
    /// of, skips the part.
    pub fn part(&mut self, what: &str, run: impl FnOnce(&mut Self) -> Result<(), AwsError>) {
        if self.is_stopped() || !self.wants(what) {
            return;
        }
        self.parts += 1;
        if let Err(e) = run(self) {
            self.failed += 1;
            if e.is_denial() {
                self.denied += 1;
            }
            self.warn(format!("{what}: {e}"));
        }
    }

    /// Runs a part that pages through one list operation and emits a record
    /// for each item of the list member `member` (see
    /// [`aws::paginate_items`]); `to_record` may skip an item with `None`.
    pub fn collect_items(
        &mut self,
        what: &str,
        service: &str,
        operation: &str,
        input: &Value,
        member: &str,
        mut to_record: impl FnMut(&Target, &Value) -> Option<Resource>,
    ) {
        self.part(what, |c| {
            let region = c.target.region.clone();
            for item in aws::paginate_items(service, operation, &region, input, member) {
                if let Some(record) = to_record(&c.target, &item?) {
                    c.emit(record);
                }
                if c.is_stopped() {
                    break;
                }
            }
            Ok(())
        });
    }

    /// Emits what is buffered and ends the collection.
    ///
    /// Returns a [`CollectError`] only when every part failed and nothing
    /// was emitted; `access-denied` is set when every failure was a denial.
    /// Otherwise returns the summary, with one warning per failed part.
    pub fn finish(mut self) -> Result<CollectSummary, CollectError> {
        let dropped = self.emitter.dropped();
        if let Err(e) = self.emitter.flush() {
            self.emit_failed(e, dropped);
        }
        let emitted = self.emitter.emitted();
        if let (Some(asked), 0) = (&self.target.part, self.parts) {
            return Err(CollectError {
                message: format!("this collector has no part named {asked:?}"),
                access_denied: false,
            });
        }
        if self.parts > 0 && self.failed == self.parts && emitted == 0 {
            let message = if self.warnings.len() == 1 {
                self.warnings.remove(0)
            } else {
                format!("every operation failed: {}", self.warnings.join("; "))
            };
            return Err(CollectError { message, access_denied: self.denied == self.failed });
        }
        Ok(CollectSummary { emitted, warnings: self.warnings })
    }
}
