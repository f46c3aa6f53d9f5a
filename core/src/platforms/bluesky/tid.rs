//! Record keys for posts: TIDs derived from the part's idempotency key.
//!
//! A TID is a 64-bit number written as 13 characters of base32-sortable
//! (`234567abcdefghijklmnopqrstuvwxyz`): the top bit 0, then 53 bits of microseconds
//! since 1970, then a 10-bit clock id. The PDS checks that a post's rkey has this shape.
//!
//! Ours are not read from the clock: they come from SHA-256 of the idempotency key, so
//! every retry of a part asks for the same rkey and the repository cannot take a second
//! record under it. The hash picks the clock id and a time within 2^45 µs (about 13
//! months) from 2023-01-01: always a valid TID, never in the future. The time in an rkey
//! is not the post's time (Bluesky shows and orders posts by `createdAt`).

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// 2023-01-01T00:00:00Z in microseconds.
const WINDOW_START_MICROS: u64 = 1_672_531_200_000_000;
const WINDOW_BITS: u32 = 45;

/// The rkey for the part with this idempotency key.
pub(super) fn from_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let hash = u64::from_be_bytes(first);
    let clock_id = hash & 0x3ff;
    let micros = WINDOW_START_MICROS + ((hash >> 10) & ((1 << WINDOW_BITS) - 1));
    encode((micros << 10) | clock_id)
}

fn encode(value: u64) -> String {
    (0..13)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// Whether `s` has the shape of a TID (as the PDS checks record keys of posts).
#[cfg(test)]
pub(super) fn is_tid(s: &str) -> bool {
    s.len() == 13
        && s.bytes().all(|b| ALPHABET.contains(&b))
        && s.as_bytes()
            .first()
            .is_some_and(|b| b"234567abcdefghij".contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_always_gives_the_same_valid_tid() {
        let keys = [
            "0190c5a2-7b1e-7c3d-8e4f-123456789abc:0",
            "0190c5a2-7b1e-7c3d-8e4f-123456789abc:1",
            "",
            "ключ 🎉",
        ];
        let tids: Vec<String> = keys.iter().map(|key| from_key(key)).collect();
        for (key, tid) in keys.iter().zip(&tids) {
            assert!(is_tid(tid), "{key:?} -> {tid}");
            assert_eq!(
                &from_key(key),
                tid,
                "{key:?} must give the same rkey every time"
            );
        }
        let mut distinct = tids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), keys.len(), "{tids:?}");
        // Pinned: a change here would make retries after an upgrade post twice.
        assert_eq!(from_key("target-1:0"), from_key("target-1:0"));
        assert_eq!(from_key("target-1:0"), PINNED);
    }

    const PINNED: &str = "3k2wnbruvk5p7";

    #[test]
    fn the_time_part_stays_in_the_window() {
        for i in 0..2000 {
            let tid = from_key(&format!("target-{i}:0"));
            let value = tid.bytes().fold(0u64, |acc, b| {
                let digit = ALPHABET.iter().position(|&c| c == b).unwrap_or(0) as u64;
                (acc << 5) | digit
            });
            let micros = value >> 10;
            assert!(micros >= WINDOW_START_MICROS, "{tid}");
            assert!(micros < WINDOW_START_MICROS + (1 << WINDOW_BITS), "{tid}");
        }
    }

    #[test]
    fn encoding_matches_the_spec_examples() {
        assert_eq!(encode(0), "2222222222222");
        assert!(is_tid("3jzfcijpj2z2a"));
        assert!(!is_tid("kjzfcijpj2z2a"), "top bit set");
        assert!(!is_tid("3jzfcijpj2z2"), "too short");
        assert!(!is_tid("3jzfcijpj2z21"), "1 is not in the alphabet");
    }
}
