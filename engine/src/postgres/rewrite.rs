//! Rewrites of the SQL clients send, before planning: catalog idioms
//! DataFusion cannot plan, PostgreSQL literal forms, column names, and the
//! parameter types a client declares.

use super::*;

/// Gives each `$n` the type the client declared for it in Parse (an SQL type
/// name per parameter, `None` where the client left it to the server), as
/// PostgreSQL does: `SELECT $1` with an int4 parameter returns an int4
/// column. Parameters of LIMIT and OFFSET keep their own (bigint) typing.
pub(crate) fn type_parameters(statement: &mut Statement, types: &[Option<String>]) {
    use datafusion::sql::sqlparser::ast::{Query, Value};
    struct LimitParams(std::collections::HashSet<String>);
    impl datafusion::sql::sqlparser::ast::Visitor for LimitParams {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(limit) = &q.limit_clause {
                let text = limit.to_string();
                for (i, _) in text.match_indices('$') {
                    let digits: String = text[i + 1..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    self.0.insert(format!("${digits}"));
                }
            }
            ControlFlow::Continue(())
        }
    }
    struct Typed<'a>(&'a [Option<String>], std::collections::HashSet<String>);
    impl VisitorMut for Typed<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Value(v) = expr {
                if let Value::Placeholder(p) = &v.value {
                    let ty = p
                        .strip_prefix('$')
                        .and_then(|n| n.parse::<usize>().ok())
                        .and_then(|n| self.0.get(n.checked_sub(1)?))
                        .and_then(|t| t.clone());
                    if let (Some(ty), false) = (ty, self.1.contains(p)) {
                        if let Some(cast) = parse_expr(&format!("CAST({p} AS {ty})")) {
                            *expr = cast;
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    // A parameter nothing gives a type, selected as a value (`SELECT $1`),
    // is text in PostgreSQL; DataFusion would describe it as unknown.
    struct UntypedSelected<'a>(&'a [Option<String>]);
    impl VisitorMut for UntypedSelected<'_> {
        type Break = ();
        fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
            if let SetExpr::Select(select) = query.body.as_mut() {
                for item in select.projection.iter_mut() {
                    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) =
                        item
                    else {
                        continue;
                    };
                    let Expr::Value(v) = &*e else {
                        continue;
                    };
                    let Value::Placeholder(p) = &v.value else {
                        continue;
                    };
                    let declared = p
                        .strip_prefix('$')
                        .and_then(|n| n.parse::<usize>().ok())
                        .and_then(|n| self.0.get(n.checked_sub(1)?))
                        .is_some_and(Option::is_some);
                    if !declared {
                        if let Some(cast) = parse_expr(&format!("CAST({p} AS TEXT)")) {
                            *e = cast;
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut UntypedSelected(types));
    if types.iter().all(Option::is_none) {
        return;
    }
    let mut limits = LimitParams(Default::default());
    let _ = datafusion::sql::sqlparser::ast::Visit::visit(&*statement, &mut limits);
    let _ = statement.visit(&mut Typed(types, limits.0));
}

/// What must be read before the compatibility rules see a statement: an
/// unquoted `user` is PostgreSQL's `current_user`, not a column (the rules
/// would qualify it as one).
pub(crate) fn before_rules(statement: &mut Statement) {
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(statement, |e| {
        // (The parser reads it as a column or as a function without
        // parentheses, like CURRENT_USER.)
        let user = match &*e {
            Expr::Identifier(id) => {
                id.quote_style.is_none() && id.value.eq_ignore_ascii_case("user")
            }
            Expr::Function(f) => {
                matches!(
                    f.args,
                    datafusion::sql::sqlparser::ast::FunctionArguments::None
                ) && f.name.0.len() == 1
                    && f.name.to_string().eq_ignore_ascii_case("user")
            }
            _ => false,
        };
        if user {
            if let Some(f) = parse_expr("current_user()") {
                *e = f;
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Rewrites client catalog idioms DataFusion cannot plan into equivalents it
/// can, then gives user expressions PostgreSQL's meaning where DataFusion's
/// differs (see [`PostgresSemantics`]).
pub(crate) fn rewrite(statement: &mut Statement) -> Result<(), crate::EngineError> {
    let mut idioms = CatalogIdioms::default();
    let _ = statement.visit(&mut idioms);
    let mut semantics = PostgresSemantics::default();
    let _ = statement.visit(&mut semantics);
    if let Some(name) = idioms.ambiguous {
        return Err(crate::EngineError::new(
            crate::error::sqlstate::AMBIGUOUS_COLUMN,
            format!("ORDER BY \"{name}\" is ambiguous"),
        ));
    }
    match semantics.unsupported {
        Some(what) => Err(crate::EngineError::new(
            crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
            what,
        )),
        None => Ok(()),
    }
}

/// Expressions whose PostgreSQL meaning DataFusion spells differently,
/// rewritten to what DataFusion computes the PostgreSQL way:
/// `SIMILAR TO` (SQL regular expressions, anchored, `%` and `_`) as an
/// anchored POSIX match; `CAST(x AS varchar(n))` and `char(n)` truncating
/// (and padding) as PostgreSQL's explicit casts do; `generate_series` in the
/// select list returning rows, not an array; `array_remove` removing every
/// match. What DataFusion would answer differently and cannot be rewritten
/// (`x > ALL (subquery)`) is refused.
#[derive(Default)]
pub(super) struct PostgresSemantics {
    unsupported: Option<String>,
}

/// The POSIX regular expression of a `SIMILAR TO` pattern (PostgreSQL's
/// `similar_to_escape`), anchored at both ends.
pub(super) fn similar_to_regex(pattern: &str, escape: Option<char>) -> String {
    let escape = escape.or(Some('\\'));
    let mut out = String::from("^(?:");
    let mut chars = pattern.chars();
    let mut in_bracket = false;
    while let Some(c) = chars.next() {
        if in_bracket {
            out.push(c);
            if c == ']' {
                in_bracket = false;
            }
            continue;
        }
        if Some(c) == escape {
            if let Some(next) = chars.next() {
                out.push_str(&regex_escape(next));
            }
            continue;
        }
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '[' => {
                in_bracket = true;
                out.push('[');
            }
            '|' | '*' | '+' | '?' | '{' | '}' | '(' | ')' => out.push(c),
            other => out.push_str(&regex_escape(other)),
        }
    }
    out.push_str(")$");
    out
}

/// Whether an expression is written as an interval (a literal or a cast).
fn is_interval(e: &Expr) -> bool {
    match e {
        Expr::Interval(_) => true,
        Expr::Nested(inner) => is_interval(inner),
        Expr::Cast { data_type, .. } => {
            matches!(
                data_type,
                datafusion::sql::sqlparser::ast::DataType::Interval { .. }
            )
        }
        _ => false,
    }
}

fn regex_escape(c: char) -> String {
    if "\\.^$|?*+()[]{}".contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

impl VisitorMut for PostgresSemantics {
    type Break = ();

    /// `generate_series(date, date, interval)` is PostgreSQL's timestamptz
    /// series (a date is read as its local midnight); DataFusion's would be
    /// timestamps without a zone.
    fn pre_visit_table_factor(
        &mut self,
        factor: &mut datafusion::sql::sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{
            DataType as T, FunctionArg, FunctionArgExpr, TableFactor,
        };
        let TableFactor::Table {
            name,
            args: Some(args),
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if !name.to_string().eq_ignore_ascii_case("generate_series") || args.args.len() != 3 {
            return ControlFlow::Continue(());
        }
        let is_date = |e: &Expr| match e {
            Expr::TypedString(t) => matches!(t.data_type, T::Date),
            Expr::Cast { data_type, .. } => matches!(data_type, T::Date),
            _ => false,
        };
        let dates = args.args[..2]
            .iter()
            .all(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if is_date(e)));
        if dates {
            for a in &mut args.args[..2] {
                if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a {
                    if let Some(cast) = parse_expr(&format!("CAST({e} AS TIMESTAMPTZ)")) {
                        *e = cast;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Select items this rewrite reshapes keep the name PostgreSQL gives
    /// them (`extract`, `varchar`), where that name is not taken twice.
    fn pre_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{DataType as T, Ident, SelectItem, SetExpr};
        // `FETCH FIRST n ROWS ONLY` is `LIMIT n`.
        if let Some(fetch) = &query.fetch {
            use datafusion::sql::sqlparser::ast::LimitClause;
            if let (Some(n), false, false) = (&fetch.quantity, fetch.percent, fetch.with_ties) {
                let n = n.clone();
                match &mut query.limit_clause {
                    None => {
                        query.limit_clause = Some(LimitClause::LimitOffset {
                            limit: Some(n),
                            offset: None,
                            limit_by: vec![],
                        });
                        query.fetch = None;
                    }
                    Some(LimitClause::LimitOffset {
                        limit: limit @ None,
                        ..
                    }) => {
                        *limit = Some(n);
                        query.fetch = None;
                    }
                    _ => {}
                }
            }
        }
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        // `EXISTS (…)` as a column (a report's "has a subsidy" flag):
        // DataFusion plans EXISTS only as a filter; a count it can.
        for item in &mut select.projection {
            let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(item, |e| {
                if let Some(counted) = exists_as_count(e) {
                    *e = counted;
                }
                ControlFlow::<()>::Continue(())
            });
        }
        let name_of = |e: &Expr| -> Option<&'static str> {
            match e {
                Expr::Extract { .. } => Some("extract"),
                Expr::AtTimeZone { .. } => Some("timezone"),
                Expr::Cast {
                    data_type: T::Varchar(Some(_)) | T::CharacterVarying(Some(_)),
                    ..
                } => Some("varchar"),
                Expr::Cast {
                    data_type: T::Char(Some(_)) | T::Character(Some(_)),
                    ..
                } => Some("bpchar"),
                _ => None,
            }
        };
        let names: Vec<Option<&str>> = select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(e) => name_of(e),
                _ => None,
            })
            .collect();
        // A name taken twice gets the hidden suffix (see
        // `name_function_columns`).
        let mut used: std::collections::HashSet<String> = select
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                SelectItem::UnnamedExpr(e) => last_ident(e),
                _ => None,
            })
            .collect();
        for (i, (item, name)) in select.projection.iter_mut().zip(&names).enumerate() {
            let Some(name) = name else { continue };
            if let SelectItem::UnnamedExpr(e) = &*item {
                let alias = if used.insert(name.to_string()) {
                    name.to_string()
                } else {
                    format!("{name}{}{i}", super::text::NAME_SUFFIX)
                };
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::with_quote('"', alias),
                };
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{Ident, SelectItem, SetExpr};
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in select.projection.iter_mut() {
                let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item
                else {
                    continue;
                };
                let is_series = matches!(e, Expr::Function(f)
                    if f.name.to_string().eq_ignore_ascii_case("generate_series"));
                if !is_series {
                    continue;
                }
                if let Some(rows) = parse_expr(&format!("unnest({e})")) {
                    *item = match item {
                        SelectItem::ExprWithAlias { alias, .. } => SelectItem::ExprWithAlias {
                            expr: rows,
                            alias: alias.clone(),
                        },
                        _ => SelectItem::ExprWithAlias {
                            expr: rows,
                            alias: Ident::with_quote('"', "generate_series"),
                        },
                    };
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{
            BinaryOperator, CharacterLength, DataType as T, Value,
        };
        match expr {
            // `x = ANY (subquery)` is `x IN (subquery)` (the crate's rule
            // made it an array lookup, which a subquery is not).
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("array_contains") => {
                use datafusion::sql::sqlparser::ast::{
                    FunctionArg, FunctionArgExpr, FunctionArguments,
                };
                if let FunctionArguments::List(list) = &f.args {
                    if let [FunctionArg::Unnamed(FunctionArgExpr::Expr(array)), FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] =
                        list.args.as_slice()
                    {
                        let mut array = array;
                        while let Expr::Nested(inner) = array {
                            array = inner;
                        }
                        if let Expr::Subquery(q) = array {
                            *expr = Expr::InSubquery {
                                expr: Box::new(x.clone()),
                                subquery: q.clone(),
                                negated: false,
                            };
                        }
                    }
                }
            }
            // `|/ x` and `||/ x`: square and cube roots.
            Expr::UnaryOp { op, expr: inner }
                if matches!(
                    op,
                    datafusion::sql::sqlparser::ast::UnaryOperator::PGSquareRoot
                        | datafusion::sql::sqlparser::ast::UnaryOperator::PGCubeRoot
                ) =>
            {
                let f = if matches!(
                    op,
                    datafusion::sql::sqlparser::ast::UnaryOperator::PGSquareRoot
                ) {
                    "sqrt"
                } else {
                    "cbrt"
                };
                if let Some(e) = parse_expr(&format!("{f}({inner})")) {
                    *expr = e;
                }
            }
            // isfinite: zhenjie's dates and timestamps are all finite.
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("isfinite") => {
                let args = function_args(&f.args);
                if let [a] = args.as_slice() {
                    if let Some(e) =
                        parse_expr(&format!("CASE WHEN ({a}) IS NULL THEN NULL ELSE true END"))
                    {
                        *expr = e;
                    }
                }
            }
            // `true = 't'`: a boolean literal and a text literal PostgreSQL
            // reads as a boolean (the planner refuses the pair before any
            // rule sees it).
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq | BinaryOperator::NotEq,
                right,
            } => {
                let word = |e: &Expr| match e {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) => {
                            match s.trim().to_ascii_lowercase().as_str() {
                                "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
                                "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
                                _ => None,
                            }
                        }
                        _ => None,
                    },
                    _ => None,
                };
                let boolean =
                    |e: &Expr| matches!(e, Expr::Value(v) if matches!(v.value, Value::Boolean(_)));
                if boolean(left) {
                    if let Some(b) = word(right) {
                        **right = Expr::Value(Value::Boolean(b).into());
                    }
                } else if boolean(right) {
                    if let Some(b) = word(left) {
                        **left = Expr::Value(Value::Boolean(b).into());
                    }
                }
            }
            Expr::AllOp { right, .. } if matches!(right.as_ref(), Expr::Subquery(_)) => {
                self.unsupported = Some(
                    "a comparison with ALL (subquery) is not supported; \
                     write NOT EXISTS (SELECT … WHERE NOT (comparison)) instead"
                        .into(),
                );
            }
            // PostgreSQL's `AT TIME ZONE` (see `zones`), not a relabelling.
            Expr::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                if let Some(e) = parse_expr(&format!("pg_at_time_zone({timestamp}, {time_zone})")) {
                    *expr = e;
                }
            }
            // `-INTERVAL '2 hours 30 minutes'` reaches DataFusion as the text
            // `-2 hours 30 minutes` (minus two hours, plus thirty minutes);
            // PostgreSQL negates the whole interval.
            Expr::UnaryOp {
                op: datafusion::sql::sqlparser::ast::UnaryOperator::Minus,
                expr: inner,
            } if matches!(inner.as_ref(), Expr::Interval(_)) => {
                if let Some(e) = parse_expr(&format!("(INTERVAL '0 seconds' - {inner})")) {
                    *expr = e;
                }
            }
            Expr::SimilarTo {
                negated,
                expr: subject,
                pattern,
                escape_char,
            } => {
                let Expr::Value(p) = pattern.as_ref() else {
                    return ControlFlow::Continue(());
                };
                let Value::SingleQuotedString(text) = &p.value else {
                    return ControlFlow::Continue(());
                };
                let escape = match escape_char.as_ref().map(|e| &e.value) {
                    None => None,
                    Some(Value::SingleQuotedString(e)) if e.chars().count() == 1 => {
                        e.chars().next()
                    }
                    Some(_) => return ControlFlow::Continue(()),
                };
                let regex = similar_to_regex(text, escape);
                let pattern = Expr::Value(Value::SingleQuotedString(regex).into());
                *expr = Expr::BinaryOp {
                    left: subject.clone(),
                    op: if *negated {
                        BinaryOperator::PGRegexNotMatch
                    } else {
                        BinaryOperator::PGRegexMatch
                    },
                    right: Box::new(pattern),
                };
            }
            Expr::Cast {
                expr: inner,
                data_type,
                ..
            } => {
                let length = match data_type {
                    T::Varchar(Some(CharacterLength::IntegerLength { length, .. }))
                    | T::CharacterVarying(Some(CharacterLength::IntegerLength {
                        length, ..
                    })) => Some((*length, false)),
                    T::Char(Some(CharacterLength::IntegerLength { length, .. }))
                    | T::Character(Some(CharacterLength::IntegerLength { length, .. })) => {
                        Some((*length, true))
                    }
                    _ => None,
                };
                if let Some((n, pad)) = length {
                    let cut = format!("left(CAST({inner} AS VARCHAR), {n})");
                    let sql = if pad {
                        format!("CAST(rpad({cut}, {n}) AS bpchar)")
                    } else {
                        format!("CAST({cut} AS VARCHAR)")
                    };
                    if let Some(e) = parse_expr(&sql) {
                        *expr = e;
                    }
                }
            }
            // `interval * number`, `number * interval`, `interval / number`
            // (time grains: `INTERVAL '5 minute' * FLOOR(…)`).
            Expr::BinaryOp { left, op, right }
                if matches!(op, BinaryOperator::Multiply | BinaryOperator::Divide)
                    && (is_interval(left)
                        || (is_interval(right) && *op == BinaryOperator::Multiply)) =>
            {
                let (interval, factor) = if is_interval(left) {
                    (left.to_string(), right.to_string())
                } else {
                    (right.to_string(), left.to_string())
                };
                let factor = if *op == BinaryOperator::Divide {
                    format!("1.0 / CAST({factor} AS DOUBLE)")
                } else {
                    format!("CAST({factor} AS DOUBLE)")
                };
                if let Some(e) = parse_expr(&format!(
                    "interval_mul(CAST({interval} AS INTERVAL), {factor})"
                )) {
                    *expr = e;
                }
            }
            // `EXTRACT` is numeric in PostgreSQL (`59.500000` seconds,
            // `2024` years); `date_part` stays a float, as there.
            Expr::Extract {
                field,
                expr: source,
                ..
            } => {
                let name = field.to_string().to_ascii_lowercase();
                // Parts DataFusion does not know, from the year.
                let from_year = match name.as_str() {
                    "decade" => Some("floor(y / 10)"),
                    "century" => Some("CASE WHEN y > 0 THEN floor((y - 1) / 100) + 1 ELSE floor(y / 100) - 1 END"),
                    "millennium" => Some("CASE WHEN y > 0 THEN floor((y - 1) / 1000) + 1 ELSE floor(y / 1000) - 1 END"),
                    _ => None,
                };
                if let Some(formula) = from_year {
                    let year = format!("CAST(date_part('year', {source}) AS DOUBLE)");
                    if let Some(e) = parse_expr(&format!(
                        "CAST({} AS DECIMAL(38, 0))",
                        formula.replace('y', &year)
                    )) {
                        *expr = e;
                    }
                    return ControlFlow::Continue(());
                }
                let scale = match name.as_str() {
                    "second" | "epoch" => Some(6),
                    "milliseconds" | "millisecond" => Some(3),
                    // (A date's Julian day is whole; a timestamp's stays
                    // unsupported.)
                    "julian" => Some(0),
                    _ => Some(0),
                };
                if let Some(scale) = scale {
                    if let Some(e) = parse_expr(&format!(
                        "CAST(date_part('{name}', {source}) AS DECIMAL(38, {scale}))"
                    )) {
                        *expr = e;
                    }
                }
            }
            // array_dims: PostgreSQL's `[1:n]` (DataFusion's is a list of
            // lengths); one dimension, NULL for an empty array.
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("array_dims") => {
                let args = function_args(&f.args);
                if let [a] = args.as_slice() {
                    let sql = format!(
                        "CASE WHEN coalesce(array_length({a}, 1), 0) = 0 THEN NULL \
                         ELSE '[1:' || CAST(array_length({a}, 1) AS TEXT) || ']' END"
                    );
                    if let Some(e) = parse_expr(&sql) {
                        *expr = e;
                    }
                }
            }
            // PostgreSQL's width_bucket(operand, low, high, count).
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("width_bucket") => {
                let args = function_args(&f.args);
                if let [op, lo, hi, n] = args.as_slice() {
                    let sql = format!(
                        "CASE WHEN ({op}) IS NULL OR ({lo}) IS NULL OR ({hi}) IS NULL OR ({n}) IS NULL THEN NULL \
                         WHEN ({lo}) < ({hi}) AND ({op}) < ({lo}) THEN 0 \
                         WHEN ({lo}) < ({hi}) AND ({op}) >= ({hi}) THEN ({n}) + 1 \
                         WHEN ({lo}) < ({hi}) THEN CAST(floor((CAST({op} AS DOUBLE) - ({lo})) / (CAST({hi} AS DOUBLE) - ({lo})) * ({n})) AS INT) + 1 \
                         WHEN ({op}) > ({lo}) THEN 0 \
                         WHEN ({op}) <= ({hi}) THEN ({n}) + 1 \
                         ELSE CAST(floor((CAST({lo} AS DOUBLE) - ({op})) / (CAST({lo} AS DOUBLE) - ({hi})) * ({n})) AS INT) + 1 END"
                    );
                    if let Some(e) = parse_expr(&sql) {
                        *expr = e;
                    }
                }
            }
            // PostgreSQL's names for functions DataFusion has under another.
            Expr::Function(f)
                if ["sign", "ceiling"]
                    .iter()
                    .any(|n| f.name.to_string().eq_ignore_ascii_case(n)) =>
            {
                // (Not `variance`: DataFusion's is a float, PostgreSQL's an
                // exact numeric; an error is better than other digits.)
                let to = if f.name.to_string().eq_ignore_ascii_case("sign") {
                    "signum"
                } else {
                    "ceil"
                };
                if let Some(last) = f.name.0.last_mut() {
                    *last = datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(
                        datafusion::sql::sqlparser::ast::Ident::new(to),
                    );
                }
            }
            // mod(a, b) is a % b; num_nulls/num_nonnulls count their NULLs.
            Expr::Function(f)
                if ["mod", "num_nulls", "num_nonnulls"]
                    .iter()
                    .any(|n| f.name.to_string().eq_ignore_ascii_case(n)) =>
            {
                let name = f.name.to_string().to_ascii_lowercase();
                let args = function_args(&f.args);
                let sql = match (name.as_str(), args.as_slice()) {
                    ("mod", [a, b]) => Some(format!("(({a}) % ({b}))")),
                    ("num_nulls" | "num_nonnulls", args) if !args.is_empty() => {
                        let test = if name == "num_nulls" {
                            "IS NULL"
                        } else {
                            "IS NOT NULL"
                        };
                        Some(format!(
                            "CAST(({}) AS INT)",
                            args.iter()
                                .map(|a| format!("CASE WHEN ({a}) {test} THEN 1 ELSE 0 END"))
                                .collect::<Vec<_>>()
                                .join(" + ")
                        ))
                    }
                    _ => None,
                };
                if let Some(e) = sql.as_deref().and_then(parse_expr) {
                    *expr = e;
                }
            }
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("every") => {
                if let Some(last) = f.name.0.last_mut() {
                    *last = datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(
                        datafusion::sql::sqlparser::ast::Ident::new("bool_and"),
                    );
                }
            }
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("div") => {
                // PostgreSQL's `div` is of numerics: the quotient truncated.
                let args = function_args(&f.args);
                if let [a, b] = args.as_slice() {
                    if let Some(e) = parse_expr(&format!(
                        "trunc(CAST(({a}) AS numeric) / CAST(({b}) AS numeric))"
                    )) {
                        *expr = e;
                    }
                }
            }
            // json_agg(x ORDER BY …) is the JSON of array_agg(x ORDER BY …),
            // whose ordering and merging are DataFusion's.
            Expr::Function(f)
                if ["json_agg", "jsonb_agg"]
                    .iter()
                    .any(|n| f.name.to_string().eq_ignore_ascii_case(n)) =>
            {
                let to = if f.name.to_string().eq_ignore_ascii_case("json_agg") {
                    "pg_json_from_list"
                } else {
                    "pg_jsonb_from_list"
                };
                let mut agg = f.clone();
                agg.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![
                    datafusion::sql::sqlparser::ast::Ident::new("array_agg"),
                ]);
                if let Some(e) = parse_expr(&format!("{to}({agg})")) {
                    *expr = e;
                }
            }
            // make_interval's arguments are named and each optional: all
            // seven, in order, zeros for those left out.
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("make_interval") => {
                if let Some(args) = make_interval_args(&f.args) {
                    if let Some(e) = parse_expr(&format!("make_interval({})", args.join(", "))) {
                        *expr = e;
                    }
                }
            }
            // `a && b` of arrays: they share an element (a NULL element
            // matches nothing, as in PostgreSQL).
            Expr::BinaryOp {
                left,
                op: datafusion::sql::sqlparser::ast::BinaryOperator::PGOverlap,
                right,
            } => {
                if let Some(e) = parse_expr(&format!(
                    "array_has_any(array_compact({left}), array_compact({right}))"
                )) {
                    *expr = e;
                }
            }
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("array_remove") => {
                if let Some(last) = f.name.0.last_mut() {
                    *last = datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(
                        datafusion::sql::sqlparser::ast::Ident::new("array_remove_all"),
                    );
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// PostgreSQL interval text DataFusion cannot read, in words it can:
/// `04:05:06.5` becomes `4 hours 5 minutes 6.5 seconds` (`MM:SS` under
/// `MINUTE TO SECOND`), a number right before such a time is days
/// (`1 04:05:06`), and a lone number takes the literal's leading field
/// (`interval '3' day`). `None` when nothing needs changing.
pub(super) fn interval_text(
    text: &str,
    leading_field: Option<&str>,
    minutes_first: bool,
) -> Option<String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let is_time = |t: &str| {
        let t = t.trim_start_matches(['+', '-']);
        t.contains(':')
            && t.split(':')
                .all(|p| !p.is_empty() && p.parse::<f64>().is_ok())
    };
    let is_number = |t: &str| t.parse::<f64>().is_ok();
    if let (Some(field), [number]) = (leading_field, tokens.as_slice()) {
        if is_number(number) {
            return Some(format!("{number} {}", field.to_ascii_lowercase()));
        }
    }
    if !tokens.iter().any(|t| is_time(t)) {
        return None;
    }
    let mut words = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if is_time(token) {
            let negative = token.starts_with('-');
            let parts: Vec<&str> = token.trim_start_matches(['+', '-']).split(':').collect();
            let units: &[&str] = match (parts.len(), minutes_first) {
                (2, true) => &["minutes", "seconds"],
                _ => &["hours", "minutes", "seconds"],
            };
            for (part, unit) in parts.iter().zip(units) {
                words.push(format!("{}{part} {unit}", if negative { "-" } else { "" }));
            }
        } else if is_number(token) && tokens.get(i + 1).is_some_and(|t| is_time(t)) {
            words.push(format!("{token} days"));
        } else {
            words.push(token.to_string());
        }
    }
    Some(words.join(" "))
}

/// An integer literal PostgreSQL would type `int4` (it fits) as an explicit
/// `int4` cast; DataFusion types every integer literal `int8`.
pub(super) fn as_int4_literal(e: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{UnaryOperator, Value};
    let number = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, false) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    };
    let digits = match e {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => format!("-{}", number(expr)?),
        other => number(other)?,
    };
    digits.parse::<i32>().ok()?;
    parse_expr(&format!("CAST({digits} AS INT)"))
}

#[derive(Default)]
pub(super) struct CatalogIdioms {
    /// An `ORDER BY` name two different output columns have (see
    /// [`ambiguous_order_by`]), found before they are told apart.
    ambiguous: Option<String>,
}

pub(super) fn function_args(args: &FunctionArguments) -> Vec<String> {
    match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e.to_string(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// make_interval's arguments as seven positional ones (`None` when they do
/// not name its parameters: the planner then reports the mistake).
fn make_interval_args(args: &FunctionArguments) -> Option<Vec<String>> {
    use super::make::INTERVAL_PARAMETERS;
    let FunctionArguments::List(list) = args else {
        return (matches!(args, FunctionArguments::None)).then(|| vec!["0".into(); 7]);
    };
    let mut out = vec!["0".to_string(); 7];
    let mut position = 0;
    for a in &list.args {
        let (name, value) = match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (None, e.to_string()),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (Some(name.value.to_ascii_lowercase()), e.to_string()),
            FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (Some(name.value.to_ascii_lowercase()), e.to_string()),
            _ => return None,
        };
        let at = match name {
            Some(n) => INTERVAL_PARAMETERS.iter().position(|p| *p == n)?,
            None => position,
        };
        *out.get_mut(at)? = value;
        position = at + 1;
    }
    Some(out)
}

pub(super) fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

/// PostgreSQL names an unnamed function column after the function
/// (`count(*)` is `count`, `1 + 1` is `?column?`); DataFusion after the
/// whole expression. BI tools and pandas show these names, so every column
/// gets PostgreSQL's. PostgreSQL also lets two columns share a name
/// (`SELECT 1 + 1, 2 + 2`, `SELECT i, i`), DataFusion does not: a repeated
/// name gets a hidden suffix after [`super::text::NAME_SUFFIX`], which the wire drops.
pub(super) fn name_function_columns(
    projection: &mut [datafusion::sql::sqlparser::ast::SelectItem],
) {
    use datafusion::sql::sqlparser::ast::{Ident, SelectItem};
    let mut used = std::collections::HashSet::new();
    for (i, item) in projection.iter_mut().enumerate() {
        let Some((expr, name, named)) = output_name(item) else {
            continue;
        };
        let expr = expr.clone();
        let alias = if used.insert(name.clone()) {
            if named {
                continue;
            }
            name
        } else {
            format!("{name}{}{i}", super::text::NAME_SUFFIX)
        };
        *item = SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('"', alias),
        };
    }
}

/// The name PostgreSQL shows for a select item, its expression, and whether
/// DataFusion would name the column so already; `None` for a wildcard, or
/// an item whose name PostgreSQL figures and this does not.
fn output_name(
    item: &datafusion::sql::sqlparser::ast::SelectItem,
) -> Option<(&Expr, String, bool)> {
    use datafusion::sql::sqlparser::ast::SelectItem;
    match item {
        SelectItem::ExprWithAlias { expr, alias } => Some((expr, display_ident(alias), true)),
        SelectItem::UnnamedExpr(e) => match e {
            Expr::Identifier(id) => Some((e, display_ident(id), true)),
            Expr::CompoundIdentifier(parts) => Some((e, display_ident(parts.last()?), true)),
            _ => Some((e, postgres_column_name(e)?, false)),
        },
        _ => None,
    }
}

/// The name of an `ORDER BY` item PostgreSQL refuses as ambiguous: a bare
/// name that two output columns have, as different expressions
/// (`SELECT i, i::numeric FROM t ORDER BY i`; 42702). DataFusion would
/// order by one of them. Where the select list has a wildcard, or the two
/// could be the same column (`i` and `t.i`), nothing is refused.
fn ambiguous_order_by(query: &datafusion::sql::sqlparser::ast::Query) -> Option<String> {
    use datafusion::sql::sqlparser::ast::{OrderByKind, SelectItem, SetExpr};
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let OrderByKind::Expressions(items) = &query.order_by.as_ref()?.kind else {
        return None;
    };
    let mut outputs = Vec::new();
    for item in &select.projection {
        if !matches!(
            item,
            SelectItem::ExprWithAlias { .. } | SelectItem::UnnamedExpr(_)
        ) {
            return None;
        }
        let Some((expr, name, _)) = output_name(item) else {
            continue;
        };
        // A column is known by its name; anything else by its text.
        let what = match expr {
            Expr::Identifier(id) => display_ident(id),
            Expr::CompoundIdentifier(parts) => display_ident(parts.last()?),
            other => other.to_string(),
        };
        outputs.push((name, what));
    }
    items.iter().find_map(|item| {
        let Expr::Identifier(id) = &item.expr else {
            return None;
        };
        let name = display_ident(id);
        let mut named = outputs.iter().filter(|(n, _)| *n == name);
        let (_, first) = named.next()?;
        named.any(|(_, other)| other != first).then_some(name)
    })
}

fn display_ident(id: &datafusion::sql::sqlparser::ast::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_ascii_lowercase()
    }
}

/// The name PostgreSQL gives an unnamed select item DataFusion would name
/// after the whole expression: a function's name (`count`), a cast's type
/// (`int4`) or, for a cast column, the column, and `?column?` for literals
/// and operators (PostgreSQL's `FigureColname`).
pub(super) fn postgres_column_name(e: &Expr) -> Option<String> {
    figure_name(e).map(|(name, _)| name)
}

/// A column name and how strongly the expression names it: 2 for a column
/// or function, 1 for a cast's type (an outer cast names by its own type
/// unless what it casts names strongly), 0 for `?column?`.
fn figure_name(e: &Expr) -> Option<(String, u8)> {
    let named = |n: &str, strength: u8| Some((n.to_string(), strength));
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => last_ident(e).map(|n| (n, 2)),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .map(|p| (p.to_string().trim_matches('"').to_ascii_lowercase(), 2)),
        Expr::Cast {
            expr, data_type, ..
        } => match figure_name(expr) {
            Some((name, 2)) => Some((name, 2)),
            inner => type_column_name(data_type)
                .map(|n| (n.to_string(), 1))
                .or(inner.filter(|(_, s)| *s > 0)),
        },
        Expr::TypedString(typed) => type_column_name(&typed.data_type).map(|n| (n.to_string(), 1)),
        Expr::Ceil { .. } => named("ceil", 2),
        Expr::Floor { .. } => named("floor", 2),
        Expr::Position { .. } => named("position", 2),
        Expr::Substring { shorthand, .. } => {
            named(if *shorthand { "substr" } else { "substring" }, 2)
        }
        Expr::Overlay { .. } => named("overlay", 2),
        Expr::Trim { trim_where, .. } => {
            use datafusion::sql::sqlparser::ast::TrimWhereField as W;
            named(
                match trim_where {
                    Some(W::Leading) => "ltrim",
                    Some(W::Trailing) => "rtrim",
                    _ => "btrim",
                },
                2,
            )
        }
        Expr::Exists { .. } => named("exists", 2),
        Expr::Array(_) => named("array", 2),
        Expr::Case { .. } => named("case", 2),
        Expr::Interval(_) => named("interval", 1),
        Expr::Nested(inner) => figure_name(inner),
        Expr::Value(_)
        | Expr::BinaryOp { .. }
        | Expr::UnaryOp { .. }
        | Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. } => named("?column?", 0),
        _ => None,
    }
}

/// PostgreSQL's name of a type, as a cast's column is named.
fn type_column_name(t: &datafusion::sql::sqlparser::ast::DataType) -> Option<&'static str> {
    use datafusion::sql::sqlparser::ast::{DataType as T, TimezoneInfo as Z};
    Some(match t {
        T::Int(_) | T::Integer(_) | T::Int4(_) => "int4",
        T::BigInt(_) | T::Int8(_) => "int8",
        T::SmallInt(_) | T::Int2(_) => "int2",
        T::Text => "text",
        T::Varchar(_) | T::CharacterVarying(_) => "varchar",
        T::Char(_) | T::Character(_) => "bpchar",
        T::Date => "date",
        T::Numeric(_) | T::Decimal(_) => "numeric",
        T::DoublePrecision | T::Float8 => "float8",
        T::Real | T::Float4 => "float4",
        T::Boolean | T::Bool => "bool",
        T::Timestamp(_, Z::None | Z::WithoutTimeZone) => "timestamp",
        T::Timestamp(..) => "timestamptz",
        T::Time(..) => "time",
        T::Interval { .. } => "interval",
        T::JSON => "json",
        T::JSONB => "jsonb",
        T::Array(datafusion::sql::sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _)) => {
            return type_column_name(inner)
        }
        _ => return None,
    })
}

/// Whether `query` is one SELECT whose rows an aggregate over it can stand
/// for: no DISTINCT, GROUP BY, HAVING, LIMIT or FETCH.
fn plain_select(query: &datafusion::sql::sqlparser::ast::Query) -> bool {
    use datafusion::sql::sqlparser::ast::{GroupByExpr, SetExpr};
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    select.distinct.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
        && select.having.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none()
}

/// `EXISTS (SELECT … FROM … WHERE …)` as `((SELECT count(*) FROM … WHERE
/// …) > 0)` (`= 0` for NOT EXISTS), for a plain subquery: the same answer,
/// in a form DataFusion plans in a select list, correlated or not.
fn exists_as_count(e: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
    let Expr::Exists { subquery, negated } = e else {
        return None;
    };
    let mut query = subquery.clone();
    if !plain_select(&query) {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    select.projection = vec![SelectItem::UnnamedExpr(parse_expr("count(*)")?)];
    query.order_by = None;
    let comparison = if *negated { "= 0" } else { "> 0" };
    parse_expr(&format!("(({query}) {comparison})"))
}

/// `ARRAY(SELECT x FROM … [ORDER BY …])`, PostgreSQL's array constructor
/// (psql's `\du`, `\dp`; Sigma's catalog queries), as the aggregate
/// DataFusion plans: `(SELECT coalesce(array_agg(x ORDER BY …), []) FROM …)`
/// — an empty array, not NULL, where the subquery has no rows.
fn array_constructor(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{
        FunctionArguments, OrderByKind, SelectItem, SetExpr, Value,
    };
    let Expr::Function(f) = expr else {
        return None;
    };
    let FunctionArguments::Subquery(query) = &f.args else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("array") {
        return None;
    }
    let mut query = query.clone();
    let plain = plain_select(&query);
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_slice()
    else {
        return None;
    };
    if !plain {
        return None;
    }
    // `ARRAY(SELECT x FROM unnest(a) AS t(x))` (psql's `\dy`) is `a`.
    if let [from] = select.from.as_slice() {
        use datafusion::sql::sqlparser::ast::TableFactor;
        let array = match &from.relation {
            TableFactor::UNNEST { array_exprs, .. } if array_exprs.len() == 1 => {
                Some(array_exprs[0].to_string())
            }
            TableFactor::Table {
                name,
                args: Some(args),
                ..
            } if name.to_string().to_ascii_lowercase().ends_with("unnest")
                && args.args.len() == 1 =>
            {
                Some(args.args[0].to_string())
            }
            _ => None,
        };
        if let (Some(array), true, true) =
            (array, from.joins.is_empty(), select.selection.is_none())
        {
            return parse_expr(&array);
        }
    }
    // Over a catalog table zhenjie never has rows in (`pg_policy` in
    // `\dp`), the array is empty: said so, rather than a correlated
    // subquery DataFusion may not plan.
    if let [from] = select.from.as_slice() {
        if let datafusion::sql::sqlparser::ast::TableFactor::Table {
            name, args: None, ..
        } = &from.relation
        {
            let table = name.0.last().map(|p| p.to_string().to_ascii_lowercase());
            let schema_ok =
                name.0.len() == 1 || name.0[0].to_string().eq_ignore_ascii_case("pg_catalog");
            if from.joins.is_empty()
                && schema_ok
                && table.is_some_and(|t| {
                    super::empty_catalog::shape(super::empty_catalog::PG_CATALOG, &t).is_some()
                })
            {
                return parse_expr("make_array()");
            }
        }
    }
    let item = item.clone();
    let order = match query.order_by.take().map(|o| o.kind) {
        Some(OrderByKind::Expressions(exprs)) => {
            let keys: Vec<String> = exprs
                .into_iter()
                .map(|mut o| {
                    // `ORDER BY 1` is the selected expression.
                    if let Expr::Value(v) = &o.expr {
                        if matches!(&v.value, Value::Number(n, _) if n == "1") {
                            o.expr = item.clone();
                        }
                    }
                    o.to_string()
                })
                .collect();
            format!(" ORDER BY {}", keys.join(", "))
        }
        _ => String::new(),
    };
    let aggregate = parse_expr(&format!("coalesce(array_agg({item}{order}), make_array())"))?;
    select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
    Some(Expr::Subquery(query))
}

/// `alias.tableoid` in one select, as the fixed OID of the catalog table
/// `alias` names (see `CatalogIdioms::pre_visit_query`).
fn table_oids(select: &mut datafusion::sql::sqlparser::ast::Select) {
    use datafusion::sql::sqlparser::ast::TableFactor;
    let mut tables = std::collections::HashMap::new();
    for from in &select.from {
        for relation in
            std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
        {
            if let TableFactor::Table { name, alias, .. } = relation {
                let Some(table) = name.0.last().map(|p| p.to_string().to_ascii_lowercase()) else {
                    continue;
                };
                let Some((_, oid)) = SYSTEM_RELATION_OIDS.iter().find(|(n, _)| *n == table) else {
                    continue;
                };
                let key = alias
                    .as_ref()
                    .map_or(table.clone(), |a| a.name.value.to_ascii_lowercase());
                tables.insert(key, *oid);
            }
        }
    }
    if tables.is_empty() {
        return;
    }
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(select, |e| {
        if let Expr::CompoundIdentifier(parts) = e {
            if let [table, column] = parts.as_slice() {
                if column.value.eq_ignore_ascii_case("tableoid") {
                    if let Some(oid) = tables.get(&table.value.to_ascii_lowercase()) {
                        if let Some(literal) = parse_expr(&format!("CAST({oid} AS INT)")) {
                            *e = literal;
                        }
                    }
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// PostgreSQL's fixed OIDs of its system catalog tables. Clients compare
/// `pg_description.classoid` with `'pg_class'::regclass` and the like, so
/// these names must resolve to the numbers PostgreSQL uses (and
/// `pg_description` says 1259 and 1255).
pub(super) const SYSTEM_RELATION_OIDS: &[(&str, i32)] = &[
    ("pg_aggregate", 2600),
    ("pg_am", 2601),
    ("pg_amop", 2602),
    ("pg_amproc", 2603),
    ("pg_attrdef", 2604),
    ("pg_attribute", 1249),
    ("pg_auth_members", 1261),
    ("pg_authid", 1260),
    ("pg_cast", 2605),
    ("pg_class", 1259),
    ("pg_collation", 3456),
    ("pg_constraint", 2606),
    ("pg_conversion", 2607),
    ("pg_database", 1262),
    ("pg_db_role_setting", 2964),
    ("pg_default_acl", 826),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_enum", 3501),
    ("pg_event_trigger", 3466),
    ("pg_extension", 3079),
    ("pg_foreign_data_wrapper", 2328),
    ("pg_foreign_server", 1417),
    ("pg_foreign_table", 3118),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_init_privs", 3394),
    ("pg_language", 2612),
    ("pg_largeobject", 2613),
    ("pg_largeobject_metadata", 2995),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_opfamily", 2753),
    ("pg_partitioned_table", 3350),
    ("pg_policy", 3256),
    ("pg_proc", 1255),
    ("pg_publication", 6104),
    ("pg_publication_rel", 6106),
    ("pg_range", 3541),
    ("pg_replication_origin", 6000),
    ("pg_rewrite", 2618),
    ("pg_seclabel", 3596),
    ("pg_sequence", 2224),
    ("pg_shdepend", 1214),
    ("pg_shdescription", 2396),
    ("pg_shseclabel", 3592),
    ("pg_statistic", 2619),
    ("pg_statistic_ext", 3381),
    ("pg_statistic_ext_data", 3429),
    ("pg_subscription", 6100),
    ("pg_subscription_rel", 6102),
    ("pg_tablespace", 1213),
    ("pg_transform", 3576),
    ("pg_trigger", 2620),
    ("pg_ts_config", 3602),
    ("pg_ts_config_map", 3603),
    ("pg_ts_dict", 3600),
    ("pg_ts_parser", 3601),
    ("pg_ts_template", 3764),
    ("pg_type", 1247),
    ("pg_user_mapping", 1418),
];

/// The OID of a system catalog table named in a `'…'::regclass` literal.
pub(super) fn system_relation_oid(literal: &str) -> Option<i32> {
    let name = literal.trim_matches('"');
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    SYSTEM_RELATION_OIDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, oid)| *oid)
}

/// `datafusion-pg-catalog` turns `'name'::regclass` into a lookup in the
/// current schema only; PostgreSQL also searches `pg_catalog`. Returns the
/// literal a lookup of a system table should have been.
pub(super) fn regclass_lookup_literal(
    query: &datafusion::sql::sqlparser::ast::Query,
) -> Option<i32> {
    let text = query.to_string();
    if !text.contains("FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n") {
        return None;
    }
    let start = text.find("parse_ident('")? + "parse_ident('".len();
    let end = start + text[start..].find('\'')?;
    system_relation_oid(&text[start..end])
}

/// A relation name built from text (`schema || '.' || name`, `format(…)`),
/// as opposed to an oid column cast for display (`c.oid::regclass`).
pub(super) fn is_computed_text(e: &Expr) -> bool {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    match e {
        Expr::BinaryOp {
            op: BinaryOperator::StringConcat,
            ..
        } => true,
        Expr::Nested(inner) => is_computed_text(inner),
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            matches!(
                name.as_str(),
                "concat" | "format" | "quote_ident" | "concat_ws"
            )
        }
        _ => false,
    }
}

/// The function name in the crate's `'name'::regproc` lookup subquery.
pub(super) fn regproc_lookup_name(
    query: &datafusion::sql::sqlparser::ast::Query,
) -> Option<String> {
    let text = query.to_string();
    let rest = text.strip_prefix("SELECT oid FROM pg_catalog.pg_proc WHERE proname = '")?;
    let name = &rest[..rest.find('\'')?];
    Some(name.strip_prefix("pg_catalog.").unwrap_or(name).to_string())
}

/// Catalog tables that never have a row in zhenjie: no column defaults,
/// sequences, triggers, inheritance, partitions or row security.
pub(super) const ALWAYS_EMPTY: &[&str] = &[
    "pg_attrdef",
    "pg_sequence",
    "pg_trigger",
    "pg_inherits",
    "pg_policy",
    "pg_partitioned_table",
    "pg_statistic_ext",
    "pg_foreign_table",
    "pg_event_trigger",
];

/// Whether a scalar subquery reads one always-empty catalog table and
/// nothing else (no joins, no unions), so its value is NULL.
pub(super) fn reads_only_empty_catalog(query: &datafusion::sql::sqlparser::ast::Query) -> bool {
    use datafusion::sql::sqlparser::ast::{SetExpr, TableFactor};
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let [from] = select.from.as_slice() else {
        return false;
    };
    if !from.joins.is_empty() {
        return false;
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return false;
    };
    let table = name.to_string().to_ascii_lowercase();
    let table = table.strip_prefix("pg_catalog.").unwrap_or(&table);
    ALWAYS_EMPTY.contains(&table)
        && matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty())
}

/// The last part of a (compound) identifier, lower-cased.
pub(super) fn last_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// PostgreSQL lets a scalar subquery return "at most one row"; DataFusion
/// can only decorrelate one that aggregates. Catalog lookups by key
/// (`(SELECT c.relkind = 'c' FROM pg_class c WHERE c.oid = t.typrelid)`, as in
/// pgjdbc's `getTypeInfo`) return at most one row, so `max` of it is the same
/// value. Only single-column subqueries over `pg_catalog` tables are touched.
pub(super) fn aggregate_catalog_lookup(query: &mut datafusion::sql::sqlparser::ast::Query) {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let from = select
        .from
        .iter()
        .map(|t| t.to_string().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    if select.from.is_empty()
        || !from.contains("pg_")
        || select.selection.is_none()
        || select.projection.len() != 1
        || !matches!(select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(ref e, _) if e.is_empty())
    {
        return;
    }
    let item = &mut select.projection[0];
    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
        return;
    };
    let text = e.to_string().to_ascii_lowercase();
    const AGGREGATES: &[&str] = &[
        "max(",
        "min(",
        "count(",
        "sum(",
        "avg(",
        "array_agg(",
        "string_agg(",
        "bool_and(",
        "bool_or(",
        "every(",
    ];
    if AGGREGATES.iter().any(|a| text.contains(a)) {
        return;
    }
    if let Some(wrapped) = parse_expr(&format!("max({e})")) {
        *e = wrapped;
        query.limit_clause = None;
    }
}

pub(super) fn is_regclass(t: &datafusion::sql::sqlparser::ast::DataType) -> bool {
    let name = t.to_string().to_ascii_lowercase();
    name == "regclass" || name == "pg_catalog.regclass"
}

impl VisitorMut for CatalogIdioms {
    type Break = ();

    /// `FROM pg_locks`: PostgreSQL finds system views without a schema
    /// (pg_catalog is always on the search path); the crate's own rewrite
    /// knows only the tables it implements.
    fn pre_visit_relation(
        &mut self,
        relation: &mut datafusion::sql::sqlparser::ast::ObjectName,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{Ident, ObjectNamePart};
        if let [ObjectNamePart::Identifier(name)] = relation.0.as_slice() {
            if super::empty_catalog::shape(super::empty_catalog::PG_CATALOG, &name.value).is_some()
            {
                relation
                    .0
                    .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
            }
        }
        ControlFlow::Continue(())
    }

    /// `alias.tableoid`, the system column psql reads to find comments
    /// (`\dd`, `\dL`), as the fixed OID of the catalog table `alias`
    /// names.
    fn pre_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::SetExpr;
        fn each_select(body: &mut SetExpr) {
            match body {
                SetExpr::Select(select) => table_oids(select),
                SetExpr::SetOperation { left, right, .. } => {
                    each_select(left);
                    each_select(right);
                }
                _ => {}
            }
        }
        each_select(query.body.as_mut());
        ControlFlow::Continue(())
    }

    /// Names duplicated unnamed select items (`NULL, NULL` in pgjdbc's
    /// `getProcedures`): PostgreSQL allows equal column names, DataFusion
    /// does not.
    fn post_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::SetExpr;
        // Every branch of a UNION, INTERSECT or EXCEPT (the first names
        // the result).
        fn name_selects(body: &mut SetExpr) {
            match body {
                SetExpr::Select(select) => name_function_columns(&mut select.projection),
                SetExpr::SetOperation { left, right, .. } => {
                    name_selects(left);
                    name_selects(right);
                }
                _ => {}
            }
        }
        if let Some(name) = ambiguous_order_by(query) {
            self.ambiguous.get_or_insert(name);
        }
        name_selects(query.body.as_mut());
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::Value;
        if let Some(subquery) = array_constructor(expr) {
            *expr = subquery;
            return ControlFlow::Continue(());
        }
        // PostgreSQL 15's name of a catalog column the crate has under its
        // later name (psql 15's `\dO`).
        if let Expr::CompoundIdentifier(parts) = expr {
            if let Some(last) = parts.last_mut() {
                if last.value.eq_ignore_ascii_case("colliculocale") {
                    last.value = "colllocale".into();
                }
            }
        }
        // `U&'a\0009b'` (Power BI's quoting of text with control
        // characters): the parser has already decoded it.
        if let Expr::Value(v) = expr {
            if let Value::UnicodeStringLiteral(text) = &v.value {
                v.value = Value::SingleQuotedString(text.clone());
            }
            return ControlFlow::Continue(());
        }
        // Interval text in PostgreSQL's forms DataFusion does not read.
        if let Expr::Interval(interval) = expr {
            if let Expr::Value(v) = interval.value.as_mut() {
                if let Value::SingleQuotedString(text) = &v.value {
                    let minutes_first = matches!(
                        (&interval.leading_field, &interval.last_field),
                        (
                            Some(datafusion::sql::sqlparser::ast::DateTimeField::Minute),
                            Some(datafusion::sql::sqlparser::ast::DateTimeField::Second)
                        )
                    );
                    let field = interval.leading_field.as_ref().map(|f| f.to_string());
                    if let Some(text) = interval_text(text, field.as_deref(), minutes_first) {
                        v.value = Value::SingleQuotedString(text);
                        interval.leading_field = None;
                        interval.leading_precision = None;
                        interval.last_field = None;
                        interval.fractional_seconds_precision = None;
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        if let Expr::Cast {
            expr: inner,
            data_type: datafusion::sql::sqlparser::ast::DataType::Interval { .. },
            ..
        } = expr
        {
            if let Expr::Value(v) = inner.as_mut() {
                if let Value::SingleQuotedString(text) = &v.value {
                    if let Some(text) = interval_text(text, None, false) {
                        v.value = Value::SingleQuotedString(text);
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        // `ARRAY[1, 2, 3]` is an int4[] in PostgreSQL.
        if let Expr::Array(array) = expr {
            let elems: Option<Vec<Expr>> = array.elem.iter().map(as_int4_literal).collect();
            if let Some(elems) = elems.filter(|e| !e.is_empty()) {
                array.elem = elems;
            }
            return ControlFlow::Continue(());
        }
        if let Expr::Subquery(q) = expr {
            if let Some(oid) = regclass_lookup_literal(q) {
                if let Some(e) = parse_expr(&oid.to_string()) {
                    *expr = e;
                }
            } else if reads_only_empty_catalog(q) {
                // Nothing to look up: the answer is NULL for every row, and
                // the lookup's correlation need not be planned (SQLAlchemy's
                // column defaults and identity options).
                if let Some(e) = parse_expr("NULL") {
                    *expr = e;
                }
            } else if let Some(name) = regproc_lookup_name(q) {
                // `'pg_catalog.array_in'::regproc`: the crate looks the
                // qualified name up as is and finds nothing.
                let lookup = format!(
                    "(SELECT min(zp.oid) FROM pg_catalog.pg_proc zp WHERE zp.proname = '{}')",
                    name.replace('\'', "''")
                );
                if let Some(e) = parse_expr(&lookup) {
                    *expr = e;
                }
            } else {
                aggregate_catalog_lookup(q);
            }
            return ControlFlow::Continue(());
        }
        // `(composite).field`, as in `(information_schema._pg_expandarray(i.indkey)).n`.
        if let Expr::CompoundFieldAccess { root, access_chain } = expr {
            if let (
                [datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))],
                Expr::Nested(_),
            ) = (access_chain.as_slice(), &**root)
            {
                if let Some(e) = parse_expr(&format!("get_field({root}, '{}')", field.value)) {
                    *expr = e;
                }
            }
            return ControlFlow::Continue(());
        }
        // Grafana's "schemas on the search path" subquery reaches here as
        // `IN ('')`: datafusion-pg-catalog swaps the subquery for '' (it
        // splits `current_setting('search_path')` with generate_series). The
        // search path is `"$user", public`, and no schema is named after a
        // user, so it is public.
        if let Expr::InList {
            expr: inner, list, ..
        } = expr
        {
            let empty = |e: &Expr| matches!(e, Expr::Value(v) if v.value == datafusion::sql::sqlparser::ast::Value::SingleQuotedString(String::new()));
            if list.len() == 1
                && empty(&list[0])
                && inner
                    .to_string()
                    .to_ascii_lowercase()
                    .starts_with("quote_ident(table_schema")
            {
                list[0] = Expr::value(datafusion::sql::sqlparser::ast::Value::SingleQuotedString(
                    "public".into(),
                ));
            }
            return ControlFlow::Continue(());
        }
        // `LIKE 'pg/_%' ESCAPE '/'` (SQLAlchemy): DataFusion only escapes with
        // a backslash, so a literal pattern is rewritten to use one.
        if let Expr::Like {
            pattern,
            escape_char: Some(escape),
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char: Some(escape),
            ..
        } = expr
        {
            use datafusion::sql::sqlparser::ast::Value;
            let esc = match &escape.value {
                Value::SingleQuotedString(e) if e.chars().count() == 1 => e.chars().next(),
                _ => None,
            };
            if let (Some(esc), false) = (esc, matches!(**pattern, Expr::Value(_))) {
                // A bound or computed pattern: rewrite its escapes at run time.
                let esc_re = if esc.is_ascii_alphanumeric() {
                    esc.to_string()
                } else {
                    format!("\\{esc}")
                };
                let rewritten = format!(
                    "regexp_replace(replace({pattern}, '\\', '\\\\'), '{esc_re}(.)', '\\\\1', 'g')"
                );
                if let Some(e) = parse_expr(&rewritten) {
                    **pattern = e;
                    if let Expr::Like { escape_char, .. } | Expr::ILike { escape_char, .. } = expr {
                        *escape_char = None;
                    }
                }
                return ControlFlow::Continue(());
            }
            if let (Some(esc), Expr::Value(v)) = (esc, &mut **pattern) {
                if let Value::SingleQuotedString(p) = &v.value {
                    let mut out = String::new();
                    let mut chars = p.chars();
                    while let Some(c) = chars.next() {
                        if c == esc {
                            if let Some(next) = chars.next() {
                                out.push('\\');
                                out.push(next);
                            }
                        } else if c == '\\' {
                            out.push_str("\\\\");
                        } else {
                            out.push(c);
                        }
                    }
                    v.value = Value::SingleQuotedString(out);
                    if let Expr::Like { escape_char, .. } | Expr::ILike { escape_char, .. } = expr {
                        *escape_char = None;
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        // A relation name computed per row (`(schema || '.' || name)::regclass`,
        // as Metabase writes it) is looked up per row.
        if let Expr::Cast {
            data_type,
            expr: operand,
            ..
        } = expr
        {
            if is_regclass(data_type) && is_computed_text(operand) {
                if let Some(e) = parse_expr(&format!("zhenjie_regclass({operand})")) {
                    *expr = e;
                }
            }
            return ControlFlow::Continue(());
        }
        let Expr::Function(f) = expr else {
            return ControlFlow::Continue(());
        };
        let name = f.name.to_string().to_ascii_lowercase();
        let name = name
            .strip_prefix("pg_catalog.")
            .unwrap_or(&name)
            .to_string();
        let replacement = match name.as_str() {
            "col_description" => {
                let a = function_args(&f.args);
                (a.len() == 2).then(|| {
                    format!(
                        "(SELECT max(zd.description) FROM pg_catalog.pg_description zd \
                          WHERE zd.objoid = {} AND zd.objsubid = {})",
                        a[0], a[1]
                    )
                })
            }
            "obj_description" => {
                let a = function_args(&f.args);
                (!a.is_empty()).then(|| {
                    format!(
                        "(SELECT max(zd.description) FROM pg_catalog.pg_description zd \
                          WHERE zd.objoid = {} AND zd.objsubid = 0)",
                        a[0]
                    )
                })
            }
            "shobj_description" => Some("CAST(NULL AS TEXT)".to_string()),
            // Superset's time ranges: `TO_DATE('2018-01-01', 'YYYY-MM-DD')`.
            "to_date" | "to_timestamp" => {
                let a = function_args(&f.args);
                match a.as_slice() {
                    [value, pattern] if pattern.starts_with('\'') && !pattern.contains('%') => {
                        chrono_format(pattern.trim_matches('\''))
                            .map(|fmt| format!("{name}({value}, '{fmt}')"))
                    }
                    _ => None,
                }
            }
            // Grafana reads `current_setting('server_version_num')`.
            "current_setting" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zs.setting) FROM pg_catalog.pg_settings zs WHERE zs.name = lower({}))",
                        a[0]
                    )
                })
            }
            // SQLAlchemy zips `unnest(conkey)` with `generate_subscripts(conkey, 1)`.
            "generate_subscripts" => {
                let a = function_args(&f.args);
                (a.len() == 2).then(|| {
                    format!(
                        "unnest(range(1, CAST(array_length({}) AS BIGINT) + 1))",
                        a[0]
                    )
                })
            }
            // psycopg's TypeInfo.fetch: the type's OID, NULL if there is none.
            "to_regtype" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zt.oid) FROM pg_catalog.pg_type zt WHERE zt.typname = \
                          regexp_replace({}, '^pg_catalog\\.', ''))",
                        a[0]
                    )
                })
            }
            "pg_function_is_visible" => Some("true".to_string()),
            "pg_get_function_arguments" | "pg_get_function_identity_arguments" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zf.args) FROM pg_catalog.zhenjie_functions zf WHERE zf.oid = {})",
                        a[0]
                    )
                })
            }
            "pg_get_function_result" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zf.result) FROM pg_catalog.zhenjie_functions zf WHERE zf.oid = {})",
                        a[0]
                    )
                })
            }
            "pg_get_function_sqlbody" => Some("CAST(NULL AS TEXT)".to_string()),
            "pg_table_size" | "pg_indexes_size" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| format!("pg_relation_size({})", a[0]))
            }
            // psql's `\d+` lists storage options and `\df+` access privileges;
            // zhenjie has neither (privileges are the fence, not ACLs).
            "array_to_string"
                if f.args.to_string().contains("reloptions")
                    || f.args.to_string().contains("acl") =>
            {
                Some("CAST('' AS TEXT)".to_string())
            }
            // psql's `\d+` appends toast reloptions with ARRAY(SELECT … unnest(reloptions));
            // zhenjie tables have no reloptions.
            "array" if matches!(&f.args, FunctionArguments::Subquery(q) if q.to_string().contains("reloptions")) => {
                Some("CAST(NULL AS TEXT[])".to_string())
            }
            _ => None,
        };
        if let Some(new) = replacement.and_then(|s| parse_expr(&s)) {
            *expr = new;
        }
        ControlFlow::Continue(())
    }
}
