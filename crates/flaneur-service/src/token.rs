//! The bearer values of API tokens: how they are made, checked and hashed.
//!
//! A value is shaped as a JWT (`header.payload.signature`, HS256) so that clients expecting
//! one, as Panoramax clients do, are not surprised: its payload names the token (`sub`) and
//! carries 256 random bits (`jti`), and it is signed with the instance's key. The catalog keeps
//! only the SHA-256 of the whole value, so a copy of the catalog gives no usable token; a
//! request's token is found by that hash. The signature is checked first, which turns away
//! made-up values without a query. The value has no expiry: a token lasts until revoked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flaneur_model::TokenId;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Issuer named in every value.
const ISSUER: &str = "flaneur";

/// The header of every value: HS256, the only algorithm accepted.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The key signing token values: 32 random bytes, the same for every process of an instance.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

/// The claims of a value.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    jti: String,
}

/// Why a bearer value was not accepted before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadValue {
    /// Not three base64url parts of JSON with a token id.
    Malformed,
    /// Not signed by this instance's key.
    BadSignature,
}

impl TokenKey {
    /// A new random key, as stored (hexadecimal).
    ///
    /// # Errors
    /// [`Error::Entropy`] when the system gives no random bytes.
    pub fn fresh_hex() -> Result<String> {
        Ok(hex::encode(random_bytes::<32>()?))
    }

    /// The key from its stored form.
    ///
    /// # Errors
    /// [`Error::Store`] of a corrupt row when the stored text is not 32 bytes in hexadecimal.
    pub fn from_hex(text: &str) -> Result<TokenKey> {
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        bytes.map(TokenKey).ok_or_else(|| {
            Error::Store(flaneur_store::Error::Corrupt {
                table: "instance_secrets",
                reason: "the token signing key is not 32 bytes in hexadecimal".to_owned(),
            })
        })
    }

    /// A new bearer value for token `id`.
    ///
    /// # Errors
    /// [`Error::Entropy`] when the system gives no random bytes.
    pub fn mint(&self, id: TokenId) -> Result<String> {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: id.to_string(),
            jti: URL_SAFE_NO_PAD.encode(random_bytes::<32>()?),
        };
        let payload = serde_json::to_vec(&claims).map_err(|e| Error::Task(e.to_string()))?;
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&signed).finalize().into_bytes());
        Ok(format!("{signed}.{signature}"))
    }

    /// The token a value names, when this key signed it.
    ///
    /// # Errors
    /// [`BadValue`] saying why it cannot be one of this instance's values.
    pub fn verify(&self, value: &str) -> Result<TokenId, BadValue> {
        let mut parts = value.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BadValue::Malformed);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| BadValue::Malformed)?;
        let signed = &value[..header.len() + 1 + payload.len()];
        self.mac(signed)
            .verify_slice(&signature)
            .map_err(|_| BadValue::BadSignature)?;

        // Signed by this instance, so well formed unless the key leaked; checked all the same.
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| BadValue::Malformed)?;
        if header != HEADER.as_bytes() {
            return Err(BadValue::Malformed);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| BadValue::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| BadValue::Malformed)?;
        claims.sub.parse().map_err(|_| BadValue::Malformed)
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(signed.as_bytes());
        mac
    }
}

/// The SHA-256 of a whole bearer value, in lowercase hexadecimal, as the catalog keeps it.
pub fn secret_sha256(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::Entropy(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::from_hex(&TokenKey::fresh_hex().expect("random")).expect("key")
    }

    #[test]
    fn a_minted_value_names_its_token_and_differs_each_time() {
        let key = key();
        let id = TokenId::new();
        let first = key.mint(id).expect("mint");
        let second = key.mint(id).expect("mint");
        assert_ne!(first, second);
        assert_eq!(key.verify(&first), Ok(id));
        assert_eq!(first.split('.').count(), 3);
        assert_ne!(secret_sha256(&first), secret_sha256(&second));
        assert_eq!(secret_sha256(&first).len(), 64);
    }

    #[test]
    fn values_of_another_key_or_altered_ones_are_refused() {
        let key = key();
        let value = key.mint(TokenId::new()).expect("mint");
        assert_eq!(
            super::tests::key().verify(&value),
            Err(BadValue::BadSignature)
        );

        let cut = &value[..value.len() - 3];
        assert_eq!(key.verify(cut), Err(BadValue::BadSignature));
        let mut parts: Vec<&str> = value.split('.').collect();
        let other = key.mint(TokenId::new()).expect("mint");
        let other_payload = other.split('.').nth(1).expect("payload");
        parts[1] = other_payload;
        assert_eq!(key.verify(&parts.join(".")), Err(BadValue::BadSignature));
        for junk in ["", "abc", "a.b", "a.b.c.d", "a.b.!!", "é.é.é"] {
            assert!(key.verify(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn a_stored_key_that_is_not_32_bytes_is_corrupt() {
        assert!(TokenKey::from_hex("abcd").is_err());
        assert!(TokenKey::from_hex("not hex").is_err());
    }
}
