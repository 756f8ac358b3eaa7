//! WordprocessingML by hand: paragraphs, runs and tables as XML text, and
//! the fixed parts of the package (content types, relationships, styles,
//! properties).
//!
//! Every text goes through the control-character and line-end rules of
//! [`inventag_formatter_kit::text`] and XML escaping before it is written;
//! a line feed becomes `<w:br/>` and a tab `<w:tab/>`.

use std::fmt::Write as _;

use inventag_formatter_kit::text::{cell_text, cut, xml_escape};

/// The longest value shown in a table cell, in UTF-16 code units; longer
/// values are cut with a visible marker.
pub(crate) const MAX_CELL: usize = 1_000;

/// Runs for `text`: one `<w:r>` with `<w:t>` pieces, `<w:br/>` and
/// `<w:tab/>`. `bold` makes the run bold.
pub(crate) fn runs(out: &mut String, text: &str, bold: bool) {
    let cleaned = cell_text(text);
    out.push_str("<w:r>");
    if bold {
        out.push_str("<w:rPr><w:b/></w:rPr>");
    }
    for (i, line) in cleaned.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<w:br/>");
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                out.push_str("<w:tab/>");
            }
            if !piece.is_empty() {
                let _ = write!(out, "<w:t xml:space=\"preserve\">{}</w:t>", xml_escape(piece));
            }
        }
    }
    out.push_str("</w:r>");
}

/// A paragraph in `style` (empty for Normal) holding `text`.
pub(crate) fn para(out: &mut String, style: &str, text: &str) {
    out.push_str("<w:p>");
    if !style.is_empty() {
        let _ = write!(out, "<w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>");
    }
    runs(out, text, false);
    out.push_str("</w:p>");
}

/// A paragraph of `label: value`, the label bold.
pub(crate) fn labelled(out: &mut String, label: &str, value: &str) {
    out.push_str("<w:p>");
    runs(out, &format!("{label}: "), true);
    runs(out, value, false);
    out.push_str("</w:p>");
}

/// A page break.
pub(crate) fn page_break(out: &mut String) {
    out.push_str("<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
}

/// Opens a table with column `widths` (twentieths of a point) and a header
/// row repeated on every page.
pub(crate) fn table_start(out: &mut String, widths: &[u32], headers: &[&str]) {
    out.push_str(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"InventagTable\"/>\
         <w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblLayout w:type=\"fixed\"/>\
         <w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"0\" \
         w:lastColumn=\"0\" w:noHBand=\"0\" w:noVBand=\"1\"/></w:tblPr><w:tblGrid>",
    );
    for w in widths {
        let _ = write!(out, "<w:gridCol w:w=\"{w}\"/>");
    }
    out.push_str("</w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>");
    for (h, w) in headers.iter().zip(widths) {
        cell(out, *w, h, true);
    }
    out.push_str("</w:tr>");
}

/// One table cell of width `w` holding `text`, cut to [`MAX_CELL`].
pub(crate) fn cell(out: &mut String, w: u32, text: &str, bold: bool) {
    let _ = write!(out, "<w:tc><w:tcPr><w:tcW w:w=\"{w}\" w:type=\"dxa\"/></w:tcPr>");
    out.push_str("<w:p><w:pPr><w:pStyle w:val=\"TableText\"/></w:pPr>");
    runs(out, &cut(text, MAX_CELL), bold);
    out.push_str("</w:p></w:tc>");
}

/// One table row.
pub(crate) fn row<S: AsRef<str>>(out: &mut String, widths: &[u32], cells: &[S]) {
    out.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
    for (text, w) in cells.iter().zip(widths) {
        cell(out, *w, text.as_ref(), false);
    }
    out.push_str("</w:tr>");
}

/// Closes a table, with an empty paragraph after it (Word wants one
/// between two tables).
pub(crate) fn table_end(out: &mut String) {
    out.push_str("</w:tbl><w:p/>");
}

/// A whole table at once.
pub(crate) fn table<S: AsRef<str>>(
    out: &mut String,
    widths: &[u32],
    headers: &[&str],
    rows: &[Vec<S>],
) {
    table_start(out, widths, headers);
    for cells in rows {
        row(out, widths, cells);
    }
    if rows.is_empty() {
        let mut none = vec![String::new(); widths.len()];
        if let Some(first) = none.first_mut() {
            *first = "(none)".to_string();
        }
        row(out, widths, &none);
    }
    table_end(out);
}

/// The start of `word/document.xml`.
pub(crate) const DOCUMENT_START: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" ",
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">",
    "<w:body>"
);

