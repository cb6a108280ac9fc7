//! Simple and extended query protocol: statements go to the connection's engine
//! session; rows come back batch by batch, encoded in text or binary.

use crate::errors::{from_datafusion, from_engine, user_error};
use crate::Connection;
use arrow_pg::datatypes::df::deserialize_parameters_with_server_types;
use arrow_pg::datatypes::into_pg_type;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::{ParamValues, ScalarValue};
use futures::{stream, Sink, SinkExt, StreamExt};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{send_describe_response, send_query_response};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DescribePortalResponse, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::Entry;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::api::{PgWireConnectionState, DEFAULT_NAME};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{Describe, Execute};
use pgwire::messages::PgWireBackendMessage;
use pgwire::types::format::FormatOptions;
use std::fmt::Debug;
use std::sync::Arc;
use zhenjie_engine::session::{Command, Parsed, Prepared, PreparedKind};
use zhenjie_engine::{Output, RowStream};

/// A statement parsed and planned by the extended protocol's Parse message,
/// bound to the connection (and so the principal) that parsed it.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    /// What was prepared.
    pub prepared: Prepared,
    /// Parameter types inferred from the plan, in $1..$n order.
    pub param_types: Vec<Option<DataType>>,
}

fn command_tag(prepared: &Prepared, output: &Output) -> Option<Response> {
    let Output::Command(tag) = output else {
        return None;
    };
    Some(match &prepared.kind {
        PreparedKind::Command(Command::Begin) => Response::TransactionStart(Tag::new(tag)),
        PreparedKind::Command(Command::Commit) | PreparedKind::Command(Command::Rollback) => {
            Response::TransactionEnd(Tag::new(tag))
        }
        _ => Response::Execution(Tag::new(tag)),
    })
}

/// Turns engine output into a pgwire response, streaming rows.
fn respond<C: ClientInfo>(
    client: &C,
    prepared: &Prepared,
    output: Output,
    format: &Format,
) -> PgWireResult<Response> {
    if let Some(r) = command_tag(prepared, &output) {
        return Ok(r);
    }
    match output {
        Output::Empty => Ok(Response::EmptyQuery),
        Output::Command(_) => unreachable!("handled by command_tag"),
        Output::Rows(rows) => Ok(Response::Query(encode_rows(
            client,
            rows,
            format,
            &prepared.sources,
        )?)),
        Output::Copy(rows, options) => Ok(Response::CopyOut(crate::copy::copy_response(
            rows, &options,
        )?)),
    }
}

fn encode_rows<C: ClientInfo>(
    client: &C,
    rows: RowStream,
    format: &Format,
    sources: &[Option<(i32, i16)>],
) -> PgWireResult<QueryResponse> {
    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
    let fields = Arc::new(crate::encode::pg_fields(
        &rows.schema,
        format,
        Some(options),
        sources,
    )?);
    let fields_ref = fields.clone();
    let data = rows
        .stream
        .map(move |batch| match batch {
            Ok(b) => stream::iter(crate::encode::data_rows(fields_ref.clone(), b)).left_stream(),
            Err(e) => stream::iter(std::iter::once(Err(from_datafusion(e)))).right_stream(),
        })
        .flatten();
    Ok(QueryResponse::new(fields, data))
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session()?;
        let statements = session.parse(query).await.map_err(from_engine)?;
        let mut responses = Vec::with_capacity(statements.len());
        for st in statements {
            // PostgreSQL stops a multi-statement query at the first error.
            let result = async {
                let prepared = session.prepare(&st).await?;
                let output = session.run(&prepared, None).await?;
                Ok::<_, zhenjie_engine::EngineError>((prepared, output))
            }
            .await;
            match result {
                Ok((prepared, output)) => {
                    responses.push(respond(client, &prepared, output, &Format::UnifiedText)?)
                }
                Err(e) => {
                    responses.push(Response::Error(Box::new(pgwire::error::ErrorInfo::new(
                        "ERROR".into(),
                        e.code.into(),
                        e.message,
                    ))));
                    break;
                }
            }
        }
        if responses.is_empty() {
            responses.push(Response::EmptyQuery);
        }
        Ok(responses)
    }
}

