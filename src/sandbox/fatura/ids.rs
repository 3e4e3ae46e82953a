//! Turkish identifier checks, as `shared/api/fatura-entegrator.md` spells them
//! out, and generators of valid ones for the seed.

/// The customary TCKN of an anonymous final consumer; fails the checksum but is
/// accepted.
pub(crate) const PLACEHOLDER_TCKN: &str = "11111111111";

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                c.to_digit(10)
            } else {
                None
            }
        })
        .collect()
}

/// The VKN check digit of nine leading digits.
fn vkn_check(d: &[u32]) -> u32 {
    let sum: u32 = (1..=9)
        .map(|p| {
            let t = (d[p - 1] + 10 - p as u32) % 10;
            if t == 0 {
                0
            } else {
                match (t * (1 << (10 - p))) % 9 {
                    0 => 9,
                    c => c,
                }
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A 10-digit tax number (vergi kimlik numarası) with a valid check digit.
pub(crate) fn is_vkn(s: &str) -> bool {
    match digits(s) {
        Some(d) if d.len() == 10 => vkn_check(&d[..9]) == d[9],
        _ => false,
    }
}

/// The two TCKN check digits of nine leading digits.
fn tckn_checks(d: &[u32]) -> (u32, u32) {
    let odd: i64 = [0, 2, 4, 6, 8].iter().map(|&i| i64::from(d[i])).sum();
    let even: i64 = [1, 3, 5, 7].iter().map(|&i| i64::from(d[i])).sum();
    let d10 = u32::try_from((7 * odd - even).rem_euclid(10)).unwrap_or(0);
    let d11 = (d.iter().take(9).sum::<u32>() + d10) % 10;
    (d10, d11)
}

/// An 11-digit personal id (T.C. kimlik numarası), first digit not 0, with
/// both check digits right.
pub(crate) fn is_tckn(s: &str) -> bool {
    match digits(s) {
        Some(d) if d.len() == 11 && d[0] != 0 => tckn_checks(&d[..9]) == (d[9], d[10]),
        _ => false,
    }
}

/// An IBAN: 2 letters, 2 check digits, up to 30 alphanumerics (26 characters
/// in all for `TR`), mod 97 = 1. Spaces are ignored and case too, as bank
/// statements print them.
pub(crate) fn is_iban(s: &str) -> bool {
    let compact: String = s
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = compact.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    if &b[..2] == b"TR" && b.len() != 26 {
        return false;
    }
    mod97(b[4..].iter().chain(&b[..4])) == 1
}

fn mod97<'a>(chars: impl Iterator<Item = &'a u8>) -> u32 {
    chars.fold(0, |acc, &c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    })
}

/// A valid VKN from nine digits (`n` below 10⁹).
pub(crate) fn make_vkn(n: u64) -> String {
    let head = format!("{:09}", n % 1_000_000_000);
    let d: Vec<u32> = head.bytes().map(|b| u32::from(b - b'0')).collect();
    format!("{head}{}", vkn_check(&d))
}

/// A valid TCKN from nine digits (`n` in 10⁸..10⁹, so the first is not 0).
pub(crate) fn make_tckn(n: u64) -> String {
    let head = format!("{:09}", 100_000_000 + n % 900_000_000);
    let d: Vec<u32> = head.bytes().map(|b| u32::from(b - b'0')).collect();
    let (d10, d11) = tckn_checks(&d);
    format!("{head}{d10}{d11}")
}

/// A valid Turkish IBAN for a bank code and a 16-digit account.
pub(crate) fn make_tr_iban(bank: u32, account: u64) -> String {
    let bban = format!("{:05}0{:016}", bank % 100_000, account % 10_u64.pow(16));
    let probe = format!("{bban}TR00");
    let check = 98 - mod97(probe.as_bytes().iter());
    format!("TR{check:02}{bban}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vkn_examples() {
        assert!(is_vkn("9876543217"));
        assert!(is_vkn("4540536920"));
        assert!(!is_vkn("9876543210"));
        assert!(!is_vkn("987654321"));
        assert!(!is_vkn("98765432１7"));
        for n in [0, 1, 123_456_789, 999_999_999] {
            assert!(is_vkn(&make_vkn(n)), "{}", make_vkn(n));
        }
    }

    #[test]
    fn tckn_examples() {
        for ok in ["34567890170", "17291716060", "19090909018"] {
            assert!(is_tckn(ok), "{ok}");
        }
        for bad in [
            "34567890160",
            "34567890171",
            PLACEHOLDER_TCKN,
            "04567890170",
            "3456789017",
        ] {
            assert!(!is_tckn(bad), "{bad}");
        }
        for n in [0, 7, 123_456_789, 899_999_999] {
            assert!(is_tckn(&make_tckn(n)), "{}", make_tckn(n));
        }
    }

    #[test]
    fn iban_examples() {
        assert!(is_iban("TR330006100519786457841326"));
        assert!(is_iban("TR85 0001 0000 0000 0012 3456 78"));
        assert!(is_iban("tr850001000000000012345678"));
        assert!(is_iban("DE89370400440532013000"));
        assert!(!is_iban("TR850001000000000012345687"));
        assert!(!is_iban("TR8500010000000000123456"));
        assert!(!is_iban("TR85000100000000001234567ü"));
        for (bank, account) in [(1, 1), (62, 1_234_567_890), (99_999, 9_999_999_999_999_999)] {
            let iban = make_tr_iban(bank, account);
            assert_eq!(iban.len(), 26);
            assert!(is_iban(&iban), "{iban}");
        }
    }
}
