//! The types of a statement's parameters, as a Describe reports them.

use crate::Result;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::LogicalPlan;
use std::sync::Arc;

/// The types of a plan's parameters in `$1..$n` order (`None` where nothing
/// fixes a type). Parameters of LIMIT and OFFSET are bigints, as in PostgreSQL.
pub fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::Expr;
    let mut types = plan.get_parameter_types()?;
    // `CAST($1 AS int[])` with an untyped parameter (node-postgres sends all
    // as text): the parameter is read as the cast's type, as PostgreSQL does.
    // Likewise `x = ANY($1)` (planned as `array_has($1, x)`): a list of x's type.
    plan.apply(|node| {
        let input = node.inputs().first().map(|i| i.schema().clone());
        node.apply_expressions(|e| {
            e.apply(|e| {
                let (id, ty) = match e {
                    Expr::Cast(c) => match c.expr.as_ref() {
                        Expr::Placeholder(p) => (p.id.clone(), Some(c.field.data_type().clone())),
                        _ => return Ok(TreeNodeRecursion::Continue),
                    },
                    Expr::ScalarFunction(f) if f.name() == "array_has" && f.args.len() == 2 => {
                        match (&f.args[0], &input) {
                            (Expr::Placeholder(p), Some(schema)) => (
                                p.id.clone(),
                                datafusion::logical_expr::ExprSchemable::get_type(
                                    &f.args[1],
                                    schema.as_ref(),
                                )
                                .ok()
                                .map(|t| {
                                    DataType::List(Arc::new(
                                        datafusion::arrow::datatypes::Field::new_list_field(
                                            t, true,
                                        ),
                                    ))
                                }),
                            ),
                            _ => return Ok(TreeNodeRecursion::Continue),
                        }
                    }
                    _ => return Ok(TreeNodeRecursion::Continue),
                };
                let slot = types.entry(id).or_insert(None);
                if slot.is_none() {
                    *slot = ty;
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(TreeNodeRecursion::Continue)
    })?;
    plan.apply(|node| {
        if let LogicalPlan::Limit(limit) = node {
            for e in [limit.skip.as_deref(), limit.fetch.as_deref()]
                .into_iter()
                .flatten()
            {
                if let Expr::Placeholder(p) = e {
                    types.insert(p.id.clone(), Some(DataType::Int64));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let mut ordered: Vec<(usize, Option<DataType>)> = types
        .into_iter()
        .filter_map(|(k, v)| {
            k.trim_start_matches('$')
                .parse::<usize>()
                .ok()
                .map(|i| (i, v))
        })
        .filter(|(i, _)| *i > 0)
        .collect();
    ordered.sort_by_key(|(i, _)| *i);
    let n = ordered.last().map(|(i, _)| *i).unwrap_or(0);
    let mut out = vec![None; n];
    for (i, t) in ordered {
        out[i - 1] = t;
    }
    Ok(out)
}