#[async_trait]
impl QueryParser for Connection {
    type Statement = PreparedStatement;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = self.session()?;
        let mut statements = session.parse(sql).await.map_err(from_engine)?;
        if statements.len() > 1 {
            return Err(user_error(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let Some(st): Option<Parsed> = statements.pop() else {
            return Ok(None);
        };
        let declared: Vec<Option<String>> = types
            .iter()
            .map(|t| t.as_ref().and_then(sql_type_name))
            .collect();
        let st = st.with_parameter_types(&declared);
        let prepared = session.prepare(&st).await.map_err(from_engine)?;
        let param_types = match &prepared.kind {
            PreparedKind::Query(plan)
            | PreparedKind::Copy(plan, _)
            | PreparedKind::Declare { plan, .. } => {
                zhenjie_engine::session::parameter_types(plan).map_err(from_engine)?
            }
            _ => Vec::new(),
        };
        Ok(Some(PreparedStatement {
            prepared,
            param_types,
        }))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        stmt.param_types
            .iter()
            .map(|t| match t {
                Some(t) => into_pg_type(t),
                None => Ok(Type::TEXT),
            })
            .collect()
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let format = column_format.unwrap_or(&Format::UnifiedText);
        match &stmt.prepared.kind {
            PreparedKind::Query(plan) => crate::encode::pg_fields(
                plan.schema().as_arrow(),
                format,
                None,
                &stmt.prepared.sources,
            ),
            PreparedKind::Fetch { schema, .. } => {
                crate::encode::pg_fields(schema, format, None, &[])
            }
            PreparedKind::Command(Command::Show(name)) => {
                let name = name.clone().unwrap_or_else(|| "setting".into());
                let schema = Schema::new(vec![datafusion::arrow::datatypes::Field::new(
                    name,
                    DataType::Utf8,
                    true,
                )]);
                crate::encode::pg_fields(&schema, format, None, &[])
            }
            _ => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = PreparedStatement;
    type QueryParser = Connection;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        // The connection parses for itself: statements are planned by, and
        // bound to, its own principal.
        self.self_arc()
    }

    /// An Execute that asks for every row (max_rows = 0) of a query streams
    /// them as they are produced. pgwire's default collects a portal's rows in
    /// memory before sending any; that path stays for row-limited fetches
    /// (bounded by the client's max_rows) and for commands.
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let streamable = message.max_rows == 0
            && matches!(client.state(), PgWireConnectionState::ReadyForQuery)
            && match client.portal_store().get_portal(name) {
                Some(Entry::Value(portal)) => {
                    matches!(
                        portal.statement.statement.prepared.kind,
                        PreparedKind::Query(_) | PreparedKind::Fetch { .. }
                    ) && matches!(*portal.state().lock().await, PortalExecutionState::Initial)
                }
                _ => false,
            };
        if !streamable {
            return self._on_execute(client, message).await;
        }
        let Some(Entry::Value(portal)) = client.portal_store().get_portal(name) else {
            return Err(PgWireError::PortalNotFound(name.to_owned()));
        };
        client.set_state(PgWireConnectionState::QueryInProgress);
        match ExtendedQueryHandler::do_query(self, client, portal.as_ref(), 0).await? {
            Response::Query(results) => send_query_response(client, results, false).await?,
            Response::Error(e) => {
                client
                    .send(PgWireBackendMessage::ErrorResponse((*e).into()))
                    .await?
            }
            _ => return Err(user_error("XX000", "a query produced no rows response")),
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }

    /// A Describe of a portal the protocol does not know may name a SQL
    /// cursor (`DECLARE name CURSOR`), which PostgreSQL also exposes as a
    /// portal: describe its columns.
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if message.target_type == b'P' {
            let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
            if client.portal_store().get_portal(name).is_none() {
                if let Some(schema) = self.session()?.cursor_schema(name) {
                    let fields =
                        crate::encode::pg_fields(&schema, &Format::UnifiedText, None, &[])?;
                    return send_describe_response(client, &DescribePortalResponse::new(fields))
                        .await;
                }
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session()?;
        let stmt = &portal.statement.statement;
        let params = if stmt.param_types.is_empty() {
            None
        } else {
            Some(bind_parameters(portal, &stmt.param_types)?)
        };
        let output = session
            .run(&stmt.prepared, params)
            .await
            .map_err(from_engine)?;
        respond(client, &stmt.prepared, output, &portal.result_column_format)
    }
}

/// The SQL name of a parameter type a client declares in Parse, for the
/// types zhenjie computes with; others stay for the plan to infer.
fn sql_type_name(t: &Type) -> Option<String> {
    let name = match *t {
        Type::INT2 => "SMALLINT",
        Type::INT4 => "INT",
        Type::INT8 => "BIGINT",
        Type::FLOAT4 => "REAL",
        Type::FLOAT8 => "DOUBLE PRECISION",
        Type::BOOL => "BOOLEAN",
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => "TEXT",
        Type::DATE => "DATE",
        Type::TIMESTAMP => "TIMESTAMP",
        Type::TIMESTAMPTZ => "TIMESTAMPTZ",
        Type::NUMERIC => "NUMERIC",
        Type::INT2_ARRAY => "SMALLINT[]",
        Type::INT4_ARRAY => "INT[]",
        Type::INT8_ARRAY => "BIGINT[]",
        Type::FLOAT8_ARRAY => "DOUBLE PRECISION[]",
        Type::BOOL_ARRAY => "BOOLEAN[]",
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => "TEXT[]",
        _ => return None,
    };
    Some(name.to_string())
}

/// `1990-05-17 +00` or `1990-05-17 +08:00`: how pgjdbc sends `setDate`.
fn is_dated_with_zone(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 14
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && b[10] == b' '
        && (b[11] == b'+' || b[11] == b'-')
        && b[12..].iter().all(|c| c.is_ascii_digit() || *c == b':')
}

/// Decodes the Bind message's values and casts each to the type the plan
/// expects, so `WHERE age > $1` works whatever integer width the client sent.
fn bind_parameters(
    portal: &Portal<PreparedStatement>,
    types: &[Option<DataType>],
) -> PgWireResult<ParamValues> {
    let wire: Vec<Option<Type>> = types
        .iter()
        .map(|t| {
            t.as_ref()
                .and_then(|t| into_pg_type(t).ok())
                .or(Some(Type::TEXT))
        })
        .collect();
    let wire_refs: Vec<Option<&Type>> = wire.iter().map(Option::as_ref).collect();
    let inferred: Vec<Option<&DataType>> = types.iter().map(Option::as_ref).collect();
    let values = deserialize_parameters_with_server_types(portal, &inferred, &wire_refs)?;
    let ParamValues::List(list) = values else {
        return Ok(values);
    };
    let mut cast = Vec::with_capacity(list.len());
    for (i, v) in list.into_iter().enumerate() {
        let value: ScalarValue = v.value;
        // pgjdbc sends `setDate` values as '1990-05-17 +00'; a date is its
        // first word, as PostgreSQL's date input reads it.
        let value = match (&value, types.get(i).and_then(Option::as_ref)) {
            (ScalarValue::Utf8(Some(text)), Some(DataType::Date32 | DataType::Date64) | None)
                if is_dated_with_zone(text) =>
            {
                ScalarValue::Utf8(Some(text[..10].to_string()))
            }
            _ => value,
        };
        let value = match types.get(i).and_then(Option::as_ref) {
            Some(t) if value.data_type() != *t => value.cast_to(t).map_err(|_| {
                user_error(
                    "22P02",
                    format!("invalid input for parameter ${}: expected {t}", i + 1),
                )
            })?,
            _ => value,
        };
        cast.push(value);
    }
    Ok(ParamValues::from(cast))
}
