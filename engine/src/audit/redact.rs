//! Statement text as an auditor may read it.
//!
//! The log keeps each statement as it was received: a `pii` user's
//! `WHERE id_number = '3706…'` holds a raw identity number. An auditor
//! without the roles that unmask such values sees that person masked in
//! `persons`, and must not read them raw in `audit_log.statement` either.
//! So for an auditor with masks, every literal of the text is masked by the
//! class its shape shows, with the mask that auditor gets for that class:
//! an identity number becomes the same keyed pseudonym (or partial mask) the
//! auditor sees in the data, so a statement still ties to the record it
//! touched; a mobile number gets the phone mask. Any other string literal,
//! any number of six digits or more, and every comment become `***`: their
//! class cannot be told from their shape, so they fail closed. Keywords,
//! names of tables and columns, operators and short numbers (`LIMIT 10`,
//! `age > 80`) stay, so what the statement did still reads.

use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use zhenjie_catalog::MaskKind;

/// How one auditor's masks apply to literals.
pub(crate) struct Redactor {
    /// The auditor's mask for identity numbers and for phones (`None`: raw).
    id_number: Option<MaskKind>,
    phone: Option<MaskKind>,
    /// The keyed-hash key, as governance gives it to the hash mask.
    hash_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Redactor")
            .field("id_number", &self.id_number)
            .field("phone", &self.phone)
            .finish_non_exhaustive()
    }
}

/// What stands for a value whose class cannot be told.
const HIDDEN: &str = "***";

impl Redactor {
    /// The redactor for a principal whose masks are `mask_for(class)`;
    /// `None` when they have no masks at all (they read every text raw).
    pub(crate) fn new(
        masked: bool,
        mask_for: impl Fn(&str) -> Option<MaskKind>,
        hash_key: Option<Vec<u8>>,
    ) -> Option<Redactor> {
        masked.then(|| Redactor {
            id_number: mask_for("id_number"),
            phone: mask_for("phone"),
            hash_key,
        })
    }

    /// `text` with its literals masked; text that does not tokenize is not
    /// shown at all (it may hold anything).
    pub(crate) fn statement(&self, text: &str) -> String {
        let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, text).tokenize() else {
            return "(statement not shown: it does not tokenize, and may hold values your roles do not allow)".into();
        };
        let mut out = String::with_capacity(text.len());
        for t in tokens {
            match t {
                Token::SingleQuotedString(s)
                | Token::EscapedStringLiteral(s)
                | Token::NationalStringLiteral(s) => {
                    out.push('\'');
                    out.push_str(&self.value(&s).replace('\'', "''"));
                    out.push('\'');
                }
                Token::DollarQuotedString(s) => {
                    out.push('\'');
                    out.push_str(&self.value(&s.value).replace('\'', "''"));
                    out.push('\'');
                }
                Token::Number(n, _) if n.chars().filter(char::is_ascii_digit).count() >= 6 => {
                    out.push_str(&self.value(&n));
                }
                Token::Whitespace(
                    Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
                ) => out.push_str("/* *** */"),
                other => out.push_str(&other.to_string()),
            }
        }
        out
    }

    /// One literal's value, masked by the class its shape shows.
    fn value(&self, v: &str) -> String {
        if looks_like_id_number(v) {
            return match (self.id_number, &self.hash_key) {
                (None, _) => v.to_string(),
                (Some(MaskKind::Hash), Some(key)) => {
                    zhenjie_udfs::masking::keyed_hash(v.as_bytes(), key)
                }
                (Some(MaskKind::Partial), _) => zhenjie_udfs::masking::mask_id_number(v),
                _ => HIDDEN.into(),
            };
        }
        if looks_like_mobile(v) {
            return match self.phone {
                None => v.to_string(),
                Some(MaskKind::Partial) => zhenjie_udfs::masking::mask_phone(v),
                _ => HIDDEN.into(),
            };
        }
        HIDDEN.into()
    }
}

/// 18 characters (digits, the last may be X) or 15 digits.
fn looks_like_id_number(v: &str) -> bool {
    let b = v.trim().as_bytes();
    match b.len() {
        18 => {
            b[..17].iter().all(u8::is_ascii_digit)
                && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
        }
        15 => b.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// A mainland mobile number: 11 digits starting with 1.
fn looks_like_mobile(v: &str) -> bool {
    let b = v.trim().as_bytes();
    b.len() == 11 && b[0] == b'1' && b.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(id: Option<MaskKind>) -> Redactor {
        Redactor::new(
            true,
            |class| match class {
                "id_number" => id,
                "phone" => Some(MaskKind::Partial),
                _ => None,
            },
            Some(b"00ff".to_vec()),
        )
        .unwrap()
    }

    #[test]
    fn literals_are_masked_by_their_class() {
        let sql = "SELECT name FROM persons WHERE id_number = '370602199001011234' \
                   AND phone = '13812345678' AND name = '张三' -- 李四\n LIMIT 10";
        let hashed = redactor(Some(MaskKind::Hash)).statement(sql);
        let pseudonym = zhenjie_udfs::masking::keyed_hash(b"370602199001011234", b"00ff");
        assert!(
            hashed.contains(&format!("id_number = '{pseudonym}'")),
            "{hashed}"
        );
        assert!(hashed.contains("phone = '138****5678'"), "{hashed}");
        assert!(hashed.contains("name = '***'"), "{hashed}");
        assert!(hashed.contains("LIMIT 10"), "{hashed}");
        for raw in ["370602199001011234", "13812345678", "张三", "李四"] {
            assert!(!hashed.contains(raw), "{hashed}");
        }
        let partial = redactor(Some(MaskKind::Partial)).statement(sql);
        assert!(partial.contains("'370602********1234'"), "{partial}");
        // Numbers long enough to be a value are classed like strings.
        let n = redactor(None)
            .statement("SELECT * FROM t WHERE a = 370602199001011234 AND b = 123456 AND c = 12");
        assert!(n.contains("a = 370602199001011234"), "{n}");
        assert!(n.contains("b = ***") && n.contains("c = 12"), "{n}");
    }

    #[test]
    fn unmasked_principals_and_broken_text() {
        assert!(Redactor::new(false, |_| None, None).is_none());
        let r = redactor(Some(MaskKind::Hash));
        assert!(r
            .statement("SELECT 'unterminated")
            .starts_with("(statement not shown"));
    }
}
