//! Writing cells: the per-type resource sheets filled as batches arrive,
//! and a small grid helper for the summary, coverage and compliance
//! sheets.

use std::borrow::Cow;
use std::collections::HashMap;

use inventag_formatter_kit::text::{cell_text, cut, cut_of, utf16_len};
use inventag_plugin_sdk::Resource;
use rust_xlsxwriter::{
    Format, FormatAlign, IgnoreError, Table, TableColumn, TableStyle, Worksheet, XlsxError,
};

use crate::Cell;

/// Excel's limit on the characters of one cell, in UTF-16 code units.
pub(crate) const MAX_CELL: usize = 32_767;
/// Excel's limit on a table column's header.
const MAX_HEADER: usize = 255;
/// The rows a sheet holds below its header.
const MAX_DATA_ROWS: u32 = 1_048_575;
/// Tag keys that get a column of their own, per sheet; the rest go to
/// the `Other tags` column.
const MAX_TAG_COLUMNS: usize = 1_000;
/// Width bounds, in characters.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// The columns every resource sheet starts with.
const FIXED: [&str; 10] = [
    "Account ID",
    "Account name",
    "Region",
    "ID",
    "Name",
    "State",
    "Created",
    "ARN",
    "Attributes",
    "Other tags",
];
const ATTRIBUTES_COL: u16 = 8;
const OTHER_TAGS_COL: u16 = 9;

/// The text rules for one cell: control characters, line ends and the
/// 32,767 limit with its marker. (A literal `_xHHHH_` needs nothing here:
/// rust_xlsxwriter writes its underscore as `_x005F_`, so readers show it
/// as written instead of decoding it.)
pub(crate) fn text_cell(text: &str) -> Cow<'_, str> {
    let cleaned = cell_text(text);
    if utf16_len(&cleaned) <= MAX_CELL {
        return cleaned;
    }
    Cow::Owned(cut_of(&cleaned, MAX_CELL, text.chars().count()).into_owned())
}

/// The width a value asks for: the characters of its first line, capped.
fn width_of(text: &str) -> usize {
    text.lines().next().unwrap_or("").chars().take(MAX_WIDTH + 1).count()
}

/// A single-line header of at most 255 characters, unique ignoring case
/// among `taken`.
fn header(wanted: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let one_line: String =
        cell_text(wanted).chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }).collect();
    let base = cut(&one_line, MAX_HEADER - 8).into_owned();
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.to_lowercase()) {
        name = format!("{base} ({n})");
        n += 1;
    }
    name
}

/// Page setup for printing and PDF export: A4 landscape, the sheet name
/// and page numbers in the footer. Resource sheets keep their natural
/// width over several pages; the summary-style sheets also fit one page
/// wide.
pub(crate) fn page_setup(ws: &mut Worksheet) {
    ws.set_landscape().set_paper_size(9).set_footer("&L&A&RPage &P of &N");
}

/// A table column whose header is bold in its own right, so that readers
/// that ignore table styles (LibreOffice) still show a header row.
fn header_column(name: &str) -> TableColumn {
    TableColumn::new().set_header(name).set_header_format(Format::new().set_bold())
}

/// One resource type's sheet, filled as rows arrive.
pub(crate) struct TypeSheet {
    ws: Worksheet,
    /// The next data row; row 0 is the header.
    next_row: u32,
    /// Tag key to column.
    tag_cols: HashMap<String, u16>,
    /// Tag keys in column order.
    tag_keys: Vec<String>,
    /// The widest value seen per column, in characters.
    widths: Vec<usize>,
    /// Rows past Excel's row limit, not written.
    dropped_rows: u64,
    /// Whether some tags went to `Other tags` for lack of columns.
    overflowed: bool,
}

impl TypeSheet {
    pub(crate) fn new() -> TypeSheet {
        TypeSheet {
            ws: Worksheet::new(),
            next_row: 1,
            tag_cols: HashMap::new(),
            tag_keys: Vec::new(),
            widths: FIXED.iter().map(|h| h.chars().count()).collect(),
            dropped_rows: 0,
            overflowed: false,
        }
    }

