//! Cloud providers on the Settings screen: the `[[providers]]` of `config.toml`, their keys in the
//! OS keychain (stored and removed here, never read back to the UI), and what they have cost.

use cairn_engine::{Config, KeySource, ModelConfig, ModelTier, ProviderConfig, ProviderKind};
use cairn_keychain::{ApiKey, Keychain, KeychainError};

use crate::App;
use crate::api::{
    ApiError, BudgetSettings, KeyRequest, ModelSpendView, ProviderModelView, ProviderRequest,
    ProviderView, SpendView,
};

impl App {
    /// The configured providers, and whether each has its key.
    pub async fn providers(&self) -> Result<Vec<ProviderView>, ApiError> {
        let library = self.library()?;
        let keychain = Keychain::default();
        library
            .config()
            .providers
            .iter()
            .map(|p| provider_view(p, &keychain))
            .collect()
    }

    /// Adds a provider, or changes the one of that name (its timeouts, retries and limits are
    /// kept). The library is reopened with it.
    pub async fn save_provider(&self, view: ProviderView) -> Result<Vec<ProviderView>, ApiError> {
        let library = self.library()?;
        let mut provider = library
            .config()
            .providers
            .iter()
            .find(|p| p.name == view.name)
            .cloned()
            .unwrap_or_else(|| new_provider(&view.name));
        provider.kind = serde_json::from_value(serde_json::Value::from(view.kind.as_str()))
            .map_err(|_| {
                ApiError::invalid(format!(
                    "'{}' is not a kind of provider: openai, anthropic, mistral or openai-compatible",
                    view.kind
                ))
            })?;
        provider.base_url = view
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string);
        provider.models = view
            .models
            .iter()
            .map(|m| {
                let tier = match m.tier.as_str() {
                    "mid" => ModelTier::Mid,
                    "large" => ModelTier::Large,
                    other => {
                        return Err(ApiError::invalid(format!(
                            "model tier '{other}' is neither mid nor large"
                        )));
                    }
                };
                if m.id.trim().is_empty() {
                    return Err(ApiError::invalid("a model needs its name in the API"));
                }
                if !(m.input_per_mtok >= 0.0 && m.output_per_mtok >= 0.0) {
                    return Err(ApiError::invalid("prices cannot be negative"));
                }
                Ok(ModelConfig {
                    id: m.id.trim().to_string(),
                    tier,
                    input_per_mtok: m.input_per_mtok,
                    output_per_mtok: m.output_per_mtok,
                })
            })
            .collect::<Result<_, _>>()?;
        if provider.models.is_empty() {
            return Err(ApiError::invalid("a provider needs at least one model"));
        }
        if let Some(problem) = provider.problem() {
            return Err(ApiError::invalid(problem));
        }
        self.rewrite_providers(|providers| {
            match providers.iter_mut().find(|p| p.name == provider.name) {
                Some(slot) => *slot = provider,
                None => providers.push(provider),
            }
            Ok(())
        })
        .await?;
        self.providers().await
    }

    /// Removes a provider (and its key). Refused while the router's policy or fallback names it
    /// and it is the last provider.
    pub async fn remove_provider(
        &self,
        request: ProviderRequest,
    ) -> Result<Vec<ProviderView>, ApiError> {
        self.rewrite_providers(|providers| {
            let before = providers.len();
            providers.retain(|p| p.name != request.provider);
            if providers.len() == before {
                return Err(ApiError::invalid(format!(
                    "there is no provider called '{}'",
                    request.provider
                )));
            }
            Ok(())
        })
        .await?;
        Keychain::default()
            .remove(&request.provider)
            .map_err(key_error)?;
        self.providers().await
    }

    /// Keeps a provider's key in the OS keychain.
    pub async fn set_key(&self, request: KeyRequest) -> Result<Vec<ProviderView>, ApiError> {
        let key =
            ApiKey::new(request.key.trim()).ok_or_else(|| ApiError::invalid("the key is empty"))?;
        Keychain::default()
            .set(&request.provider, &key)
            .map_err(key_error)?;
        // Providers read their key once: reopen so the new one is used.
        let dir = self.library()?.data_dir().to_path_buf();
        self.reopen(dir).await?;
        self.providers().await
    }

    /// Removes a provider's key from the OS keychain.
    pub async fn remove_key(
        &self,
        request: ProviderRequest,
    ) -> Result<Vec<ProviderView>, ApiError> {
        Keychain::default()
            .remove(&request.provider)
            .map_err(key_error)?;
        let dir = self.library()?.data_dir().to_path_buf();
        self.reopen(dir).await?;
        self.providers().await
    }

    /// What cloud models have cost today and this month, against the budgets.
    pub async fn spend(&self) -> Result<SpendView, ApiError> {
        let spend = self.library()?.spend()?;
        Ok(SpendView {
            today_usd: spend.today.cost,
            today_tokens: spend.today.tokens,
            month_usd: spend.month.cost,
            month_tokens: spend.month.tokens,
            by_model: spend
                .by_model
                .into_iter()
                .map(|m| ModelSpendView {
                    provider: m.provider,
                    model: m.model,
                    calls: m.calls,
                    tokens: m.spent.tokens,
                    usd: m.spent.cost,
                })
                .collect(),
            budget: BudgetSettings {
                conversation_usd: spend.budget.conversation.cost,
                day_usd: spend.budget.day.cost,
                month_usd: spend.budget.month.cost,
            },
        })
    }

    /// Applies `change` to the configured providers, writes `[[providers]]` back into
    /// `config.toml` (the rest of the file as it was) through the engine's config editor, which
    /// checks it reads back, and reopens.
    async fn rewrite_providers(
        &self,
        change: impl FnOnce(&mut Vec<ProviderConfig>) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let library = self.library()?;
        let path = library.data_dir().join("config.toml");
        cairn_engine::config_file::update(&path, |next: &mut Config| {
            change(&mut next.providers)?;
            if next.router.policy != cairn_engine::Policy::OfflineOnly && next.providers.is_empty()
            {
                return Err(ApiError::invalid(
                    "the last provider cannot be removed while a mode that uses one is chosen: choose offline-only first",
                ));
            }
            next.check().map_err(ApiError::invalid)
        })?;
        let dir = library.data_dir().to_path_buf();
        drop(library);
        self.reopen(dir).await
    }
}

