//! SCRAM-SHA-256 password verifiers in PostgreSQL's storage format
//! (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), so the catalog
//! never holds a password or anything that lets its reader log in.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// PostgreSQL's default iteration count.
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// What the server stores for one user: enough to check a SCRAM proof, not
/// enough to produce one.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// Per-user random salt.
    pub salt: Vec<u8>,
    /// H(HMAC(SaltedPassword, "Client Key")).
    pub stored_key: [u8; 32],
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: [u8; 32],
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

impl ScramVerifier {
    /// Derives a verifier from a password with the given salt and iterations.
    pub fn derive(password: &str, salt: &[u8], iterations: u32) -> Self {
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let server_key = hmac(&salted, b"Server Key");
        ScramVerifier {
            iterations,
            salt: salt.to_vec(),
            stored_key,
            server_key,
        }
    }

    /// What the server answers for a user that does not exist, so a login
    /// attempt cannot tell names that exist from names that do not (as
    /// PostgreSQL's mock authentication): a 16-byte salt derived from a
    /// server secret and the name (stable across attempts, like a real
    /// user's, and as random-looking), the default iteration count, and keys
    /// no password is known to match (the login fails whatever the proof). No PBKDF2 runs, as none runs for a real user at
    /// this step, so the answer takes no longer either.
    pub fn mock(user: &str, server_secret: &[u8]) -> Self {
        let derive = |purpose: &[u8]| {
            let mut message = purpose.to_vec();
            message.push(0);
            message.extend_from_slice(user.as_bytes());
            hmac(server_secret, &message)
        };
        ScramVerifier {
            iterations: DEFAULT_ITERATIONS,
            salt: derive(b"zhenjie mock SCRAM salt")[..16].to_vec(),
            stored_key: derive(b"zhenjie mock SCRAM stored key"),
            server_key: derive(b"zhenjie mock SCRAM server key"),
        }
    }

    /// Parses PostgreSQL's verifier format.
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("SCRAM-SHA-256$")
            .ok_or("must be a SCRAM-SHA-256 verifier (SCRAM-SHA-256$iter:salt$stored:server)")?;
        let (iter_salt, keys) = rest.split_once('$').ok_or("missing '$' before the keys")?;
        let (iter, salt) = iter_salt
            .split_once(':')
            .ok_or("missing ':' after the iteration count")?;
        let (stored, server) = keys.split_once(':').ok_or("missing ':' between the keys")?;
        let iterations: u32 = iter
            .parse()
            .map_err(|_| "iteration count is not a number")?;
        if iterations == 0 {
            return Err("iteration count must be positive".into());
        }
        let salt = B64.decode(salt).map_err(|_| "salt is not base64")?;
        let key = |k: &str| -> Result<[u8; 32], String> {
            B64.decode(k)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or_else(|| "keys must be 32 bytes of base64".to_string())
        };
        Ok(ScramVerifier {
            iterations,
            salt,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }

    /// Checks a client's proof for the given SCRAM auth message (RFC 5802 §3).
    pub fn verify_proof(&self, auth_message: &[u8], client_proof: &[u8]) -> bool {
        if client_proof.len() != 32 {
            return false;
        }
        let signature = hmac(&self.stored_key, auth_message);
        let mut client_key = [0u8; 32];
        for i in 0..32 {
            client_key[i] = client_proof[i] ^ signature[i];
        }
        let computed: [u8; 32] = Sha256::digest(client_key).into();
        // Constant-time comparison: no early exit on the first differing byte.
        computed
            .iter()
            .zip(self.stored_key.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// The server's signature the client checks to know it talks to a server
    /// that holds this verifier.
    pub fn server_signature(&self, auth_message: &[u8]) -> [u8; 32] {
        hmac(&self.server_key, auth_message)
    }
}

impl fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}
