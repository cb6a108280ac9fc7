//! Record linkage: which resident of a register each row of a department's
//! list names, and how sure that is.
//!
//! A list comes with its own dirt (15-digit and full-width identity numbers,
//! homophone typos, traditional characters, swapped day and month, missing
//! fields) and with people who are not in the register at all. The linker
//! follows Fellegi and Sunter:
//!
//! * [`record`]: each side's fields are cleaned once (the identity number
//!   normalised, names folded to simplified characters and read as pinyin,
//!   phones and addresses put in canonical form).
//! * [`blocking`]: only pairs that share a blocking key are compared (name
//!   reading and birth date, day and month either way round; phone; the
//!   digits of the identity number in any order; name reading and community).
//! * [`compare`]: each pair gets one agreement level per field.
//! * [`model`]: each level carries a weight `log2(m/u)`; `u` is estimated
//!   from random pairs, `m` by expectation–maximisation ([`em`]) over the
//!   compared pairs, and an exact name's `u` is its frequency in the register
//!   (张伟 agrees by chance far more often than 欧阳娜娜).
//! * [`link`]: the register streams past the list once; every list row
//!   keeps its best candidate, banded `accept`, `review` or `reject`.
//!
//! Two valid identity numbers that differ name two different people: such a
//! pair is never a match, whatever else agrees. That is what keeps a visitor
//! who shares a resident's name, birth date and address off that resident.
//!
//! Not here: sessions, governance, SQL. `zhenjie-engine` feeds the linker
//! the caller's governed data and exposes it as the `link_persons` table
//! function.

pub mod blocking;
pub mod compare;
pub mod em;
pub mod link;
pub mod model;
pub mod record;

pub use compare::{Comparison, Field, FIELDS};
pub use link::{Band, LinkOptions, LinkStats, Linker, RowLink};
pub use model::{Model, TermFrequencies};
pub use record::{Prepared, RawPerson};
