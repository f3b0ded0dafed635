//! Tauri's build step. The commands named here get `allow-<name>` permissions, and only what
//! `capabilities/default.json` grants may be called from the window; `tests/bindings.rs` checks this
//! list against the registered commands.

const COMMANDS: &[&str] = &[
    "about",
    "library_view",
    "add_paths",
    "reindex_documents",
    "retry_failed",
    "watch_folder",
    "unwatch_folder",
    "cancel_ingest",
    "remove_documents",
    "create_collection",
    "delete_collection",
    "ask",
    "stop_answer",
    "threads",
    "thread_messages",
    "delete_thread",
    "settings",
    "save_settings",
    "set_data_dir",
    "check_model",
    "models_view",
    "download_model",
    "cancel_download",
    "add_model_file",
    "use_model",
    "remove_model",
    "providers",
    "save_provider",
    "remove_provider",
    "set_key",
    "remove_key",
    "spend",
    "stats",
    "feedback",
    "trace",
    "cited_page",
    "reviews",
    "decide_review",
    "api_status",
    "set_api",
    "tools_view",
    "share_with_tools",
    "set_tools_redact",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
