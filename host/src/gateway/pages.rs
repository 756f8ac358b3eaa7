//! Pagination driven by the catalogue's paginator definitions, the same
//! for every protocol. The host follows the token; a caller gets one page
//! at a time ([`Pages::next`]) or every page merged ([`Pages::merged`]).
//!
//! Tokens are read with the small path language botocore's definitions
//! use: `NextToken`, `Paging.Next`, `Shards[-1].ShardId`, and
//! alternatives joined by `||` (`NextMarker || Contents[-1].Key`). A
//! missing or empty token ends the loop, as does a `more_results` flag
//! (`IsTruncated`) that is not true; an empty page that still carries a
//! token does not. A token seen before is a `PaginationLoop` error, and a
//! page cap bounds every loop.

use std::{collections::HashSet, sync::Arc};

use serde_json::{Map, Value};

use super::{CallError, Caller, ErrorKind, Gateway, catalogue::Paginator};
use crate::credentials::AccountCredentials;

/// A paginated call in progress.
pub struct Pages {
    gateway: Arc<Gateway>,
    caller: Caller,
    account: Arc<AccountCredentials>,
    service: String,
    operation: String,
    region: String,
    input: Value,
    seen: HashSet<String>,
    fetched: u32,
    done: bool,
    paginator: Option<Paginator>,
}

impl Pages {
    pub(super) fn new(
        gateway: Arc<Gateway>,
        caller: Caller,
        account: Arc<AccountCredentials>,
        service: &str,
        operation: &str,
        region: &str,
        input: Value,
    ) -> Pages {
        Pages {
            gateway,
            caller,
            account,
            service: service.to_owned(),
            operation: operation.to_owned(),
            region: region.to_owned(),
            input,
            seen: HashSet::new(),
            fetched: 0,
            done: false,
            paginator: None,
        }
    }

    fn error(&mut self, kind: ErrorKind, code: &str, message: String) -> CallError {
        self.done = true;
        CallError::host(kind, code, message)
    }

    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Value>, CallError> {
        if self.done {
            return Ok(None);
        }
        if self.fetched >= self.gateway.options.page_cap {
            let message = format!(
                "{}:{} reached the cap of {} pages",
                self.service, self.operation, self.fetched
            );
            return Err(self.error(ErrorKind::Service, "PageCapReached", message));
        }
        if !self.input.is_object() && !self.input.is_null() {
            let message = "the input must be a JSON object".to_owned();
            return Err(self.error(ErrorKind::InvalidInput, "InvalidInput", message));
        }
        let output = self
            .gateway
            .call(
                &self.caller,
                &self.account,
                &self.service,
                &self.operation,
                &self.region,
                &self.input,
            )
            .await
            .inspect_err(|_| self.done = true)?;
        self.fetched += 1;
        if self.paginator.is_none() {
            let model = self
                .gateway
                .catalogue()
                .service(&self.service)
                .map_err(CallError::from_catalogue)
                .inspect_err(|_| self.done = true)?;
            self.paginator = model.paginators.get(&self.operation).cloned();
        }
        let Some(pager) = &self.paginator else {
            self.done = true;
            return Ok(Some(output));
        };
        let tokens = next_tokens(pager, &output);
        if tokens.iter().all(Option::is_none) {
            self.done = true;
            return Ok(Some(output));
        }
        let fingerprint = serde_json::to_string(&tokens).unwrap_or_default();
        if !self.seen.insert(fingerprint) {
            let message = format!(
                "{}:{} returned a pagination token it had returned before",
                self.service, self.operation
            );
            return Err(self.error(ErrorKind::Service, "PaginationLoop", message));
        }
        if self.input.is_null() {
            self.input = Value::Object(Map::new());
        }
        if let Value::Object(input) = &mut self.input {
            for (name, token) in pager.input_token.items().iter().zip(tokens) {
                match token {
                    Some(t) => input.insert((*name).to_owned(), t),
                    None => input.remove(*name),
                };
            }
        }
        Ok(Some(output))
    }

    /// Every page merged into one document: the first page, with each of
    /// the paginator's result members holding the concatenation of every
    /// page's, and the pagination token and truncation flag removed. An
    /// operation without a paginator gives its single output.
    pub async fn merged(mut self) -> Result<Value, CallError> {
        let mut merged: Option<Value> = None;
        while let Some(page) = self.next().await? {
            let Some(base) = merged.as_mut() else {
                merged = Some(page);
                continue;
            };
            let Some(pager) = &self.paginator else { break };
            for key in pager.result_key.as_ref().map(|k| k.items()).unwrap_or_default() {
                let Some(more) = lookup(&page, key) else { continue };
                append(base, key, more.clone());
            }
        }
        let mut merged = merged.unwrap_or_else(|| Value::Object(Map::new()));
        if let (Some(pager), Value::Object(map)) = (&self.paginator, &mut merged) {
            for path in pager.output_token.items() {
                for alternative in path.split("||") {
                    let alternative = alternative.trim();
                    if !alternative.contains(['.', '[']) {
                        map.remove(alternative);
                    }
                }
            }
            if let Some(flag) = pager.more_results.as_deref().filter(|f| !f.contains('.')) {
                map.remove(flag);
            }
        }
        Ok(merged)
    }
}

