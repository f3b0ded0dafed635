//! A provider that sends its key from the real OS keychain and nowhere else (on Linux, the Secret
//! Service: run under `dbus-run-session` with an unlocked `gnome-keyring-daemon`, as scripts/test
//! does). Storing, reading and removing keys is tested in `cairn-keychain`.

use std::sync::atomic::AtomicBool;

use cairn_guard::{Guard, Outbound};
use cairn_providers::test_support::server::{Behaviour, Format, WireServer};
use cairn_providers::{
    ApiKey, KeySource, Keychain, ModelConfig, ModelTier, Params, Provider, ProviderConfig,
    ProviderKind,
};

/// A keychain service of this test's own, so a developer's real keys are never touched.
fn keychain() -> Keychain {
    Keychain::new(&format!("cairn-test-{}", std::process::id()))
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
