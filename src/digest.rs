//! SHA-256 in lowercase hex: the one spelling of the hashes the gateway stores and compares
//! (refresh tokens, persisted documents, cache keys).

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The lowercase hex SHA-256 of `text` (as clients send a document's hash).
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// `text` in lowercase, when it is a SHA-256 in hex (64 hex digits, either case).
pub fn as_sha256_hex(text: &str) -> Option<String> {
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.to_ascii_lowercase())
}

/// Whether `given` is `secret`, compared by their SHA-256 digests in constant time: the time
/// taken says nothing about how much of either matched, nor about the secret's length.
pub fn same_secret(secret: &[u8], given: &[u8]) -> bool {
    let (secret, given) = (Sha256::digest(secret), Sha256::digest(given));
    secret
        .iter()
        .zip(given.iter())
        .fold(0u8, |differ, (a, b)| differ | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_a_sha256_and_compares_secrets() {
        let hash = super::sha256_hex("abc");
        assert_eq!(
            super::as_sha256_hex(&hash.to_ascii_uppercase()),
            Some(hash.clone())
        );
        assert_eq!(super::as_sha256_hex(&hash[1..]), None);
        assert_eq!(super::as_sha256_hex(&format!("{}g", &hash[1..])), None);
        assert!(super::same_secret(b"a-long-secret", b"a-long-secret"));
        assert!(!super::same_secret(b"a-long-secret", b"a-long-secreT"));
        assert!(!super::same_secret(b"a-long-secret", b""));
    }

    #[test]
    fn matches_the_published_digest() {
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
