//! SHA-256 of a normalised identifier, as the ad platforms take it: lowercase hex.

use sha2::{Digest, Sha256};

/// The SHA-256 digest of `text`'s UTF-8 bytes, 64 lowercase hex digits.
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(sha256_hex(input), expected, "{input:?}");
    }

    #[test]
    fn digests_equal_the_published_vectors() {
        // FIPS 180-2, appendix B.1.
        check(
            "abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        );
        // The examples of the platforms' documentation, after their normalisation (see
        // `normalise`): Snap's Conversions API parameters (e-mail `Person@Example.com` →
        // `person@example.com`; phone `+44 844 412 4653` → `448444124653`, the digits Meta
        // hashes) and TikTok's customer-file formats (`janedoe@gmail.com`).
        check(
            "person@example.com",
            "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345",
        );
        check(
            "448444124653",
            "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383",
        );
        check(
            "janedoe@gmail.com",
            "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69",
        );
    }
}
