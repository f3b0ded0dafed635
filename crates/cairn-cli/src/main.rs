//! `cairn`: index documents and search them from a terminal, over the same core as the desktop app.
//!
//! `args` defines the command line and `commands` runs each command, one module per group; this
//! file sets up logging, parses the arguments, opens the library and hands each command to its
//! module.

use std::path::Path;
use std::process::ExitCode;

use cairn_engine::Library;
use clap::Parser;

use crate::args::{Cli, Command};
use crate::commands::{
    ask, audit, cache, feedback, guard, insight, keys, library, mcp, models, prompts, review,
    search, serve, watch,
};

mod args;
mod commands;
mod data_dir;
mod exit;
mod interrupt;
mod progress;
mod text;

/// The model's forward pass allocates and frees tens of megabytes per batch; glibc's malloc hands
/// such blocks back to the kernel and takes page faults to get them again, which cost about 12% of
/// embedding throughput. mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits arena memory as it is used; set before `main`, as it must be
/// ([`cairn_engine::allocator::commit_arenas_on_demand`]).
#[cfg(target_os = "linux")]
#[used]
#[allow(unsafe_code)]
// SAFETY: `.init_array` holds `extern "C" fn()` pointers the C runtime calls once before `main`;
// this one only sets an allocator option.
#[unsafe(link_section = ".init_array")]
static BEFORE_MAIN: extern "C" fn() = cairn_engine::allocator::commit_arenas_on_demand;

fn main() -> ExitCode {
    // Everything this process writes (the library, logs, models) is the user's alone.
    cairn_engine::private::restrict_umask();
    // Started as a parse worker, the process parses one file and exits here.
    cairn_engine::parse_worker::serve_if_asked();
    cairn_engine::logging::init();
    let cli = Cli::parse();
    cairn_engine::allocator::give_freed_memory_back_when_idle();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command; its exit code.
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let data_dir = match cli.data_dir {
        Some(dir) => dir,
        None => data_dir::default_data_dir()?,
    };
    let data_dir = data_dir.as_path();
    // The guard and the keychain need no library: they must work before anything is indexed.
    // `serve` checks its address before it opens the library.
    match cli.command {
        Command::Guard { .. } => guard::guard(data_dir),
        Command::Keys { command } => keys::keys(command, data_dir),
        Command::Serve {
            port,
            bind,
            show_token,
        } => serve::serve(data_dir, bind, port, show_token).await,
        Command::Add {
            paths,
            collection,
            json,
            reread,
        } => library::add(&open(data_dir).await?, &paths, &collection, json, reread).await,
        Command::Retry {
            paths,
            collection,
            json,
        } => library::retry(&open(data_dir).await?, &paths, &collection, json).await,
        Command::Reindex { collection, json } => {
            library::reindex(&open(data_dir).await?, &collection, json).await
        }
        Command::Rm {
            paths,
            collection,
            json,
        } => library::rm(&open(data_dir).await?, &paths, &collection, json).await,
        Command::Failed { collection, json } => {
            library::failed(&open(data_dir).await?, &collection, json)
        }
        Command::Docs { collection, json } => {
            library::docs(&open(data_dir).await?, collection.as_deref(), json).await
        }
        Command::Check { collection, json } => {
            library::check(&open(data_dir).await?, &collection, json).await
        }
        Command::Collections { json } => library::collections(&open(data_dir).await?, json),
        Command::ShareCollection {
            name,
            at,
            endpoint,
            region,
            access_key_id,
            offline_copy,
            json,
        } => {
            let share = library::ShareArgs {
                at,
                endpoint,
                region,
                access_key_id,
                offline_copy,
            };
            library::share_collection(&open(data_dir).await?, &name, share, json).await
        }
        Command::OfflineCopy { name, drop, json } => {
            library::offline_copy(&open(data_dir).await?, &name, drop, json).await
        }
        Command::DeleteCollection { name } => {
            library::delete_collection(&open(data_dir).await?, &name).await
        }
        Command::Search {
            query,
            k,
            collection,
            mode,
            no_rerank,
            json,
        } => {
            search::search(
                &open(data_dir).await?,
                query,
                k,
                collection,
                mode,
                no_rerank,
                json,
            )
            .await
        }
        Command::Ask {
            question,
            collection,
            thread,
            json,
            policy,
            document,
        } => {
            ask::ask(
                &open(data_dir).await?,
                &question,
                collection,
                thread,
                json,
                policy,
                document,
            )
            .await
        }
        Command::Chat { collection, thread } => {
            ask::chat(&open(data_dir).await?, collection, thread).await
        }
        Command::Watch {
            folders,
            collection,
            list,
            json,
        } => watch::watch(&open(data_dir).await?, folders, collection, list, json).await,
        Command::Unwatch { folder, collection } => {
            watch::unwatch(&open(data_dir).await?, &folder, &collection)
        }
        Command::Traces { last, json } => insight::traces(&open(data_dir).await?, last, json),
        Command::Trace { id, json } => insight::trace(&open(data_dir).await?, id, json),
        Command::Stats { days, json } => insight::stats(&open(data_dir).await?, days, json),
        Command::Feedback {
            trace,
            verdict,
            correction,
        } => feedback::feedback(
            &open(data_dir).await?,
            trace,
            &verdict,
            correction.as_deref(),
        ),
        Command::Export { command } => feedback::export(&open(data_dir).await?, command),
        Command::Audit { command } => audit::audit(&open(data_dir).await?, command),
        Command::Review { command } => review::review(&open(data_dir).await?, command),
        Command::Mcp { command, redact } => {
            mcp::mcp(open(data_dir).await?, data_dir, command, redact).await
        }
        Command::Cache { command } => cache::cache(&open(data_dir).await?, command),
        Command::Prompts { command } => prompts::prompts(&open(data_dir).await?, command),
        Command::Models { command } => models::models(&open(data_dir).await?, command).await,
    }
}

/// Opens the library in `data_dir` with its config file. A command that must wait for another
/// writer of the library says for whom on stderr.
async fn open(data_dir: &Path) -> anyhow::Result<Library> {
    let library = Library::open_with_config_file(data_dir).await?;
    Ok(
        library.with_lock_notice(std::sync::Arc::new(|holder| match holder {
            Some(holder) => eprintln!("waiting: {holder}; this goes on when it is done"),
            None => eprintln!("waiting: another program is writing to this library"),
        })),
    )
}
