//! The resource manager: staged server-side apply with a dry run per stage, field-manager
//! cleanup so drift is really reverted, prune, and waiting on kstatus health.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy};
use serde_json::{Value, json};

use crate::changeset::{Action, ChangeSet, ChangeSetEntry};
use crate::discovery::{Discovery, DiscoveryCache, Lookup, Resolved, is_namespaced};
use crate::object::{ObjMetadata, Owner, any_in_metadata, str_at, version_of};
use crate::status::{self, Status};
use crate::{Error, Result};

/// `metadata.managedFields[].operation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagedFieldsOperation {
    Apply,
    Update,
}

impl ManagedFieldsOperation {
    fn as_str(self) -> &'static str {
        match self {
            ManagedFieldsOperation::Apply => "Apply",
            ManagedFieldsOperation::Update => "Update",
        }
    }
}

/// A field manager whose fields are taken over by ours before applying, so values it set
/// that are not in our configuration are removed (Flux's `ssa.FieldManager`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldManager {
    /// Matched as a prefix unless `exact_match` (so `kubectl` covers `kubectl-edit`,
    /// `kubectl-client-side-apply`, `kubectl-scale`, …).
    pub name: String,
    pub operation: ManagedFieldsOperation,
    pub exact_match: bool,
}

impl FieldManager {
    fn prefix(name: &str, operation: ManagedFieldsOperation) -> Self {
        Self {
            name: name.to_string(),
            operation,
            exact_match: false,
        }
    }

    fn matches(&self, entry: &Value) -> bool {
        let manager = str_at(entry, &["manager"]);
        let name_ok = if self.exact_match {
            manager == self.name
        } else {
            manager.starts_with(&self.name)
        };
        name_ok && str_at(entry, &["operation"]) == self.operation.as_str()
    }
}

/// What to clean from live objects before applying (Flux's `ApplyCleanupOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupOptions {
    /// Annotations removed from live objects (kubectl's last-applied-configuration, …).
    pub annotations: Vec<String>,
    /// Labels removed from live objects.
    pub labels: Vec<String>,
    /// Managers whose fields ours takes over.
    pub field_managers: Vec<FieldManager>,
    /// Objects carrying any of these labels/annotations are not cleaned
    /// (`<group>/ssa: Merge`).
    pub exclusions: BTreeMap<String, String>,
}

/// How to apply (Flux's `ApplyOptions`, with kustomize-controller's selectors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Recreate objects whose immutable fields changed (the Kustomization's `spec.force`).
    pub force: bool,
    /// Recreate on immutable-field errors only objects carrying one of these
    /// (`<group>/force: Enabled`).
    pub force_selector: BTreeMap<String, String>,
    /// Never apply objects carrying one of these, in the source or in the cluster
    /// (`<group>/reconcile: disabled`, `<group>/ssa: Ignore`).
    pub exclusions: BTreeMap<String, String>,
    /// Only create, never update, objects carrying one of these (`<group>/ssa: IfNotPresent`).
    pub if_not_present_selector: BTreeMap<String, String>,
    pub cleanup: CleanupOptions,
    /// Poll interval while waiting for CRDs/Namespaces of the first stage and for recreated
    /// objects to go away.
    pub wait_interval: Duration,
    pub wait_timeout: Duration,
    /// Fields left to others on existing objects (the Kustomization's `spec.ignore`).
    pub ignore: crate::ignore::IgnoreRules,
}

impl ApplyOptions {
    /// Flux's options for an applier in API group `group` (`kustomize.toolkit.fluxcd.io`)
    /// whose controller is `controller` (`kustomize-controller`).
    pub fn flux_defaults(group: &str, controller: &str) -> Self {
        let sel = |k: &str, v: &str| (format!("{group}/{k}"), v.to_string());
        Self {
            force: false,
            force_selector: BTreeMap::from([sel("force", "enabled")]),
            exclusions: BTreeMap::from([sel("reconcile", "disabled"), sel("ssa", "ignore")]),
            if_not_present_selector: BTreeMap::from([sel("ssa", "ifnotpresent")]),
            cleanup: CleanupOptions {
                annotations: vec![
                    "kubectl.kubernetes.io/last-applied-configuration".into(),
                    "fluxcd.io/sync-checksum".into(),
                    "fluxcd.io/sync-gc-mark".into(),
                ],
                labels: vec!["fluxcd.io/sync-gc-mark".into()],
                field_managers: vec![
                    // `kubectl apply --server-side --force-conflicts`
                    FieldManager::prefix("kubectl", ManagedFieldsOperation::Apply),
                    // `kubectl apply`, `kubectl edit`, `kubectl scale`, `kubectl patch`, …
                    FieldManager::prefix("kubectl", ManagedFieldsOperation::Update),
                    // client-side apply migrated to server-side apply
                    FieldManager::prefix("before-first-apply", ManagedFieldsOperation::Update),
                    // the controller itself before it used server-side apply
                    FieldManager::prefix(controller, ManagedFieldsOperation::Update),
                ],
                exclusions: BTreeMap::from([sel("ssa", "merge")]),
            },
            wait_interval: Duration::from_secs(2),
            wait_timeout: Duration::from_secs(60),
            ignore: Default::default(),
        }
    }
}

impl Default for ApplyOptions {
    /// kustomize-controller's defaults.
    fn default() -> Self {
        Self::flux_defaults("kustomize.toolkit.fluxcd.io", "kustomize-controller")
    }
}

/// How to prune (Flux's `DeleteOptions`).
#[derive(Clone, Debug)]
pub struct DeleteOptions {
    pub propagation_policy: PropagationPolicy,
    /// Delete only objects carrying all of these labels (the owner's labels).
    pub inclusions: BTreeMap<String, String>,
    /// Never delete objects carrying any of these (`<group>/prune: disabled`).
    pub exclusions: BTreeMap<String, String>,
}

impl DeleteOptions {
    /// Flux's prune options for an owner: background propagation, only objects with the
    /// owner's labels, never objects marked `<group>/prune: disabled`.
    pub fn for_owner(owner: &Owner) -> Self {
        Self {
            propagation_policy: PropagationPolicy::Background,
            inclusions: owner.labels(),
            exclusions: BTreeMap::from([(format!("{}/prune", owner.group), "disabled".into())]),
        }
    }
}

/// One object of [`ResourceManager::diff_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffEntry {
    pub object: ObjMetadata,
    pub version: String,
    pub action: Action,
    /// JSON pointers (`/spec/replicas`, `/metadata/labels/app`) where the live object differs.
    pub paths: Vec<String>,
}

/// A status rule that replaces kstatus for the objects it returns `Some` for.
pub type CustomStatus<'a> = &'a (dyn Fn(&Value) -> Option<status::Result> + Send + Sync);

