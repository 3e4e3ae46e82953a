//! Bearer sessions and signed team tokens.
//!
//! A team token is `base64url(compact JSON).signature` like the live API's, so a
//! client can read `db_id`/`team_id` from it; the signature is a keyed SipHash-2-4
//! over the encoded JSON part, checked on every call, so a client that edits or
//! builds a token gets 403 here before it gets one in production.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::lock;

/// What a valid team token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TeamClaims {
    pub(crate) db_id: u64,
    pub(crate) team_id: u64,
}

/// Why a bearer was refused; an expired one is counted as a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerError {
    Missing,
    Unknown,
    Expired,
}

/// Issued bearers and the team-token key.
pub(crate) struct Auth {
    key: (u64, u64),
    ttl: Option<Duration>,
    bearers: Mutex<Bearers>,
}

struct Bearers {
    rng: fastrand::Rng,
    /// token → expiry (`None`: never).
    issued: HashMap<String, Option<Instant>>,
}

/// How many bearers are kept before expired ones are forgotten; bounds memory
/// for a client that signs in per request.
const BEARER_PURGE_AT: usize = 10_000;

impl Auth {
    /// The key is derived from the seed, so team tokens survive a restart with the
    /// same seed (as real team tokens outlive a bearer).
    pub(crate) fn new(seed: u64, ttl: Option<Duration>) -> Self {
        Auth {
            key: (
                splitmix(seed ^ 0x7465_616d_746f_6b65),
                splitmix(seed ^ 0x7369_676e_6174_7572),
            ),
            ttl,
            bearers: Mutex::new(Bearers {
                rng: fastrand::Rng::with_seed(splitmix(seed ^ 0x6265_6172_6572)),
                issued: HashMap::new(),
            }),
        }
    }

    pub(crate) fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    pub(crate) fn issue_bearer(&self) -> String {
        let mut bearers = lock(&self.bearers);
        let now = Instant::now();
        if bearers.issued.len() >= BEARER_PURGE_AT {
            // Forget tokens that expired more than a TTL ago; still-recent expired
            // ones stay so that their use is reported as "expired", not "unknown".
            let ttl = self.ttl.unwrap_or_default();
            bearers
                .issued
                .retain(|_, exp| exp.is_none_or(|e| e.checked_add(ttl).is_none_or(|t| t > now)));
        }
        let token = format!(
            "smx_{:016x}{:016x}",
            bearers.rng.u64(..),
            bearers.rng.u64(..)
        );
        // A TTL too large to represent means "never expires", not a panic.
        let expiry = self.ttl.and_then(|ttl| now.checked_add(ttl));
        bearers.issued.insert(token.clone(), expiry);
        token
    }

    /// Checks an `Authorization` header value.
    pub(crate) fn check_bearer(&self, header: Option<&str>) -> Result<(), BearerError> {
        let token = header
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(BearerError::Missing)?;
        let bearers = lock(&self.bearers);
        match bearers.issued.get(token) {
            None => Err(BearerError::Unknown),
            Some(Some(expiry)) if Instant::now() >= *expiry => Err(BearerError::Expired),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn team_token(&self, claims: TeamClaims) -> String {
        // Serialising two integers cannot fail; the fallback keeps this panic-free.
        let payload = serde_json::to_vec(&claims).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let signature = self.sign(&payload);
        format!("{payload}.{signature}")
    }

    /// `None` for anything but an unaltered token this key signed.
    pub(crate) fn verify_team_token(&self, token: &str) -> Option<TeamClaims> {
        let (payload, signature) = token.rsplit_once('.')?;
        if self.sign(payload) != signature {
            return None;
        }
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        serde_json::from_slice(&json).ok()
    }

    fn sign(&self, payload: &str) -> String {
        let (k0, k1) = self.key;
        let a = siphash24(k0, k1, payload.as_bytes());
        let b = siphash24(k1 ^ 0x5bd1_e995, k0, payload.as_bytes());
        let mut sig = [0u8; 16];
        sig[..8].copy_from_slice(&a.to_le_bytes());
        sig[8..].copy_from_slice(&b.to_le_bytes());
        URL_SAFE_NO_PAD.encode(sig)
    }
}

/// SplitMix64 finaliser: spreads a seed into independent-looking keys.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SipHash-2-4 (Aumasson & Bernstein), written out because std's hasher is
/// unkeyed-by-API and its algorithm may change between Rust releases, which would
/// invalidate tokens kept across a restart.
pub(crate) fn siphash24(k0: u64, k1: u64, msg: &[u8]) -> u64 {
    let mut v = [
        0x736f_6d65_7073_6575 ^ k0,
        0x646f_7261_6e64_6f6d ^ k1,
        0x6c79_6765_6e65_7261 ^ k0,
        0x7465_6462_7974_6573 ^ k1,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let mut chunks = msg.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = u64::from_le_bytes(word);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = (msg.len() as u64) << 56;
    for (i, byte) in chunks.remainder().iter().enumerate() {
        last |= u64::from(*byte) << (8 * i);
    }
    v[3] ^= last;
    round(&mut v);
    round(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_key() -> (u64, u64) {
        let key: Vec<u8> = (0u8..16).collect();
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&key[..8]);
        b.copy_from_slice(&key[8..]);
        (u64::from_le_bytes(a), u64::from_le_bytes(b))
    }

    #[test]
    fn siphash_reference_vectors() {
        let (k0, k1) = reference_key();
        assert_eq!(siphash24(k0, k1, b""), 0x726f_db47_dd0e_0e31);
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(siphash24(k0, k1, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn team_token_round_trip_and_tamper() {
        let auth = Auth::new(7, None);
        let claims = TeamClaims {
            db_id: 1,
            team_id: 24001,
        };
        let token = auth.team_token(claims);
        let (payload, _) = token.split_once('.').unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(payload).unwrap(),
            br#"{"db_id":1,"team_id":24001}"#
        );
        assert_eq!(auth.verify_team_token(&token), Some(claims));
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"db_id":2,"team_id":24001}"#);
        let (_, sig) = token.rsplit_once('.').unwrap();
        assert_eq!(
            auth.verify_team_token(&format!("{forged_payload}.{sig}")),
            None
        );
        assert_eq!(auth.verify_team_token("garbage"), None);
        assert_eq!(auth.verify_team_token(""), None);
        assert_eq!(Auth::new(8, None).verify_team_token(&token), None);
    }

    #[test]
    fn bearer_header_forms() {
        let auth = Auth::new(1, Some(Duration::from_secs(60)));
        let token = auth.issue_bearer();
        assert_eq!(auth.check_bearer(Some(&format!("Bearer {token}"))), Ok(()));
        assert_eq!(
            auth.check_bearer(Some(&format!("bearer  {token} "))),
            Ok(())
        );
        assert_eq!(auth.check_bearer(None), Err(BearerError::Missing));
        assert_eq!(
            auth.check_bearer(Some("Bearer ")),
            Err(BearerError::Missing)
        );
        assert_eq!(
            auth.check_bearer(Some(&format!("Basic {token}"))),
            Err(BearerError::Missing)
        );
        assert_eq!(
            auth.check_bearer(Some("Bearer nope")),
            Err(BearerError::Unknown)
        );
    }
}
