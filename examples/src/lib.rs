//! Library parts of the examples, so tests can reach them: the chat server
//! (`examples/chat`) lives in [`chat`], the environment switches of the example servers in
//! [`switches`].

pub mod chat;
pub mod switches;
