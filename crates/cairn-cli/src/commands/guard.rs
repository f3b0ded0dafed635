//! `cairn guard scan|redact`: the local guardrails over text on stdin.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use cairn_engine::Config;

/// `cairn guard scan|redact`: both print the same JSON, `{redacted, entities: [{type, start, end,
/// score}]}`: what was found, and the text without it. Needs no library: only the config file is
/// read (for `[guard.pii]`).
pub fn guard(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(&data_dir.join("config.toml"))?;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            eprintln!(
                "warning: stdin is not valid UTF-8; invalid bytes read as U+FFFD (offsets count those)"
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let red = cairn_engine::redact_text(&text, &config.guard.pii)?;
    // Printed through a `serde_json::Value`, which widens each score to f64: the digits are those
    // this command has always printed.
    println!("{}", serde_json::to_value(&red)?);
    Ok(ExitCode::SUCCESS)
}
