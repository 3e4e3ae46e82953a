//! Fingerprints: the ledger identifies inputs and payloads by hash, never by content.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input::io_reason;

/// Hex SHA-256 of a file's bytes, read in blocks so a large workbook is never held in
/// memory. `resume` compares it with the run's to refuse an input edited since.
pub fn file_fingerprint(path: &Path) -> Result<String> {
    let fail = |e: std::io::Error| {
        Error::input(format!(
            "cannot read {} to fingerprint it: {}; check that the file exists and is readable",
            path.display(),
            io_reason(&e)
        ))
    };
    let mut file = File::open(path).map_err(fail)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Hex SHA-256 of a payload. The ledger stores this instead of the payload, which may
/// hold personal data, yet can still tell whether a re-sent row is the same request.
pub fn payload_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn payload_hash_is_hex_sha256() {
        assert_eq!(payload_hash(b""), EMPTY);
        assert_eq!(payload_hash(b"abc"), ABC);
    }

    #[test]
    fn file_fingerprint_streams_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(file_fingerprint(&path).unwrap(), ABC);
        // Larger than one block: same as hashing the bytes at once.
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &big).unwrap();
        assert_eq!(file_fingerprint(&path).unwrap(), payload_hash(&big));
    }

    #[test]
    fn missing_file_is_an_input_error_naming_it() {
        let err = file_fingerprint(Path::new("/no/such/dir/in.csv")).unwrap_err();
        assert!(matches!(err, Error::Input(_)));
        assert!(err.to_string().contains("/no/such/dir/in.csv"), "{err}");
    }
}
