//! API discovery with a cache that lives for one operation (one apply, prune or wait): a run
//! sees the kinds the server serves at that moment, and CRDs applied in an earlier stage of
//! the same run are found because misses are never cached.

use std::collections::HashMap;

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use tokio::sync::Mutex;

pub(crate) type Resolved = (ApiResource, ApiCapabilities);

/// The outcome of resolving a kind.
pub(crate) enum Lookup {
    Found(Resolved),
    /// The server does not serve this kind (the group, version or kind is unknown).
    Unknown,
}

pub(crate) struct Discovery {
    client: Client,
    by_gvk: Mutex<HashMap<(String, String, String), Resolved>>,
    by_gk: Mutex<HashMap<(String, String), Resolved>>,
}

impl Discovery {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            by_gvk: Mutex::new(HashMap::new()),
            by_gk: Mutex::new(HashMap::new()),
        }
    }

    /// Resolves an exact `apiVersion` + `kind`.
    pub(crate) async fn resolve(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Result<Lookup, kube::Error> {
        let key = (group.to_string(), version.to_string(), kind.to_string());
        // Held across the request: concurrent validations of one kind ask the server once.
        let mut cache = self.by_gvk.lock().await;
        if let Some(r) = cache.get(&key) {
            return Ok(Lookup::Found(r.clone()));
        }
        let gvk = GroupVersionKind::gvk(group, version, kind);
        match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok(r) => {
                cache.insert(key, r.clone());
                Ok(Lookup::Found(r))
            }
            Err(e) if is_missing(&e) => Ok(Lookup::Unknown),
            Err(e) => Err(e),
        }
    }

    /// Resolves a group + kind at the group's preferred version serving it (inventory entries
    /// and [`crate::ObjMetadata`] carry no version).
    pub(crate) async fn resolve_gk(&self, group: &str, kind: &str) -> Result<Lookup, kube::Error> {
        let key = (group.to_string(), kind.to_string());
        let mut cache = self.by_gk.lock().await;
        if let Some(r) = cache.get(&key) {
            return Ok(Lookup::Found(r.clone()));
        }
        let g = match kube::discovery::group(&self.client, group).await {
            Ok(g) => g,
            Err(e) if is_missing(&e) => return Ok(Lookup::Unknown),
            Err(e) => return Err(e),
        };
        match g.recommended_kind(kind) {
            Some(r) => {
                cache.insert(key, r.clone());
                Ok(Lookup::Found(r))
            }
            None => Ok(Lookup::Unknown),
        }
    }
}

fn is_missing(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 404,
        kube::Error::Discovery(_) => true,
        _ => false,
    }
}

pub(crate) fn is_namespaced(caps: &ApiCapabilities) -> bool {
    matches!(caps.scope, Scope::Namespaced)
}
