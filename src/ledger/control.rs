//! The global control group: a stable share of all customers that no campaign contacts, to
//! measure all marketing together. Membership is a hash of the canonical customer id and a salt
//! kept in the ledger, so a customer's membership never changes from week to week and new
//! customers join at the same rate.

use sha2::{Digest, Sha256};

use super::{Ledger, LedgerError};

/// The ledger setting holding the salt.
pub const SALT_KEY: &str = "global_control_salt";

/// Whether `canonical_id` belongs to the global control group of `share` under `salt`: the
/// first 8 bytes of SHA-256(salt, 0, id) as a fraction of 2^64, below `share`.
pub fn in_global_control(canonical_id: &str, salt: &str, share: f64) -> bool {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(canonical_id.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) as f64) / 18_446_744_073_709_551_616.0 < share
}

impl Ledger {
    /// The ledger's global-control salt, drawn (from the clock and the process) on first use
    /// and kept from then on.
    pub fn global_control_salt(&mut self) -> Result<String, LedgerError> {
        self.setting_or_init(SALT_KEY, || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            crate::io::hex(Sha256::digest(format!("{now}-{}", std::process::id())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_stable_and_near_the_share() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("C{i}")).collect();
        let members = |salt: &str| {
            ids.iter()
                .filter(|id| in_global_control(id, salt, 0.02))
                .count()
        };
        let n = members("s1");
        assert!((340..=460).contains(&n), "{n}");
        assert_eq!(members("s1"), n);
        assert!(in_global_control("x", "s", 1.0));
        assert!(!in_global_control("x", "s", 0.0));
        // Another salt, another group.
        let a: Vec<_> = ids
            .iter()
            .filter(|i| in_global_control(i, "s1", 0.02))
            .collect();
        let b: Vec<_> = ids
            .iter()
            .filter(|i| in_global_control(i, "s2", 0.02))
            .collect();
        assert_ne!(a, b);
    }

    #[test]
    fn the_salt_is_kept_in_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let first = Ledger::open(&path, std::time::Duration::ZERO)
            .unwrap()
            .global_control_salt()
            .unwrap();
        let again = Ledger::open(&path, std::time::Duration::ZERO)
            .unwrap()
            .global_control_salt()
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.len(), 64);
    }
}
