//! Where a plan's output column comes from, when it is a table's column
//! passed through unchanged: for the table OID and column number of result
//! columns (RowDescription), and for checking that a join compares a
//! dataset's attribution key itself.

use datafusion::logical_expr::{Expr, LogicalPlan, TableScan};

/// The table scan output column `index` of `plan` is taken from unchanged,
/// and the column's index in the scanned table. Aliases are always looked
/// through; other nodes (filters, sorts, limits, projections that pass the
/// column through) only where `through` allows them.
pub(crate) fn source_column<'a>(
    plan: &'a LogicalPlan,
    index: usize,
    through: &dyn Fn(&LogicalPlan) -> bool,
) -> Option<(&'a TableScan, usize)> {
    match plan {
        LogicalPlan::TableScan(scan) => {
            let column = match &scan.projection {
                Some(p) => *p.get(index)?,
                None => index,
            };
            Some((scan, column))
        }
        LogicalPlan::SubqueryAlias(alias) => source_column(&alias.input, index, through),
        _ if !through(plan) => None,
        LogicalPlan::Projection(p) => {
            let expr = match p.expr.get(index)? {
                Expr::Alias(alias) => alias.expr.as_ref(),
                other => other,
            };
            let Expr::Column(column) = expr else {
                return None;
            };
            source_column(
                &p.input,
                p.input.schema().index_of_column(column).ok()?,
                through,
            )
        }
        LogicalPlan::Filter(f) => source_column(&f.input, index, through),
        LogicalPlan::Sort(s) => source_column(&s.input, index, through),
        LogicalPlan::Limit(l) => source_column(&l.input, index, through),
        _ => None,
    }
}
