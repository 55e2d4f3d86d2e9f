//! A configured client: region, endpoints, credentials and the transports built from a [`ClientConfig`].
//!
//! Endpoints, most specific first: the configuration's, then `AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME`
//! (runtime) or `AWS_ENDPOINT_URL_SAGEMAKER` (control plane), then `AWS_ENDPOINT_URL`, then the service's public
//! endpoint for the region — the same precedence as the AWS SDKs (service ids "SageMaker FeatureStore Runtime"
//! and "SageMaker").
//!
//! Clients are cached per (I/O runtime, configuration): a Spark executor runs many tasks, one writer each, and
//! they should share connection pools and credentials rather than open new ones per task. A client's pools
//! belong to the runtime that created them, hence the runtime in the key.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use crate::config::{ClientConfig, TransportKind};
use crate::credentials::{self, CredentialsCache};
use crate::error::Result;
use crate::io_runtime::IoRuntime;
use crate::signing::Signer;
use crate::transport::{Endpoint, SdkWriter, SignedHttp, Transport};

pub const RUNTIME_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME";
pub const CONTROL_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_SAGEMAKER";
pub const GLOBAL_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL";

/// The runtime endpoint URL set by the configuration or the environment, if any; `env` reads a variable.
pub fn runtime_endpoint_override(
    config: &ClientConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    endpoint_url(config.runtime_endpoint.as_deref(), RUNTIME_ENDPOINT_ENV, &env)
}

/// The runtime endpoint URL for `region`.
pub fn runtime_endpoint_url(
    config: &ClientConfig,
    region: &str,
    env: impl Fn(&str) -> Option<String>,
) -> String {
    runtime_endpoint_override(config, env).unwrap_or_else(|| {
        format!(
            "https://featurestore-runtime.sagemaker.{region}.{}",
            dns_suffix(region)
        )
    })
}

/// The control-plane endpoint URL for `region`.
pub fn control_endpoint_url(
    config: &ClientConfig,
    region: &str,
    env: impl Fn(&str) -> Option<String>,
) -> String {
    endpoint_url(config.control_endpoint.as_deref(), CONTROL_ENDPOINT_ENV, &env)
        .unwrap_or_else(|| format!("https://api.sagemaker.{region}.{}", dns_suffix(region)))
}

fn endpoint_url(
    explicit: Option<&str>,
    service_env: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let non_empty = |v: String| {
        if v.trim().is_empty() {
            None
        } else {
            Some(v.trim().to_owned())
        }
    };
    explicit
        .map(str::to_owned)
        .or_else(|| env(service_env).and_then(non_empty))
        .or_else(|| env(GLOBAL_ENDPOINT_ENV).and_then(non_empty))
}

/// The partition's DNS suffix: China regions differ; every other partition's default is amazonaws.com.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Everything a writer or a control call needs to reach the service.
#[derive(Debug)]
pub struct Client {
    pub region: String,
    /// The runtime endpoint's `scheme://authority`: with the feature group, what an adaptive rate is kept for.
    pub runtime_endpoint: String,
    pub runtime: Transport,
    pub control: SignedHttp,
}

impl Client {
    /// Resolves region and credentials and builds the transports. Runs on the I/O runtime the client will be
    /// used from.
    pub async fn build(config: ClientConfig) -> Result<Client> {
        let identity = credentials::resolve(&config).await?;
        let region = identity.region.clone();
        let runtime_endpoint = Endpoint::parse(&runtime_endpoint_url(&config, &region, process_env))?;
        let control_endpoint = Endpoint::parse(&control_endpoint_url(&config, &region, process_env))?;
        log::debug!(
            "client for region {region}: runtime {}, control plane {}, transport {:?}",
            runtime_endpoint.base,
            control_endpoint.base,
            config.transport
        );
        let runtime_base = runtime_endpoint.base.clone();
        let signer = Arc::new(Signer::new(region.clone()));
        let credentials: Arc<CredentialsCache> = Arc::new(identity.credentials);
        let runtime = match config.transport {
            TransportKind::Lean => Transport::Lean(Box::new(SignedHttp::new(
                runtime_endpoint,
                &config,
                Arc::clone(&signer),
                Arc::clone(&credentials),
            )?)),
            // Without an endpoint set, the SDK resolves its own (FIPS and dual-stack variants included).
            TransportKind::Sdk => Transport::Sdk(SdkWriter::new(
                &identity.sdk_config,
                runtime_endpoint_override(&config, process_env).map(|_| &runtime_endpoint),
                &config,
                Arc::clone(&credentials),
            )),
        };
        let control = SignedHttp::new(control_endpoint, &config, signer, credentials)?;
        Ok(Client {
            region,
            runtime_endpoint: runtime_base,
            runtime,
            control,
        })
    }
}

