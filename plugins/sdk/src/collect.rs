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
    /// The (what, code) pairs [`Collection::detail`] has warned about.
    detail_warned: Vec<(String, String)>,
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
            detail_warned: Vec::new(),
            parts: 0,
            failed: 0,
            denied: 0,
        }
    }

    /// The target being collected.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The region being collected (a global service's home region).
    pub fn region(&self) -> &str {
        &self.target.region
    }

    /// Calls one operation once in the target's region; see [`aws::call`].
    pub fn call(&self, service: &str, operation: &str, input: &Value) -> Result<Value, AwsError> {
        aws::call(service, operation, &self.target.region, input)
    }

    /// Iterates over the items of the list member `member` of every page of
    /// an operation in the target's region; see [`aws::paginate_items`].
    pub fn items(&self, service: &str, operation: &str, input: &Value, member: &str) -> aws::Items {
        aws::paginate_items(service, operation, &self.target.region, input, member)
    }

    /// The output of a secondary read (a resource's tags, its settings),
    /// or `None` when it failed.
    ///
    /// The record is still worth emitting without it, so a failure does not
    /// end the part: it becomes a warning, once for each `what` and AWS
    /// error code however many resources it hits (`what` names the read in
    /// the warning, e.g. `"topic tags"`).
    pub fn detail<T>(&mut self, what: &str, result: Result<T, AwsError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                let key = (what.to_string(), e.code.clone());
                if !self.detail_warned.contains(&key) {
                    self.detail_warned.push(key);
                    self.warn(format!("{what}: {e} (not repeated for other resources)"));
                }
                None
            }
        }
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

    /// Like [`collect_items`](Self::collect_items), with a second read per
    /// item: `extra` gets the collection and the item and returns what the
    /// record needs beyond the list (its tags, its settings), typically
    /// through [`detail_at`](Self::detail_at); `to_record` gets the item and
    /// that value.
    #[allow(clippy::too_many_arguments)]
    pub fn collect_items_with(
        &mut self,
        what: &str,
        service: &str,
        operation: &str,
        input: &Value,
        member: &str,
        mut extra: impl FnMut(&mut Collection, &Value) -> Value,
        to_record: impl FnMut(&Target, &Value, &Value) -> Option<Resource>,
    ) {
        let batch = |c: &mut Collection, items: &[Value]| -> Vec<Value> {
            items.iter().map(|item| extra(c, item)).collect()
        };
        self.collect_pages_with(what, service, operation, input, member, batch, to_record);
    }

    /// Like [`collect_items_with`](Self::collect_items_with) where the
    /// second read takes many resources at once (tags by the 20, services
    /// by the 10): for each page of the list, `batch` gets the collection
    /// and the page's items and returns one value per item, in the same
    /// order (typically through [`detail_batches`](Self::detail_batches)
    /// and [`crate::value::find_by`]); a missing value is `null`.
    #[allow(clippy::too_many_arguments)]
    pub fn collect_pages_with(
        &mut self,
        what: &str,
        service: &str,
        operation: &str,
        input: &Value,
        member: &str,
        mut batch: impl FnMut(&mut Collection, &[Value]) -> Vec<Value>,
        mut to_record: impl FnMut(&Target, &Value, &Value) -> Option<Resource>,
    ) {
        self.part(what, |c| {
            let region = c.target.region.clone();
            for page in aws::paginate(service, operation, &region, input) {
                let mut page = page?;
                let list = if member.starts_with('/') {
                    page.pointer_mut(member)
                } else {
                    page.get_mut(member)
                };
                let items = match list.map(Value::take) {
                    Some(Value::Array(items)) => items,
                    _ => continue,
                };
                let extra = batch(c, &items);
                for (i, item) in items.iter().enumerate() {
                    let more = extra.get(i).unwrap_or(&Value::Null);
                    if let Some(record) = to_record(&c.target, item, more) {
                        c.emit(record);
                    }
                }
                if c.is_stopped() {
                    return Ok(());
                }
            }
            Ok(())
        });
    }

    /// Reads details of many resources, `batch_size` at a time: calls
    /// `operation` with `input` plus the member `ids_member` set to each
    /// batch of `ids`, and returns the items of the list at `pointer` (a
    /// JSON pointer such as `/TagDescriptions`) of every answer, in order.
    /// A failed batch gives nothing and a warning, as in
    /// [`detail`](Self::detail), under the name `what`.
    #[allow(clippy::too_many_arguments)]
    pub fn detail_batches(
        &mut self,
        what: &str,
        service: &str,
        operation: &str,
        input: &Value,
        ids_member: &str,
        ids: &[Value],
        batch_size: usize,
        pointer: &str,
    ) -> Vec<Value> {
        let mut found = Vec::new();
        for chunk in ids.chunks(batch_size.max(1)) {
            let mut input = input.clone();
            if let Value::Object(map) = &mut input {
                map.insert(ids_member.to_string(), Value::Array(chunk.to_vec()));
            }
            let output = aws::call(service, operation, &self.target.region, &input);
            if let Some(mut output) = self.detail(what, output)
                && let Some(Value::Array(items)) = output.pointer_mut(pointer).map(Value::take)
            {
                found.extend(items);
            }
        }
        found
    }

    /// Reads a detail of one resource in the target's region and returns
    /// the member at `pointer` (a JSON pointer such as `/Tags` or
    /// `/ResourceTagSet/Tags`) of its output, every page merged (see
    /// [`aws::paginate_all`]; an operation without pages is called once).
    /// A failed read gives `null` and a warning, as in
    /// [`detail`](Self::detail), under the name `what`.
    pub fn detail_at(
        &mut self,
        what: &str,
        service: &str,
        operation: &str,
        input: &Value,
        pointer: &str,
    ) -> Value {
        let output = aws::paginate_all(service, operation, &self.target.region, input);
        match self.detail(what, output) {
            Some(mut output) => output.pointer_mut(pointer).map(Value::take).unwrap_or_default(),
            None => Value::Null,
        }
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
