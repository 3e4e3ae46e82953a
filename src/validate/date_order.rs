//! Day/month order per date column. `13/04/2026` can only be day-first and `04/13/2026`
//! only month-first, so each is accepted alone; a column holding both has at least one
//! kind wrong. A first pass over the file's date columns counts both kinds, and a date
//! whose order is the column's minority (or either, on a tie) is refused, naming the
//! rows that disagree with it.

use std::collections::HashMap;

use super::values::{DayMonthOrder, ValueError, clean, day_month_order, quote};
use crate::input::{CellKind, Table};

/// How many rows of the other order a message lists.
const LISTED_ROWS: usize = 3;

/// The rows of one order in one column: how many, and the first few.
#[derive(Debug, Default)]
struct Tally {
    count: usize,
    rows: Vec<u32>,
}

impl Tally {
    fn add(&mut self, row: u32) {
        self.count += 1;
        if self.rows.len() < LISTED_ROWS {
            self.rows.push(row);
        }
    }

    /// `row 3 of this column puts`, `rows 2, 3 and 6 …`, `rows 2, 3, 6 and 14 more …`.
    fn describe(&self) -> String {
        let listed: Vec<String> = self.rows.iter().map(u32::to_string).collect();
        match (self.count, listed.as_slice()) {
            (1, [one]) => format!("row {one} of this column puts"),
            (n, [init @ .., last]) if n == listed.len() => {
                format!("rows {} and {last} of this column put", init.join(", "))
            }
            (n, _) => format!(
                "rows {} and {} more of this column put",
                listed.join(", "),
                n - listed.len()
            ),
        }
    }
}

/// Day-first and month-first dates of the file's date columns, by column index.
#[derive(Debug, Default)]
pub(super) struct DateOrders {
    columns: HashMap<usize, [Tally; 2]>,
}

fn slot(order: DayMonthOrder) -> usize {
    match order {
        DayMonthOrder::DayFirst => 0,
        DayMonthOrder::MonthFirst => 1,
    }
}

impl DateOrders {
    /// Count the forced orders in `columns` over every row of `table`. A row that cannot
    /// be read ends the count: the validation pass reports it.
    pub(super) fn scan(table: &Table, columns: &[usize]) -> Self {
        let mut found = DateOrders::default();
        let Ok(rows) = table.rows() else {
            return found;
        };
        for row in rows.map_while(Result::ok) {
            for &col in columns {
                let Some(cell) = row.cells.get(col).filter(|c| c.kind == CellKind::Text) else {
                    continue;
                };
                if let Some(order) = day_month_order(&cell.text) {
                    found.columns.entry(col).or_default()[slot(order)].add(row.number);
                }
            }
        }
        found
    }

    /// Why `text` (row `row` of column `col`, forcing `order`) cannot be trusted: the
    /// column holds at least as many dates of the other order.
    pub(super) fn conflict(
        &self,
        col: usize,
        order: DayMonthOrder,
        text: &str,
    ) -> Option<ValueError> {
        let tallies = self.columns.get(&col)?;
        let (mine, theirs) = (&tallies[slot(order)], &tallies[1 - slot(order)]);
        if theirs.count == 0 || mine.count > theirs.count {
            return None;
        }
        let t = clean(text);
        let (this, other) = match order {
            DayMonthOrder::DayFirst => ("day", "month"),
            DayMonthOrder::MonthFirst => ("month", "day"),
        };
        let sep = t
            .chars()
            .find(|c| matches!(c, '/' | '-' | '.'))
            .unwrap_or('/');
        Some(ValueError {
            summary: "mixes day-first and month-first dates".into(),
            detail: format!(
                "{} puts the {this} first, but {} the {other} first: the column mixes both \
                 orders, so some of its dates are wrong; write them as YYYY-MM-DD, or pass \
                 --date-format %d{sep}%m{sep}%Y (or %m{sep}%d{sep}%Y) and fix those that disagree",
                quote(t),
                theirs.describe()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(rows: &[u32]) -> Tally {
        let mut t = Tally::default();
        for r in rows {
            t.add(*r);
        }
        t
    }

    #[test]
    fn rows_are_listed_and_capped() {
        assert_eq!(tally(&[3]).describe(), "row 3 of this column puts");
        assert_eq!(tally(&[2, 3]).describe(), "rows 2 and 3 of this column put");
        assert_eq!(
            tally(&[2, 3, 6]).describe(),
            "rows 2, 3 and 6 of this column put"
        );
        assert_eq!(
            tally(&[2, 3, 6, 7, 9]).describe(),
            "rows 2, 3, 6 and 2 more of this column put"
        );
    }

    #[test]
    fn the_minority_and_both_sides_of_a_tie_are_refused() {
        let mut orders = DateOrders::default();
        orders.columns.insert(0, [tally(&[2, 3, 6]), tally(&[4])]);
        orders.columns.insert(1, [tally(&[2]), tally(&[3])]);
        assert!(
            orders
                .conflict(0, DayMonthOrder::DayFirst, "13/04/2026")
                .is_none()
        );
        let e = orders.conflict(0, DayMonthOrder::MonthFirst, "04/13/2026");
        let d = e.map(|e| e.detail).unwrap_or_default();
        assert!(
            d.starts_with("'04/13/2026' puts the month first, but rows 2, 3 and 6 of this column put the day first"),
            "{d}"
        );
        assert!(d.contains("%d/%m/%Y (or %m/%d/%Y)"), "{d}");
        assert!(
            orders
                .conflict(1, DayMonthOrder::DayFirst, "13.04.2026")
                .is_some()
        );
        assert!(
            orders
                .conflict(1, DayMonthOrder::MonthFirst, "04.13.2026")
                .is_some()
        );
        assert!(
            orders
                .conflict(2, DayMonthOrder::MonthFirst, "04/13/2026")
                .is_none()
        );
    }
}
