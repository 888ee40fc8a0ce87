//! Library parts of the examples, so tests can reach them: the chat server
//! (`examples/chat`) lives in [`chat`].

pub mod chat;