/// Clients kept at most; past this the cache is emptied (writers keep the clients they hold).
const MAX_CACHED_CLIENTS: usize = 64;

type ClientKey = (usize, ClientConfig);

static CLIENTS: LazyLock<Mutex<HashMap<ClientKey, Arc<Client>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The client for `config` on `runtime`, built on first use. Blocks the caller while building.
pub fn client_for(runtime: &IoRuntime, config: &ClientConfig) -> Result<Arc<Client>> {
    let key = (runtime.index, config.clone());
    if let Some(client) = CLIENTS.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Arc::clone(client));
    }
    // Built outside the lock: resolving credentials may take a while (STS, SSO) and must not stall others.
    let client = Arc::new(runtime.block_on(Client::build(config.clone()))??);
    let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    if clients.len() >= MAX_CACHED_CLIENTS {
        clients.clear();
    }
    Ok(Arc::clone(clients.entry(key).or_insert(client)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn explicit_endpoints_win_over_the_environment() {
        let config = ClientConfig {
            runtime_endpoint: Some("http://127.0.0.1:1".into()),
            control_endpoint: Some("http://127.0.0.1:2".into()),
            ..ClientConfig::default()
        };
        let env = env_of(&[
            (RUNTIME_ENDPOINT_ENV, "http://runtime-env"),
            (CONTROL_ENDPOINT_ENV, "http://control-env"),
            (GLOBAL_ENDPOINT_ENV, "http://global-env"),
        ]);
        assert_eq!(
            runtime_endpoint_url(&config, "us-east-1", &env),
            "http://127.0.0.1:1"
        );
        assert_eq!(
            control_endpoint_url(&config, "us-east-1", &env),
            "http://127.0.0.1:2"
        );
    }

    #[test]
    fn service_variables_win_over_the_global_one() {
        let config = ClientConfig::default();
        let env = env_of(&[
            (RUNTIME_ENDPOINT_ENV, "http://runtime-env"),
            (CONTROL_ENDPOINT_ENV, "http://control-env"),
            (GLOBAL_ENDPOINT_ENV, "http://global-env"),
        ]);
        assert_eq!(
            runtime_endpoint_url(&config, "us-east-1", &env),
            "http://runtime-env"
        );
        assert_eq!(
            control_endpoint_url(&config, "us-east-1", &env),
            "http://control-env"
        );
        let only_global = env_of(&[
            (GLOBAL_ENDPOINT_ENV, "http://global-env"),
            (RUNTIME_ENDPOINT_ENV, " "),
        ]);
        assert_eq!(
            runtime_endpoint_url(&config, "us-east-1", &only_global),
            "http://global-env"
        );
        assert_eq!(
            control_endpoint_url(&config, "us-east-1", &only_global),
            "http://global-env"
        );
    }

    #[test]
    fn without_overrides_the_public_endpoints_are_named_but_never_contacted() {
        let config = ClientConfig::default();
        let none = env_of(&[]);
        assert_eq!(
            runtime_endpoint_url(&config, "eu-west-1", &none),
            "https://featurestore-runtime.sagemaker.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            control_endpoint_url(&config, "cn-north-1", &none),
            "https://api.sagemaker.cn-north-1.amazonaws.com.cn"
        );
    }
}
