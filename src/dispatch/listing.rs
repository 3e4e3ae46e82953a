//! Listings: every record of a collection page by page, and the creates whose answer
//! was lost or named no id found in one listing ([`Ctx::find_created`]).

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::Value;

use super::{Ctx, Key};
use crate::connector::{Body, parse};

impl Ctx {
    /// Every record of a collection, page by page; stops at a short or empty page or at
    /// the stated total, and never loops forever.
    pub async fn list_all(
        &self,
        path: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        self.list_each(path, filters, |page| out.extend(page))
            .await?;
        Ok(out)
    }

    /// [`Ctx::list_all`], each page handed to `each` as it comes instead of all of them
    /// gathered, so that a caller keeping less than the records themselves (an import's
    /// index of the target) never holds the whole listing.
    pub async fn list_each(
        &self,
        path: &str,
        filters: &[(String, String)],
        mut each: impl FnMut(Vec<Value>),
    ) -> Result<(), String> {
        let size = self.client.fields().page_size.max(1);
        let mut seen = 0u64;
        for page in 1..=1_000_000u32 {
            let (items, total) = self.page(path, filters, page).await?;
            let n = items.len();
            seen += n as u64;
            each(items);
            let done = n < size as usize || total.is_some_and(|t| seen >= t);
            if n == 0 || done {
                break;
            }
        }
        Ok(())
    }

    /// Page `page` of a listing: its records and the stated total, if any.
    async fn page(
        &self,
        path: &str,
        filters: &[(String, String)],
        page: u32,
    ) -> Result<(Vec<Value>, Option<u64>), String> {
        let f = self.client.fields();
        let mut q = filters.to_vec();
        q.push((f.page_param.clone(), page.to_string()));
        q.push((f.limit_param.clone(), f.page_size.max(1).to_string()));
        let sent = self
            .idempotent_sent(Method::GET, path, &q, Body::None)
            .await;
        let r = sent
            .result
            .map_err(|e| format!("listing {path} failed: {}", e.describe()))?;
        if let Some(why) = sent.rate_limited {
            return Err(format!("listing {path} failed: {why}"));
        }
        if !r.is_success() {
            return Err(format!("listing {path} failed: {}", self.describe(&r)));
        }
        Ok(parse::page(&r.json()))
    }

