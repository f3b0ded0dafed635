//! `cairn serve`: the local OpenAI-compatible API.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_engine::Library;

/// `cairn serve`: refuses an address off this device before the library opens, then serves the
/// library on `bind`, at `port` (default `api.port`), until Ctrl-C.
pub async fn serve(
    data_dir: &Path,
    bind: IpAddr,
    port: Option<u16>,
    show_token: bool,
) -> anyhow::Result<ExitCode> {
    if !bind.is_loopback() {
        return Err(cairn_server::ServerError::NotLoopback(bind).into());
    }
    let library = Library::open_with_config_file(data_dir).await?;
    let addr = SocketAddr::new(bind, port.unwrap_or(library.config().api.port));
    let token = cairn_server::token(None)?;
    let library = Arc::new(library);
    cairn_engine::keep_models_lean(Arc::downgrade(&library));
    let running = cairn_server::start(library, addr, token.clone()).await?;
    if show_token {
        println!("{token}");
        std::io::stdout().flush()?;
    }
    eprintln!(
        "Cairn's API is listening on {} (this device only); models: cairn, cairn/<collection>, {}. \
         The token: `cairn serve --show-token`. Ctrl-C stops it.",
        running.base_url(),
        cairn_server::EMBEDDING_MODEL
    );
    running
        .stop_on(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}
