//! Keys in the real OS keychain (on Linux, the Secret Service: run under `dbus-run-session` with
//! an unlocked `gnome-keyring-daemon`, as scripts/test does), and a provider that sends its key
//! from there and nowhere else.

mod support;

use std::sync::atomic::AtomicBool;

use cairn_guard::{Guard, Outbound};
use cairn_providers::{
    ApiKey, KeySource, Keychain, ModelConfig, ModelTier, Params, Provider, ProviderConfig,
    ProviderKind,
};
use support::server::{Behaviour, Format, WireServer};

/// A keychain service of this test's own, so a developer's real keys are never touched.
fn keychain() -> Keychain {
    Keychain::new(&format!("cairn-test-{}", std::process::id()))
}

#[test]
fn keys_are_stored_read_replaced_and_removed() {
    let keychain = keychain();
    // Account names of this test only: the other test runs at the same time.
    let key = ApiKey::new("sk-test-0123456789abcdef").unwrap();
    assert_eq!(keychain.get("store-test").unwrap(), None);
    keychain.set("store-test", &key).unwrap();
    assert_eq!(keychain.get("store-test").unwrap(), Some(key));
    assert!(keychain.has("store-test").unwrap());
    assert!(!keychain.has("store-test-other").unwrap());
    let replaced = ApiKey::new("sk-test-replacement").unwrap();
    keychain.set("store-test", &replaced).unwrap();
    assert_eq!(keychain.get("store-test").unwrap(), Some(replaced));
    assert!(keychain.remove("store-test").unwrap());
    assert!(
        !keychain.remove("store-test").unwrap(),
        "removing twice says there was none"
    );
    assert_eq!(keychain.get("store-test").unwrap(), None);
}

fn provider_config(server: &WireServer, kind: ProviderKind, name: &str) -> ProviderConfig {
    let mut config: ProviderConfig = toml::from_str(&format!(
        "name = \"{name}\"\nkind = \"openai\"\nmodels = [{{ id = \"m\", tier = \"mid\" }}]"
    ))
    .unwrap();
    config.kind = kind;
    config.base_url = Some(server.base_url());
    config.key = Some(KeySource::Keychain);
    config.models = vec![ModelConfig {
        id: "m".into(),
        tier: ModelTier::Mid,
        input_per_mtok: 0.0,
        output_per_mtok: 0.0,
    }];
    config
}

#[tokio::test]
async fn a_provider_sends_the_key_from_the_keychain_and_none_without_one() {
    let keychain = keychain();
    let egress = Guard::default()
        .prepare(&Outbound {
            question: "hello".into(),
            ..Outbound::default()
        })
        .unwrap()
        .0;
    let params = Params {
        max_tokens: 10,
        temperature: 0.0,
    };
    for (kind, format, header, value) in [
        (
            ProviderKind::Openai,
            Format::OpenAi,
            "authorization",
            "Bearer sk-test-openai-key",
        ),
        (
            ProviderKind::Anthropic,
            Format::Anthropic,
            "x-api-key",
            "sk-test-anthropic-key",
        ),
    ] {
        let name = format!("{kind:?}").to_lowercase();
        let server = WireServer::start(format, Behaviour::answer(&["hi"])).await;
        let provider =
            Provider::new(provider_config(&server, kind, &name), keychain.clone()).unwrap();

        // No key yet: a clear error, and nothing sent.
        let err = provider
            .complete("m", &egress, &params, &mut |_| {}, &AtomicBool::new(false))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "no_key", "{err}");
        assert!(err.to_string().contains("cairn keys set"), "{err}");
        assert!(server.requests().is_empty());

        let secret = value.trim_start_matches("Bearer ");
        keychain.set(&name, &ApiKey::new(secret).unwrap()).unwrap();
        let provider =
            Provider::new(provider_config(&server, kind, &name), keychain.clone()).unwrap();
        provider
            .complete("m", &egress, &params, &mut |_| {}, &AtomicBool::new(false))
            .await
            .unwrap();
        assert_eq!(server.requests()[0].header(header), Some(value));
        // The key appears in no Debug output of the provider.
        assert!(!format!("{provider:?}").contains(secret));
        keychain.remove(&name).unwrap();
    }
}
