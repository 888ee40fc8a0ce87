//! Room names.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A room name. Every socket is also in a room named after its id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Room(Arc<str>);

impl Room {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for Room {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Room {
    fn from(s: &str) -> Self {
        Room(s.into())
    }
}

impl From<String> for Room {
    fn from(s: String) -> Self {
        Room(s.into())
    }
}

impl From<&String> for Room {
    fn from(s: &String) -> Self {
        Room(s.as_str().into())
    }
}

impl From<crate::Sid> for Room {
    fn from(s: crate::Sid) -> Self {
        Room(s.as_str().into())
    }
}

impl Serialize for Room {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