/// The end of `word/document.xml`: an A4 landscape section.
pub(crate) const DOCUMENT_END: &str = concat!(
    "<w:sectPr><w:pgSz w:w=\"16838\" w:h=\"11906\" w:orient=\"landscape\"/>",
    "<w:pgMar w:top=\"1000\" w:right=\"1000\" w:bottom=\"1000\" w:left=\"1000\" ",
    "w:header=\"600\" w:footer=\"600\" w:gutter=\"0\"/></w:sectPr>",
    "</w:body></w:document>"
);

/// `[Content_Types].xml`.
pub(crate) const CONTENT_TYPES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
    "<Default Extension=\"rels\" ",
    "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>",
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>",
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/",
    "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>",
    "<Override PartName=\"/word/styles.xml\" ContentType=\"application/",
    "vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>",
    "<Override PartName=\"/docProps/core.xml\" ",
    "ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>",
    "<Override PartName=\"/docProps/app.xml\" ContentType=\"application/",
    "vnd.openxmlformats-officedocument.extended-properties+xml\"/>",
    "</Types>"
);

/// `_rels/.rels`.
pub(crate) const PACKAGE_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/",
    "2006/relationships/officeDocument\" Target=\"word/document.xml\"/>",
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/",
    "relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>",
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/",
    "2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/>",
    "</Relationships>"
);

/// `word/_rels/document.xml.rels`.
pub(crate) const DOCUMENT_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/",
    "2006/relationships/styles\" Target=\"styles.xml\"/>",
    "</Relationships>"
);

/// `docProps/app.xml`.
pub(crate) const APP: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/",
    "extended-properties\"><Application>inventag</Application></Properties>"
);

/// `docProps/core.xml` for a document titled `title`, created at
/// `created` (ISO-8601 UTC, or empty).
pub(crate) fn core(title: &str, created: &str) -> String {
    let mut out = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
        "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/",
        "metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" ",
        "xmlns:dcterms=\"http://purl.org/dc/terms/\" ",
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
    ));
    let _ =
        write!(out, "<dc:title>{}</dc:title><dc:creator>inventag</dc:creator>", xml_escape(title));
    let iso = created.len() >= 20
        && created.ends_with('Z')
        && created.bytes().all(|b| b.is_ascii_digit() || b"-:TZ.".contains(&b));
    if iso {
        let _ =
            write!(out, "<dcterms:created xsi:type=\"dcterms:W3CDTF\">{created}</dcterms:created>");
    }
    out.push_str("</cp:coreProperties>");
    out
}