    /// Writes `text` as a string cell, unless it is empty.
    fn put(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        if text.is_empty() {
            return Ok(());
        }
        let cell = text_cell(text);
        self.ws.write_string(row, col, cell.as_ref())?;
        let w = width_of(&cell);
        match self.widths.get_mut(col as usize) {
            Some(seen) => *seen = (*seen).max(w),
            None => {
                self.widths.resize(col as usize + 1, MIN_WIDTH);
                self.widths[col as usize] = w;
            }
        }
        Ok(())
    }

    /// Writes one resource as the next row.
    pub(crate) fn add(&mut self, r: &Resource, account_name: &str) -> Result<(), XlsxError> {
        if self.next_row > MAX_DATA_ROWS {
            self.dropped_rows += 1;
            return Ok(());
        }
        let row = self.next_row;
        self.next_row += 1;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let fixed = [
            r.account_id.clone(),
            account_name.to_string(),
            r.region.clone(),
            r.id.clone(),
            opt(&r.name),
            opt(&r.state),
            opt(&r.created_at),
            opt(&r.arn),
        ];
        for (col, value) in fixed.iter().enumerate() {
            self.put(row, col as u16, value)?;
        }
        self.put(row, ATTRIBUTES_COL, &r.attributes)?;

        let mut used: Vec<u16> = Vec::with_capacity(r.tags.len());
        let mut other = serde_json::Map::new();
        for tag in &r.tags {
            let col = match self.tag_cols.get(&tag.key) {
                Some(col) => Some(*col),
                None if self.tag_keys.len() < MAX_TAG_COLUMNS => {
                    let col = FIXED.len() as u16 + self.tag_keys.len() as u16;
                    self.tag_cols.insert(tag.key.clone(), col);
                    self.tag_keys.push(tag.key.clone());
                    Some(col)
                }
                None => None,
            };
            match col {
                Some(col) if !used.contains(&col) => {
                    used.push(col);
                    self.put(row, col, &tag.value)?;
                }
                // A key repeated on one resource, or past the column cap.
                _ => {
                    self.overflowed = true;
                    other.insert(tag.key.clone(), tag.value.clone().into());
                }
            }
        }
        if !other.is_empty() {
            let json = serde_json::Value::Object(other).to_string();
            self.put(row, OTHER_TAGS_COL, &json)?;
        }
        Ok(())
    }

    /// What the reader should know about this sheet, if anything.
    pub(crate) fn note(&self) -> Option<String> {
        match (self.dropped_rows, self.overflowed) {
            (0, false) => None,
            (0, true) => Some("some tags are in the Other tags column".to_string()),
            (n, _) => Some(format!(
                "{n} rows past Excel's row limit are not in this sheet; see the JSON or CSV \
                 document"
            )),
        }
    }

    /// Names the sheet, turns the rows into a filtered table with a frozen
    /// header and sets the widths.
    pub(crate) fn finish(mut self, name: &str) -> Result<Worksheet, XlsxError> {
        self.ws.set_name(name)?;
        let last_row = self.next_row.saturating_sub(1).max(1);
        let mut taken = std::collections::HashSet::new();
        let mut headers: Vec<String> = FIXED.iter().map(|h| header(h, &mut taken)).collect();
        for key in &self.tag_keys {
            headers.push(header(&format!("Tag: {key}"), &mut taken));
        }
        let last_col = headers.len() as u16 - 1;
        let columns: Vec<TableColumn> = headers.iter().map(|h| header_column(h)).collect();
        let table = Table::new().set_columns(&columns).set_style(TableStyle::Medium2);
        self.ws.add_table(0, 0, last_row, last_col, &table)?;
        self.ws.set_freeze_panes(1, 0)?;
        self.ws.set_repeat_rows(0, 0)?;
        page_setup(&mut self.ws);
        self.ws.ignore_error_range(1, 0, last_row, last_col, IgnoreError::NumberStoredAsText)?;
        for (col, h) in headers.iter().enumerate() {
            let seen = self.widths.get(col).copied().unwrap_or(0).max(width_of(h) + 2);
            let width = (seen + 2).clamp(MIN_WIDTH, MAX_WIDTH);
            self.ws.set_column_width(col as u16, width as f64)?;
        }
        Ok(self.ws)
    }
}

