//! The five-level area tree and the code arithmetic that decides containment.

use crate::{CatalogError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// One of the five administrative levels a principal or an area can be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 市 — code prefix of 4 digits.
    City,
    /// 县区 — 6 digits.
    County,
    /// 乡镇街道 — 9 digits.
    Town,
    /// 村社区 — 12 digits.
    Village,
    /// 网格 — 15 digits (village code + 3-digit grid sequence).
    Grid,
}

impl Level {
    /// All levels, top down.
    pub const ALL: [Level; 5] = [
        Level::City,
        Level::County,
        Level::Town,
        Level::Village,
        Level::Grid,
    ];

    /// How many leading digits of a code are significant at this level. Two codes
    /// are in the same area of this level iff they share this prefix.
    pub fn prefix_len(self) -> usize {
        match self {
            Level::City => 4,
            Level::County => 6,
            Level::Town => 9,
            Level::Village => 12,
            Level::Grid => 15,
        }
    }

    /// The level's name as used in SQL and the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::County => "county",
            Level::Town => "town",
            Level::Village => "village",
            Level::Grid => "grid",
        }
    }

    /// Parses a level name.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of the area tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// Full code: 12 digits for city to village (zero-padded), 15 for grids.
    pub code: String,
    /// Parent's full code; empty for the city.
    pub parent: String,
    /// Level of this node.
    pub level: Level,
    /// Chinese name.
    pub name: String,
}

impl Area {
    /// The significant prefix of this area's code: every code that starts with it
    /// lies inside the area.
    pub fn prefix(&self) -> &str {
        &self.code[..self.level.prefix_len().min(self.code.len())]
    }
}

/// The area tree, indexed by code.
#[derive(Debug, Clone, Default)]
pub struct AreaTree {
    areas: Vec<Area>,
    by_code: HashMap<String, usize>,
}

impl AreaTree {
    /// Builds a tree, checking that every code is well formed for its level and
    /// every parent exists.
    pub fn new(areas: Vec<Area>) -> Result<Self> {
        let mut by_code = HashMap::with_capacity(areas.len());
        for (i, a) in areas.iter().enumerate() {
            let want = if a.level == Level::Grid { 15 } else { 12 };
            if a.code.len() != want || !a.code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CatalogError::AreaTree(format!(
                    "code {:?} of {} {} must be {want} digits",
                    a.code, a.level, a.name
                )));
            }
            if a.code[a.level.prefix_len().min(12)..12]
                .bytes()
                .any(|b| b != b'0')
            {
                return Err(CatalogError::AreaTree(format!(
                    "code {} is not a {} code: digits after the first {} must be zero",
                    a.code,
                    a.level,
                    a.level.prefix_len()
                )));
            }
            if by_code.insert(a.code.clone(), i).is_some() {
                return Err(CatalogError::AreaTree(format!(
                    "code {} appears twice",
                    a.code
                )));
            }
        }
        for a in &areas {
            if a.level == Level::City {
                continue;
            }
            let parent = by_code.get(&a.parent).map(|&i| &areas[i]);
            match parent {
                Some(p) if p.level < a.level && a.code.starts_with(p.prefix()) => {}
                Some(p) => {
                    return Err(CatalogError::AreaTree(format!(
                        "{} {} cannot be inside {} {}",
                        a.level, a.code, p.level, p.code
                    )))
                }
                None => {
                    return Err(CatalogError::AreaTree(format!(
                        "{} {} names parent {:?} which is not in the tree",
                        a.level, a.code, a.parent
                    )))
                }
            }
        }
        Ok(AreaTree { areas, by_code })
    }

    /// Reads `code,parent,level,name` lines (with a header) from a CSV file.
    pub fn load_csv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let mut areas = Vec::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.splitn(4, ',').collect();
            let bad = |m: &str| CatalogError::Parse {
                path: path.to_path_buf(),
                message: format!("line {}: {m}", n + 1),
            };
            if parts.len() != 4 {
                return Err(bad("expected code,parent,level,name"));
            }
            let level = Level::parse(parts[2].trim())
                .ok_or_else(|| bad(&format!("unknown level {:?}", parts[2])))?;
            areas.push(Area {
                code: parts[0].trim().to_string(),
                parent: parts[1].trim().to_string(),
                level,
                name: parts[3].trim().to_string(),
            });
        }
        AreaTree::new(areas)
    }

    /// Writes the tree as CSV, atomically.
    pub fn save_csv(&self, path: &Path) -> Result<()> {
        let mut out = String::from("code,parent,level,name\n");
        for a in &self.areas {
            out.push_str(&format!("{},{},{},{}\n", a.code, a.parent, a.level, a.name));
        }
        crate::write_atomically(path, out.as_bytes())
    }

    /// The area with exactly this full code.
    pub fn get(&self, code: &str) -> Option<&Area> {
        self.by_code.get(code).map(|&i| &self.areas[i])
    }

    /// The area whose significant prefix is exactly `prefix` (e.g. "370602").
    pub fn find_prefix(&self, prefix: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.prefix() == prefix)
    }

    /// All areas, in the order they were given (parents first).
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// The areas at one level.
    pub fn at_level(&self, level: Level) -> impl Iterator<Item = &Area> {
        self.areas.iter().filter(move |a| a.level == level)
    }

    /// Whether `code` (of any length) lies inside `area`.
    pub fn contains(area: &Area, code: &str) -> bool {
        code.starts_with(area.prefix())
    }
}
