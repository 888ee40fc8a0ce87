//! Per-socket typed storage.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;

use parking_lot::Mutex;

/// Values of any type attached to one socket (user id, session data...), one per type.
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
