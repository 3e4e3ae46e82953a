//! TEMPORARY stub: replaced by the full value parsers.
#![allow(missing_docs, clippy::all)]
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    pub summary: String,
    pub detail: String,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalStyle {
    #[default]
    Auto,
    DecimalComma,
    DecimalPoint,
}
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    pub decimals: DecimalStyle,
    pub date_format: Option<String>,
}
fn e(s: &str, t: &str) -> ValueError {
    ValueError {
        summary: s.into(),
        detail: format!("'{t}' {s}"),
    }
}
pub fn parse_decimal(text: &str, _n: bool, _o: &ParseOptions) -> Result<f64, ValueError> {
    text.trim().parse().map_err(|_| e("is not a number", text))
}
pub fn parse_integer(text: &str, _n: bool, _o: &ParseOptions) -> Result<i64, ValueError> {
    text.trim()
        .parse()
        .map_err(|_| e("is not a whole number", text))
}
pub fn parse_id(text: &str) -> Result<i64, ValueError> {
    text.trim()
        .parse()
        .map_err(|_| e("is not a valid id", text))
}
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    match text.trim().to_lowercase().as_str() {
        "true" | "1" | "ya" | "yes" => Ok(true),
        "false" | "0" | "tidak" | "no" => Ok(false),
        _ => Err(e("is not yes/no", text)),
    }
}
pub fn parse_date(text: &str, _o: &ParseOptions) -> Result<chrono::NaiveDate, ValueError> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| e("is not a date", text))
}
pub fn parse_latitude(text: &str) -> Result<f64, ValueError> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| e("is not a latitude", text))?;
    if (-90.0..=90.0).contains(&v) {
        Ok(v)
    } else {
        Err(e("is out of range", text))
    }
}
pub fn parse_longitude(text: &str) -> Result<f64, ValueError> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| e("is not a longitude", text))?;
    if (-180.0..=180.0).contains(&v) {
        Ok(v)
    } else {
        Err(e("is out of range", text))
    }
}
pub fn parse_location(text: &str) -> Result<(f64, f64), ValueError> {
    let mut it = text.split(',');
    let a = parse_latitude(it.next().unwrap_or(""))?;
    let b = parse_longitude(it.next().unwrap_or(""))?;
    Ok((a, b))
}
pub fn parse_phone(text: &str) -> Result<String, ValueError> {
    let t: String = text.chars().filter(|c| !" -".contains(*c)).collect();
    if t.chars().all(|c| c.is_ascii_digit() || c == '+') {
        Ok(t)
    } else {
        Err(e("is not a phone number", text))
    }
}
pub fn parse_email(text: &str) -> Result<String, ValueError> {
    if text.contains('@') {
        Ok(text.trim().into())
    } else {
        Err(e("is not an e-mail address", text))
    }
}
pub fn parse_tags(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
pub fn parse_discount(text: &str) -> Result<String, ValueError> {
    Ok(text.trim().into())
}
pub fn excel_serial_to_date(_serial: f64) -> Option<chrono::NaiveDate> {
    None
}
