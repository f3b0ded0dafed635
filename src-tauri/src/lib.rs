//! The desktop shell: Tauri glue over [`cairn_app::App`], and nothing else.
//!
//! Every command is declared once, in the `commands!` list below, which generates the
//! `#[tauri::command]` function (it passes the typed request to the `App` method of the same name
//! and returns its typed result or `ApiError`), registers it, and describes it for the TypeScript
//! bindings. The capability file grants exactly these commands; `tests/bindings.rs` holds the list,
//! the generated TypeScript and the capability file in lockstep.

use std::sync::Arc;

use cairn_app::api::*;
use cairn_app::{App, AppPaths, ChatSink, Command, Events, INGEST_EVENT, MODEL_DOWNLOAD_EVENT};
use tauri::{Emitter, Manager};

/// Declares the commands: `fn name(arg: Type, …; channel: EventType) -> Returns;`.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident : $ty:ty),* $(; $chan:ident : $ev:ty)?) -> $ret:ty;
    )*) => {
        /// The generated `#[tauri::command]`s: each calls the `App` method of its name.
        mod generated {
            use super::*;
            $(
                $(#[doc = $doc])*
                #[tauri::command]
                pub async fn $name(
                    app: tauri::State<'_, App>,
                    $($arg: $ty,)*
                    $($chan: tauri::ipc::Channel<$ev>,)?
                ) -> Result<$ret, ApiError> {
                    app.$name($($arg,)* $(sink($chan))?).await
                }
            )*
        }

        /// Every registered command, with its argument and result types.
        pub fn commands() -> Vec<Command> {
            vec![$(
                Command::new::<$ret>(stringify!($name))
                    $(.arg::<$ty>(stringify!($arg)))*
                    $(.channel::<$ev>(stringify!($chan)))?
            ),*]
        }

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(generated::$name),*]
        }
    };
}

commands! {
    /// Whether the local API is on, where, and its token.
    fn api_status() -> ApiStatus;
    /// Turn the local API on or off.
    fn set_api(request: ApiSwitch) -> ApiStatus;
    /// What other AI tools may read (MCP), how to connect one, and what they asked.
    fn tools_view() -> ToolsView;
    /// Let other AI tools read a collection, or stop them.
    fn share_with_tools(request: ToolShareRequest) -> ToolsView;
    /// Redact personal data in what other AI tools are given, or stop.
    fn set_tools_redact(request: ToolRedactRequest) -> ToolsView;
    /// Answers waiting for review.
    fn reviews(request: ReviewsRequest) -> Vec<ReviewView>;
    /// Approve, edit or reject a queued answer.
    fn decide_review(request: ReviewDecision) -> ReviewView;
    /// Versions, data directory and models.
    fn about() -> About;
    /// Collections and documents.
    fn library_view() -> LibraryView;
    /// Queue files and folders for indexing.
    fn add_paths(request: AddRequest) -> JobTicket;
    /// Queue documents to be read again.
    fn reindex_documents(request: DocumentsRequest) -> JobTicket;
    /// Read failed files again.
    fn retry_failed(request: DocumentsRequest) -> JobTicket;
    /// Keep a folder in sync.
    fn watch_folder(request: WatchRequest) -> JobTicket;
    /// Stop keeping a folder in sync.
    fn unwatch_folder(request: WatchRequest) -> ();
    /// Stop indexing.
    fn cancel_ingest() -> ();
    /// Remove documents from the library.
    fn remove_documents(request: DocumentsRequest) -> RemoveResult;
    /// Create an empty collection.
    fn create_collection(request: CollectionRequest) -> ();
    /// Delete a collection.
    fn delete_collection(request: CollectionRequest) -> ();
    /// Ask a question; the answer streams through `events`.
    fn ask(request: AskArgs; events: ChatEvent) -> AnswerView;
    /// Stop an answer being written.
    fn stop_answer(request: StopRequest) -> ();
    /// Threads, most recent first.
    fn threads() -> Vec<ThreadView>;
    /// A thread's messages.
    fn thread_messages(request: ThreadRequest) -> Vec<MessageView>;
    /// Delete a thread.
    fn delete_thread(request: ThreadRequest) -> ();
    /// The settings in force.
    fn settings() -> Settings;
    /// Check, write and apply settings.
    fn save_settings(request: Settings) -> SettingsSaved;
    /// Open the library in another folder.
    fn set_data_dir(request: DataDirRequest) -> Settings;
    /// Load a model to check it.
    fn check_model(request: ModelCheckRequest) -> ModelCheck;
    /// The model catalog for this machine, the installed models and the download under way.
    fn models_view() -> ModelsView;
    /// Start downloading a catalog model (progress as `model_download` events).
    fn download_model(request: ModelRequest) -> DownloadUpdate;
    /// Stop the download under way, keeping what arrived.
    fn cancel_download() -> ();
    /// Add a GGUF file already on disk, where it is.
    fn add_model_file(request: ModelFileRequest) -> ModelsView;
    /// Make an installed model the chat model.
    fn use_model(request: ModelNameRequest) -> ModelsView;
    /// Forget a model (deleting its file if Cairn downloaded it).
    fn remove_model(request: ModelNameRequest) -> ModelsView;
    /// Cloud and local-server providers, and whether each has its key.
    fn providers() -> Vec<ProviderView>;
    /// Add or change a provider.
    fn save_provider(request: ProviderView) -> Vec<ProviderView>;
    /// Remove a provider and its key.
    fn remove_provider(request: ProviderRequest) -> Vec<ProviderView>;
    /// Keep a provider's key in the OS keychain.
    fn set_key(request: KeyRequest) -> Vec<ProviderView>;
    /// Remove a provider's key from the OS keychain.
    fn remove_key(request: ProviderRequest) -> Vec<ProviderView>;
    /// What cloud models have cost, against the budgets.
    fn spend() -> SpendView;
    /// Operations and quality figures for the dashboards.
    fn stats(request: StatsRequest) -> StatsView;
    /// Rate an answer.
    fn feedback(request: FeedbackRequest) -> ();
    /// The trace behind an answer.
    fn trace(request: TraceRequest) -> TraceView;
    /// A cited PDF page, drawn, the passage highlighted.
    fn cited_page(request: PageRequest) -> PageImage;
}

