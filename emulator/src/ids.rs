//! Salesforce record ids: 15-character case-sensitive base-62 ids with the 3-character
//! case-insensitive checksum that makes the 18-character form the APIs return.
//!
//! The emulator mints ids from a per-object sequence so that ids sort in creation order
//! (the base-62 alphabet below is in ASCII order), which keeps un-ordered queries and
//! paging stable. Clients' own id validation is exercised because every id carries a real
//! key prefix and a correct checksum.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The three checksum characters for a 15-character id.
pub fn checksum(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|block| {
            let bits = block
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            CHECKSUM_ALPHABET[bits] as char
        })
        .collect()
}

/// Builds the 18-character id for `prefix` (3 chars), pod (2 chars) and a sequence number.
pub fn mint(prefix: &str, pod: &str, sequence: u64) -> String {
    debug_assert_eq!(prefix.len(), 3);
    debug_assert_eq!(pod.len(), 2);
    let mut body = [b'0'; 10];
    let mut n = sequence;
    for slot in body.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let id15 = format!(
        "{prefix}{pod}{}",
        std::str::from_utf8(&body).expect("ascii")
    );
    let sum = checksum(&id15);
    id15 + &sum
}

/// Normalises a 15- or 18-character id to its canonical 18-character form.
///
/// Returns `None` when the text is not a well-formed id (wrong length, non-alphanumeric
/// characters, or an 18-character id whose checksum does not match its first 15 characters,
/// compared case-insensitively as Salesforce does).
pub fn normalize(id: &str) -> Option<String> {
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match id.len() {
        15 => Some(format!("{id}{}", checksum(id))),
        18 => {
            let (body, sum) = id.split_at(15);
            checksum(body)
                .eq_ignore_ascii_case(sum)
                .then(|| format!("{body}{}", checksum(body)))
        }
        _ => None,
    }
}

/// The 3-character key prefix of a well-formed id.
pub fn key_prefix(id: &str) -> &str {
    &id[..3.min(id.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_published_vectors() {
        assert_eq!(normalize("a0RE000000IJmcN").unwrap(), "a0RE000000IJmcNMAT");
        assert_eq!(normalize("001M000000qfPyS").unwrap(), "001M000000qfPySIAU");
        assert_eq!(checksum("aaaaaaaaaaaaaaa"), "AAA");
        assert_eq!(checksum("AbCdEfGhIjKlMnO"), "VKV");
    }

    #[test]
    fn eighteen_char_ids_are_checked_case_insensitively() {
        assert_eq!(
            normalize("001M000000qfPySiau").unwrap(),
            "001M000000qfPySIAU"
        );
        assert!(normalize("001M000000qfPySAAA").is_none());
        assert!(normalize("001M000000qfPy").is_none());
        assert!(normalize("001M000000qfPy'; --").is_none());
    }

    #[test]
    fn minted_ids_are_valid_and_sort_in_sequence_order() {
        let a = mint("001", "5g", 61);
        let b = mint("001", "5g", 62);
        let c = mint("001", "5g", 3_000_000);
        for id in [&a, &b, &c] {
            assert_eq!(id.len(), 18);
            assert_eq!(normalize(id).as_ref(), Some(id));
            assert_eq!(key_prefix(id), "001");
        }
        assert!(a[..15] < b[..15] && b[..15] < c[..15]);
    }
}
