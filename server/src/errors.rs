//! Engine errors as PostgreSQL ErrorResponses.

use pgwire::error::{ErrorInfo, PgWireError};
use zhenjie_engine::EngineError;

/// An ERROR with a SQLSTATE, as clients expect.
pub(crate) fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// A FATAL error that ends the connection (failed login).
pub(crate) fn fatal(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message.into(),
    )))
}

pub(crate) fn from_engine(e: EngineError) -> PgWireError {
    user_error(e.code, e.message)
}

pub(crate) fn from_datafusion(e: datafusion::error::DataFusionError) -> PgWireError {
    from_engine(EngineError::from(e))
}
