use zhenjie_catalog::{Area, Catalog, Level};

/// Who is asking: a user at one level and one area, with roles. Every session,
/// plan and audit record belongs to exactly one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Login name.
    pub user: String,
    /// Level of the user's post.
    pub level: Level,
    /// The area the user works in: the work fence.
    pub area: Area,
    /// Extra rights (`pii`, `auditor`, `admin`, `export`).
    pub roles: Vec<String>,
    /// The most rows one statement may return to them (the catalog's
    /// `max_result_rows`; none with the `export` role): more is an error,
    /// so whole registers leave only through the export role.
    pub max_result_rows: Option<u64>,
}

impl Principal {
    /// Builds the principal for a catalog user.
    pub fn from_catalog(catalog: &Catalog, user: &str) -> Option<Principal> {
        let u = catalog.user(user)?;
        let area = catalog.areas.get(&u.area)?.clone();
        Some(Principal {
            user: u.name.clone(),
            level: u.level,
            area,
            roles: u.roles.clone(),
            max_result_rows: catalog.max_result_rows_of(u),
        })
    }

    /// The platform itself at city level, with no roles: what catalog SQL
    /// (views, rules) is checked as when the engine opens.
    pub(crate) fn platform(catalog: &Catalog) -> Option<Principal> {
        let area = catalog.areas.at_level(Level::City).next()?.clone();
        Some(Principal {
            user: "zhenjie".to_string(),
            level: Level::City,
            area,
            roles: Vec::new(),
            max_result_rows: None,
        })
    }

    /// Whether the principal holds a role.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Administrators may change engine settings; nobody may write data.
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }
}
