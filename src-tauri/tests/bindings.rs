//! The commands the shell registers, the TypeScript the UI imports and the permissions the window
//! is granted move together: a command added in one place and not the others fails here.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn registered() -> BTreeSet<String> {
    cairn_desktop::commands()
        .iter()
        .map(|c| c.name().to_string())
        .collect()
}

/// `ui/src/lib/bindings.ts` is what the Rust types generate. `CAIRN_BLESS=1` rewrites it.
#[test]
fn the_typescript_bindings_are_generated_from_the_rust_types() {
    let path = root().join("../ui/src/lib/bindings.ts");
    let generated = cairn_desktop::bindings();
    if std::env::var_os("CAIRN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/bindings.ts is out of date with the Rust types: run \
         `CAIRN_BLESS=1 cargo test -p cairn-desktop --test bindings` and commit the result"
    );
    assert!(generated.starts_with("// Generated from the Rust types"));
    assert!(generated.contains("Do not edit"));
}

/// Every registered command has a typed function in the bindings, and nothing else does.
#[test]
fn the_bindings_call_exactly_the_registered_commands() {
    let generated = cairn_desktop::bindings();
    let invoked: BTreeSet<String> = generated
        .match_indices("invoke(\"")
        .map(|(at, m)| {
            let rest = &generated[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect();
    assert_eq!(invoked, registered());
}

/// The window may call exactly the registered commands (each `allow-<name>` once), plus listening
/// to events and the file dialog; the build script declares the same commands.
#[test]
fn the_capability_grants_exactly_the_registered_commands() {
    let text = std::fs::read_to_string(root().join("capabilities/default.json")).unwrap();
    let capability: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    let permissions: Vec<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().expect("permissions are plain names").to_string())
        .collect();
    let allowed: BTreeSet<String> = permissions
        .iter()
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(allowed, registered());
    let others: BTreeSet<&str> = permissions
        .iter()
        .filter(|p| !p.starts_with("allow-"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        others,
        BTreeSet::from([
            "core:event:allow-listen",
            "core:event:allow-unlisten",
            "dialog:allow-open"
        ]),
        "the window gets nothing beyond its commands, events and the open dialog"
    );

    let build = std::fs::read_to_string(root().join("build.rs")).unwrap();
    let list = &build[build.find("const COMMANDS").unwrap()..];
    let list = &list[..list.find("];").unwrap()];
    let declared: BTreeSet<String> = list
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert_eq!(declared, registered(), "build.rs declares the commands");
}

/// The window's content security policy allows nothing remote and no inline script or style.
#[test]
fn the_window_loads_nothing_remote() {
    let text = std::fs::read_to_string(root().join("tauri.conf.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    let csp = config["app"]["security"]["csp"].as_object().unwrap();
    for (directive, sources) in csp {
        let sources = sources.as_str().unwrap();
        assert!(
            !sources.contains("unsafe-inline") && !sources.contains("unsafe-eval"),
            "{directive}: {sources}"
        );
        assert!(
            !sources.contains("https:") && !sources.contains("http://")
                || directive == "connect-src",
            "{directive} allows a remote source: {sources}"
        );
    }
    assert_eq!(csp["connect-src"], "ipc: http://ipc.localhost");
    assert_eq!(csp["default-src"], "'self'");
}
