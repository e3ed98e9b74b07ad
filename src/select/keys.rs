//! Maps and sets keyed by id keys (the identity rule's output, [`crate::ids`]). A key of at
//! most 15 bytes — every customer id we have met — is held as one integer: its bytes and its
//! length. Hashing and comparing it then touch no string, so a million lookups are a million
//! probes of one table instead of a probe, a pointer and the id's bytes each. Longer keys are
//! held as strings. Two keys are the same entry exactly when their texts are equal.

use std::hash::{BuildHasher, Hasher};

use polars::prelude::PlHashMap;

/// A key of at most 15 bytes as one integer: its bytes (little-endian) and its length in the
/// top byte; `None` for a longer key. Two short keys are equal exactly when their integers are.
#[inline]
pub fn packed(key: &str) -> Option<u128> {
    let bytes = key.as_bytes();
    if bytes.len() > 15 {
        return None;
    }
    // A byte loop, not a copy into a buffer: the copy is a call and a store the integer load
    // must wait for, which in a loop of map insertions cost four times the insertion.
    let mut v = (bytes.len() as u128) << 120;
    for (i, b) in bytes.iter().enumerate() {
        v |= u128::from(*b) << (8 * i);
    }
    Some(v)
}

/// A key as a map files it: packed when short (see [`packed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Short(u128),
    Long(String),
}

impl Key {
    pub fn of(key: &str) -> Key {
        match packed(key) {
            Some(k) => Key::Short(k),
            None => Key::Long(key.to_string()),
        }
    }
}

/// Hashes a packed key with MurmurHash3's finalizer: a packed id has few varying bits (digits
/// vary in their low four), which must reach both the low bits (the bucket) and the top bits
/// (the table's tag byte).
#[derive(Debug, Clone, Copy, Default)]
pub struct PackedHash;

impl BuildHasher for PackedHash {
    type Hasher = PackedHasher;
    fn build_hasher(&self) -> PackedHasher {
        PackedHasher(0)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PackedHasher(u64);

impl Hasher for PackedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u128(&mut self, k: u128) {
        let (lo, hi) = (k as u64, (k >> 64) as u64);
        self.0 = fmix64(lo ^ fmix64(hi ^ self.0));
    }

    /// Only packed keys are hashed here; any other bytes still hash (eight at a time).
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(16) {
            let mut buf = [0u8; 16];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u128(u128::from_le_bytes(buf));
        }
    }
}

/// MurmurHash3's finalizer: every input bit reaches every output bit.
#[inline]
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Key → value, for keys of any length.
#[derive(Debug, Clone, Default)]
pub struct KeyMap<V> {
    short: std::collections::HashMap<u128, V, PackedHash>,
    long: PlHashMap<String, V>,
}

impl<V: Copy> KeyMap<V> {
    /// Room for `n` keys (short ones: the usual case).
    pub fn with_capacity(n: usize) -> KeyMap<V> {
        KeyMap {
            short: std::collections::HashMap::with_capacity_and_hasher(n, PackedHash),
            long: PlHashMap::default(),
        }
    }

    /// Files `value` under `key`; the value it had before, if any (which is then replaced).
    pub fn insert(&mut self, key: Key, value: V) -> Option<V> {
        match key {
            Key::Short(k) => self.short.insert(k, value),
            Key::Long(k) => self.long.insert(k, value),
        }
    }

    /// Files `value` under `key` unless the key has one: whether it was filed.
    pub fn insert_new(&mut self, key: Key, value: V) -> bool {
        let mut filed = false;
        let file = || {
            filed = true;
            value
        };
        match key {
            Key::Short(k) => {
                self.short.entry(k).or_insert_with(file);
            }
            Key::Long(k) => {
                self.long.entry(k).or_insert_with(file);
            }
        }
        filed
    }

    /// The value filed under a key already made (see [`Key::of`]).
    pub fn get_key(&self, key: &Key) -> Option<V> {
        match key {
            Key::Short(k) => self.short.get(k).copied(),
            Key::Long(k) => self.long.get(k).copied(),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        match packed(key) {
            Some(k) => self.short.get(&k).copied(),
            None => self.long.get(key).copied(),
        }
    }

    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_differ_by_length_and_bytes() {
        // A key and the same key with a trailing NUL are different texts: the length tells them
        // apart although the padded bytes are equal.
        assert_ne!(packed("a"), packed("a\0"));
        assert_ne!(packed(""), packed("\0"));
        assert_ne!(packed("ab"), packed("ba"));
        assert_eq!(packed("123456789012345"), packed("123456789012345"));
        assert_eq!(
            packed("ab"),
            Some(u128::from_le_bytes(*b"ab\0\0\0\0\0\0\0\0\0\0\0\0\0\x02"))
        );
        assert!(packed("1234567890123456").is_none());
    }

    #[test]
    fn a_map_keeps_short_and_long_keys_apart_and_equal_texts_together() {
        let mut m = KeyMap::with_capacity(4);
        assert_eq!(m.insert(Key::of("7"), 0), None);
        assert_eq!(m.insert(Key::of("a-very-long-customer-key"), 1), None);
        assert_eq!(m.insert(Key::of("7"), 2), Some(0));
        assert!(!m.insert_new(Key::of("a-very-long-customer-key"), 3));
        assert!(m.insert_new(Key::of("007"), 4));
        assert!(!m.insert_new(Key::of("007"), 5));
        assert_eq!(m.get("7"), Some(2));
        assert_eq!(m.get("a-very-long-customer-key"), Some(1));
        assert_eq!(m.get("007"), Some(4));
        assert_eq!(m.get("a-very-long-customer-kez"), None);
        assert_eq!(m.get("7\0"), None);
        assert_eq!(m.len(), 3);
    }

    /// Agrees with a map of strings on random short and long keys.
    #[test]
    fn matches_a_string_map() {
        use std::collections::HashMap;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ours = KeyMap::with_capacity(0);
        let mut theirs: HashMap<String, usize> = HashMap::new();
        for i in 0..20_000 {
            let len = (next() % 20) as usize;
            let key: String = (0..len)
                .map(|_| char::from(b'0' + (next() % 3) as u8))
                .collect();
            assert_eq!(
                ours.insert(Key::of(&key), i),
                theirs.insert(key.clone(), i),
                "{key:?}"
            );
        }
        assert_eq!(ours.len(), theirs.len());
        for (k, v) in &theirs {
            assert_eq!(ours.get(k), Some(*v));
        }
    }
}
