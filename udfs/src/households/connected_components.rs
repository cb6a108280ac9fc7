//! `connected_components(a, b)`: an aggregate that turns pairwise links
//! (match pairs, shared household numbers, person-vehicle links) into
//! entity ids.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StringBuilder, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature};

use crate::common::args::{signature, Arg};
use crate::common::arrays::{unpack_dictionary, Strs};
use crate::common::docs::HOUSEHOLDS;

fn pair_fields() -> Fields {
    Fields::from(vec![
        Field::new("node", DataType::Utf8, false),
        Field::new("component", DataType::Utf8, false),
    ])
}

fn result_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(pair_fields()),
        true,
    )))
}

/// Connected components over links, computed with union-find inside one
/// aggregate so that SQL alone can go from "A matches B" rows to one id per
/// entity (or household) — the step after pairwise matching.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ConnectedComponentsFunc {
    signature: Signature,
}

impl Default for ConnectedComponentsFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectedComponentsFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str, Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        HOUSEHOLDS,
        "Aggregate: the connected components of the graph whose edges are the (a, b) pairs \
         of the group, as a list of {node, component} structs, one per distinct node, sorted \
         by component then node. The component id is the smallest node id (text order) in \
         the component, so it is stable across runs. A row with b NULL adds a as a node of \
         its own (so every person gets an id); rows with both NULL are ignored. Node ids are \
         text (other types are cast). Use unnest to get rows, and GROUP BY to compute \
         components per town or per batch.",
        "connected_components(a, b)",
    )
    .with_sql_example(
        r#"```sql
> select c['node'] as node, c['component'] as entity from (select unnest(connected_components(a, b)) as c from (values ('p1', 'p2'), ('p3', 'p2'), ('p4', 'p5'), ('p6', NULL)) as links(a, b));
+------+--------+
| node | entity |
+------+--------+
| p1   | p1     |
| p2   | p1     |
| p3   | p1     |
| p4   | p4     |
| p5   | p4     |
| p6   | p6     |
+------+--------+
```"#,
    )
    .with_argument("a", "One end of a link (a node id).")
    .with_argument("b", "The other end, or NULL for a node without links.")
    .with_related_udf("household_key")
    .with_related_udf("name_match_level")
    .build()
});

impl AggregateUDFImpl for ConnectedComponentsFunc {
    fn name(&self) -> &str {
        "connected_components"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type())
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(UnionFind::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        // The partial state is a forest: each node with a node of the same
        // component (its root), which another accumulator can union again.
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        Ok(vec![
            Arc::new(Field::new(
                format!("{}_nodes", args.name),
                list.clone(),
                true,
            )),
            Arc::new(Field::new(format!("{}_roots", args.name), list, true)),
        ])
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

/// Union-find over interned node ids, with path halving and union by size.
#[derive(Debug, Default)]
pub struct UnionFind {
    ids: HashMap<String, usize>,
    names: Vec<String>,
    parent: Vec<usize>,
    size: Vec<usize>,
    bytes: usize,
}

impl UnionFind {
    /// The index of a node, adding it if new.
    pub fn node(&mut self, name: &str) -> usize {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.names.len();
        self.ids.insert(name.to_string(), i);
        self.names.push(name.to_string());
        self.parent.push(i);
        self.size.push(1);
        self.bytes += 2 * name.len() + 64;
        i
    }

    /// The root of a node's tree.
    pub fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the components of two nodes.
    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra] >= self.size[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
    }

    /// Adds one link; a NULL end adds the other end alone.
    pub fn link(&mut self, a: Option<&str>, b: Option<&str>) {
        match (a, b) {
            (Some(a), Some(b)) => {
                let (ia, ib) = (self.node(a), self.node(b));
                self.union(ia, ib);
            }
            (Some(x), None) | (None, Some(x)) => {
                self.node(x);
            }
            (None, None) => {}
        }
    }

    /// Every node with its component id (the smallest node of the
    /// component), sorted by component then node.
    pub fn components(&mut self) -> Vec<(String, String)> {
        let n = self.names.len();
        let mut smallest: Vec<Option<usize>> = vec![None; n];
        for i in 0..n {
            let r = self.find(i);
            match smallest[r] {
                Some(s) if self.names[s] <= self.names[i] => {}
                _ => smallest[r] = Some(i),
            }
        }
        let mut out: Vec<(String, String)> = (0..n)
            .map(|i| {
                let r = self.find(i);
                let c = smallest[r].unwrap_or(r);
                (self.names[i].clone(), self.names[c].clone())
            })
            .collect();
        out.sort_by(|x, y| (&x.1, &x.0).cmp(&(&y.1, &y.0)));
        out
    }
}

fn single_list(values: ArrayRef) -> Result<ScalarValue> {
    let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
    let offsets = OffsetBuffer::from_lengths([values.len()]);
    Ok(ScalarValue::List(Arc::new(ListArray::try_new(
        field, offsets, values, None,
    )?)))
}

impl Accumulator for UnionFind {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (a, b) = (
            unpack_dictionary(&values[0])?,
            unpack_dictionary(&values[1])?,
        );
        let (a, b) = (Strs::new(&a)?, Strs::new(&b)?);
        for i in 0..a.len() {
            self.link(a.get(i), b.get(i));
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let pairs = self.components();
        let mut nodes = StringBuilder::with_capacity(pairs.len(), self.bytes / 2);
        let mut comps = StringBuilder::with_capacity(pairs.len(), self.bytes / 2);
        for (n, c) in &pairs {
            nodes.append_value(n);
            comps.append_value(c);
        }
        let structs = StructArray::try_new(
            pair_fields(),
            vec![Arc::new(nodes.finish()), Arc::new(comps.finish())],
            None,
        )?;
        single_list(Arc::new(structs))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bytes + self.parent.capacity() * 16
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let n = self.names.len();
        let mut nodes = StringBuilder::with_capacity(n, self.bytes / 2);
        let mut roots = StringBuilder::with_capacity(n, self.bytes / 2);
        for i in 0..n {
            let r = self.find(i);
            nodes.append_value(&self.names[i]);
            roots.append_value(&self.names[r]);
        }
        Ok(vec![
            single_list(Arc::new(nodes.finish()))?,
            single_list(Arc::new(roots.finish()))?,
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(nodes), Some(roots)) = (states.first(), states.get(1)) else {
            return exec_err!("connected_components: expected two state columns");
        };
        let (nodes, roots) = (nodes.as_list::<i32>(), roots.as_list::<i32>());
        for row in 0..nodes.len() {
            if nodes.is_null(row) || roots.is_null(row) {
                continue;
            }
            let (nv, rv) = (nodes.value(row), roots.value(row));
            let (ns, rs) = (Strs::new(&nv)?, Strs::new(&rv)?);
            for i in 0..ns.len().min(rs.len()) {
                self.link(ns.get(i), rs.get(i));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_smallest_member() {
        let mut uf = UnionFind::default();
        uf.link(Some("b"), Some("c"));
        uf.link(Some("c"), Some("a"));
        uf.link(Some("x"), None);
        uf.link(None, None);
        uf.link(Some("y"), Some("y"));
        let comps = uf.components();
        assert_eq!(
            comps,
            [("a", "a"), ("b", "a"), ("c", "a"), ("x", "x"), ("y", "y")]
                .map(|(n, c)| (n.to_string(), c.to_string()))
        );
    }

    #[test]
    fn merging_partial_states_gives_the_same_components() {
        let mut left = UnionFind::default();
        left.link(Some("p1"), Some("p2"));
        left.link(Some("p4"), Some("p5"));
        let mut right = UnionFind::default();
        right.link(Some("p2"), Some("p5"));
        right.link(Some("p9"), None);
        let mut total = UnionFind::default();
        for part in [&mut left, &mut right] {
            let state = part.state().unwrap();
            let arrays: Vec<ArrayRef> = state.iter().map(|s| s.to_array().unwrap()).collect();
            total.merge_batch(&arrays).unwrap();
        }
        let comps = total.components();
        assert_eq!(comps.len(), 5);
        assert!(comps.iter().take(4).all(|(_, c)| c == "p1"));
        assert_eq!(comps[4], ("p9".to_string(), "p9".to_string()));
    }
}
