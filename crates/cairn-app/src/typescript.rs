//! The UI's TypeScript module, generated from the Rust types: every [`crate::api`] type, the event
//! names with their payloads, and one typed function per command. The shell lists its commands
//! ([`Command`]); a test in the shell keeps `ui/src/lib/bindings.ts` equal to [`typescript`]'s output.

pub use ts_rs::TS as TsType;

use crate::api::*;

/// One command the shell registers: its name, its arguments and what it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    name: &'static str,
    args: Vec<(&'static str, String)>,
    returns: String,
}

impl Command {
    /// A command that returns `R`.
    pub fn new<R: TsType>(name: &'static str) -> Command {
        Command {
            name,
            args: Vec::new(),
            returns: R::name(),
        }
    }

    /// With an argument of type `T`.
    pub fn arg<T: TsType>(mut self, name: &'static str) -> Command {
        self.args.push((name, T::name()));
        self
    }

    /// With a channel that streams `T`s.
    pub fn channel<T: TsType>(mut self, name: &'static str) -> Command {
        self.args.push((name, format!("Channel<{}>", T::name())));
        self
    }

    /// The command's name, as registered.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// A type's declaration, its documentation and the types it refers to.
struct Declaration {
    name: String,
    decl: String,
    docs: Option<String>,
    dependencies: Vec<String>,
}

fn declaration<T: TsType + 'static>() -> Declaration {
    Declaration {
        name: T::name(),
        decl: T::decl(),
        docs: T::docs(),
        dependencies: T::dependencies().into_iter().map(|d| d.ts_name).collect(),
    }
}

macro_rules! declarations {
    ($($t:ty),* $(,)?) => {
        vec![$(declaration::<$t>()),*]
    };
}

/// Every type the UI sees, in the order they are declared.
fn declarations() -> Vec<Declaration> {
    declarations![
        ApiError,
        About,
        ModelInfo,
        LibraryView,
        WatchedFolderView,
        WatchRequest,
        CollectionView,
        DocumentState,
        DocumentView,
        AddRequest,
        DocumentsRequest,
        CollectionRequest,
        JobTicket,
        RemoveResult,
        FileState,
        FileUpdate,
        JobKind,
        JobState,
        IngestUpdate,
        ThreadView,
        ThreadRequest,
        MessageView,
        CitationView,
        AskArgs,
        StopRequest,
        ChatEvent,
        AnswerView,
        TimingsView,
        CachedView,
        ReviewNoteView,
        ReviewsRequest,
        ReviewView,
        ReviewVerdict,
        ReviewDecision,
        PromptSetting,
        ApiStatus,
        ApiSwitch,
        ToolsView,
        ToolCollectionView,
        ToolCallView,
        ToolShareRequest,
        ToolRedactRequest,
        Settings,
        ModelSettings,
        LocalAnswers,
        ChunkingSettings,
        DocumentSettings,
        RetrievalSettings,
        AnswerSettings,
        PrivacyMode,
        BudgetSettings,
        ProviderView,
        ProviderModelView,
        ProviderRequest,
        KeyRequest,
        SpendView,
        ModelSpendView,
        StatsRequest,
        StatsView,
        StageLatency,
        DayView,
        FeedbackRequest,
        TraceRequest,
        PageRequest,
        PageImage,
        PageBox,
        TraceView,
        SettingsSaved,
        DataDirRequest,
        ModelRole,
        ModelCheckRequest,
        ModelCheck,
        ModelsView,
        CatalogModelView,
        InstalledModelView,
        DownloadState,
        DownloadUpdate,
        ModelRequest,
        ModelNameRequest,
        ModelFileRequest,
    ]
}

/// `add_paths` → `addPaths`.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The TypeScript module for `commands`. Panics if a type refers to one that is not declared (a
/// type added to the API but not to the list above).
pub fn typescript(commands: &[Command]) -> String {
    let declarations = declarations();
    let names: std::collections::HashSet<&str> =
        declarations.iter().map(|d| d.name.as_str()).collect();
    let mut out = String::from(
        "// Generated from the Rust types in crates/cairn-app/src/api.rs. Do not edit: change the \
         Rust\n// types, then run `CAIRN_BLESS=1 cargo test -p cairn-desktop --test bindings`.\n\
         /* eslint-disable */\n\
         import { Channel, invoke } from \"@tauri-apps/api/core\";\n\nexport { Channel };\n",
    );
    for d in &declarations {
        for dependency in &d.dependencies {
            assert!(
                names.contains(dependency.as_str()),
                "{} refers to {dependency}, which is not in typescript::declarations",
                d.name
            );
        }
        out.push('\n');
        if let Some(docs) = &d.docs {
            out.push_str(docs);
        }
        out.push_str("export ");
        out.push_str(&d.decl);
        out.push('\n');
    }
    out.push_str(&format!(
        "\n/** Events the app sends, by name, with their payloads. */\n\
         export const EVENTS = {{ ingest: \"{ingest}\", modelDownload: \"{download}\" }} as const;\n\
         export type EventPayloads = {{ \"{ingest}\": IngestUpdate; \"{download}\": DownloadUpdate }};\n",
        ingest = crate::INGEST_EVENT,
        download = crate::MODEL_DOWNLOAD_EVENT,
    ));
    out.push_str(
        "\n/** The app's commands. Each returns a promise that rejects with an `ApiError`. */\n\
         export const commands = {\n",
    );
    for c in commands {
        for (_, ty) in &c.args {
            let inner = ty
                .strip_prefix("Channel<")
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or(ty);
            assert!(
                names.contains(inner),
                "command {} takes {ty}, which is not declared",
                c.name
            );
        }
        let params: Vec<String> = c.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let payload = if c.args.is_empty() {
            String::new()
        } else {
            let keys: Vec<&str> = c.args.iter().map(|(n, _)| *n).collect();
            format!(", {{ {} }}", keys.join(", "))
        };
        out.push_str(&format!(
            "  {}: ({}): Promise<{}> => invoke(\"{}\"{}),\n",
            camel(c.name),
            params.join(", "),
            c.returns,
            c.name,
            payload
        ));
    }
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_become_typed_camel_case_functions() {
        let ts = typescript(&[
            Command::new::<About>("about"),
            Command::new::<JobTicket>("add_paths").arg::<AddRequest>("request"),
            Command::new::<AnswerView>("ask")
                .arg::<AskArgs>("request")
                .channel::<ChatEvent>("events"),
            Command::new::<()>("cancel_ingest"),
        ]);
        assert!(
            ts.contains("  about: (): Promise<About> => invoke(\"about\"),\n"),
            "{ts}"
        );
        assert!(ts.contains(
            "  addPaths: (request: AddRequest): Promise<JobTicket> => invoke(\"add_paths\", { request }),\n"
        ));
        assert!(ts.contains(
            "  ask: (request: AskArgs, events: Channel<ChatEvent>): Promise<AnswerView> => invoke(\"ask\", { request, events }),\n"
        ));
        assert!(ts.contains("cancelIngest: (): Promise<null>"), "{ts}");
        assert!(ts.contains("export type ChatEvent = "), "{ts}");
        assert!(ts.contains(
            "export const EVENTS = { ingest: \"ingest\", modelDownload: \"model_download\" }"
        ));
    }

    #[test]
    #[should_panic(expected = "not declared")]
    fn a_command_over_an_undeclared_type_is_refused() {
        typescript(&[Command::new::<()>("x").arg::<String>("request")]);
    }
}
