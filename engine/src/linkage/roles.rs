//! Which column of a dataset plays which part in matching, read from the
//! catalog's column classes: a new list needs a catalog entry, not code.

use crate::EngineError;
use datafusion::arrow::datatypes::Schema;
use zhenjie_catalog::Dataset;

/// The classes a linked column may carry, in the order of [`Roles`].
pub(crate) const CLASSES: [&str; 6] =
    ["id_number", "name", "sex", "birth_date", "phone", "address"];

/// The column of each role, if the dataset has one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roles {
    pub id_number: Option<String>,
    pub name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl Roles {
    /// Reads the roles from the catalog's classes; a role held by two
    /// columns, or naming a column the files lack, is an error.
    pub(crate) fn of(dataset: &Dataset, schema: &Schema) -> crate::Result<Roles> {
        let mut found: [Option<String>; 6] = Default::default();
        for (column, c) in &dataset.columns {
            let Some(class) = c.class.as_deref() else {
                continue;
            };
            let Some(i) = CLASSES.iter().position(|k| *k == class) else {
                continue;
            };
            if let Some(other) = &found[i] {
                return Err(EngineError::new(
                    crate::sqlstate::INVALID_PARAMETER_VALUE,
                    format!(
                        "{}: columns {other} and {column} both have class {class}; \
                         linking needs one column per role",
                        dataset.name
                    ),
                ));
            }
            if schema.field_with_name(column).is_err() {
                continue;
            }
            found[i] = Some(column.clone());
        }
        let [id_number, name, sex, birth_date, phone, address] = found;
        if id_number.is_none() && name.is_none() {
            return Err(EngineError::new(
                crate::sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{}: no column of class id_number or name, nothing to link on \
                     (give the list's columns their classes in the catalog)",
                    dataset.name
                ),
            ));
        }
        Ok(Roles {
            id_number,
            name,
            sex,
            birth_date,
            phone,
            address,
        })
    }

    /// The role columns in [`CLASSES`] order.
    pub(crate) fn columns(&self) -> [Option<&str>; 6] {
        [
            self.id_number.as_deref(),
            self.name.as_deref(),
            self.sex.as_deref(),
            self.birth_date.as_deref(),
            self.phone.as_deref(),
            self.address.as_deref(),
        ]
    }
}
