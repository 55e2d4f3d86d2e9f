//! Region and credentials, from aws-config, and a cache that refreshes credentials before they expire.
//!
//! Sources, most specific first: static keys from the configuration (tests, the local store); otherwise
//! the named profile of the shared config and credentials files, if one is given (and nothing else, as the AWS
//! CLI's `--profile`); otherwise aws-config's default chain (environment, web identity, shared config and
//! credentials files, SSO, ECS, IMDS); then, if `assumeRoleArn` is set, STS AssumeRole with those
//! credentials (aws-config's `AssumeRoleProvider`). aws-config's providers do not cache: [`CredentialsCache`]
//! does, so that signing a request costs no more than cloning an `Arc`.
//!
//! Credentials never reach a log line or an error message: errors carry the provider's description only.

use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::config::ClientConfig;
use crate::error::{ConfigProblem, Error, Result};

/// Credentials are refreshed when they have less than this left, so that no request is signed with
/// credentials that expire while it is in flight (or waiting to be retried).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

const DEFAULT_SESSION_NAME: &str = "featurestore-spark";

/// What aws-config resolved for one client configuration.
#[derive(Debug)]
pub struct ResolvedIdentity {
    pub region: String,
    pub credentials: CredentialsCache,
    /// The aws-config view of the configuration, reused to build the SDK transport.
    pub sdk_config: aws_config::SdkConfig,
}

/// The HTTP client aws-config uses for STS, SSO and IMDS: rustls with ring, never aws-lc (docs/ARCHITECTURE.md §5).
pub fn aws_config_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}

/// Resolves the region and the credentials provider. Must run on a tokio runtime (aws-config may read files
/// and, for the region, ask IMDS when nothing else names one).
pub async fn resolve(config: &ClientConfig) -> Result<ResolvedIdentity> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(aws_config_http_client());
    if let Some(region) = &config.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &config.profile {
        // A profile named by the job is the credentials' source, as `--profile` is for the AWS CLI: the
        // environment's keys must not win over it, and a profile that does not exist is an error. Its STS calls
        // (role_arn) need the region before the loader has resolved it.
        let region = match &config.region {
            Some(region) => Some(aws_config::Region::new(region.clone())),
            None => {
                aws_config::default_provider::region::Builder::default()
                    .profile_name(profile)
                    .build()
                    .region()
                    .await
            }
        };
        let provider_config = ProviderConfig::default()
            .with_http_client(aws_config_http_client())
            .with_region(region);
        loader = loader.profile_name(profile).credentials_provider(
            ProfileFileCredentialsProvider::builder()
                .configure(&provider_config)
                .profile_name(profile)
                .build(),
        );
    }
    if let (Some(key), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
        loader = loader.credentials_provider(Credentials::new(
            key,
            secret,
            config.session_token.clone(),
            None,
            "featurestore-static",
        ));
    }
    let sdk_config = loader.load().await;
    let region = sdk_config
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or_else(|| {
            Error::InvalidConfig(vec![ConfigProblem::new(
                crate::options::REGION.name,
                "not set, and no region found in AWS_REGION, AWS_DEFAULT_REGION or the profile",
            )])
        })?;
    let mut provider = sdk_config
        .credentials_provider()
        .ok_or_else(|| Error::Credentials("no credentials provider is configured".into()))?;
    // Where the credentials come from, for errors: the first thing to check when they cannot be found.
    let mut source = match (&config.access_key_id, &config.profile) {
        (Some(_), _) => "the static keys of accessKeyId and secretAccessKey".to_owned(),
        (None, Some(profile)) => format!(
            "profile '{profile}' of the shared config and credentials files (AWS_CONFIG_FILE, \
             AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/config and ~/.aws/credentials)"
        ),
        (None, None) => "the default chain (environment variables, web identity token, shared config and \
                         credentials files, SSO, container and instance metadata)"
            .to_owned(),
    };
    if let Some(role) = &config.assume_role_arn {
        let session = config
            .assume_role_session_name
            .clone()
            .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_owned());
        let assume_role = AssumeRoleProvider::builder(role.clone())
            .session_name(session)
            .region(aws_config::Region::new(region.clone()))
            .configure(&sdk_config)
            .build_from_provider(provider)
            .await;
        provider = SharedCredentialsProvider::new(assume_role);
        source = format!("{source}, then STS AssumeRole of {role}");
    }
    Ok(ResolvedIdentity {
        region,
        credentials: CredentialsCache::new(provider, source),
        sdk_config,
    })
}