/// How to wait for health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    pub interval: Duration,
    pub timeout: Duration,
    /// Stop as soon as an object is Failed instead of waiting for the timeout.
    pub fail_fast: bool,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(300),
            fail_fast: false,
        }
    }
}

/// Applies, prunes and waits for objects as one owner with one field manager.
#[derive(Clone)]
pub struct ResourceManager {
    client: Client,
    field_manager: String,
    owner: Owner,
    discovery_cache: DiscoveryCache,
}

impl std::fmt::Debug for ResourceManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceManager")
            .field("field_manager", &self.field_manager)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// One object ready to be applied.
#[derive(Clone)]
struct Desired {
    obj: Value,
    meta: ObjMetadata,
    api_version: String,
}

/// A validated object: what to do with it and the API to do it with.
type Planned = (Desired, Plan, Api<DynamicObject>);

/// What the first stage will create: Namespaces and the kinds of its CRDs. Until it is
/// applied, objects in those namespaces or of those kinds cannot be validated.
#[derive(Default)]
struct Pending {
    namespaces: Vec<String>,
    kinds: Vec<(String, String)>,
}

impl Pending {
    fn of(definitions: &[Desired]) -> Self {
        let mut p = Pending::default();
        for d in definitions {
            match d.meta.kind.as_str() {
                "Namespace" => p.namespaces.push(d.meta.name.clone()),
                "CustomResourceDefinition" => p.kinds.push((
                    str_at(&d.obj, &["spec", "group"]).to_string(),
                    str_at(&d.obj, &["spec", "names", "kind"]).to_string(),
                )),
                _ => {}
            }
        }
        p
    }

    fn explains(&self, e: &Error) -> bool {
        match e {
            Error::UnknownKind {
                kind, api_version, ..
            } => {
                let group = crate::object::group_of(api_version);
                self.kinds.iter().any(|(g, k)| g == group && k == kind)
            }
            Error::DryRun(msgs) => msgs.iter().all(|m| {
                self.namespaces
                    .iter()
                    .any(|ns| m.contains(&format!("namespaces \"{ns}\" not found")))
            }),
            _ => false,
        }
    }
}

/// What the validation pass decided for one object.
enum Plan {
    Skip,
    Unchanged,
    /// Apply for real; `cleanup` is a merge patch to run first; `drift` lists the JSON
    /// pointers where the live object differs from what the apply would make of it.
    Apply {
        action: Action,
        cleanup: Option<Value>,
        drift: Vec<String>,
    },
    /// Delete and create again (immutable field changed, force enabled).
    Recreate,
}

/// Why planning failed: a kind the server no longer serves at the cached path is worth one
/// more discovery.
enum PlanError {
    StaleKind(Error),
    Other(Error),
}

impl From<Error> for PlanError {
    fn from(e: Error) -> Self {
        PlanError::Other(e)
    }
}

/// The stage an object is applied in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// CRDs, Namespaces and ClusterRoles, waited for before anything else.
    Definitions,
    /// Cluster-wide "class" kinds (StorageClass, IngressClass, PriorityClass, …).
    Classes,
    Rest,
}

fn stage_of(meta: &ObjMetadata) -> Stage {
    match (meta.group.as_str(), meta.kind.as_str()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition")
        | ("", "Namespace")
        | ("rbac.authorization.k8s.io", "ClusterRole") => Stage::Definitions,
        (_, kind) if kind.ends_with("Class") => Stage::Classes,
        _ => Stage::Rest,
    }
}

/// Parses objects, labels them with the owner, strips server-owned metadata and sorts them
/// in apply order; refuses two objects with one identity.
fn prepare(objects: Vec<Value>, owner: &Owner) -> Result<Vec<Desired>> {
    let labels = owner.labels();
    let mut out = Vec::with_capacity(objects.len());
    for mut obj in objects {
        let meta = ObjMetadata::from_object(&obj)?;
        let api_version = str_at(&obj, &["apiVersion"]).to_string();
        let Some(metadata) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(Error::InvalidObject(format!(
                "{} has no metadata object",
                meta.subject()
            )));
        };
        for field in [
            "managedFields",
            "resourceVersion",
            "uid",
            "selfLink",
            "creationTimestamp",
            "generation",
        ] {
            metadata.remove(field);
        }
        let obj_labels = metadata
            .entry("labels")
            .or_insert_with(|| Value::Object(Default::default()));
        if !obj_labels.is_object() {
            *obj_labels = Value::Object(Default::default());
        }
        if let Some(map) = obj_labels.as_object_mut() {
            for (k, v) in &labels {
                map.insert(k.clone(), Value::String(v.clone()));
            }
        }
        out.push(Desired {
            obj,
            meta,
            api_version,
        });
    }
    out.sort_by(|a, b| sort_key(&a.meta).cmp(&sort_key(&b.meta)));
    // Two objects with one identity would fight each other; refuse like kustomize does.
    for pair in out.windows(2) {
        if pair[0].meta == pair[1].meta {
            return Err(Error::InvalidObject(format!(
                "{} appears more than once",
                pair[0].meta.subject()
            )));
        }
    }
    Ok(out)
}

/// kustomize's legacy kind order, which Flux applies in: dependencies first, webhooks last.
const KIND_ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const KIND_ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// How many objects of a stage are validated at once.
const VALIDATION_CONCURRENCY: usize = 8;
/// How many objects of one kind are written at once.
const WRITE_CONCURRENCY: usize = 8;

fn kind_rank(kind: &str) -> usize {
    if let Some(i) = KIND_ORDER_FIRST.iter().position(|k| *k == kind) {
        return i;
    }
    if let Some(i) = KIND_ORDER_LAST.iter().position(|k| *k == kind) {
        return KIND_ORDER_FIRST.len() + 1 + i;
    }
    KIND_ORDER_FIRST.len()
}

fn sort_key(m: &ObjMetadata) -> (usize, &str, &str, &str, &str) {
    (
        kind_rank(&m.kind),
        m.kind.as_str(),
        m.group.as_str(),
        m.namespace.as_str(),
        m.name.as_str(),
    )
}

impl ResourceManager {
    /// A manager applying with `field_manager` (e.g. `kustomize-controller`) on behalf of
    /// `owner`.
    pub fn new(client: Client, field_manager: &str, owner: Owner) -> Self {
        Self {
            client,
            field_manager: field_manager.to_string(),
            owner,
            discovery_cache: DiscoveryCache::default(),
        }
    }

    /// Shares a discovery cache with other managers of the same cluster, so kinds are not
    /// discovered again on every run (they are when the server stops serving one). Without
    /// it, a manager discovers each kind once in its own lifetime: create one manager per
    /// reconcile and apply, prune and wait all reuse what the apply discovered.
    pub fn with_discovery_cache(mut self, cache: DiscoveryCache) -> Self {
        self.discovery_cache = cache;
        self
    }