/// `word/styles.xml`: Normal, Title, Subtitle, two headings, a small
/// table-text style, a note style and the table style.
pub(crate) const STYLES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">",
    "<w:docDefaults><w:rPrDefault><w:rPr>",
    "<w:rFonts w:ascii=\"Calibri\" w:hAnsi=\"Calibri\" w:eastAsia=\"Calibri\" w:cs=\"Calibri\"/>",
    "<w:sz w:val=\"20\"/><w:szCs w:val=\"20\"/><w:lang w:val=\"en-GB\"/></w:rPr></w:rPrDefault>",
    "<w:pPrDefault><w:pPr><w:spacing w:after=\"80\" w:line=\"259\" w:lineRule=\"auto\"/>",
    "</w:pPr></w:pPrDefault></w:docDefaults>",
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">",
    "<w:name w:val=\"Normal\"/><w:qFormat/></w:style>",
    "<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/>",
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>",
    "<w:pPr><w:spacing w:before=\"2400\" w:after=\"240\"/></w:pPr>",
    "<w:rPr><w:b/><w:color w:val=\"1F3864\"/><w:sz w:val=\"56\"/><w:szCs w:val=\"56\"/></w:rPr>",
    "</w:style>",
    "<w:style w:type=\"paragraph\" w:styleId=\"Subtitle\"><w:name w:val=\"Subtitle\"/>",
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>",
    "<w:pPr><w:spacing w:after=\"480\"/></w:pPr>",
    "<w:rPr><w:color w:val=\"595959\"/><w:sz w:val=\"28\"/><w:szCs w:val=\"28\"/></w:rPr>",
    "</w:style>",
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/>",
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>",
    "<w:pPr><w:keepNext/><w:spacing w:before=\"360\" w:after=\"120\"/>",
    "<w:outlineLvl w:val=\"0\"/></w:pPr>",
    "<w:rPr><w:b/><w:color w:val=\"1F3864\"/><w:sz w:val=\"32\"/><w:szCs w:val=\"32\"/></w:rPr>",
    "</w:style>",
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading2\"><w:name w:val=\"heading 2\"/>",
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>",
    "<w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"80\"/>",
    "<w:outlineLvl w:val=\"1\"/></w:pPr>",
    "<w:rPr><w:b/><w:color w:val=\"2F5496\"/><w:sz w:val=\"26\"/><w:szCs w:val=\"26\"/></w:rPr>",
    "</w:style>",
    "<w:style w:type=\"paragraph\" w:styleId=\"TableText\"><w:name w:val=\"Table Text\"/>",
    "<w:basedOn w:val=\"Normal\"/><w:qFormat/>",
    "<w:pPr><w:spacing w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/></w:pPr>",
    "<w:rPr><w:sz w:val=\"16\"/><w:szCs w:val=\"16\"/></w:rPr></w:style>",
    "<w:style w:type=\"paragraph\" w:styleId=\"Note\"><w:name w:val=\"Note\"/>",
    "<w:basedOn w:val=\"Normal\"/><w:qFormat/>",
    "<w:pPr><w:pBdr><w:left w:val=\"single\" w:sz=\"24\" w:space=\"4\" w:color=\"C00000\"/>",
    "</w:pBdr><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"FCE4E4\"/></w:pPr>",
    "<w:rPr><w:color w:val=\"9C0006\"/></w:rPr></w:style>",
    "<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\">",
    "<w:name w:val=\"Normal Table\"/><w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/>",
    "<w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/>",
    "<w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/>",
    "</w:tblCellMar></w:tblPr></w:style>",
    "<w:style w:type=\"table\" w:styleId=\"InventagTable\"><w:name w:val=\"inventag Table\"/>",
    "<w:basedOn w:val=\"TableNormal\"/><w:tblPr><w:tblBorders>",
    "<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"8EAADB\"/>",
    "<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"8EAADB\"/>",
    "<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"8EAADB\"/>",
    "<w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"8EAADB\"/>",
    "<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"8EAADB\"/>",
    "<w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"8EAADB\"/>",
    "</w:tblBorders><w:tblCellMar><w:top w:w=\"30\" w:type=\"dxa\"/>",
    "<w:left w:w=\"80\" w:type=\"dxa\"/><w:bottom w:w=\"30\" w:type=\"dxa\"/>",
    "<w:right w:w=\"80\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr>",
    "<w:tblStylePr w:type=\"firstRow\"><w:rPr><w:b/><w:color w:val=\"FFFFFF\"/></w:rPr>",
    "<w:tcPr><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"2F5496\"/></w:tcPr>",
    "</w:tblStylePr></w:style>",
    "</w:styles>"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_escape_and_keep_line_breaks() {
        let mut out = String::new();
        runs(&mut out, "a<b>&\r\nc\td\u{b}", false);
        assert_eq!(
            out,
            "<w:r><w:t xml:space=\"preserve\">a&lt;b&gt;&amp;</w:t><w:br/>\
             <w:t xml:space=\"preserve\">c</w:t><w:tab/>\
             <w:t xml:space=\"preserve\">d\u{240b}</w:t></w:r>"
        );
    }

    #[test]
    fn core_properties_take_only_a_plain_timestamp() {
        assert!(core("t", "2026-12-04T16:00:00Z").contains("dcterms:created"));
        assert!(!core("t", "<x>").contains("dcterms:created"));
    }
}
