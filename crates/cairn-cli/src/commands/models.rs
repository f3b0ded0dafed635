//! `cairn models list|pull|add|rm|use`: the catalog, downloads, GGUF files on disk, and the chat
//! model.

use std::io::IsTerminal;
use std::process::ExitCode;

use cairn_engine::{CatalogError, DownloadProgress, Error, Library};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::ModelsCommand;
use crate::exit;
use crate::interrupt::cancel_on_ctrl_c_saying;

/// `cairn models list|pull|add|rm|use`.
pub async fn models(library: &Library, command: ModelsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ModelsCommand::List { json } => list(library, json),
        ModelsCommand::Pull { id } => pull(library, &id).await,
        ModelsCommand::Add { path, name } => {
            let added = library.add_model_file(&path, name.as_deref())?;
            let r = &added.record;
            eprintln!(
                "added {} ({}, {}) where it is: {}\n`cairn models use {}` makes it the chat model",
                r.name,
                r.architecture,
                size(r.bytes),
                r.path,
                r.name
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Rm { name } => {
            let removed = library.remove_model(&name)?;
            match &removed.deleted {
                Some(file) => eprintln!("removed {name} and deleted {file}"),
                None => eprintln!("removed {name}; its file stays (Cairn did not download it)"),
            }
            if removed.was_in_use {
                eprintln!("it was a chat model: the default model takes its place again");
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Use { name } => {
            let chosen = library.use_model(&name)?;
            eprintln!(
                "{name} now answers questions (models.strong_chat = {} in {}; models.chat under local_answers = \"fast\")",
                chosen.record.path,
                library.data_dir().join("config.toml").display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `cairn models list`: the catalog marked for this machine, then the installed models.
fn list(library: &Library, json: bool) -> anyhow::Result<ExitCode> {
    let catalog = library.catalog()?;
    let installed = library.installed_models()?;
    if json {
        let out = serde_json::json!({
            "machine": catalog.machine,
            "endpoint": catalog.endpoint,
            "catalog": catalog.models,
            "installed": installed,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let free = catalog
        .machine
        .free_disk
        .map(|f| format!(", {} free for models", size(f)))
        .unwrap_or_default();
    println!(
        "Catalog ({} of memory{free}; from {})",
        size(catalog.machine.total_memory),
        catalog.endpoint
    );
    println!(
        "  {:<24} {:<7} {:>8} {:>8}  {:<27} GOOD AT",
        "ID", "PARAMS", "SIZE", "MEMORY", "LICENCE"
    );
    for m in &catalog.models {
        let mut marks = Vec::new();
        if m.installed {
            marks.push("installed".to_string());
        } else if m.partial_bytes > 0 {
            marks.push(format!(
                "{}% downloaded",
                m.partial_bytes * 100 / m.entry.bytes.max(1)
            ));
        }
        if m.recommended {
            marks.push("recommended".into());
        } else if !m.fits {
            marks.push("needs more memory".into());
        }
        println!(
            "{} {:<24} {:<7} {:>8} {:>8}  {:<27} {}{}",
            if m.recommended { '*' } else { ' ' },
            m.entry.id,
            m.entry.parameters,
            size(m.entry.bytes),
            size(m.ram_bytes),
            m.entry.licence,
            m.entry.good_at,
            if marks.is_empty() {
                String::new()
            } else {
                format!(" [{}]", marks.join(", "))
            }
        );
    }
    println!("\nInstalled");
    if installed.is_empty() {
        println!(
            "  none: `cairn models pull ID` downloads one, `cairn models add FILE` adds yours"
        );
    }
    for m in &installed {
        let r = &m.record;
        println!(
            "{} {:<24} {:<8} {:>8}  {:<14} {}{}",
            if m.in_use { '>' } else { ' ' },
            r.name,
            r.architecture,
            size(r.bytes),
            if r.downloaded() {
                "downloaded"
            } else {
                "added"
            },
            r.path,
            match (m.in_use, m.present) {
                (_, false) => " [file missing]",
                (true, true) => " [in use]",
                (false, true) => "",
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn models pull ID`: a progress bar with the rate and time left; Ctrl-C keeps the part.
async fn pull(library: &Library, id: &str) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_ctrl_c_saying("stopping the download; what arrived is kept");
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:30}] {bytes}/{total_bytes}  {msg}  {wide_msg:.dim}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let show = |p: &DownloadProgress| {
        if let Some(bar) = &bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(rate_and_eta(p));
        }
    };
    eprintln!("downloading {id} from {}", library.hub_endpoint()?.as_str());
    let result = library.pull_model(id, &show, &cancel).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(pulled) => {
            let r = &pulled.record;
            eprintln!(
                "{} is ready: {} ({}), SHA-256 {}\n`cairn models use {}` makes it the chat model",
                r.name,
                r.path,
                size(r.bytes),
                r.sha256.as_deref().unwrap_or("-"),
                r.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::Catalog(CatalogError::Cancelled { kept })) => {
            eprintln!(
                "cancelled with {} kept: `cairn models pull {id}` resumes",
                size(kept)
            );
            Ok(ExitCode::from(exit::CANCELLED))
        }
        Err(e) => Err(e.into()),
    }
}

/// `12.3 MB/s, 1m 05s left`.
fn rate_and_eta(p: &DownloadProgress) -> String {
    let rate = format!("{}/s", size(p.bytes_per_second as u64));
    match p.eta_seconds {
        Some(eta) => {
            let s = eta.round() as u64;
            let left = match s {
                0..60 => format!("{s}s"),
                60..3600 => format!("{}m {:02}s", s / 60, s % 60),
                _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
            };
            format!("{rate}, {left} left")
        }
        None => rate,
    }
}

/// Bytes as a person reads them, in decimal units as Hugging Face shows file sizes.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_read_as_a_person_writes_them() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_117_320_736), "1.1 GB");
        let p = DownloadProgress {
            done: 0,
            total: 100,
            bytes_per_second: 2_500_000.0,
            eta_seconds: Some(65.2),
        };
        assert_eq!(rate_and_eta(&p), "2.5 MB/s, 1m 05s left");
    }
}
