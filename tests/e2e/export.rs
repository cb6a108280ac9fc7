//! Getting data out in bulk: `COPY … TO STDOUT` in text, CSV and binary, and
//! SQL cursors (DECLARE/FETCH/CLOSE) — both governed like any query.

use crate::common::*;
use futures::{pin_mut, StreamExt, TryStreamExt};
use tokio_postgres::binary_copy::BinaryCopyOutStream;
use tokio_postgres::types::Type;

async fn copy_text(client: &tokio_postgres::Client, sql: &str) -> String {
    let stream = client.copy_out(sql).await.unwrap();
    let chunks: Vec<_> = stream.try_collect().await.unwrap();
    String::from_utf8(chunks.concat()).unwrap()
}

#[tokio::test]
async fn copy_csv_with_header_matches_the_masked_select() {
    let addr = start_server().await;
    let client = connect(addr, "village").await;
    let query =
        "SELECT id_number, name, phone, birth_date, household_no FROM persons ORDER BY id_number";
    let expected = text_rows(&client, query).await;
    assert!(expected.len() > 50, "the village has residents");
    let csv = copy_text(
        &client,
        &format!("COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"),
    )
    .await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id_number,name,phone,birth_date,household_no")
    );
    let got: Vec<Vec<Option<String>>> = lines
        .map(|l| {
            l.split(',')
                .map(|f| (!f.is_empty()).then(|| f.to_string()))
                .collect()
        })
        .collect();
    assert_eq!(got, expected, "COPY writes exactly the rows SELECT returns");
    // Masks apply to COPY as to SELECT: the village never sees a raw phone.
    assert!(got
        .iter()
        .filter_map(|r| r[2].as_deref())
        .all(|p| p.contains("****")));
}

#[tokio::test]
async fn copy_text_format_escapes_and_writes_nulls_like_postgres() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    // Expected bytes from PostgreSQL 15 for the same statement.
    let out = copy_text(
        &client,
        "COPY (SELECT 1 AS a, NULL AS b, E'x\\ty' AS c, 'back\\slash' AS d) TO STDOUT",
    )
    .await;
    assert_eq!(out, "1\t\\N\tx\\ty\tback\\\\slash\n");
    let out = copy_text(
        &client,
        "COPY (SELECT 'a,b' AS \"x,y\", NULL AS n, 'q\"q' AS q) TO STDOUT (FORMAT csv, HEADER, NULL 'NA')",
    )
    .await;
    assert_eq!(out, "\"x,y\",n,q\n\"a,b\",NA,\"q\"\"q\"\n");
}

#[tokio::test]
async fn copy_table_in_binary_reads_back_with_tokio_postgres() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let count: i64 = client
        .query_one("SELECT count(*) FROM households", &[])
        .await
        .unwrap()
        .get(0);
    // Types first: tokio-postgres answers requests in order, so nothing else
    // may be asked while the COPY stream is open.
    let types = client
        .prepare("SELECT household_no, members FROM households")
        .await
        .unwrap()
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect::<Vec<Type>>();
    let stream = client
        .copy_out("COPY (SELECT household_no, members FROM households) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let rows = BinaryCopyOutStream::new(stream, &types);
    pin_mut!(rows);
    let mut n = 0i64;
    while let Some(row) = rows.next().await {
        let row = row.unwrap();
        let id: &str = row.get(0);
        let members: i32 = row.get(1);
        assert!(!id.is_empty() && members >= 1);
        n += 1;
    }
    assert_eq!(n, count);
}

#[tokio::test]
async fn copy_to_files_or_from_clients_is_refused() {
    let addr = start_server().await;
    let client = connect(addr, "admin").await;
    for sql in [
        "COPY persons TO '/tmp/zhenjie-copy.csv'",
        "COPY persons TO PROGRAM 'cat'",
        "COPY persons FROM STDIN",
    ] {
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&err), "42501", "{sql}");
    }
    assert!(!std::path::Path::new("/tmp/zhenjie-copy.csv").exists());
    // The connection is still good.
    assert_eq!(
        text_rows(&client, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
}

#[tokio::test]
async fn cursor_pages_through_the_fenced_rows() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let all = text_rows(&client, "SELECT id_number FROM persons ORDER BY id_number").await;
    assert!(all.len() > 1000);
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute("DECLARE c CURSOR FOR SELECT id_number FROM persons ORDER BY id_number")
        .await
        .unwrap();
    let mut got = Vec::new();
    loop {
        let page = text_rows(&client, "FETCH FORWARD 700 FROM c").await;
        assert!(page.len() <= 700);
        if page.is_empty() {
            break;
        }
        got.extend(page);
    }
    assert_eq!(
        got, all,
        "the pages together are the query's rows, in order"
    );
    assert!(text_rows(&client, "FETCH NEXT FROM c").await.is_empty());
    client.batch_execute("CLOSE c").await.unwrap();
    let err = client.simple_query("FETCH 1 FROM c").await.err().unwrap();
    assert_eq!(sqlstate(&err), "34000");
    client.batch_execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn cursors_end_with_their_transaction_unless_held() {
    let addr = start_server().await;
    let client = connect(addr, "village").await;
    client
        .batch_execute(
            "BEGIN; DECLARE plain CURSOR FOR SELECT name FROM persons; \
             DECLARE held CURSOR WITH HOLD FOR SELECT name FROM persons ORDER BY name; COMMIT",
        )
        .await
        .unwrap();
    let err = client
        .simple_query("FETCH 1 FROM plain")
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&err), "34000");
    let first = text_rows(&client, "FETCH 2 FROM held").await;
    let expected = text_rows(&client, "SELECT name FROM persons ORDER BY name LIMIT 2").await;
    assert_eq!(
        first, expected,
        "a held cursor keeps its place and its masks"
    );
    let err = client
        .simple_query("DECLARE held CURSOR FOR SELECT 1")
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&err), "42P03");
    let err = client
        .simple_query("FETCH BACKWARD 1 FROM held")
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&err), "55000");
    client.batch_execute("CLOSE ALL").await.unwrap();
    let err = client
        .simple_query("FETCH 1 FROM held")
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&err), "34000");
}

#[tokio::test]
async fn extended_protocol_fetch_describes_the_cursor_columns() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    client
        .batch_execute(
            "BEGIN; DECLARE c CURSOR FOR SELECT name, birth_date FROM persons ORDER BY id_number",
        )
        .await
        .unwrap();
    let rows = client.query("FETCH 3 FROM c", &[]).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].columns()[1].type_(), &Type::DATE);
    let _: chrono_free::Date = rows[0].get(1);
    client.batch_execute("COMMIT").await.unwrap();
}

/// A DATE read without pulling in a date crate: tokio-postgres decodes it as
/// days since 2000-01-01 through `FromSql` for this wrapper.
mod chrono_free {
    use tokio_postgres::types::{FromSql, Type};

    pub struct Date(#[allow(dead_code)] pub i32);

    impl<'a> FromSql<'a> for Date {
        fn from_sql(
            _: &Type,
            raw: &'a [u8],
        ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Date(i32::from_be_bytes(raw.try_into()?)))
        }

        fn accepts(ty: &Type) -> bool {
            *ty == Type::DATE
        }
    }
}