    fn discovery(&self) -> Discovery {
        Discovery::new(self.client.clone(), self.discovery_cache.clone())
    }

    /// The owner objects are labelled with.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// Flux's apply options for this manager's owner group and field manager.
    pub fn default_apply_options(&self) -> ApplyOptions {
        ApplyOptions::flux_defaults(&self.owner.group, &self.field_manager)
    }

    /// Flux's prune options for this manager's owner.
    pub fn default_delete_options(&self) -> DeleteOptions {
        DeleteOptions::for_owner(&self.owner)
    }

    /// Applies objects in Flux's stages: CRDs and Namespaces first (then waits until they are
    /// established/active), then class-like cluster objects, then the rest. Every object is
    /// validated by a server-side dry run before anything is written, so an invalid object
    /// leaves the cluster untouched. The exceptions are objects that cannot be validated before
    /// the first stage exists (in a Namespace or of a CRD kind that the set creates): they are
    /// validated after the first stage is applied, and before their own stage is written.
    /// Returns what happened to every object, in apply order.
    pub async fn apply_all_staged(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet> {
        let desired = self.prepare(objects)?;
        let discovery = self.discovery();
        let mut stages: BTreeMap<Stage, Vec<Desired>> = BTreeMap::new();
        for d in desired {
            stages.entry(stage_of(&d.meta)).or_default().push(d);
        }
        // Validate every stage before writing anything, so a bad object anywhere leaves the
        // cluster untouched. Objects that cannot be validated until the first stage exists
        // (in a Namespace or of a kind that stage creates) are validated again after it.
        let pending = Pending::of(stages.get(&Stage::Definitions).map_or(&[][..], |v| v));
        let mut validated = Vec::with_capacity(stages.len());
        let mut errors = Vec::new();
        for (stage, objs) in &stages {
            match self
                .validate_stage(objs.clone(), opts, &discovery, false, &pending)
                .await
            {
                Ok((plans, deferred)) => validated.push((*stage, plans, deferred)),
                Err(Error::DryRun(e)) => errors.extend(e),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(Error::DryRun(errors));
        }

        let mut cs = ChangeSet::default();
        let mut wrote_definitions = false;
        let mut applied_crds = false;
        for ((stage, plans, deferred), objs) in validated.into_iter().zip(stages.into_values()) {
            let plans = if deferred || wrote_definitions {
                self.validate_stage(objs, opts, &discovery, applied_crds, &Pending::default())
                    .await?
                    .0
            } else {
                plans
            };
            let stage_cs = self.execute_stage(plans, opts).await?;
            if stage == Stage::Definitions {
                wrote_definitions = stage_cs
                    .entries
                    .iter()
                    .any(|e| matches!(e.action, Action::Created | Action::Configured));
                applied_crds = stage_cs.entries.iter().any(|e| {
                    e.object.kind == "CustomResourceDefinition" && e.action != Action::Skipped
                });
                let wait: Vec<ObjMetadata> = stage_cs
                    .entries
                    .iter()
                    .filter(|e| e.action != Action::Skipped)
                    .map(|e| e.object.clone())
                    .collect();
                self.wait_with(
                    &discovery,
                    &wait,
                    WaitOptions {
                        interval: opts.wait_interval.min(Duration::from_millis(500)),
                        timeout: opts.wait_timeout,
                        fail_fast: true,
                    },
                )
                .await?;
            }
            cs.append(stage_cs);
        }
        Ok(cs)
    }

    /// Applies objects as one stage (dry run of all, then writes), without staging or waiting.
    pub async fn apply_all(&self, objects: Vec<Value>, opts: &ApplyOptions) -> Result<ChangeSet> {
        let desired = self.prepare(objects)?;
        let discovery = self.discovery();
        let (plans, _) = self
            .validate_stage(desired, opts, &discovery, false, &Pending::default())
            .await?;
        self.execute_stage(plans, opts).await
    }

    fn prepare(&self, objects: Vec<Value>) -> Result<Vec<Desired>> {
        prepare(objects, &self.owner)
    }

    /// What applying `objects` would change, without writing anything (drift detection):
    /// per object `Created` (absent), `Configured` (with the JSON pointers that differ; empty
    /// when only field managers or cleanup metadata would change, or for a forced recreate),
    /// `Unchanged` or `Skipped`. Objects that need a Namespace or CRD of the set that does not
    /// exist yet count as `Created`.
    pub async fn diff_all(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<Vec<DiffEntry>> {
        let desired = self.prepare(objects)?;
        let discovery = self.discovery();
        let definitions: Vec<Desired> = desired
            .iter()
            .filter(|d| stage_of(&d.meta) == Stage::Definitions)
            .cloned()
            .collect();
        let pending = Pending::of(&definitions);
        let results: Vec<_> = futures::stream::iter(desired)
            .map(|d| async {
                let meta = d.meta.clone();
                let version = version_of(&d.api_version).to_string();
                (meta, version, self.plan(d, opts, &discovery, false).await)
            })
            .buffered(VALIDATION_CONCURRENCY)
            .collect()
            .await;
        let mut out = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for (meta, version, r) in results {
            let (object, action, paths) = match r {
                Ok((d, Plan::Apply { action, drift, .. }, _)) => (d.meta, action, drift),
                Ok((d, Plan::Recreate, _)) => (d.meta, Action::Configured, Vec::new()),
                Ok((d, Plan::Unchanged, _)) => (d.meta, Action::Unchanged, Vec::new()),
                Ok((d, Plan::Skip, _)) => (d.meta, Action::Skipped, Vec::new()),
                Err(e) if pending.explains(&e) => (meta, Action::Created, Vec::new()),
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            };
            out.push(DiffEntry {
                object,
                version,
                action,
                paths,
            });
        }
        if !errors.is_empty() {
            return Err(Error::DryRun(errors));
        }
        Ok(out)
    }

    fn api_for(&self, resolved: &Resolved, namespace: &str) -> Api<DynamicObject> {
        let (ar, caps) = resolved;
        if is_namespaced(caps) {
            Api::namespaced_with(self.client.clone(), namespace, ar)
        } else {
            Api::all_with(self.client.clone(), ar)
        }
    }

    async fn resolve_desired(
        &self,
        d: &Desired,
        discovery: &Discovery,
        retry_unknown: bool,
    ) -> Result<Resolved> {
        let version = version_of(&d.api_version);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match discovery
                .resolve(&d.meta.group, version, &d.meta.kind)
                .await
            {
                Ok(Lookup::Found(r)) => return Ok(r),
                // Right after a CRD is established its kind can take a moment to appear.
                Ok(Lookup::Unknown) if retry_unknown && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(Lookup::Unknown) => {
                    return Err(Error::UnknownKind {
                        subject: d.meta.subject(),
                        kind: d.meta.kind.clone(),
                        api_version: d.api_version.clone(),
                    });
                }
                Err(e) => {
                    return Err(Error::Discovery {
                        subject: d.meta.subject(),
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// Validates one stage with dry runs (concurrently; reads only). Errors that only mean
    /// "the first stage is not applied yet" (`pending`) are tolerated: the returned flag says
    /// the stage must be validated again once it is.
    async fn validate_stage(
        &self,
        objs: Vec<Desired>,
        opts: &ApplyOptions,
        discovery: &Discovery,
        retry_unknown: bool,
        pending: &Pending,
    ) -> Result<(Vec<Planned>, bool)> {
        let results: Vec<_> = futures::stream::iter(objs)
            .map(|d| self.plan(d, opts, discovery, retry_unknown))
            .buffered(VALIDATION_CONCURRENCY)
            .collect()
            .await;
        let mut plans = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        let mut deferred = false;
        for r in results {
            match r {
                Ok(p) => plans.push(p),
                Err(e) if pending.explains(&e) => deferred = true,
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(Error::DryRun(errors));
        }
        Ok((plans, deferred))
    }

    /// Writes a validated stage: cleanup patches, applies and recreations, in order.
    async fn execute_stage(&self, plans: Vec<Planned>, opts: &ApplyOptions) -> Result<ChangeSet> {
        // Kinds go in apply order (ServiceAccounts before Deployments, …); objects of one kind
        // do not depend on each other and are written concurrently.
        let mut groups: Vec<Vec<Planned>> = Vec::new();
        for p in plans {
            match groups.last_mut() {
                Some(g)
                    if g[0].0.meta.kind == p.0.meta.kind && g[0].0.meta.group == p.0.meta.group =>
                {
                    g.push(p)
                }
                _ => groups.push(vec![p]),
            }
        }
        let mut cs = ChangeSet::default();
        for group in groups {
            let results: Vec<Result<ChangeSetEntry>> = futures::stream::iter(group)
                .map(|(d, plan, api)| self.execute_one(d, plan, api, opts))
                .buffered(WRITE_CONCURRENCY)
                .collect()
                .await;
            for r in results {
                cs.entries.push(r?);
            }
        }
        Ok(cs)
    }

    async fn execute_one(
        &self,
        d: Desired,
        plan: Plan,
        api: Api<DynamicObject>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSetEntry> {
        let action = match plan {
            Plan::Skip => Action::Skipped,
            Plan::Unchanged => Action::Unchanged,
            Plan::Apply {
                action, cleanup, ..
            } => {
                if let Some(patch) = cleanup {
                    self.patch_cleanup(&api, &d.meta, patch).await?;
                }
                self.apply_one(&api, &d).await?;
                action
            }
            Plan::Recreate => {
                self.recreate(&api, &d, opts).await?;
                Action::Created
            }
        };
        tracing::debug!(object = %d.meta.subject(), %action, "server-side apply");
        Ok(ChangeSetEntry {
            version: version_of(&d.api_version).to_string(),
            object: d.meta,
            action,
        })
    }

    /// Decides what to do with one object: skip, unchanged, apply (with cleanup) or recreate.
    /// Writes nothing.
    async fn plan(
        &self,
        mut d: Desired,
        opts: &ApplyOptions,
        discovery: &Discovery,
        retry_unknown: bool,
    ) -> Result<(Desired, Plan, Api<DynamicObject>)> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let resolved = self.resolve_desired(&d, discovery, retry_unknown).await?;
            if is_namespaced(&resolved.1) {
                if d.meta.namespace.is_empty() {
                    return Err(Error::NamespaceNotSpecified(d.meta.subject()));
                }
            } else if !d.meta.namespace.is_empty() {
                // A namespace on a cluster-scoped object (kustomize sets one on unknown kinds)
                // means nothing to the API server; drop it so ids and subjects name the real
                // object.
                d.meta.namespace.clear();
                if let Some(m) = d.obj.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("namespace");
                }
            }
            match self.plan_resolved(&mut d, &resolved, opts).await {
                Err(PlanError::StaleKind(_)) if attempts == 1 => {
                    // A shared discovery cache outlived the kind (its CRD was deleted or
                    // changed versions): forget it and resolve again.
                    discovery
                        .invalidate(&d.meta.group, version_of(&d.api_version), &d.meta.kind)
                        .await;
                }
                Err(PlanError::StaleKind(e) | PlanError::Other(e)) => return Err(e),
                Ok((plan, api)) => return Ok((d, plan, api)),
            }
        }
    }

    async fn plan_resolved(
        &self,
        d: &mut Desired,
        resolved: &Resolved,
        opts: &ApplyOptions,
    ) -> Result<(Plan, Api<DynamicObject>), PlanError> {
        let subject = d.meta.subject();
        let api = self.api_for(resolved, &d.meta.namespace);
        // Dry run first where its answer alone can settle the plan: the result has no
        // resourceVersion exactly when the object does not exist, and a create needs no read
        // (one request less per new object). An existing object, or a failed dry run, is read
        // and planned as below. `ssa: IfNotPresent`, exclusions and ignore rules need the live
        // object before the dry run.
        let early_dry = if opts.ignore.is_empty()
            && !any_in_metadata(&d.obj, &opts.if_not_present_selector)
            && !any_in_metadata(&d.obj, &opts.exclusions)
        {
            let dry = api
                .patch(
                    &d.meta.name,
                    &self.apply_params().dry_run(),
                    &Patch::Apply(&d.obj),
                )
                .await;
            if let Ok(o) = &dry
                && o.metadata
                    .resource_version
                    .as_deref()
                    .unwrap_or_default()
                    .is_empty()
            {
                return Ok((
                    Plan::Apply {
                        action: Action::Created,
                        cleanup: None,
                        drift: Vec::new(),
                    },
                    api,
                ));
            }
            Some(dry)
        } else {
            None
        };
        let existing = match api.get_opt(&d.meta.name).await {
            Ok(o) => o.map(to_value).transpose()?,
            Err(e) => {
                let err = Error::Query {
                    subject: subject.clone(),
                    message: api_message(&e),
                };
                return Err(if is_resource_not_served(&e) {
                    PlanError::StaleKind(err)
                } else {
                    PlanError::Other(err)
                });
            }
        };

        let skip = match &existing {
            Some(live) => {
                any_in_metadata(live, &opts.if_not_present_selector)
                    || any_in_metadata(&d.obj, &opts.if_not_present_selector)
                    || any_in_metadata(live, &opts.exclusions)
                    || any_in_metadata(&d.obj, &opts.exclusions)
            }
            None => any_in_metadata(&d.obj, &opts.exclusions),
        };
        if skip {
            return Ok((Plan::Skip, api));
        }
        // Ignored fields of an existing object keep their live values (or go to their other
        // applier) before the dry run, and do not count as drift after it. A recreate has no
        // live object to keep values from: it creates the source's object whole.
        let mut source_obj = None;
        let ignored = match &existing {
            Some(live) if !opts.ignore.is_empty() => {
                let paths = opts.ignore.paths_for(&d.obj);
                if !paths.is_empty() {
                    source_obj = Some(d.obj.clone());
                    crate::ignore::reshape(&mut d.obj, live, &paths, &self.field_manager);
                }
                paths
            }
            _ => Vec::new(),
        };

        let dry = match early_dry {
            Some(dry) => dry,
            None => {
                api.patch(
                    &d.meta.name,
                    &self.apply_params().dry_run(),
                    &Patch::Apply(&d.obj),
                )
                .await
            }
        };
        let dry = match dry {
            Ok(obj) => to_value(obj)?,
            Err(e) => {
                let force = opts.force || any_in_metadata(&d.obj, &opts.force_selector);
                if existing.is_some() && force && is_immutable_error(&e) {
                    if let Some(obj) = source_obj {
                        d.obj = obj;
                    }
                    return Ok((Plan::Recreate, api));
                }
                let err = Error::DryRun(vec![dry_run_message(&subject, &e)]);
                return Err(if is_resource_not_served(&e) {
                    PlanError::StaleKind(err)
                } else {
                    PlanError::Other(err)
                });
            }
        };
        let Some(live) = existing else {
            return Ok((
                Plan::Apply {
                    action: Action::Created,
                    cleanup: None,
                    drift: Vec::new(),
                },
                api,
            ));
        };
        let (live, dry) = self.settle(&api, d, live, dry).await?;
        let cleanup = if any_in_metadata(&live, &opts.cleanup.exclusions)
            || any_in_metadata(&d.obj, &opts.cleanup.exclusions)
        {
            None
        } else {
            cleanup_patch(&live, &d.obj, &self.field_manager, &opts.cleanup)
        };
        let (live, dry) = if ignored.is_empty() {
            (live, dry)
        } else {
            (
                crate::ignore::without(&live, &ignored),
                crate::ignore::without(&dry, &ignored),
            )
        };
        if cleanup.is_none() && !has_drifted(&live, &dry) {
            return Ok((Plan::Unchanged, api));
        }
        Ok((
            Plan::Apply {
                action: Action::Configured,
                drift: drift_paths(&live, &dry),
                cleanup,
            },
            api,
        ))
    }

    /// Makes the live object and the dry-run result describe one version of the object.
    /// A controller writing it between our read and the dry run (the deployment controller's
    /// revision annotation right after a create) would otherwise look like drift.
    async fn settle(
        &self,
        api: &Api<DynamicObject>,
        d: &Desired,
        mut live: Value,
        mut dry: Value,
    ) -> Result<(Value, Value), PlanError> {
        let rv = |v: &Value| str_at(v, &["metadata", "resourceVersion"]).to_string();
        let subject = d.meta.subject();
        for _ in 0..3 {
            if rv(&live) == rv(&dry) {
                break;
            }
            match api.get_opt(&d.meta.name).await {
                Ok(Some(o)) => live = to_value(o)?,
                // Deleted meanwhile: keep the old pair; the apply recreates it.
                Ok(None) => break,
                Err(e) => {
                    return Err(PlanError::Other(Error::Query {
                        subject,
                        message: api_message(&e),
                    }));
                }
            }
            if rv(&live) == rv(&dry) {
                break;
            }
            dry = api
                .patch(
                    &d.meta.name,
                    &self.apply_params().dry_run(),
                    &Patch::Apply(&d.obj),
                )
                .await
                .map_err(|e| PlanError::Other(Error::DryRun(vec![dry_run_message(&subject, &e)])))
                .and_then(|o| to_value(o).map_err(PlanError::Other))?;
        }
        Ok((live, dry))
    }

    fn apply_params(&self) -> PatchParams {
        PatchParams::apply(&self.field_manager).force()
    }

    async fn apply_one(&self, api: &Api<DynamicObject>, d: &Desired) -> Result<()> {
        api.patch(&d.meta.name, &self.apply_params(), &Patch::Apply(&d.obj))
            .await
            .map_err(|e| Error::Apply {
                subject: d.meta.subject(),
                message: api_message(&e),
            })?;
        Ok(())
    }

    async fn patch_cleanup(
        &self,
        api: &Api<DynamicObject>,
        meta: &ObjMetadata,
        patch: Value,
    ) -> Result<()> {
        let cleanup_err = |message: String| Error::Cleanup {
            subject: meta.subject(),
            message,
        };
        api.patch(&meta.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| cleanup_err(api_message(&e)))?;
        Ok(())
    }

    /// Deletes the live object, waits until it is gone, then applies the desired one.
    async fn recreate(
        &self,
        api: &Api<DynamicObject>,
        d: &Desired,
        opts: &ApplyOptions,
    ) -> Result<()> {
        let subject = d.meta.subject();
        match api.delete(&d.meta.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                return Err(Error::Apply {
                    subject,
                    message: format!("delete before recreate failed: {}", api_message(&e)),
                });
            }
        }
        let deadline = Instant::now() + opts.wait_timeout;
        loop {
            match api.get_opt(&d.meta.name).await {
                Ok(None) => break,
                Ok(Some(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Ok(Some(_)) => {
                    return Err(Error::Apply {
                        subject,
                        message: format!(
                            "timeout waiting for the old object to be deleted before recreate after {:?}",
                            opts.wait_timeout
                        ),
                    });
                }
                Err(e) => {
                    return Err(Error::Query {
                        subject,
                        message: api_message(&e),
                    });
                }
            }
        }
        self.apply_one(api, d).await
    }

    /// Prunes objects: each is deleted (with `opts.propagation_policy`) unless it lacks the
    /// inclusion labels (not ours) or carries an exclusion (`prune: disabled`), in which case it
    /// is `Skipped`. Objects already gone, or whose kind is no longer served, count as
    /// `Deleted`. Deletion goes on past failures; the error lists every failure.
    pub async fn delete_all(
        &self,
        objects: &[ObjMetadata],
        opts: &DeleteOptions,
    ) -> Result<ChangeSet> {
        let discovery = self.discovery();
        let mut cs = ChangeSet::default();
        let mut errors = Vec::new();
        let mut sorted: Vec<&ObjMetadata> = objects.iter().collect();
        // Reverse apply order: workloads before their namespaces and CRDs.
        sorted.sort_by(|a, b| sort_key(b).cmp(&sort_key(a)));
        for meta in sorted {
            match self.delete_one(meta, opts, &discovery).await {
                Ok((action, version)) => cs.entries.push(ChangeSetEntry {
                    object: meta.clone(),
                    version,
                    action,
                }),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(cs)
        } else {
            Err(Error::Delete(errors))
        }
    }

    async fn delete_one(
        &self,
        meta: &ObjMetadata,
        opts: &DeleteOptions,
        discovery: &Discovery,
    ) -> std::result::Result<(Action, String), String> {
        let subject = meta.subject();
        let resolved = match discovery.resolve_gk(&meta.group, &meta.kind).await {
            Ok(Lookup::Found(r)) => r,
            Ok(Lookup::Unknown) => return Ok((Action::Deleted, String::new())),
            Err(e) => return Err(format!("{subject} discovery failed: {}", api_message(&e))),
        };
        let version = resolved.0.version.clone();
        let api = self.api_for(&resolved, &meta.namespace);
        let live = match api.get_opt(&meta.name).await {
            Ok(Some(o)) => to_value(o).map_err(|e| e.to_string())?,
            Ok(None) => return Ok((Action::Deleted, version)),
            Err(e) if is_resource_not_served(&e) => {
                // The kind went away (its CRD was deleted), and its objects with it.
                discovery
                    .invalidate(&meta.group, &version, &meta.kind)
                    .await;
                return Ok((Action::Deleted, version));
            }
            Err(e) => return Err(format!("{subject} query failed: {}", api_message(&e))),
        };
        let labels = live.pointer("/metadata/labels");
        let included = opts.inclusions.iter().all(|(k, v)| {
            labels
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                .is_some_and(|actual| actual == v)
        });
        if !included || any_in_metadata(&live, &opts.exclusions) {
            return Ok((Action::Skipped, version));
        }
        let dp = DeleteParams {
            propagation_policy: Some(opts.propagation_policy.clone()),
            ..DeleteParams::default()
        };
        match api.delete(&meta.name, &dp).await {
            Ok(_) => Ok((Action::Deleted, version)),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok((Action::Deleted, version)),
            Err(e) => Err(format!("{subject} delete failed: {}", api_message(&e))),
        }
    }

    /// Waits until every object is Current by the [`status`] rules. On timeout the error
    /// lists the objects that are not, with their status and message:
    /// `timeout waiting for: [Deployment/app/podinfo status: 'InProgress': Ready: 0/1]`.
    /// With `fail_fast`, a Failed object ends the wait at once
    /// (`failed early due to stalled resources: [...]`).
    pub async fn wait_for_set(&self, objects: &[ObjMetadata], opts: WaitOptions) -> Result<()> {
        let discovery = self.discovery();
        self.wait_with(&discovery, objects, opts).await
    }

    /// [`ResourceManager::wait_for_set`] with a status rule that replaces kstatus for the
    /// objects it returns `Some` for (the CEL `healthCheckExprs` of custom kinds).
    pub async fn wait_for_set_with(
        &self,
        objects: &[ObjMetadata],
        opts: WaitOptions,
        custom: CustomStatus<'_>,
    ) -> Result<()> {
        let discovery = self.discovery();
        self.wait_custom(&discovery, objects, opts, Some(custom))
            .await
    }

    async fn wait_with(
        &self,
        discovery: &Discovery,
        objects: &[ObjMetadata],
        opts: WaitOptions,
    ) -> Result<()> {
        self.wait_custom(discovery, objects, opts, None).await
    }

    async fn wait_custom(
        &self,
        discovery: &Discovery,
        objects: &[ObjMetadata],
        opts: WaitOptions,
        custom: Option<CustomStatus<'_>>,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            let results = futures::future::join_all(
                objects
                    .iter()
                    .map(|m| self.status_of_custom(discovery, m, custom)),
            )
            .await;
            let pending: Vec<(&ObjMetadata, status::Result)> = objects
                .iter()
                .zip(results)
                .filter(|(_, r)| r.status != Status::Current)
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            let list = |items: &[(&ObjMetadata, status::Result)]| {
                items
                    .iter()
                    .map(|(m, r)| {
                        if r.message.is_empty() {
                            format!("{} status: '{}'", m.subject(), r.status)
                        } else {
                            format!("{} status: '{}': {}", m.subject(), r.status, r.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if opts.fail_fast {
                let failed: Vec<_> = pending
                    .iter()
                    .filter(|(_, r)| r.status == Status::Failed)
                    .cloned()
                    .collect();
                if !failed.is_empty() {
                    return Err(Error::Stalled(format!(
                        "failed early due to stalled resources: [{}]",
                        list(&failed)
                    )));
                }
            }
            if start.elapsed() >= opts.timeout {
                return Err(Error::Timeout(format!(
                    "timeout waiting for: [{}]",
                    list(&pending)
                )));
            }
            let left = opts.timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(opts.interval.min(left).max(Duration::from_millis(10))).await;
        }
    }

    async fn status_of(&self, discovery: &Discovery, meta: &ObjMetadata) -> status::Result {
        self.status_of_custom(discovery, meta, None).await
    }

    async fn status_of_custom(
        &self,
        discovery: &Discovery,
        meta: &ObjMetadata,
        custom: Option<CustomStatus<'_>>,
    ) -> status::Result {
        let unknown = |message: String| status::Result {
            status: Status::Unknown,
            message,
        };
        let resolved = match discovery.resolve_gk(&meta.group, &meta.kind).await {
            Ok(Lookup::Found(r)) => r,
            Ok(Lookup::Unknown) => {
                return unknown(format!(
                    "no matches for kind \"{}\" in group \"{}\"",
                    meta.kind, meta.group
                ));
            }
            Err(e) => return unknown(api_message(&e)),
        };
        let api = self.api_for(&resolved, &meta.namespace);
        match api.get_opt(&meta.name).await {
            Ok(Some(o)) => match to_value(o) {
                Ok(v) => custom
                    .and_then(|f| f(&v))
                    .unwrap_or_else(|| status::compute(&v)),
                Err(e) => unknown(e.to_string()),
            },
            Ok(None) => status::Result {
                status: Status::NotFound,
                message: "Resource not found".into(),
            },
            Err(e) if is_resource_not_served(&e) => {
                discovery
                    .invalidate(&meta.group, &resolved.0.version, &meta.kind)
                    .await;
                status::Result {
                    status: Status::NotFound,
                    message: format!("kind {} is no longer served", meta.kind),
                }
            }
            Err(e) => unknown(api_message(&e)),
        }
    }

    /// Waits until every object is gone (after [`ResourceManager::delete_all`]).
    pub async fn wait_for_termination(
        &self,
        objects: &[ObjMetadata],
        opts: WaitOptions,
    ) -> Result<()> {
        let discovery = self.discovery();
        let start = Instant::now();
        loop {
            let results =
                futures::future::join_all(objects.iter().map(|m| self.status_of(&discovery, m)))
                    .await;
            let remaining: Vec<String> = objects
                .iter()
                .zip(results)
                .filter(|(_, r)| r.status != Status::NotFound)
                .map(|(m, _)| m.subject())
                .collect();
            if remaining.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= opts.timeout {
                return Err(Error::Timeout(format!(
                    "timeout waiting for termination of: [{}]",
                    remaining.join(", ")
                )));
            }
            let left = opts.timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(opts.interval.min(left).max(Duration::from_millis(10))).await;
        }
    }
}

fn to_value(obj: DynamicObject) -> Result<Value> {
    serde_json::to_value(obj).map_err(|e| Error::InvalidObject(e.to_string()))
}

/// The API server's message for an error (its Status message when there is one).
fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

/// Flux's validation error: `Deployment/app/podinfo dry-run failed (Invalid): <message>`.
fn dry_run_message(subject: &str, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.reason.is_empty() => {
            format!("{subject} dry-run failed ({}): {}", s.reason, s.message)
        }
        other => format!("{subject} dry-run failed: {}", api_message(other)),
    }
}

/// A 404 for the resource path itself (not for a missing namespace or object, which an apply
/// would not report anyway): the kind is not served there.
fn is_resource_not_served(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404
        && (s.message == "the server could not find the requested resource"
            || s.message.contains("404 page not found")))
}

/// Whether a failed apply was refused because it changes an immutable field (the only case
/// where deleting and recreating the object can help).
fn is_immutable_error(e: &kube::Error) -> bool {
    let kube::Error::Api(s) = e else {
        return false;
    };
    let m = s.message.to_ascii_lowercase();
    // CEL rules and admission webhooks refuse with their own codes but say so.
    if m.contains("is immutable") || m.contains("immutable field") {
        return true;
    }
    // Unlike Flux, not every Invalid: recreating an object the server would refuse anyway
    // only deletes it.
    if s.code != 422 && s.code != 409 && s.reason != "Invalid" {
        return false;
    }
    [
        "immutable",
        "may not change",
        "cannot change",
        "are forbidden",
        "cannot be changed",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// The object without what the server changes on every write (metadata other than labels
/// and annotations, status), to compare a dry-run result with the live object.
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    v
}

fn has_drifted(live: &Value, dry: &Value) -> bool {
    let meta = |v: &Value, f: &str| v.pointer(&format!("/metadata/{f}")).cloned();
    let empty_to_none =
        |v: Option<Value>| v.filter(|m| m.as_object().is_some_and(|o| !o.is_empty()));
    empty_to_none(meta(live, "labels")) != empty_to_none(meta(dry, "labels"))
        || empty_to_none(meta(live, "annotations")) != empty_to_none(meta(dry, "annotations"))
        || comparable(live) != comparable(dry)
}

/// The JSON pointers where `dry` (what an apply would make) differs from `live`: labels,
/// annotations and everything outside `metadata` and `status`.
fn drift_paths(live: &Value, dry: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for field in ["labels", "annotations"] {
        let pointer = format!("/metadata/{field}");
        let empty = Value::Object(Default::default());
        json_diff(
            live.pointer(&pointer).unwrap_or(&empty),
            dry.pointer(&pointer).unwrap_or(&empty),
            &pointer,
            &mut out,
        );
    }
    json_diff(&comparable(live), &comparable(dry), "", &mut out);
    out
}

fn json_diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let child = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => json_diff(va, vb, &child, out),
                    _ => out.push(child),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let child = format!("{path}/{i}");
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => json_diff(va, vb, &child, out),
                    _ => out.push(child),
                }
            }
        }
        _ if a != b => out.push(if path.is_empty() {
            "/".into()
        } else {
            path.into()
        }),
        _ => {}
    }
}

/// Deep union of two `fieldsV1` sets.
fn merge_fields(into: &mut Value, from: &Value) {
    match (into.as_object_mut(), from.as_object()) {
        (Some(a), Some(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge_fields(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (None, Some(_)) => *into = from.clone(),
        _ => {}
    }
}

/// The merge patch that removes the cleanup annotations/labels and hands the fields of the
/// cleanup field managers to ours (Flux's `PatchReplaceFieldsManagers`; a merge patch replaces
/// the `managedFields` list as a whole), or None when the live object needs no cleanup.
/// Annotations and labels the desired object sets itself are kept (removing them would make
/// every apply a change).
pub(crate) fn cleanup_patch(
    live: &Value,
    desired: &Value,
    field_manager: &str,
    opts: &CleanupOptions,
) -> Option<Value> {
    let mut metadata = serde_json::Map::new();
    for (field, keys) in [("annotations", &opts.annotations), ("labels", &opts.labels)] {
        let has = |obj: &Value, key: &str| {
            obj.pointer(&format!("/metadata/{field}"))
                .and_then(|m| m.get(key))
                .is_some()
        };
        let present: serde_json::Map<String, Value> = keys
            .iter()
            .filter(|key| has(live, key) && !has(desired, key))
            .map(|key| (key.clone(), Value::Null))
            .collect();
        if !present.is_empty() {
            metadata.insert(field.to_string(), Value::Object(present));
        }
    }
    let entries = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_ours = |e: &Value| {
        str_at(e, &["manager"]) == field_manager
            && str_at(e, &["operation"]) == "Apply"
            && str_at(e, &["subresource"]).is_empty()
    };
    let (taken, mut kept): (Vec<Value>, Vec<Value>) = entries
        .into_iter()
        .partition(|e| !is_ours(e) && opts.field_managers.iter().any(|fm| fm.matches(e)));
    if !taken.is_empty() {
        let idx = match kept.iter().position(is_ours) {
            Some(i) => i,
            None => {
                kept.push(json!({
                    "manager": field_manager,
                    "operation": "Apply",
                    "apiVersion": str_at(live, &["apiVersion"]),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {},
                }));
                kept.len() - 1
            }
        };
        for t in &taken {
            if let Some(fields) = t.get("fieldsV1") {
                let target = &mut kept[idx];
                if target.get("fieldsV1").is_none() {
                    target["fieldsV1"] = json!({});
                }
                merge_fields(&mut target["fieldsV1"], fields);
            }
        }
        metadata.insert("managedFields".into(), Value::Array(kept));
    }
    (!metadata.is_empty()).then(|| json!({ "metadata": metadata }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_and_order_follow_flux() {
        let m = |g: &str, k: &str| ObjMetadata {
            namespace: String::new(),
            name: "x".into(),
            group: g.into(),
            kind: k.into(),
        };
        assert_eq!(
            stage_of(&m("apiextensions.k8s.io", "CustomResourceDefinition")),
            Stage::Definitions
        );
        assert_eq!(stage_of(&m("", "Namespace")), Stage::Definitions);
        assert_eq!(
            stage_of(&m("rbac.authorization.k8s.io", "ClusterRole")),
            Stage::Definitions
        );
        assert_eq!(
            stage_of(&m("rbac.authorization.k8s.io", "ClusterRoleBinding")),
            Stage::Rest
        );
        assert_eq!(
            stage_of(&m("storage.k8s.io", "StorageClass")),
            Stage::Classes
        );
        assert_eq!(
            stage_of(&m("networking.k8s.io", "IngressClass")),
            Stage::Classes
        );
        assert_eq!(stage_of(&m("apps", "Deployment")), Stage::Rest);
        assert!(kind_rank("ConfigMap") < kind_rank("Deployment"));
        assert!(kind_rank("Deployment") < kind_rank("Widget"));
        assert!(kind_rank("Widget") < kind_rank("ValidatingWebhookConfiguration"));
    }

    fn owner() -> Owner {
        Owner {
            group: "kustomize.toolkit.fluxcd.io".into(),
            name: "apps".into(),
            namespace: "flux-system".into(),
        }
    }

    #[test]
    fn prepare_labels_strips_and_sorts() {
        let out = prepare(
            vec![
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "d", "namespace": "a", "resourceVersion": "7",
                                    "labels": {"app": "d"}}}),
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
            ],
            &owner(),
        )
        .unwrap();
        assert_eq!(out[0].meta.kind, "Namespace");
        let d = &out[1].obj;
        assert_eq!(
            d["metadata"]["labels"],
            json!({"app": "d", "kustomize.toolkit.fluxcd.io/name": "apps",
                   "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
        );
        assert!(d["metadata"].get("resourceVersion").is_none());

        let dup = json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "c", "namespace": "a"}});
        let err = prepare(vec![dup.clone(), dup], &owner()).err().unwrap();
        assert_eq!(
            err.to_string(),
            "invalid object: ConfigMap/a/c appears more than once"
        );
    }

    #[test]
    fn pending_first_stage_explains_only_its_own_gaps() {
        let defs = prepare(
            vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "new"}}),
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                       "metadata": {"name": "widgets.example.com"},
                       "spec": {"group": "example.com", "names": {"kind": "Widget"}}}),
            ],
            &owner(),
        )
        .unwrap();
        let p = Pending::of(&defs);
        let unknown = |api_version: &str, kind: &str| Error::UnknownKind {
            subject: "x".into(),
            kind: kind.into(),
            api_version: api_version.into(),
        };
        assert!(p.explains(&unknown("example.com/v1", "Widget")));
        assert!(!p.explains(&unknown("example.com/v1", "Gadget")));
        assert!(p.explains(&Error::DryRun(vec![
            "ConfigMap/new/c dry-run failed (NotFound): namespaces \"new\" not found".into()
        ])));
        assert!(!p.explains(&Error::DryRun(vec![
            "ConfigMap/old/c dry-run failed (NotFound): namespaces \"old\" not found".into()
        ])));
        assert!(!p.explains(&Error::DryRun(vec![
            "Deployment/new/d dry-run failed (Invalid): x".into()
        ])));
    }

    #[test]
    fn drift_paths_name_every_difference() {
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"a": "1", "extra": "x"}, "resourceVersion": "1"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "c", "image": "old"}, {"name": "side", "image": "s"}]}}},
            "status": {"replicas": 3}});
        let dry = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"a": "1"}, "resourceVersion": "1"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "c", "image": "new"}]}}},
            "status": {"replicas": 1}});
        assert_eq!(
            drift_paths(&live, &dry),
            vec![
                "/metadata/labels/extra",
                "/spec/replicas",
                "/spec/template/spec/containers/0/image",
                "/spec/template/spec/containers/1",
            ]
        );
        assert!(drift_paths(&live, &live).is_empty());
    }

    #[test]
    fn drift_ignores_server_metadata_and_status() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "resourceVersion": "1", "labels": {"x": "1"},
                         "managedFields": [{"manager": "a"}]},
            "data": {"k": "v"}});
        let mut dry = live.clone();
        dry["metadata"]["resourceVersion"] = json!("2");
        dry["metadata"]["managedFields"] = json!([{"manager": "b"}]);
        assert!(!has_drifted(&live, &dry));
        dry["data"]["k"] = json!("w");
        assert!(has_drifted(&live, &dry));
        let mut relabelled = live.clone();
        relabelled["metadata"]["labels"]["x"] = json!("2");
        assert!(has_drifted(&live, &relabelled));
    }

    #[test]
    fn cleanup_takes_over_kubectl_fields_and_removes_last_applied() {
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "managedFields": [
                {"manager": "kustomize-controller", "operation": "Apply", "apiVersion": "apps/v1",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "apps/v1",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:paused": {}}}},
                {"manager": "kube-controller-manager", "operation": "Update",
                 "subresource": "status", "fieldsV1": {"f:status": {}}}
            ]}});
        let opts = ApplyOptions::default().cleanup;
        let patch = cleanup_patch(&live, &json!({}), "kustomize-controller", &opts).unwrap();
        assert_eq!(
            patch["metadata"]["annotations"],
            json!({"kubectl.kubernetes.io/last-applied-configuration": null})
        );
        let fields = &patch["metadata"]["managedFields"];
        assert_eq!(fields.as_array().unwrap().len(), 2);
        assert_eq!(
            fields[0]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}, "f:paused": {}}})
        );
        assert_eq!(fields[1]["manager"], "kube-controller-manager");

        // nothing to clean
        let clean = json!({"metadata": {"managedFields": [
            {"manager": "kustomize-controller", "operation": "Apply"}]}});
        assert!(cleanup_patch(&clean, &json!({}), "kustomize-controller", &opts).is_none());
        // An annotation the source sets itself stays.
        let annotated = json!({"metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "managedFields": [{"manager": "kustomize-controller", "operation": "Apply"}]}});
        assert!(cleanup_patch(&annotated, &annotated, "kustomize-controller", &opts).is_none());
    }

    #[test]
    fn immutable_errors_are_recognised() {
        let err = |code: u16, reason: &str, message: &str| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                reason: reason.into(),
                message: message.into(),
                ..Default::default()
            }))
        };
        assert!(is_immutable_error(&err(
            422,
            "Invalid",
            "Job.batch \"j\" is invalid: spec.template: Invalid value: ...: field is immutable"
        )));
        assert!(is_immutable_error(&err(
            422,
            "Invalid",
            "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.9\"}: may not change once set"
        )));
        assert!(!is_immutable_error(&err(
            422,
            "Invalid",
            "Deployment.apps \"d\" is invalid: spec.replicas: must be >= 0"
        )));
        assert!(!is_immutable_error(&err(403, "Forbidden", "forbidden")));
        assert!(is_immutable_error(&err(
            400,
            "BadRequest",
            "admission webhook \"v\" denied the request: spec.size is immutable"
        )));
    }
}
