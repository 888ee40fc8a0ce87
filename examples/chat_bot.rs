//! A bot for the chat example, written with `sio-client` and the typed client generated from
//! the chat's namespace (`examples/src/bot.rs`): it joins a room and answers `!ping`, `!time`,
//! `!echo <text>` and `!who` there.
//!
//! Run the chat (`cargo run --release --example chat`), then
//! `cargo run --example chat_bot` (`CHAT_URL`, default `http://127.0.0.1:3000`; `BOT_NAME`,
//! default `bot`; `BOT_ROOM`, default `lobby`), and write `!ping` in that room from a browser.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let url = std::env::var("CHAT_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let name = std::env::var("BOT_NAME").unwrap_or_else(|_| "bot".into());
    let room = std::env::var("BOT_ROOM").unwrap_or_else(|_| "lobby".into());
    let bot = examples::bot::run(&url, &name, &room).await?;
    tracing::info!(%url, %name, %room, "the bot is in; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    bot.stop();
    Ok(())
}
