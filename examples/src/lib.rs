//! Library parts of the examples, so tests can reach them: the chat server
//! (`examples/chat`) lives in [`chat`], its bot (`examples/chat_bot.rs`) in [`bot`], the environment switches of the example servers in
//! [`switches`].

pub mod bot;
pub mod chat;
pub mod switches;