/// Keeps the current credentials and fetches new ones shortly before they expire, one fetch at a time.
#[derive(Debug)]
pub struct CredentialsCache {
    provider: SharedCredentialsProvider,
    /// Where the provider looks, as errors name it.
    source: String,
    current: RwLock<Option<Credentials>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl CredentialsCache {
    pub fn new(provider: SharedCredentialsProvider, source: String) -> Self {
        Self {
            provider,
            source,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn provider(&self) -> SharedCredentialsProvider {
        self.provider.clone()
    }

    fn cached(&self, now: SystemTime, margin: Duration) -> Option<Credentials> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.as_ref().filter(|c| still_valid(c, now, margin)).cloned()
    }

    /// Credentials valid for at least the refresh margin; fetched from the provider when needed.
    pub async fn get(&self) -> Result<Credentials> {
        if let Some(credentials) = self.cached(SystemTime::now(), REFRESH_BEFORE_EXPIRY) {
            return Ok(credentials);
        }
        let _only_one_fetch = self.refreshing.lock().await;
        if let Some(credentials) = self.cached(SystemTime::now(), REFRESH_BEFORE_EXPIRY) {
            return Ok(credentials);
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                log::debug!(
                    "credentials resolved (expiry: {:?})",
                    credentials.expiry().map(time::OffsetDateTime::from)
                );
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(credentials.clone());
                Ok(credentials)
            }
            Err(e) => {
                // Credentials that have not expired yet still sign; a failed early refresh is not fatal.
                if let Some(credentials) = self.cached(SystemTime::now(), Duration::ZERO) {
                    log::warn!(
                        "refreshing credentials failed, using the current ones until they expire: {e}"
                    );
                    return Ok(credentials);
                }
                Err(Error::Credentials(format!(
                    "none found in {}: {}",
                    self.source,
                    describe_error(&e)
                )))
            }
        }
    }
}

fn still_valid(credentials: &Credentials, now: SystemTime, margin: Duration) -> bool {
    match credentials.expiry() {
        None => true,
        Some(expiry) => expiry > now + margin,
    }
}

/// The error and its causes, one after the other (the SDK's errors put the useful part in the sources).
fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A provider that hands out credentials expiring `lifetime` from now, counting its calls.
    #[derive(Debug)]
    struct Expiring {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
        fail_after: usize,
    }

    impl ProvideCredentials for Expiring {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n >= self.fail_after {
                return future::ProvideCredentials::ready(Err(
                    aws_credential_types::provider::error::CredentialsError::not_loaded("no source"),
                ));
            }
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                None,
                Some(SystemTime::now() + self.lifetime),
                "test",
            )))
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn long_lived_credentials_are_fetched_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Expiring {
                calls: calls.clone(),
                lifetime: Duration::from_secs(3600),
                fail_after: usize::MAX,
            }),
            "the test provider".into(),
        );
        block_on(async {
            for _ in 0..100 {
                assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID0");
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn credentials_close_to_expiry_are_refreshed() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Expiring {
                calls: calls.clone(),
                lifetime: Duration::from_secs(60), // inside the refresh margin: every get refreshes
                fail_after: usize::MAX,
            }),
            "the test provider".into(),
        );
        block_on(async {
            assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID0");
            assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID1");
        });
    }

    #[test]
    fn a_failed_refresh_keeps_unexpired_credentials_and_errors_once_they_are_gone() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Expiring {
                calls: calls.clone(),
                lifetime: Duration::from_secs(60),
                fail_after: 1,
            }),
            "the test provider".into(),
        );
        block_on(async {
            assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID0");
            assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID0");
            *cache.current.write().unwrap() = None;
            let error = cache.get().await.unwrap_err();
            assert!(matches!(error, Error::Credentials(_)), "{error}");
            assert!(
                error.to_string().contains("none found in the test provider: "),
                "{error}"
            );
        });
    }

    #[test]
    fn static_keys_and_explicit_region_resolve_without_any_lookup() {
        let config = ClientConfig {
            region: Some("eu-west-1".into()),
            access_key_id: Some("AKIDSTATIC".into()),
            secret_access_key: Some("SECRETSTATIC".into()),
            session_token: Some("TOKENSTATIC".into()),
            ..ClientConfig::default()
        };
        let resolved = block_on(async { resolve(&config).await }).unwrap();
        assert_eq!(resolved.region, "eu-west-1");
        let credentials = block_on(resolved.credentials.get()).unwrap();
        assert_eq!(credentials.access_key_id(), "AKIDSTATIC");
        assert_eq!(credentials.session_token(), Some("TOKENSTATIC"));
        let debug = format!("{resolved:?}");
        assert!(
            !debug.contains("SECRETSTATIC") && !debug.contains("TOKENSTATIC"),
            "{debug}"
        );
    }
}
