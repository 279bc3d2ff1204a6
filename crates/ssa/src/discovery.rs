//! API discovery with a cache. By default a cache lives for one operation (one apply, prune or
//! wait); a controller can share a [`DiscoveryCache`] between runs against one cluster, as Flux
//! shares its REST mapper. Misses are never cached, so CRDs applied a moment ago are found, and
//! an entry is dropped when the server stops serving its kind.

use std::collections::HashMap;
use std::sync::Arc;

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use tokio::sync::Mutex;

pub(crate) type Resolved = (ApiResource, ApiCapabilities);

type GvkKey = (String, String, String);
type GkKey = (String, String);

/// Resolved kinds of one cluster, shareable between [`crate::ResourceManager`]s (clone it: the
/// clones share one map). Never share one cache between different clusters.
#[derive(Clone, Default)]
pub struct DiscoveryCache {
    by_gvk: Arc<Mutex<HashMap<GvkKey, Resolved>>>,
    by_gk: Arc<Mutex<HashMap<GkKey, Resolved>>>,
}

impl std::fmt::Debug for DiscoveryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryCache").finish_non_exhaustive()
    }
}

/// The outcome of resolving a kind.
pub(crate) enum Lookup {
    Found(Resolved),
    /// The server does not serve this kind (the group, version or kind is unknown).
    Unknown,
}

pub(crate) struct Discovery {
    client: Client,
    cache: DiscoveryCache,
}

impl Discovery {
    pub(crate) fn new(client: Client, cache: DiscoveryCache) -> Self {
        Self { client, cache }
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
        let mut cache = self.cache.by_gvk.lock().await;
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

    /// Forgets a kind (after the server answered 404 for its resource path).
    pub(crate) async fn invalidate(&self, group: &str, version: &str, kind: &str) {
        self.cache.by_gvk.lock().await.remove(&(
            group.to_string(),
            version.to_string(),
            kind.to_string(),
        ));
        self.cache
            .by_gk
            .lock()
            .await
            .remove(&(group.to_string(), kind.to_string()));
    }

    /// Resolves a group + kind at the group's preferred version serving it (inventory entries
    /// and [`crate::ObjMetadata`] carry no version). A version already resolved for an apply
    /// is reused: any served version reads and deletes the same object.
    pub(crate) async fn resolve_gk(&self, group: &str, kind: &str) -> Result<Lookup, kube::Error> {
        let key = (group.to_string(), kind.to_string());
        let mut cache = self.cache.by_gk.lock().await;
        if let Some(r) = cache.get(&key) {
            return Ok(Lookup::Found(r.clone()));
        }
        let known = self
            .cache
            .by_gvk
            .lock()
            .await
            .iter()
            .find(|((g, _, k), _)| g == group && k == kind)
            .map(|(_, r)| r.clone());
        if let Some(r) = known {
            cache.insert(key, r.clone());
            return Ok(Lookup::Found(r));
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