fn new_provider(name: &str) -> ProviderConfig {
    ProviderConfig {
        name: name.trim().to_string(),
        kind: ProviderKind::OpenaiCompatible,
        base_url: None,
        key: None,
        models: Vec::new(),
        timeouts: Default::default(),
        retry: Default::default(),
        breaker: Default::default(),
        requests_per_minute: 0,
        stream_usage: true,
    }
}

fn provider_view(p: &ProviderConfig, keychain: &Keychain) -> Result<ProviderView, ApiError> {
    let needs_key = p.key_source() == KeySource::Keychain;
    Ok(ProviderView {
        name: p.name.clone(),
        kind: serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        base_url: p.base_url.clone(),
        models: p
            .models
            .iter()
            .map(|m| ProviderModelView {
                id: m.id.clone(),
                tier: match m.tier {
                    ModelTier::Mid => "mid",
                    ModelTier::Large => "large",
                }
                .into(),
                input_per_mtok: m.input_per_mtok,
                output_per_mtok: m.output_per_mtok,
            })
            .collect(),
        needs_key,
        has_key: needs_key && keychain.has(&p.name).map_err(key_error)?,
    })
}

fn key_error(e: KeychainError) -> ApiError {
    ApiError::new(
        e.code(),
        format!(
            "The OS keychain could not be used: {e}. On Linux a Secret Service (GNOME Keyring or KWallet) must be running."
        ),
    )
}
