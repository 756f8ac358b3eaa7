//! Pagination driven by the catalogue's paginator definitions. The host
//! follows the token; a caller gets one page at a time. A missing or empty
//! token ends the loop, an empty page that still carries a token does not,
//! a token seen before is an error, and a page cap bounds every loop.

use std::{collections::HashSet, sync::Arc};

use serde_json::Value;

use super::{CallError, Caller, ErrorKind, Gateway};
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
        }
    }

    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Value>, CallError> {
        if self.done {
            return Ok(None);
        }
        if self.fetched >= self.gateway.options.page_cap {
            self.done = true;
            return Err(CallError::host(
                ErrorKind::Service,
                "PageCapReached",
                format!(
                    "{}:{} reached the cap of {} pages",
                    self.service, self.operation, self.fetched
                ),
            ));
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
        let model =
            self.gateway.catalogue().service(&self.service).map_err(CallError::from_catalogue)?;
        let Some(pager) = model.paginators.get(&self.operation) else {
            self.done = true;
            return Ok(Some(output));
        };
        if let Some(flag) = &pager.more_results {
            if lookup(&output, flag).and_then(Value::as_bool) == Some(false) {
                self.done = true;
                return Ok(Some(output));
            }
        }
        let tokens: Vec<Option<Value>> =
            pager.output_token.items().iter().map(|path| token_at(&output, path)).collect();
        if tokens.iter().all(Option::is_none) {
            self.done = true;
            return Ok(Some(output));
        }
        let fingerprint = serde_json::to_string(&tokens).unwrap_or_default();
        if !self.seen.insert(fingerprint) {
            self.done = true;
            return Err(CallError::host(
                ErrorKind::Service,
                "PaginationLoop",
                format!(
                    "{}:{} returned a token it had returned before",
                    self.service, self.operation
                ),
            ));
        }
        let Some(input) = self.input.as_object_mut() else {
            self.done = true;
            return Err(CallError::host(
                ErrorKind::InvalidInput,
                "InvalidInput",
                "the input must be a JSON object".into(),
            ));
        };
        for (name, token) in pager.input_token.items().iter().zip(tokens) {
            match token {
                Some(t) => input.insert((*name).to_owned(), t),
                None => input.remove(*name),
            };
        }
        Ok(Some(output))
    }
}

/// The token at `path` (`NextToken`, `Paging.Next`, `A || B`), or `None`
/// when it is absent, null or empty.
fn token_at(output: &Value, path: &str) -> Option<Value> {
    path.split("||")
        .map(str::trim)
        .find_map(|p| lookup(output, p).filter(|v| !v.is_null() && v.as_str() != Some("")).cloned())
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_end_on_missing_or_empty() {
        let out = serde_json::json!({"NextToken": "", "Paging": {"Next": "abc"}});
        assert_eq!(token_at(&out, "NextToken"), None);
        assert_eq!(token_at(&out, "Missing"), None);
        assert_eq!(token_at(&out, "Paging.Next"), Some(Value::from("abc")));
        assert_eq!(token_at(&out, "NextToken || Paging.Next"), Some(Value::from("abc")));
    }
}
