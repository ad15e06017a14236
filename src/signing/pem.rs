//! The shape of a public key CloudFront accepts: a PEM `PUBLIC KEY`
//! (SubjectPublicKeyInfo, DER) holding an RSA key of 2048 bits. Only the
//! structure is read (no cryptography): enough to refuse a wrong file
//! offline, with the reason.

use base64::Engine;

/// The DER of a PEM block labelled `label`, or why not.
pub fn der(text: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| format!("is not a PEM {label} (no `{begin}` line)"))?;
    let body = &text[start + begin.len()..];
    let stop = body.find(&end).ok_or_else(|| format!("has no `{end}` line"))?;
    let b64: String = body[..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("holds no valid base64 between its PEM lines ({e})"))
}

/// One DER element: (tag, contents, rest).
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let bad = || "is not valid DER".to_string();
    let (&tag, rest) = input.split_first().ok_or_else(bad)?;
    let (&first, rest) = rest.split_first().ok_or_else(bad)?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad());
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(bad());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// rsaEncryption, 1.2.840.113549.1.1.1
const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The modulus size in bits of a PEM RSA public key.
pub fn rsa_public_key_bits(text: &str) -> Result<usize, String> {
    let der = der(text, "PUBLIC KEY").map_err(|e| {
        if text.contains("BEGIN RSA PUBLIC KEY") {
            "is a PKCS#1 RSA PUBLIC KEY; CloudFront takes the SubjectPublicKeyInfo form (`BEGIN PUBLIC KEY`)"
                .to_string()
        } else if text.contains("PRIVATE KEY") {
            "holds a PRIVATE key: never give ahi-edge or CloudFront the private half".to_string()
        } else {
            e
        }
    })?;
    let (tag, spki, _) = element(&der)?;
    let (alg_tag, alg, rest) = element(spki)?;
    let (oid_tag, oid, _) = element(alg)?;
    if tag != 0x30 || alg_tag != 0x30 || oid_tag != 0x06 {
        return Err("is not a SubjectPublicKeyInfo".into());
    }
    if oid != RSA_OID {
        return Err("is not an RSA key (CloudFront signs with RSA only)".into());
    }
    let (bits_tag, bits, _) = element(rest)?;
    if bits_tag != 0x03 || bits.first() != Some(&0) {
        return Err("is not a SubjectPublicKeyInfo".into());
    }
    let (seq_tag, key, _) = element(&bits[1..])?;
    let (int_tag, modulus, _) = element(key)?;
    if seq_tag != 0x30 || int_tag != 0x02 {
        return Err("is not an RSA public key".into());
    }
    let modulus: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(i) => &modulus[i..],
        None => &[],
    };
    Ok(modulus.first().map_or(0, |top| {
        (modulus.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2048-bit RSA public key (test fixture, generated for these tests).
    pub const KEY_2048: &str = include_str!("../../tests/cli/fixtures/signer-a.pub.pem");

    #[test]
    fn reads_the_modulus_size_and_names_wrong_files() {
        assert_eq!(rsa_public_key_bits(KEY_2048), Ok(2048));
        assert!(
            rsa_public_key_bits("hello")
                .unwrap_err()
                .contains("no `-----BEGIN PUBLIC KEY-----`")
        );
        assert!(
            rsa_public_key_bits("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .unwrap_err()
                .contains("PRIVATE key")
        );
        assert!(
            rsa_public_key_bits("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----")
                .unwrap_err()
                .contains("base64")
        );
    }
}
