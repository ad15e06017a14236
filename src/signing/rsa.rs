//! RSA PKCS#1 v1.5 with SHA-1 through AWS-LC's EVP interface: parse the
//! private key's DER, sign, free. The only unsafe code in ahi-edge; every
//! pointer is checked and freed on every path.

use aws_lc_sys as lc;

use super::pem;

/// Frees an AWS-LC object when dropped.
struct Owned<T> {
    ptr: *mut T,
    free: unsafe extern "C" fn(*mut T),
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: `ptr` came from the matching AWS-LC allocator and is freed once.
            unsafe { (self.free)(self.ptr) }
        }
    }
}

/// The private key as an EVP_PKEY: PKCS#8 (`PRIVATE KEY`) or PKCS#1
/// (`RSA PRIVATE KEY`), RSA only.
fn private_key(text: &str) -> Result<Owned<lc::EVP_PKEY>, String> {
    let (der, pkcs8) = match pem::der(text, "PRIVATE KEY") {
        Ok(der) => (der, true),
        Err(_) => (
            pem::der(text, "RSA PRIVATE KEY").map_err(|_| {
                "is not a PEM private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`)".to_string()
            })?,
            false,
        ),
    };
    // SAFETY: CBS reads `der`, which outlives every call below; each result
    // is checked for null and owned (freed) by an `Owned`.
    unsafe {
        let mut cbs = std::mem::zeroed::<lc::CBS>();
        lc::CBS_init(&mut cbs, der.as_ptr(), der.len());
        let key = if pkcs8 {
            Owned {
                ptr: lc::EVP_parse_private_key(&mut cbs),
                free: lc::EVP_PKEY_free,
            }
        } else {
            let rsa = lc::RSA_parse_private_key(&mut cbs);
            if rsa.is_null() {
                return Err("is not a valid RSA private key".into());
            }
            let key = Owned {
                ptr: lc::EVP_PKEY_new(),
                free: lc::EVP_PKEY_free,
            };
            if key.ptr.is_null() || lc::EVP_PKEY_assign_RSA(key.ptr, rsa) != 1 {
                lc::RSA_free(rsa);
                return Err("could not load the RSA private key".into());
            }
            key
        };
        if key.ptr.is_null() {
            return Err("is not a valid private key".into());
        }
        if lc::EVP_PKEY_id(key.ptr) != lc::EVP_PKEY_RSA {
            return Err("is not an RSA key (CloudFront signs with RSA only)".into());
        }
        Ok(key)
    }
}

/// The PKCS#1 v1.5 SHA-1 signature of `message`.
pub fn sign_sha1(private_key_pem: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    let key = private_key(private_key_pem)?;
    // SAFETY: `key` is a valid EVP_PKEY (checked above); the context is
    // owned and freed; `out` has the size AWS-LC reports for the signature.
    unsafe {
        let ctx = Owned {
            ptr: lc::EVP_MD_CTX_new(),
            free: lc::EVP_MD_CTX_free,
        };
        if ctx.ptr.is_null()
            || lc::EVP_DigestSignInit(
                ctx.ptr,
                std::ptr::null_mut(),
                lc::EVP_sha1(),
                std::ptr::null_mut(),
                key.ptr,
            ) != 1
        {
            return Err("AWS-LC refused to start an RSA-SHA1 signature".into());
        }
        let mut len: usize = 0;
        if lc::EVP_DigestSign(
            ctx.ptr,
            std::ptr::null_mut(),
            &mut len,
            message.as_ptr(),
            message.len(),
        ) != 1
        {
            return Err("AWS-LC could not size the signature".into());
        }
        let mut out = vec![0u8; len];
        if lc::EVP_DigestSign(
            ctx.ptr,
            out.as_mut_ptr(),
            &mut len,
            message.as_ptr(),
            message.len(),
        ) != 1
        {
            return Err("AWS-LC could not sign".into());
        }
        out.truncate(len);
        Ok(out)
    }
}