/// A helper for the sheets written at `finish`: text through the cell
/// rules, tables with header filters, widths fitted to the contents.
pub(crate) struct Grid<'a> {
    ws: &'a mut Worksheet,
    widths: Vec<usize>,
}

impl<'a> Grid<'a> {
    pub(crate) fn new(ws: &'a mut Worksheet) -> Grid<'a> {
        Grid { ws, widths: Vec::new() }
    }

    pub(crate) fn ws(&mut self) -> &mut Worksheet {
        self.ws
    }

    fn seen(&mut self, col: u16, w: usize) {
        let col = col as usize;
        if self.widths.len() <= col {
            self.widths.resize(col + 1, 0);
        }
        self.widths[col] = self.widths[col].max(w);
    }

    /// Writes `text` as a string cell through the cell rules.
    pub(crate) fn text(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        let cell = text_cell(text);
        self.ws.write_string(row, col, cell.as_ref())?;
        self.seen(col, width_of(&cell));
        Ok(())
    }

    /// Writes a long value beside a label: merged over columns B to E,
    /// wrapped, with the row as tall as its lines (up to 40).
    pub(crate) fn value(&mut self, row: u32, text: &str) -> Result<(), XlsxError> {
        let cell = text_cell(text);
        let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        self.ws.merge_range(row, 1, row, 4, cell.as_ref(), &wrap)?;
        let lines: usize = cell.lines().map(|l| l.chars().count() / 100 + 1).sum();
        if lines > 1 {
            self.ws.set_row_height(row, 15.0 * lines.min(40) as f64)?;
        }
        Ok(())
    }

    /// Writes a table with `headers` at `first_row`, column A; an empty
    /// table gets one row saying `(none)`. Returns its last row.
    pub(crate) fn table(
        &mut self,
        first_row: u32,
        headers: &[&str],
        rows: &[Vec<Cell>],
    ) -> Result<u32, XlsxError> {
        let mut row = first_row + 1;
        if rows.is_empty() {
            self.text(row, 0, "(none)")?;
            row += 1;
        }
        for cells in rows {
            for (col, cell) in cells.iter().enumerate() {
                match cell {
                    Cell::Text(t) => self.text(row, col as u16, t)?,
                    Cell::Count(n) => {
                        self.ws.write_number(row, col as u16, *n as f64)?;
                    }
                }
            }
            row += 1;
        }
        let last_row = row - 1;
        let columns: Vec<TableColumn> = headers.iter().map(|h| header_column(h)).collect();
        for (col, h) in headers.iter().enumerate() {
            self.seen(col as u16, h.chars().count() + 3);
        }
        let table = Table::new().set_columns(&columns).set_style(TableStyle::Medium2);
        self.ws.add_table(first_row, 0, last_row, headers.len() as u16 - 1, &table)?;
        self.ws.ignore_error_range(
            first_row,
            0,
            last_row,
            headers.len() as u16 - 1,
            IgnoreError::NumberStoredAsText,
        )?;
        Ok(last_row)
    }

    /// Sets each column's width from what was written, within `max`.
    pub(crate) fn fit_widths(&mut self, max: &[f64]) -> Result<(), XlsxError> {
        for (col, seen) in self.widths.iter().enumerate() {
            let cap = max.get(col).copied().unwrap_or(MAX_WIDTH as f64);
            let width = ((*seen + 2) as f64).clamp(MIN_WIDTH as f64, cap);
            self.ws.set_column_width(col as u16, width)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_within_the_limit() {
        let policy = "{\"Statement\":[]}\r\n".repeat(3_000);
        let cell = text_cell(&policy);
        assert!(utf16_len(&cell) <= MAX_CELL);
        assert!(!cell.contains('\r'));
        assert!(cell.ends_with("holds the whole value]"));
    }

    #[test]
    fn headers_are_unique_ignoring_case() {
        let mut taken = std::collections::HashSet::new();
        assert_eq!(header("Tag: Env", &mut taken), "Tag: Env");
        assert_eq!(header("Tag: env", &mut taken), "Tag: env (2)");
        assert_eq!(header("Tag: a\nb", &mut taken), "Tag: a b");
    }
}
