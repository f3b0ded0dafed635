//! The switch for the local API: on, it serves the open library to other tools on this device
//! (127.0.0.1, `api.port`), and the screen shows where and with which token.

use std::net::{Ipv4Addr, SocketAddr};

use crate::App;
use crate::api::{ApiError, ApiStatus, ApiSwitch};

impl App {
    /// Whether the local API is on, where, and its token.
    pub async fn api_status(&self) -> Result<ApiStatus, ApiError> {
        let running = self.api.lock().await;
        let port = self.library()?.config().api.port;
        Ok(match running.as_ref() {
            None => ApiStatus {
                running: false,
                base_url: None,
                token: None,
                port,
            },
            Some(r) => ApiStatus {
                running: true,
                base_url: Some(r.base_url()),
                token: Some(cairn_server::token(None).map_err(server_error)?),
                port: r.addr.port(),
            },
        })
    }

    /// Turns the local API on or off. It serves the library open now; opening another turns it off.
    pub async fn set_api(&self, request: ApiSwitch) -> Result<ApiStatus, ApiError> {
        {
            let mut running = self.api.lock().await;
            match (request.on, running.take()) {
                (true, Some(r)) => *running = Some(r),
                (true, None) => {
                    let library = self.library()?;
                    let addr =
                        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), library.config().api.port);
                    let token = cairn_server::token(None).map_err(server_error)?;
                    *running = Some(
                        cairn_server::start(library, addr, token)
                            .await
                            .map_err(server_error)?,
                    );
                }
                (false, Some(r)) => r
                    .stop()
                    .await
                    .map_err(|e| ApiError::internal(e.to_string()))?,
                (false, None) => {}
            }
        }
        self.api_status().await
    }

    /// Stops the local API (the library it served is being replaced).
    pub(crate) async fn stop_api(&self) {
        if let Some(r) = self.api.lock().await.take()
            && let Err(e) = r.stop().await
        {
            tracing::warn!("the local API did not stop cleanly: {e}");
        }
    }
}

fn server_error(e: cairn_server::ServerError) -> ApiError {
    let code = match e {
        cairn_server::ServerError::Keychain(_) => "keychain",
        _ => "api_server",
    };
    ApiError::new(code, e.to_string())
}
