//! Which sheet of a workbook to read when `--sheet` names none: the one whose headers
//! name the entity's fields best (a first sheet of instructions, "Petunjuk", before the
//! data, "Pelanggan"). Only the top rows of each visible sheet are read to judge; a tie
//! or no match at all keeps the rule of before, the first sheet with data.

use super::xlsx_stream::Book;
use super::{HEADER_SEARCH_ROWS, HeaderScorer};

/// Unless `named` (`--sheet` given) or there is one sheet, judge each sheet of `order`
/// by its top rows and move the best to the front; the note that says why, when the
/// best is not the first.
pub(super) fn by_headers(
    book: &mut Book,
    order: &mut Vec<String>,
    named: bool,
    score: HeaderScorer<'_>,
) -> Option<(String, String)> {
    if named || order.len() < 2 {
        return None;
    }
    let judged: Vec<Judged> = order
        .iter()
        .map(|name| Judged {
            sheet: name.clone(),
            score: header_score(&book.head(name, HEADER_SEARCH_ROWS as u32), score),
        })
        .collect();
    let (best, note) = best(&judged)?;
    order.retain(|n| *n != best);
    order.insert(0, best.clone());
    Some((best, note))
}

/// The note on the sheet read: why, when it was chosen by its headers (`chosen`, if it
/// is the one read), else which of how many, unless `--sheet` named it.
pub(super) fn note(
    chosen: Option<(String, String)>,
    sheet: &str,
    named: bool,
    sheets: usize,
) -> Option<String> {
    match chosen {
        Some((best, why)) if best == sheet => Some(why),
        _ => (!named && sheets > 1).then(|| {
            format!("reading sheet \"{sheet}\" (of {sheets}); choose another with --sheet")
        }),
    }
}

/// How well one sheet's best header row names the entity's fields.
pub(super) struct Judged {
    pub(super) sheet: String,
    pub(super) score: usize,
}

/// The best score of any of `rows` (a sheet's top rows) as a header.
pub(super) fn header_score(rows: &[Vec<String>], score: HeaderScorer<'_>) -> usize {
    rows.iter()
        .take(HEADER_SEARCH_ROWS)
        .map(|r| score(r))
        .max()
        .unwrap_or(0)
}

/// The sheet to read first, and the note that says why: the one sheet whose headers
/// score highest, when it is not simply the first; `None` when no sheet scores, or two
/// share the best score (the first sheet with data is then read, as before).
pub(super) fn best(judged: &[Judged]) -> Option<(String, String)> {
    let top = judged.iter().map(|j| j.score).max().filter(|&s| s > 0)?;
    let mut at_top = judged.iter().filter(|j| j.score == top);
    let chosen = at_top.next()?;
    if at_top.next().is_some() || judged.first().is_some_and(|j| j.sheet == chosen.sheet) {
        return None;
    }
    let others: Vec<String> = judged
        .iter()
        .filter(|j| j.sheet != chosen.sheet)
        .map(|j| format!("\"{}\" {}", j.sheet, j.score))
        .collect();
    let note = format!(
        "reading sheet \"{}\" (of {}): its headers name the most fields ({top}; {}); choose another with --sheet",
        chosen.sheet,
        judged.len(),
        others.join(", ")
    );
    Some((chosen.sheet.clone(), note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(list: &[(&str, usize)]) -> Vec<Judged> {
        list.iter()
            .map(|&(sheet, score)| Judged {
                sheet: sheet.into(),
                score,
            })
            .collect()
    }

    #[test]
    fn the_sheet_naming_the_most_fields_is_taken() {
        let (sheet, note) = best(&judged(&[("Petunjuk", 0), ("Pelanggan", 4)])).unwrap_or_default();
        assert_eq!(sheet, "Pelanggan");
        assert!(note.contains("\"Petunjuk\" 0"), "{note}");
        // The first sheet best already: nothing changes, nothing more to say.
        assert!(best(&judged(&[("Pelanggan", 4), ("Petunjuk", 0)])).is_none());
        // A tie or no match keeps the first sheet with data.
        assert!(best(&judged(&[("A", 0), ("B", 2), ("C", 2)])).is_none());
        assert!(best(&judged(&[("A", 0), ("B", 0)])).is_none());
    }

    #[test]
    fn the_best_header_row_of_the_top_rows_counts() {
        let rows = vec![
            vec!["Petunjuk pengisian".to_string()],
            vec!["Nama".into(), "Alamat".into()],
        ];
        let score = |r: &[String]| {
            r.iter()
                .filter(|c| c.as_str() != "Petunjuk pengisian")
                .count()
        };
        assert_eq!(header_score(&rows, &score), 2);
    }
}
