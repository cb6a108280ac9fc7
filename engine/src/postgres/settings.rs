//! PostgreSQL session settings (`SET`/`SHOW`), as clients expect to find them.

use std::collections::BTreeMap;
use std::time::Duration;

/// The version zhenjie reports, so clients pick their PostgreSQL 16 queries.
pub const SERVER_VERSION: &str = "16.0";
/// `server_version_num` matching [`SERVER_VERSION`].
pub const SERVER_VERSION_NUM: &str = "160000";

/// One connection's settings. Read-only ones (server_version, …) can be shown
/// but not set.
#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

const READ_ONLY: &[&str] = &[
    "server_version",
    "server_version_num",
    "server_encoding",
    "integer_datetimes",
    "max_identifier_length",
    "max_index_keys",
    "block_size",
    "is_superuser",
    "lc_collate",
    "lc_ctype",
    "session_authorization",
    "transaction_read_only",
    "default_transaction_read_only",
];

impl Settings {
    /// Defaults for a new session of the catalog user `user`: PostgreSQL's,
    /// and the `statement_timeout` and `idle_session_timeout` the catalog
    /// gives the user or their level.
    pub fn for_user(catalog: &zhenjie_catalog::Catalog, user: &zhenjie_catalog::User) -> Self {
        let mut s = Settings::new(&user.name);
        // (Both checked when the catalog was loaded.)
        if let Some(t) = catalog.statement_timeout_of(user) {
            let _ = s.set("statement_timeout", t);
        }
        if let Some(t) = catalog.idle_session_timeout_of(user) {
            let _ = s.set("idle_session_timeout", t);
        }
        s
    }

    /// Defaults for a new session of `user`.
    pub fn new(user: &str) -> Self {
        let mut values = BTreeMap::new();
        for (k, v) in [
            ("application_name", ""),
            ("bytea_output", "hex"),
            ("client_encoding", "UTF8"),
            ("client_min_messages", "notice"),
            ("datestyle", "ISO, MDY"),
            ("default_transaction_isolation", "read committed"),
            ("default_transaction_read_only", "on"),
            ("extra_float_digits", "1"),
            ("idle_in_transaction_session_timeout", "0"),
            ("idle_session_timeout", "0"),
            ("integer_datetimes", "on"),
            ("intervalstyle", "postgres"),
            ("is_superuser", "off"),
            ("lc_collate", "C.UTF-8"),
            ("lc_ctype", "C.UTF-8"),
            ("lc_messages", "C.UTF-8"),
            ("lc_monetary", "C.UTF-8"),
            ("lc_numeric", "C.UTF-8"),
            ("lc_time", "C.UTF-8"),
            ("lock_timeout", "0"),
            ("max_identifier_length", "63"),
            ("max_index_keys", "32"),
            ("block_size", "8192"),
            ("search_path", "\"$user\", public"),
            ("server_encoding", "UTF8"),
            ("server_version", SERVER_VERSION),
            ("server_version_num", SERVER_VERSION_NUM),
            ("standard_conforming_strings", "on"),
            ("statement_timeout", "0"),
            ("timezone", "Asia/Shanghai"),
            ("transaction_isolation", "read committed"),
            ("transaction_read_only", "on"),
        ] {
            values.insert(k.to_string(), v.to_string());
        }
        values.insert("session_authorization".into(), user.to_string());
        Settings { values }
    }

    /// The value of a setting (names are case-insensitive, as in PostgreSQL).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// All settings, sorted by name (`SHOW ALL`).
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets a setting. Unknown names without a dot are rejected like PostgreSQL
    /// does; dotted names are custom placeholders.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), (&'static str, String)> {
        let name = name.to_ascii_lowercase();
        if READ_ONLY.contains(&name.as_str()) {
            return Err(("55P02", format!("parameter \"{name}\" cannot be changed")));
        }
        if !self.values.contains_key(&name) && !name.contains('.') {
            return Err((
                "42704",
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        }
        if TIMES.contains(&name.as_str()) {
            parse_duration_ms(value).ok_or_else(|| {
                (
                    "22023",
                    format!("invalid value for parameter \"{name}\": \"{value}\""),
                )
            })?;
        }
        self.values.insert(name, value.to_string());
        Ok(())
    }

    /// `statement_timeout`, or `None` when it is 0 (no limit).
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.time("statement_timeout")
    }

    /// `idle_session_timeout`: how long the session may wait for its next
    /// statement outside a transaction block; `None` when 0.
    pub fn idle_session_timeout(&self) -> Option<Duration> {
        self.time("idle_session_timeout")
    }

    /// `idle_in_transaction_session_timeout`: the same inside a block.
    pub fn idle_in_transaction_session_timeout(&self) -> Option<Duration> {
        self.time("idle_in_transaction_session_timeout")
    }

    fn time(&self, name: &str) -> Option<Duration> {
        let ms = parse_duration_ms(self.get(name).unwrap_or("0"))?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }
}

/// The settings whose values are times (checked when set).
const TIMES: &[&str] = &[
    "statement_timeout",
    "idle_session_timeout",
    "idle_in_transaction_session_timeout",
    "lock_timeout",
];

/// Parses PostgreSQL time values (see [`zhenjie_catalog::duration_ms`]).
fn parse_duration_ms(v: &str) -> Option<u64> {
    zhenjie_catalog::duration_ms(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_timeout_units() {
        let mut s = Settings::new("u");
        s.set("statement_timeout", "1500").unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_millis(1500)));
        s.set("statement_timeout", "2s").unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_secs(2)));
        s.set("statement_timeout", "0").unwrap();
        assert_eq!(s.statement_timeout(), None);
        assert!(s.set("statement_timeout", "soon").is_err());
    }

    #[test]
    fn unknown_and_read_only_settings_are_refused() {
        let mut s = Settings::new("u");
        assert_eq!(s.set("no_such_thing", "1").unwrap_err().0, "42704");
        assert_eq!(s.set("server_version", "1").unwrap_err().0, "55P02");
        assert!(s.set("myapp.flag", "1").is_ok());
        assert!(s.set("DateStyle", "ISO, DMY").is_ok());
        assert_eq!(s.get("datestyle"), Some("ISO, DMY"));
    }
}
