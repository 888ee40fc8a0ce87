//! Per-socket typed storage.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;

use parking_lot::Mutex;

/// Values of any type attached to one socket (user id, session data...), one per type:
/// [`Conn::extensions`](crate::Conn::extensions). Define a type per value (a newtype) so that
/// two values of the same underlying type do not overwrite each other.
///
/// ```
/// use sio_core::{Conn, Handlers};
///
/// #[derive(Clone)]
/// struct UserId(u64);
/// struct Unread(u32);
///
/// let h = Handlers::new()
///     .on_connect(|conn: Conn| async move {
///         conn.extensions().insert(UserId(42));
///         conn.extensions().insert(Unread(0));
///         Ok(())
///     })
///     .on_fallback(|conn: Conn, _ev| async move {
///         let user = conn.extensions().get::<UserId>();               // a clone
///         conn.extensions().with::<Unread, _>(|n| n.map(|n| n.0 += 1)); // in place
///     });
/// ```
#[derive(Default)]
pub struct Extensions {
    map: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions").field("len", &self.map.lock().len()).finish()
    }
}

impl Extensions {
    /// Stores `value`, returning the previous value of that type.
    pub fn insert<T: Send + Sync + 'static>(&self, value: T) -> Option<T> {
        self.map
            .lock()
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|b| b.downcast::<T>().ok().map(|b| *b))
    }

    /// A clone of the value of type `T`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.map.lock().get(&TypeId::of::<T>()).and_then(|b| b.downcast_ref::<T>()).cloned()
    }

    /// Runs `f` on the value of type `T` in place.
    pub fn with<T: Send + Sync + 'static, R>(&self, f: impl FnOnce(Option<&mut T>) -> R) -> R {
        let mut map = self.map.lock();
        f(map.get_mut(&TypeId::of::<T>()).and_then(|b| b.downcast_mut::<T>()))
    }

    /// Removes the value of type `T`.
    pub fn remove<T: Send + Sync + 'static>(&self) -> Option<T> {
        self.map.lock().remove(&TypeId::of::<T>()).and_then(|b| b.downcast::<T>().ok().map(|b| *b))
    }
}