    /// Pages 2 and on of a listing whose first page was full, newest first where the
    /// stated `total` says where the end is, each handed to `see` until it says it is
    /// done. The total is not trusted: pages past it are read while they come back full
    /// (a capped or stale total), and where its last page is empty (a total too high)
    /// the last non-empty page is found by halving, not by reading every empty one.
    async fn pages_from_the_end(
        &self,
        path: &str,
        filters: &[(String, String)],
        total: Option<u64>,
        mut see: impl FnMut(Vec<Value>) -> bool,
    ) -> Result<(), String> {
        const MAX_PAGES: u32 = 1_000_000;
        let size = self.client.fields().page_size.max(1) as usize;
        let Some(total) = total else {
            for page in 2..=MAX_PAGES {
                let (items, _) = self.page(path, filters, page).await?;
                let n = items.len();
                if see(items) || n < size {
                    break;
                }
            }
            return Ok(());
        };
        let stated = u32::try_from(total.div_ceil(size as u64))
            .unwrap_or(MAX_PAGES)
            .clamp(1, MAX_PAGES);
        let mut read: HashSet<u32> = HashSet::from([1]);
        // Page 1 was full. `full`: the highest page read so far was full.
        let (mut top, mut full) = (1u32, true);
        if stated > 1 {
            let (items, _) = self.page(path, filters, stated).await?;
            read.insert(stated);
            let n = items.len();
            if n == 0 {
                // A total too high: halve between page 1 (full) and `stated` (empty).
                let (mut lo, mut hi) = (1u32, stated);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    let (items, _) = self.page(path, filters, mid).await?;
                    read.insert(mid);
                    let n = items.len();
                    if n > 0 && see(items) {
                        return Ok(());
                    }
                    match n {
                        0 => hi = mid,
                        n if n < size => (lo, hi) = (mid, mid + 1),
                        _ => lo = mid,
                    }
                }
                (top, full) = (lo, false);
            } else {
                if see(items) {
                    return Ok(());
                }
                (top, full) = (stated, n >= size);
            }
        }
        // Past the stated end while pages come back full: a capped or stale total.
        let mut next = top;
        while full && next < MAX_PAGES {
            next += 1;
            let (items, _) = self.page(path, filters, next).await?;
            read.insert(next);
            full = items.len() >= size;
            if see(items) {
                return Ok(());
            }
        }
        for page in (2..=top).rev() {
            if read.contains(&page) {
                continue;
            }
            let (items, _) = self.page(path, filters, page).await?;
            if see(items) {
                break;
            }
        }
        Ok(())
    }

    /// The ids of the records `keys` name, all found from one listing: its first page
    /// says how many records there are, then the pages are read from the last one back
    /// (a target that lists by ascending id holds a run's new records there) until
    /// every natural key is found. Records known by content need every page (which of
    /// the identical ones a row is depends on all of them). `None`: not on the target.
    pub async fn find_created(
        &self,
        path: &str,
        keys: &[&Key],
    ) -> Result<Vec<Option<String>>, String> {
        let mut found: Vec<Option<String>> = vec![None; keys.len()];
        let mut by_field: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            if k.content.is_none() {
                by_field
                    .entry(k.field.as_str())
                    .or_default()
                    .entry(k.value.trim())
                    .or_default()
                    .push(i);
            }
        }
        // One natural key where the target filters by it: a search, not a listing.
        let size = self.client.fields().page_size.max(1) as usize;
        if let [k] = keys
            && let Some(answer) = self.search_one(path, k, size).await?
        {
            return Ok(vec![answer]);
        }
        let mut left: usize = by_field
            .values()
            .flat_map(|m| m.values())
            .map(Vec::len)
            .sum();
        // Content, or a key two rows share: which record is whose needs every page.
        let every_page = keys.iter().any(|k| k.content.is_some())
            || by_field
                .values()
                .flat_map(|m| m.values())
                .any(|r| r.len() > 1);
        let mut by_content: Vec<Vec<String>> = vec![Vec::new(); keys.len()];
        // Records listed, and those showing what the keys are matched on: a listing
        // whose records show none of it cannot say that a create is absent.
        let (mut listed, mut shaped) = (0usize, 0usize);
        let mut by_key: Vec<Vec<String>> = vec![Vec::new(); keys.len()];
        let mut see = |page: Vec<Value>, left: &mut usize| {
            for record in page {
                let Some(id) = parse::record_id(&record) else {
                    continue;
                };
                listed += 1;
                let has = |path: &str| path.split('.').try_fold(&record, |v, k| v.get(k)).is_some();
                if keys.iter().any(|k| match &k.content {
                    Some(c) => c.fields.iter().all(|(p, _)| has(p)),
                    None => has(&k.field),
                }) {
                    shaped += 1;
                }
                for (field, wanted) in &by_field {
                    let value = record.get(*field).and_then(parse::scalar_text);
                    let Some(rows) = value.and_then(|v| wanted.get(v.trim())) else {
                        continue;
                    };
                    // Rows sharing a key share the records having it (handed out below).
                    let ids = &mut by_key[rows[0]];
                    if !ids.contains(&id) {
                        if ids.len() < rows.len() {
                            *left -= 1;
                        }
                        ids.push(id.clone());
                    }
                }
                for (i, k) in keys.iter().enumerate() {
                    if k.content.as_ref().is_some_and(|c| c.matches(&record)) {
                        by_content[i].push(id.clone());
                    }
                }
            }
        };
        // Filters narrow the listing when every key is a content with the same ones.
        let filters = match keys.first().and_then(|k| k.content.as_ref()) {
            Some(c)
                if keys
                    .iter()
                    .all(|k| k.content.as_ref().is_some_and(|o| o.search == c.search)) =>
            {
                c.search.clone()
            }
            _ => Vec::new(),
        };
        let (first, total) = self.page(path, &filters, 1).await?;
        let short = first.len() < size;
        see(first, &mut left);
        let done = |left: usize| left == 0 && !every_page;
        if !short && !done(left) {
            self.pages_from_the_end(path, &filters, total, |items| {
                see(items, &mut left);
                done(left)
            })
            .await?;
        }
        if listed > 0 && shaped == 0 {
            return Err(self.unshaped(path, keys, listed));
        }
        hand_out(&by_field, &mut by_key, &mut found);
        for (i, k) in keys.iter().enumerate() {
            if let Some(c) = &k.content {
                let ids = &mut by_content[i];
                ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.clone()));
                found[i] = ids.get(c.nth.saturating_sub(1) as usize).cloned();
            }
        }
        Ok(found)
    }

    /// One natural key searched by the target's key filter: `Some` when the answer
    /// settles it (found, or a short page without it), `None` when the key cannot be
    /// searched or the filter was ignored (a full page proves nothing).
    async fn search_one(
        &self,
        path: &str,
        k: &Key,
        size: usize,
    ) -> Result<Option<Option<String>>, String> {
        if k.content.is_some() || !self.client.fields().key_filter {
            return Ok(None);
        }
        let filter = [(k.field.clone(), k.value.clone())];
        let (items, _) = self.page(path, &filter, 1).await?;
        let matches = |v: &&Value| {
            v.get(&k.field)
                .and_then(parse::scalar_text)
                .is_some_and(|s| s.trim() == k.value.trim())
        };
        if let Some(found) = items.iter().find(matches) {
            return Ok(Some(parse::record_id(found)));
        }
        Ok((items.len() < size).then_some(None))
    }

    /// Why a listing whose records show none of what the keys are matched on cannot
    /// settle a create.
    fn unshaped(&self, path: &str, keys: &[&Key], listed: usize) -> String {
        let what: std::collections::BTreeSet<&str> = keys
            .iter()
            .flat_map(|k| match &k.content {
                Some(c) => c.fields.iter().map(|(p, _)| p.as_str()).collect(),
                None => vec![k.field.as_str()],
            })
            .collect();
        let what: Vec<&str> = what.into_iter().collect();
        format!(
            "listing {path}: none of its {listed} records shows {}, so it cannot tell whether the record was created; check in {} before sending the row again",
            what.join(", "),
            self.service
        )
    }
}

/// Rows sharing a natural key (in sheet order) take the records having it in ascending
/// id order, the newest ones where there are more records than rows; never one record
/// for two rows. `by_key[first row]`: the ids of the records having that row's key.
fn hand_out(
    by_field: &HashMap<&str, HashMap<&str, Vec<usize>>>,
    by_key: &mut [Vec<String>],
    found: &mut [Option<String>],
) {
    for rows in by_field.values().flat_map(|m| m.values()) {
        let ids = &mut by_key[rows[0]];
        ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.clone()));
        let extra = ids.len().saturating_sub(rows.len());
        for (&i, id) in rows.iter().zip(ids.drain(..).skip(extra)) {
            found[i] = Some(id);
        }
    }
}
