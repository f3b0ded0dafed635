//! Ctrl-C as cancellation of a long operation.

use cairn_engine::CancelToken;

use crate::exit;

/// A token that fires on the first Ctrl-C; a second Ctrl-C exits at once with
/// [`exit::CANCELLED`]. Needs a running Tokio runtime.
pub fn cancel_on_ctrl_c() -> CancelToken {
    cancel_on_ctrl_c_saying("stopping after the current batch")
}

/// [`cancel_on_ctrl_c`], saying `what` happens on the first Ctrl-C.
pub fn cancel_on_ctrl_c_saying(what: &'static str) -> CancelToken {
    let cancel = CancelToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\n{what} (Ctrl-C again to quit now)…");
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(exit::CANCELLED));
            }
        }
    });
    cancel
}
