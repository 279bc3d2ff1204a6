//! The clients a Kustomization applies with: the controller's own, one impersonating a
//! service account (`spec.serviceAccountName`, `--default-service-account`), or one for a
//! remote cluster from a kubeconfig Secret (`spec.kubeConfig`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ferroflux_api::kustomize::v1::Kustomization;
use k8s_openapi::api::core::v1::Secret;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, ResourceExt};

use crate::{Error, Result};

/// Builds and caches clients. The base configuration is what the controller itself uses.
#[derive(Clone)]
pub struct Clients {
    base: Option<kube::Config>,
    default_sa: Option<String>,
    impersonating: Arc<Mutex<HashMap<String, kube::Client>>>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("default_sa", &self.default_sa)
            .finish_non_exhaustive()
    }
}

impl Clients {
    /// `base` is the controller's configuration (`None`: impersonation is unavailable).
    pub fn new(base: Option<kube::Config>, default_sa: Option<String>) -> Self {
        Clients {
            base,
            default_sa,
            impersonating: Arc::default(),
        }
    }

    /// The service account to impersonate for `obj`, if any.
    pub fn service_account(&self, obj: &Kustomization) -> Option<String> {
        obj.spec
            .service_account_name
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| self.default_sa.clone())
    }

    /// The client to apply `obj` with (`own` when neither impersonation nor a kubeconfig
    /// applies).
    pub async fn for_object(
        &self,
        own: &kube::Client,
        obj: &Kustomization,
    ) -> Result<kube::Client> {
        let ns = obj.namespace().unwrap_or_default();
        let sa = self.service_account(obj);
        if let Some(kc) = &obj.spec.kube_config {
            let Some(sref) = &kc.secret_ref else {
                return Err(Error::KubeConfig(
                    "spec.kubeConfig.configMapRef (workload identity) is not supported; use secretRef"
                        .into(),
                ));
            };
            let secrets: Api<Secret> = Api::namespaced(own.clone(), &ns);
            let secret = secrets.get(&sref.name).await.map_err(|e| {
                Error::KubeConfig(format!(
                    "unable to read KubeConfig secret '{ns}/{}': {e}",
                    sref.name
                ))
            })?;
            let data = secret.data.unwrap_or_default();
            let bytes = match &sref.key {
                Some(k) => data.get(k),
                None => data.get("value").or_else(|| data.get("value.yaml")),
            }
            .ok_or_else(|| {
                Error::KubeConfig(format!(
                    "KubeConfig secret '{ns}/{}' has no key '{}'",
                    sref.name,
                    sref.key.as_deref().unwrap_or("value")
                ))
            })?;
            let text = String::from_utf8(bytes.0.clone()).map_err(|e| {
                Error::KubeConfig(format!("KubeConfig secret '{ns}/{}': {e}", sref.name))
            })?;
            let kubeconfig = Kubeconfig::from_yaml(&text).map_err(|e| {
                Error::KubeConfig(format!("KubeConfig secret '{ns}/{}': {e}", sref.name))
            })?;
            let mut config =
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| {
                        Error::KubeConfig(format!("KubeConfig secret '{ns}/{}': {e}", sref.name))
                    })?;
            // Flux impersonates only when the Kustomization names the account itself.
            if let Some(sa) = obj
                .spec
                .service_account_name
                .as_ref()
                .filter(|s| !s.is_empty())
            {
                config.auth_info.impersonate = Some(impersonated_user(&ns, sa));
            }
            return kube::Client::try_from(config)
                .map_err(|e| Error::KubeConfig(format!("remote cluster client: {e}")));
        }
        let Some(sa) = sa else {
            return Ok(own.clone());
        };
        let user = impersonated_user(&ns, &sa);
        if let Some(c) = self
            .impersonating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
        {
            return Ok(c.clone());
        }
        let Some(base) = &self.base else {
            return Err(Error::KubeConfig(
                "impersonation needs the controller's client configuration".into(),
            ));
        };
        let mut config = base.clone();
        config.auth_info.impersonate = Some(user.clone());
        config.auth_info.impersonate_groups = None;
        let client = kube::Client::try_from(config)
            .map_err(|e| Error::KubeConfig(format!("impersonating {user}: {e}")))?;
        self.impersonating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user, client.clone());
        Ok(client)
    }
}

/// `system:serviceaccount:<ns>:<name>`.
pub fn impersonated_user(ns: &str, sa: &str) -> String {
    format!("system:serviceaccount:{ns}:{sa}")
}
