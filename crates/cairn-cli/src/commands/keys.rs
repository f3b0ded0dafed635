//! `cairn keys set|rm|list`: API keys of cloud providers, in the OS keychain.

use std::path::Path;
use std::process::ExitCode;

use cairn_engine::{Config, KeySource};
use cairn_keychain::{ApiKey, Keychain};

use crate::args::KeysCommand;

/// `cairn keys set|rm|list`. Needs no library: only `list` reads the config file, for the
/// providers' names.
pub fn keys(command: KeysCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let keychain = Keychain::default();
    match command {
        KeysCommand::Set { provider } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let key = ApiKey::new(line.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "no key on stdin: pipe it in, e.g. `cairn keys set {provider} < key.txt`"
                )
            })?;
            line.clear();
            keychain.set(&provider, &key)?;
            eprintln!("stored the key of {provider} in the OS keychain");
        }
        KeysCommand::Rm { provider } => {
            if keychain.remove(&provider)? {
                eprintln!("removed the key of {provider}");
            } else {
                eprintln!("there was no key for {provider}");
            }
        }
        KeysCommand::List => {
            let config = Config::load(&data_dir.join("config.toml"))?;
            if config.providers.is_empty() {
                eprintln!("no providers are configured ([[providers]] in config.toml)");
            }
            for p in &config.providers {
                let state = match p.key_source() {
                    KeySource::None => "needs no key",
                    KeySource::Keychain if keychain.has(&p.name)? => "key stored",
                    KeySource::Keychain => "no key",
                };
                println!("{}\t{state}", p.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
