//! The messages nodes exchange, as types: what each holds and how it is written, for both
//! adapters ([`classic`] and [`sharded`]). The pieces they share with other adapters (options,
//! rooms, arguments, packets, sockets, decoding) are sio-cluster's.

#[cfg(test)]
pub(crate) use sio_cluster::wire::Flags;
pub(crate) use sio_cluster::wire::{
    Args, DecodeError, Opts, Packet, Rooms, Sockets, decode, from_mp, lenient, present, room, to_json,
    to_msgpack, to_sorted_json,
};

/// Declares an enum of message types, written and read as their numbers.
macro_rules! message_types {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant = $value,)*
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u8(*self as u8)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match <u64 as serde::Deserialize>::deserialize(d)? {
                    $($value => Ok(Self::$variant),)*
                    other => Err(serde::de::Error::custom(format_args!("unknown message type {other}"))),
                }
            }
        }
    };
}

pub(crate) mod classic;
pub(crate) mod sharded;
#[cfg(test)]
mod tests;
