//! Code generation from the validated model: one module per output.

pub(crate) mod dispatch;
pub(crate) mod schema;