/// The tokens for the next request, one per input token; all `None` when
/// the last page has been read.
fn next_tokens(pager: &Paginator, output: &Value) -> Vec<Option<Value>> {
    let inputs = pager.input_token.items().len();
    if let Some(flag) = &pager.more_results
        && lookup(output, flag).and_then(Value::as_bool) != Some(true)
    {
        return vec![None; inputs];
    }
    let mut tokens: Vec<Option<Value>> =
        pager.output_token.items().iter().map(|path| token_at(output, path)).collect();
    tokens.resize(inputs, None);
    tokens
}

/// The token at `path` (`NextToken`, `Paging.Next`, `A || B[-1].C`), or
/// `None` when it is absent, null or empty.
fn token_at(output: &Value, path: &str) -> Option<Value> {
    path.split("||").map(str::trim).find_map(|p| {
        lookup(output, p)
            .filter(|v| !v.is_null() && v.as_str() != Some("") && v != &&Value::Object(Map::new()))
            .cloned()
    })
}

/// Follows a dotted path whose segments may end in indexes (`[0]`,
/// `[-1]` for the last element).
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for segment in path.split('.') {
        let (name, mut indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let close = rest.find(']')?;
            let index: i64 = rest[..close].trim().parse().ok()?;
            let items = current.as_array()?;
            let at = if index < 0 {
                items.len().checked_sub(index.unsigned_abs() as usize)?
            } else {
                index as usize
            };
            current = items.get(at)?;
            indexes = &rest[close + 1..];
        }
    }
    Some(current)
}

/// Adds `more` to the value at the dotted `path` of `base`: arrays and
/// strings are concatenated, anything else replaced.
fn append(base: &mut Value, path: &str, more: Value) {
    let mut current = base;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let Value::Object(map) = current else { return };
        if segments.peek().is_none() {
            match (map.get_mut(segment), more) {
                (Some(Value::Array(items)), Value::Array(extra)) => items.extend(extra),
                (Some(Value::String(text)), Value::String(extra)) => text.push_str(&extra),
                (_, more) => {
                    map.insert(segment.to_owned(), more);
                }
            }
            return;
        }
        current = map.entry(segment.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::gateway::catalogue::OneOrMany;

    #[test]
    fn tokens_end_on_missing_or_empty() {
        let out = json!({"NextToken": "", "Paging": {"Next": "abc"}});
        assert_eq!(token_at(&out, "NextToken"), None);
        assert_eq!(token_at(&out, "Missing"), None);
        assert_eq!(token_at(&out, "Paging.Next"), Some(Value::from("abc")));
        assert_eq!(token_at(&out, "NextToken || Paging.Next"), Some(Value::from("abc")));
    }

    #[test]
    fn the_last_element_form_reads_the_last_key() {
        let out = json!({"Contents": [{"Key": "a"}, {"Key": "b"}], "IsTruncated": true});
        assert_eq!(token_at(&out, "NextMarker || Contents[-1].Key"), Some(Value::from("b")));
        assert_eq!(lookup(&out, "Contents[0].Key"), Some(&Value::from("a")));
        assert_eq!(lookup(&out, "Contents[-3].Key"), None);
        let nested = json!({"StreamDescription": {"Shards": [{"ShardId": "s-9"}]}});
        assert_eq!(
            token_at(&nested, "StreamDescription.Shards[-1].ShardId"),
            Some(Value::from("s-9"))
        );
    }

    #[test]
    fn a_false_truncation_flag_ends_the_loop_whatever_the_token() {
        let pager = Paginator {
            input_token: OneOrMany::One("Marker".into()),
            output_token: OneOrMany::One("NextMarker || Contents[-1].Key".into()),
            limit_key: None,
            result_key: None,
            more_results: Some("IsTruncated".into()),
            non_aggregate_keys: None,
        };
        let page = json!({"Contents": [{"Key": "a"}], "IsTruncated": false});
        assert_eq!(next_tokens(&pager, &page), vec![None]);
        let page = json!({"Contents": [{"Key": "a"}], "IsTruncated": true});
        assert_eq!(next_tokens(&pager, &page), vec![Some(Value::from("a"))]);
    }

    #[test]
    fn results_are_appended_at_nested_paths() {
        let mut base = json!({"DistributionList": {"Items": [1], "Marker": "m"}});
        append(&mut base, "DistributionList.Items", json!([2, 3]));
        append(&mut base, "LogFileData", json!("tail"));
        assert_eq!(base["DistributionList"]["Items"], json!([1, 2, 3]));
        assert_eq!(base["LogFileData"], "tail");
    }
}
