//! `cairn prompts list|show|use|rollback`: prompt templates and the version of each in use.

use std::process::ExitCode;

use cairn_engine::Library;

use crate::args::PromptsCommand;

/// `cairn prompts list|show|use|rollback`.
pub fn prompts(library: &Library, command: PromptsCommand) -> anyhow::Result<ExitCode> {
    let infos = library.prompts();
    let info = |name: &str| {
        infos.iter().find(|i| i.name == name).ok_or_else(|| {
            let names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
            anyhow::anyhow!(
                "there is no prompt template called {name}; the templates are {}",
                names.join(", ")
            )
        })
    };
    let config = library.data_dir().join("config.toml");
    let switch = |name: &str, version: &str, default: &str| -> anyhow::Result<ExitCode> {
        // The default version is written out too, so that a later default does not move it.
        cairn_engine::set_prompt_version(&config, name, Some(version))?;
        eprintln!(
            "{name} now uses {version}{} (in {})",
            if version == default {
                ", its default"
            } else {
                ""
            },
            config.display()
        );
        Ok(ExitCode::SUCCESS)
    };
    match command {
        PromptsCommand::List { json } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&infos)?);
            }
            for i in infos.iter().filter(|_| !json) {
                let versions: Vec<String> = i
                    .versions
                    .iter()
                    .map(|v| {
                        let mut label = v.clone();
                        if *v == i.default {
                            label.push_str(" (default)");
                        }
                        if *v == i.active {
                            format!("[{label}]")
                        } else {
                            label
                        }
                    })
                    .collect();
                println!("{:<12} {}", i.name, versions.join("  "));
            }
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Show { template } => {
            let (name, version) = match template.split_once('@') {
                Some((name, version)) => (name, version.to_string()),
                None => (template.as_str(), info(&template)?.active.clone()),
            };
            let t = cairn_engine::prompts::find(name, &version).ok_or_else(|| {
                anyhow::anyhow!("there is no {name}@{version}; see `cairn prompts list`")
            })?;
            println!("{}", t.text());
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Use { template } => {
            let (name, version) = template
                .split_once('@')
                .ok_or_else(|| anyhow::anyhow!("write name@version, e.g. grounded@1.0.0"))?;
            let default = info(name)?.default.clone();
            switch(name, version, &default)
        }
        PromptsCommand::Rollback { name } => {
            let i = info(&name)?;
            let previous = i.previous.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "{name} is at its first version, {}: nothing to roll back to",
                    i.active
                )
            })?;
            switch(&name, previous, &i.default)
        }
    }
}