/// An answer's events, sent down the channel the UI gave. A closed window drops them.
fn sink(channel: tauri::ipc::Channel<ChatEvent>) -> ChatSink {
    Arc::new(move |event| {
        if let Err(e) = channel.send(event) {
            tracing::debug!("an answer event was not delivered: {e}");
        }
    })
}

/// Sends the app's progress events to the window.
struct WindowEvents(tauri::AppHandle);

impl Events for WindowEvents {
    fn ingest(&self, update: &IngestUpdate) {
        if let Err(e) = self.0.emit(INGEST_EVENT, update) {
            tracing::warn!("an indexing progress event was not delivered: {e}");
        }
    }

    fn model_download(&self, update: &DownloadUpdate) {
        if let Err(e) = self.0.emit(MODEL_DOWNLOAD_EVENT, update) {
            tracing::warn!("a model download progress event was not delivered: {e}");
        }
    }
}

/// The TypeScript module the UI imports (`ui/src/lib/bindings.ts`).
pub fn bindings() -> String {
    cairn_app::typescript(&commands())
}

/// Renders the page without GPU compositing (unless `CAIRN_GPU_COMPOSITING` is set). For a page
/// of text and lists it costs nothing visible, and it saves WebKitGTK's compositor about 95 MB of
/// memory in the web process (measured under Xvfb with Mesa's software GL, `tests/app/perf.mjs`).
#[cfg(target_os = "linux")]
fn software_compositing(window: &tauri::WebviewWindow) {
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
    if std::env::var_os("CAIRN_GPU_COMPOSITING").is_some() {
        return;
    }
    let result = window.with_webview(|webview| {
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(e) = result {
        tracing::warn!("the webview's compositing could not be set: {e}");
    }
}

/// Lowers the calling thread to the lowest priority. Linux keeps a priority per thread, and a
/// thread starts with its creator's.
fn lower_priority() {
    use thread_priority::{ThreadPriority, set_current_thread_priority};
    if let Err(e) = set_current_thread_priority(ThreadPriority::Min) {
        tracing::debug!("a background thread keeps its priority: {e:?}");
    }
}

/// Everything but the window's own thread runs at the lowest priority: the async runtime that
/// serves commands, and every thread it starts (the ingest parser, answers), and rayon's pool,
/// where embedding runs. On a machine whose cores are all busy indexing, the window (this
/// process's main thread and WebKit's processes) still gets the CPU when it needs it, so frames
/// keep coming. The runtime is returned to be kept alive for as long as the app runs.
fn background_threads() -> std::io::Result<tokio::runtime::Runtime> {
    let built = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("cairn-compute-{i}"))
        .start_handler(|_| lower_priority())
        .build_global();
    if let Err(e) = built {
        tracing::warn!("rayon's pool was started elsewhere first: {e}");
    }
    // What indexing and answering used goes back to the system once they stop (after the pool
    // above exists: the purging thread visits it, and would otherwise start rayon's default one).
    cairn_engine::allocator::give_freed_memory_back_when_idle();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cairn-worker")
        .on_thread_start(lower_priority)
        .build()?;
    tauri::async_runtime::set(runtime.handle().clone());
    Ok(runtime)
}

/// Starts the app: logging, the library, the window; or, started by another AI tool as
/// `cairn-desktop --data-dir DIR mcp`, its MCP server over stdin and stdout (no window).
pub fn run() {
    cairn_engine::logging::init();
    let runtime = match background_threads() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Cairn could not start its worker threads: {e}");
            std::process::exit(1);
        }
    };
    let context = tauri::generate_context!();
    if let Some(launch) = cairn_app::McpLaunch::from_args(std::env::args_os().skip(1)) {
        let bundled =
            tauri::utils::platform::resource_dir(context.package_info(), &tauri::Env::default())
                .ok()
                .map(|dir| dir.join("models"))
                .filter(|dir| dir.is_dir());
        let served = runtime.block_on(cairn_app::serve_mcp(launch, AppPaths::from_env(bundled)));
        if let Err(e) = served {
            eprintln!("Cairn could not serve other AI tools: {e}");
            std::process::exit(1);
        }
        return;
    }
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            // The installed app's models are among its resources; a development build finds the
            // source tree's `models/` instead.
            let bundled = app
                .path()
                .resource_dir()
                .ok()
                .map(|dir| dir.join("models"))
                .filter(|dir| dir.is_dir());
            #[cfg(target_os = "linux")]
            if let Some(window) = app.get_webview_window("main") {
                software_compositing(&window);
            }
            let events = Arc::new(WindowEvents(app.handle().clone()));
            let state =
                tauri::async_runtime::block_on(App::open(AppPaths::from_env(bundled), events));
            app.manage(state);
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .run(context);
    if let Err(e) = result {
        eprintln!("Cairn could not start: {e}");
        std::process::exit(1);
    }
}
