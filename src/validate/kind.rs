//! The kind of an error message: what went wrong, without where it happened or with which
//! value, so that rows failing the same way count as one line in summaries.

/// Longest kind shown, in characters; the full text stays in the row's `_error`.
const MAX_KIND_CHARS: usize = 160;

/// The kind of an error message: its cell references, quoted values and row lists
/// taken out, and each reason cut before its how-to-fix advice.
///
/// `No HP (Customers!B6): '0812-34AB-7890' is not a phone number` → `No HP: is not a
/// phone number`. A message holding several reasons (`a; b`, as `_error` joins them)
/// keeps the kind of each, joined the same way; [`error_kinds`] gives them one by one.
pub fn error_kind(message: &str) -> String {
    let joined = error_kinds(message).join("; ");
    if joined.chars().count() > MAX_KIND_CHARS {
        joined.chars().take(MAX_KIND_CHARS).collect::<String>() + "…"
    } else {
        joined
    }
}

/// The kind of each reason of a message, once each, in order, so that a summary can
/// count a row under every kind of error it has (as `validate` does).
///
/// A clause without its own `where: what` shape continues the advice of the reason
/// before it and is dropped. A `warning: ` prefix is kept, so that warnings and errors
/// never share a line.
pub fn error_kinds(message: &str) -> Vec<String> {
    let cleaned = strip_quoted(&strip_refs(message));
    let mut kinds: Vec<String> = Vec::new();
    for (i, reason) in cleaned.split("; ").enumerate() {
        let (warning, body) = match reason.trim().strip_prefix("warning: ") {
            Some(rest) => ("warning: ", rest),
            None => ("", reason.trim()),
        };
        let kind = match body.split_once(": ") {
            Some((place, rest)) => {
                let what = rest.split(": ").next().unwrap_or(rest);
                format!("{warning}{}: {}", tidy(place), tidy(what))
            }
            // The first reason is kept whole; later colon-less clauses are advice.
            None if i == 0 => format!("{warning}{}", tidy(body)),
            None => continue,
        };
        let kind = if kind.chars().count() > MAX_KIND_CHARS {
            kind.chars().take(MAX_KIND_CHARS).collect::<String>() + "…"
        } else {
            kind
        };
        if !kind.is_empty() && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// Row lists out (`rows 4, 6 and 2 more` → `rows`), white space collapsed.
fn tidy(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let starts_number = |k: usize| {
            words
                .get(k)
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        };
        if (w == "row" || w == "rows") && starts_number(i + 1) {
            // Skip `4,` `6` `and` `2` `more`, keeping the punctuation that ends the list.
            let mut k = i + 1;
            let mut tail = "";
            while k < words.len() {
                let t = words[k];
                let digits = t.trim_end_matches([',', '.', ';', ':', ')']);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    tail = &t[digits.len()..];
                    k += 1;
                    if !tail.is_empty() && tail != "," {
                        break;
                    }
                } else if (t == "and" && starts_number(k + 1)) || t == "more" {
                    k += 1;
                } else {
                    break;
                }
            }
            out.push(format!("{w}{}", tail.trim_start_matches(',')));
            i = k;
            continue;
        }
        out.push(w.to_string());
        i += 1;
    }
    out.join(" ").trim_end_matches([':', ';', ',']).to_string()
}

/// Parenthesised cell references out: ` (Customers!B6)`, ` (B6)`, ` ('My Sheet'!B6, F6)`.
fn strip_refs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let Some(len) = rest[open..].find(')') else {
            break;
        };
        let inner = &rest[open + 1..open + len];
        if !inner.is_empty() && inner.split(", ").all(is_cell_ref) {
            out.push_str(rest[..open].trim_end_matches(' '));
        } else {
            out.push_str(&rest[..=open + len]);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

/// `D14`, `$D$14`, `Customers!D14`, `'My Sheet'!D14`.
fn is_cell_ref(text: &str) -> bool {
    let cell = match text.rsplit_once('!') {
        Some((sheet, cell)) => {
            let quoted = sheet.len() >= 2 && sheet.starts_with('\'') && sheet.ends_with('\'');
            let plain = !sheet.is_empty()
                && sheet
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
            if !quoted && !plain {
                return false;
            }
            cell
        }
        None => text,
    };
    let cell = cell.replace('$', "");
    let letters = cell.bytes().take_while(u8::is_ascii_uppercase).count();
    let digits = &cell[letters..];
    (1..=3).contains(&letters) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Quoted values out: `'0812-34AB' is not …` → `is not …`. A quote opens after a space,
/// `(` or the start, and closes before a space, punctuation or the end, so an apostrophe
/// inside a word (`Customer's`, `O'Neil`) neither opens nor closes one.
fn strip_quoted(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let opens =
            chars[i] == '\'' && (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == '(');
        if opens {
            let close = (i + 1..chars.len()).find(|&j| {
                chars[j] == '\''
                    && chars
                        .get(j + 1)
                        .is_none_or(|c| c.is_whitespace() || ":;,.)".contains(*c))
            });
            if let Some(j) = close {
                i = j + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_out_cell_value_and_advice() {
        assert_eq!(
            error_kind("No HP (Customers!B6): '0812-34AB-7890' is not a phone number: use digits"),
            "No HP: is not a phone number"
        );
        assert_eq!(
            error_kind("No HP (B6): '0812-34AB' is not a phone number"),
            "No HP: is not a phone number"
        );
        assert_eq!(
            error_kind(
                "Bujur (Customers!F7): is empty while Lintang (Customers!E7) is given: fill both or neither"
            ),
            "Bujur: is empty while Lintang is given"
        );
    }

    #[test]
    fn duplicates_of_different_keys_share_a_kind() {
        let a = error_kind(
            "Kode Pelanggan (Customers!E10): 'C1' is duplicated in the file: it also appears in rows 4, 6; keep one row per ext_cust_no",
        );
        let b = error_kind(
            "Kode Pelanggan (Customers!E15): 'C9' is duplicated in the file: it also appears in row 3; keep one row per ext_cust_no",
        );
        assert_eq!(a, "Kode Pelanggan: is duplicated in the file");
        assert_eq!(a, b);
    }

    #[test]
    fn keeps_every_reason_and_the_warning_prefix() {
        assert_eq!(
            error_kind(
                "HTTP 422: The given data was invalid; E-posta (Customers!M8): The email has already been taken."
            ),
            "HTTP 422: The given data was invalid; E-posta: The email has already been taken."
        );
        assert_eq!(
            error_kind(
                "warning: Kode ('My Sheet'!B3): '124' is a number cell: format the column as Text"
            ),
            "warning: Kode: is a number cell"
        );
        assert_eq!(
            error_kind("not sent: the run stopped"),
            "not sent: the run stopped"
        );
    }

    #[test]
    fn row_lists_and_apostrophes() {
        assert_eq!(
            error_kind("Status (D2): conflicts with rows 3, 4 and 2 more: make them agree"),
            "Status: conflicts with rows"
        );
        assert_eq!(
            error_kind("Customer's code (C2): 'O'Neil' is not allowed"),
            "Customer's code: is not allowed"
        );
        assert_eq!(
            error_kind("Lokasi, Lintang (Customers!J5, Customers!F5): more than one is filled in"),
            "Lokasi, Lintang: more than one is filled in"
        );
        // Parentheses that are not cell references stay.
        assert_eq!(
            error_kind("Lokasi (J5): looks swapped (lon, lat): swap them"),
            "Lokasi: looks swapped (lon, lat)"
        );
    }
}
