//! The Kustomization reconciler: source → dependencies → fetch → build → apply → prune →
//! health, with Flux's conditions, status fields, events and messages. The runtime's wrapper
//! adds finalizers, suspend, `observedGeneration`, the Ready summary and requeues.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferroflux_api::conditions::{HEALTHY, READY, RECONCILING, reason};
use ferroflux_api::kustomize::GROUP;
use ferroflux_api::kustomize::v1::{
    DeletionPolicy, Kustomization, KustomizationStatus, SourceKind, SubstituteKind,
};
use ferroflux_api::meta::{
    Condition, ConditionStatus, HistoryEntry, ResourceInventory, ResourceRef,
};
use ferroflux_runtime::conditions;
use ferroflux_runtime::events::{EventType, META_ORIGIN_REVISION_KEY, META_REVISION_KEY, meta_key};
use ferroflux_runtime::reconcile::{Triggers, WatchContext};
use ferroflux_runtime::{Outcome, ReconcileContext, ReconcileError, Reconciler};
use ferroflux_ssa::{ObjMetadata, Owner, ResourceManager};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

use crate::build::{self, BuildInput};
use crate::checks::Checks;
use crate::clients::Clients;
use crate::source::{self, SourceArtifact, SourceState};

/// Flux's reason for a failed apply.
const RECONCILIATION_FAILED: &str = reason::RECONCILIATION_FAILED;
/// How many `status.history` entries Flux keeps.
const HISTORY_LIMIT: usize = 5;

/// Reconciles Kustomizations.
#[derive(Clone)]
pub struct KustomizationReconciler {
    http: reqwest::Client,
    fetch: ferroflux_artifact::fetch::FetchOptions,
    clients: Clients,
    /// Resolved kinds of the controller's cluster, shared by every apply (Flux shares its REST
    /// mapper the same way); remote clusters (`spec.kubeConfig`) get a fresh one.
    discovery: ferroflux_ssa::DiscoveryCache,
}

impl std::fmt::Debug for KustomizationReconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KustomizationReconciler")
            .finish_non_exhaustive()
    }
}

impl KustomizationReconciler {
    pub fn new(fetch: ferroflux_artifact::fetch::FetchOptions, clients: Clients) -> Self {
        KustomizationReconciler {
            http: reqwest::Client::new(),
            fetch,
            clients,
            discovery: ferroflux_ssa::DiscoveryCache::default(),
        }
    }
}

type Step<T = ()> = Result<T, ReconcileError>;

fn status(obj: &mut Kustomization) -> &mut KustomizationStatus {
    obj.status.get_or_insert_with(Default::default)
}

fn conds(obj: &mut Kustomization) -> &mut Vec<Condition> {
    &mut status(obj).conditions
}

fn fmt_duration(d: Duration) -> String {
    ferroflux_api::duration::format(d)
}

fn revision_annotations(rev: &str, origin: Option<&str>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(meta_key(GROUP, META_REVISION_KEY), rev.to_string());
    if let Some(o) = origin {
        m.insert(meta_key(GROUP, META_ORIGIN_REVISION_KEY), o.to_string());
    }
    m
}

/// The source namespace: the reference's, else the Kustomization's.
fn source_namespace(obj: &Kustomization) -> String {
    obj.spec
        .source_ref
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| obj.namespace().unwrap_or_default())
}

impl Reconciler<Kustomization> for KustomizationReconciler {
    /// "Fetching manifests…" below carries the wrapper's new-generation progress.
    const REPORTS_PROGRESS: bool = true;

    async fn reconcile(&self, obj: &mut Kustomization, ctx: &ReconcileContext) -> Step<Outcome> {
        let generation = obj.metadata.generation;
        let ns = obj.namespace().unwrap_or_default();
        let src_ns = source_namespace(obj);
        let src_ref = obj.spec.source_ref.clone();
        let retry = obj.retry_interval().unwrap_or(Duration::from_secs(60));

        if ctx.config.no_cross_namespace_refs && src_ns != ns {
            return Err(ReconcileError::stalling(
                reason::ACCESS_DENIED,
                format!(
                    "cannot access {}, cross-namespace references have been disabled",
                    source::display(&src_ref)
                ),
            ));
        }
        // Expressions and ignore rules are checked before anything is fetched: an invalid one
        // stalls until the spec changes, as in Flux.
        let checks = Checks::from_spec(&obj.spec)
            .map_err(|e| ReconcileError::stalling(e.reason, e.message))?;
        if src_ref.kind == SourceKind::ExternalArtifact
            && !ctx.config.feature_gates.enabled("ExternalArtifact")
        {
            return Err(ReconcileError::stalling(
                reason::FEATURE_GATE_DISABLED,
                "the ExternalArtifact feature gate is disabled: enable it with --feature-gates=ExternalArtifact=true",
            ));
        }

        let artifact = match source::get(&ctx.client, src_ref.kind, &src_ns, &src_ref.name).await {
            Ok(SourceState::Ready(a)) => a,
            Ok(SourceState::NotFound) => {
                let msg = format!("Source '{}' not found", source::display(&src_ref));
                return Err(ReconcileError::waiting(reason::ARTIFACT_FAILED, msg, retry));
            }
            Ok(SourceState::NoArtifact) => {
                let msg = format!(
                    "Source artifact not found, retrying in {}",
                    fmt_duration(ctx.config.requeue_dependency)
                );
                return Err(ReconcileError::waiting(
                    reason::ARTIFACT_FAILED,
                    msg,
                    ctx.config.requeue_dependency,
                ));
            }
            Err(e) => {
                return Err(ReconcileError::generic(
                    reason::ARTIFACT_FAILED,
                    format!("unable to get source '{}': {e}", source::display(&src_ref)),
                ));
            }
        };

        if let Err(msg) = self
            .check_dependencies(obj, ctx, &artifact, &checks.ready)
            .await
        {
            return Err(ReconcileError::waiting(
                reason::DEPENDENCY_NOT_READY,
                format!(
                    "Dependencies do not meet ready condition ({msg}), retrying in {}",
                    fmt_duration(ctx.config.requeue_dependency)
                ),
                ctx.config.requeue_dependency,
            )
            .without_event());
        }

        let revision = artifact.revision.clone();
        let origin = artifact.origin_revision.clone();
        // Re-applying the revision that is applied and Ready (the periodic drift check, a
        // requested reconcile) reports its result only: a progress patch would cost a write
        // per Kustomization per interval and flap Ready watchers' view for nothing new.
        let up_to_date = obj.status.as_ref().is_some_and(|st| {
            st.observed_generation == generation
                && st.last_applied_revision.as_deref() == Some(revision.as_str())
                && conditions::is_ready(&st.conditions)
        });
        status(obj).last_attempted_revision = Some(revision.clone());
        let timeout = obj.timeout().unwrap_or(Duration::from_secs(30));
        if !up_to_date {
            conditions::mark_reconciling(
                conds(obj),
                reason::PROGRESSING,
                &format!(
                    "Fetching manifests for revision {revision} with a timeout of {}",
                    fmt_duration(timeout)
                ),
                generation,
            );
            if let Err(e) = ctx.patch_status(obj).await {
                tracing::debug!(error = %e, "progress status patch failed");
            }
        }

        let started = Instant::now();
        let annotations = revision_annotations(&revision, origin.as_deref());
        let with_rev = |e: ReconcileError| {
            let mut e = e;
            e.annotations.extend(annotations.clone());
            e
        };

        let tmp = tempfile::Builder::new()
            .prefix("kustomization-")
            .tempdir()
            .map_err(|e| {
                ReconcileError::generic(
                    reason::ARTIFACT_FAILED,
                    format!("failed to create temporary working directory: {e}"),
                )
            })?;
        if let Err(e) = ferroflux_artifact::fetch::fetch(
            &self.http,
            &artifact.url,
            &artifact.digest,
            tmp.path(),
            &self.fetch,
        )
        .await
        {
            return Err(with_rev(ReconcileError::generic(
                reason::ARTIFACT_FAILED,
                format!("failed to fetch artifact: {e}"),
            )));
        }

        let input = self.build_input(obj, ctx).await.map_err(with_rev)?;
        let root = tmp.path().to_path_buf();
        let built = tokio::task::spawn_blocking(move || build::build(&root, &input))
            .await
            .map_err(|e| ReconcileError::generic(reason::BUILD_FAILED, e.to_string()))?;
        let built = match built {
            Ok(b) => b,
            Err(crate::Error::Path(msg)) => {
                return Err(with_rev(ReconcileError::generic(
                    reason::ARTIFACT_FAILED,
                    msg,
                )));
            }
            Err(e) => {
                return Err(with_rev(ReconcileError::generic(
                    reason::BUILD_FAILED,
                    e.to_string(),
                )));
            }
        };
        drop(tmp);

        let result = self
            .apply_prune_health(
                obj,
                ctx,
                &built.objects,
                &revision,
                origin.as_deref(),
                timeout,
                &checks,
            )
            .await;
        let status_reason = match &result {
            Ok(()) => reason::RECONCILIATION_SUCCEEDED.to_string(),
            Err(e) => e.reason.clone(),
        };
        record_history(
            obj,
            &built.digest,
            &revision,
            origin.as_deref(),
            &status_reason,
            started.elapsed(),
        );
        result.map_err(with_rev)?;

        let st = status(obj);
        st.last_applied_revision = Some(revision.clone());
        st.last_applied_origin_revision = origin.clone();
        conditions::remove(conds(obj), RECONCILING);
        // Flux's per-reconcile success event; notification-controller turns the
        // `commit_status: update` ones into commit statuses.
        let mut meta = revision_annotations(&revision, origin.as_deref());
        meta.insert(meta_key(GROUP, "commit_status"), "update".into());
        let msg = format!(
            "Reconciliation finished in {}, next run in {}",
            fmt_duration(round(ctx.elapsed())),
            obj.spec.interval
        );
        ctx.event(
            obj,
            EventType::Normal,
            reason::RECONCILIATION_SUCCEEDED,
            &msg,
            meta,
        );
        Ok(Outcome::ready(
            reason::RECONCILIATION_SUCCEEDED,
            format!("Applied revision: {revision}"),
        ))
    }

    async fn finalize(&self, obj: &Kustomization, ctx: &ReconcileContext) -> Step {
        let policy = obj.deletion_policy();
        let delete = match policy {
            DeletionPolicy::MirrorPrune => obj.spec.prune,
            DeletionPolicy::Delete | DeletionPolicy::WaitForTermination => true,
            DeletionPolicy::Orphan => false,
        };
        let entries = obj
            .status
            .as_ref()
            .and_then(|s| s.inventory.as_ref())
            .map(|i| i.entries.clone())
            .unwrap_or_default();
        if !delete || obj.suspended() || entries.is_empty() {
            return Ok(());
        }
        let client = match self.clients.for_object(&ctx.client, obj).await {
            Ok(c) => c,
            Err(e) => {
                // The remote cluster or account is gone: nothing can be pruned, do not block
                // the deletion forever (Flux does the same).
                tracing::warn!(error = %e, "skipping garbage collection of a deleted Kustomization");
                return Ok(());
            }
        };
        let rm = resource_manager(client, obj, &self.discovery);
        let objects = inventory_objects(&entries)?;
        let opts = rm.default_delete_options();
        match rm.delete_all(&objects, &opts).await {
            Ok(cs) => {
                let text = cs.changed().to_string();
                if !text.is_empty() {
                    ctx.event(
                        obj,
                        EventType::Normal,
                        "Progressing",
                        &text,
                        BTreeMap::new(),
                    );
                }
            }
            Err(e) => {
                return Err(ReconcileError::generic(reason::PRUNE_FAILED, e.to_string()));
            }
        }
        if policy == DeletionPolicy::WaitForTermination {
            let timeout = obj.timeout().unwrap_or(Duration::from_secs(30));
            let wait = ferroflux_ssa::WaitOptions {
                interval: Duration::from_secs(2),
                timeout,
                fail_fast: false,
            };
            rm.wait_for_termination(&objects, wait).await.map_err(|e| {
                ReconcileError::generic(
                    reason::PRUNE_FAILED,
                    format!("failed to wait for objects to be deleted: {e}"),
                )
            })?;
        }
        Ok(())
    }

    /// A new artifact revision of a source reconciles the Kustomizations that use it at once.
    fn configure(
        &self,
        controller: Controller<Kustomization>,
        ctx: &WatchContext<Kustomization>,
    ) -> Controller<Kustomization> {
        let store = controller.store();
        let seen: SeenRevisions = Arc::default();
        let controller = watch_source::<ferroflux_api::source::v1::GitRepository>(
            controller,
            ctx,
            store.clone(),
            seen.clone(),
            SourceKind::GitRepository,
        );
        let controller = watch_source::<ferroflux_api::source::v1::OCIRepository>(
            controller,
            ctx,
            store.clone(),
            seen.clone(),
            SourceKind::OciRepository,
        );
        let controller = watch_source::<ferroflux_api::source::v1::Bucket>(
            controller,
            ctx,
            store.clone(),
            seen.clone(),
            SourceKind::Bucket,
        );
        if ctx.config.feature_gates.enabled("ExternalArtifact") {
            watch_source::<ferroflux_api::source::v1::ExternalArtifact>(
                controller,
                ctx,
                store,
                seen,
                SourceKind::ExternalArtifact,
            )
        } else {
            controller
        }
    }
}

/// The artifact revision last seen per source (kind, namespace, name).
type SeenRevisions = Arc<Mutex<HashMap<(String, String, String), String>>>;

/// Adds a watch on source kind `S`: when a source's artifact revision changes, every
/// Kustomization referencing it is reconciled.
fn watch_source<S>(
    controller: Controller<Kustomization>,
    ctx: &WatchContext<Kustomization>,
    store: Store<Kustomization>,
    seen: SeenRevisions,
    kind: SourceKind,
) -> Controller<Kustomization>
where
    S: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + serde::Serialize
        + Send
        + Sync
        + 'static,
{
    let triggers: Triggers<Kustomization> = ctx.triggers.clone();
    let mapper = triggers.forcing(move |src: S| {
        let ns = src.namespace().unwrap_or_default();
        let name = src.name_any();
        let value = serde_json::to_value(&src).unwrap_or_default();
        let revision = source::artifact_of(&value).map(|a| a.revision);
        let key = (kind.as_str().to_string(), ns.clone(), name.clone());
        let changed = {
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            match revision {
                Some(rev) => seen.insert(key, rev.clone()).as_ref() != Some(&rev),
                None => {
                    seen.remove(&key);
                    false
                }
            }
        };
        if !changed {
            return Vec::new();
        }
        store
            .state()
            .into_iter()
            .filter(|k| {
                let r = &k.spec.source_ref;
                r.kind == kind && r.name == name && source_namespace(k) == ns
            })
            .map(|k| ObjectRef::from_obj(&*k))
            .collect::<Vec<_>>()
    });
    controller.watches(ctx.api::<S>(), watcher::Config::default(), mapper)
}

fn resource_manager(
    client: kube::Client,
    obj: &Kustomization,
    local: &ferroflux_ssa::DiscoveryCache,
) -> ResourceManager {
    let cache = if obj.spec.kube_config.is_some() {
        ferroflux_ssa::DiscoveryCache::default()
    } else {
        local.clone()
    };
    ResourceManager::new(
        client,
        crate::NAME,
        Owner {
            group: GROUP.to_string(),
            name: obj.name_any(),
            namespace: obj.namespace().unwrap_or_default(),
        },
    )
    .with_discovery_cache(cache)
}

fn inventory_objects(entries: &[ResourceRef]) -> Step<Vec<ObjMetadata>> {
    entries
        .iter()
        .map(|e| {
            ObjMetadata::parse_id(&e.id)
                .map_err(|err| ReconcileError::generic(reason::PRUNE_FAILED, err.to_string()))
        })
        .collect()
}

/// Upserts the history entry of `digest` at the front, keeping [`HISTORY_LIMIT`] entries.
fn record_history(
    obj: &mut Kustomization,
    digest: &str,
    revision: &str,
    origin: Option<&str>,
    status_reason: &str,
    took: Duration,
) {
    let now = conditions::now();
    let took = fmt_duration(Duration::from_millis(
        took.as_millis().try_into().unwrap_or(u64::MAX),
    ));
    let mut metadata = BTreeMap::from([("revision".to_string(), revision.to_string())]);
    if let Some(o) = origin {
        metadata.insert("originRevision".into(), o.to_string());
    }
    let history = &mut status(obj).history;
    let entry = match history.iter().position(|h| h.digest == digest) {
        Some(i) => {
            let mut h = history.remove(i);
            h.last_reconciled = now;
            h.last_reconciled_duration = took;
            h.last_reconciled_status = status_reason.to_string();
            h.total_reconciliations += 1;
            h.metadata = Some(metadata);
            h
        }
        None => HistoryEntry {
            digest: digest.to_string(),
            first_reconciled: now.clone(),
            last_reconciled: now,
            last_reconciled_duration: took,
            last_reconciled_status: status_reason.to_string(),
            metadata: Some(metadata),
            total_reconciliations: 1,
        },
    };
    history.insert(0, entry);
    history.truncate(HISTORY_LIMIT);
}

impl KustomizationReconciler {
    /// `spec.dependsOn`: every dependency exists, is Ready for its current generation and, when
    /// it builds from the same source, has applied the same revision. A `readyExpr` replaces
    /// those checks (or comes first, with the `AdditiveCELDependencyCheck` feature gate).
    async fn check_dependencies(
        &self,
        obj: &Kustomization,
        ctx: &ReconcileContext,
        artifact: &SourceArtifact,
        ready_exprs: &[Option<ferroflux_cel::Expression>],
    ) -> Result<(), String> {
        let ns = obj.namespace().unwrap_or_default();
        let additive = ctx
            .config
            .feature_gates
            .enabled("AdditiveCELDependencyCheck");
        for (i, dep) in obj.spec.depends_on.iter().flatten().enumerate() {
            let dep_ns = dep
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| ns.clone());
            let id = format!("{dep_ns}/{}", dep.name);
            if ctx.config.no_cross_namespace_refs && dep_ns != ns {
                return Err(format!(
                    "cannot access dependency '{id}', cross-namespace references have been disabled"
                ));
            }
            let api: Api<Kustomization> = ctx.api(&dep_ns);
            let d = match api.get_opt(&dep.name).await {
                Ok(Some(d)) => d,
                Ok(None) => return Err(format!("dependency '{id}' not found")),
                Err(e) => return Err(format!("unable to get '{id}' dependency: {e}")),
            };
            if let Some(expr) = ready_exprs.get(i).and_then(Option::as_ref) {
                match crate::checks::dependency_ready(expr, obj, &d) {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err(format!(
                            "dependency '{id}' is not ready according to readyExpr eval"
                        ));
                    }
                    Err(e) => return Err(format!("dependency '{id}': {e}")),
                }
                if !additive {
                    continue;
                }
            }
            let st = d.status.clone().unwrap_or_default();
            let observed = st.observed_generation == d.metadata.generation;
            let ready = conditions::is_ready(&st.conditions);
            if !observed || !ready {
                return Err(format!("dependency '{id}' is not ready"));
            }
            if d.spec.source_ref.kind == obj.spec.source_ref.kind
                && d.spec.source_ref.name == obj.spec.source_ref.name
                && source_namespace(&d) == source_namespace(obj)
                && st.last_applied_revision.as_deref() != Some(artifact.revision.as_str())
            {
                return Err(format!("dependency '{id}' revision is not up to date"));
            }
        }
        Ok(())
    }

    /// Decryption keys and post-build variables, read from the Kustomization's namespace.
    async fn build_input(&self, obj: &Kustomization, ctx: &ReconcileContext) -> Step<BuildInput> {
        let ns = obj.namespace().unwrap_or_default();
        let build_failed = |m: String| ReconcileError::generic(reason::BUILD_FAILED, m);
        let secrets: Api<Secret> = ctx.api(&ns);
        let mut keys = None;
        if let Some(dec) = &obj.spec.decryption
            && let Some(sref) = &dec.secret_ref
        {
            let secret = secrets.get(&sref.name).await.map_err(|e| {
                build_failed(format!(
                    "cannot get decryption Secret '{ns}/{}': {e}",
                    sref.name
                ))
            })?;
            let data: BTreeMap<String, Vec<u8>> = secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            keys = Some(ferroflux_sops::Keys::from_secret_data(&data).map_err(|e| {
                build_failed(format!("decryption Secret '{ns}/{}': {e}", sref.name))
            })?);
        }
        let mut vars = None;
        if let Some(pb) = &obj.spec.post_build {
            let mut all = BTreeMap::new();
            for r in pb.substitute_from.iter().flatten() {
                let data: Option<BTreeMap<String, String>> = match r.kind {
                    SubstituteKind::ConfigMap => {
                        let api: Api<ConfigMap> = ctx.api(&ns);
                        api.get_opt(&r.name)
                            .await
                            .map_err(|e| {
                                build_failed(format!(
                                    "substitute from 'ConfigMap/{}' error: {e}",
                                    r.name
                                ))
                            })?
                            .map(|c| c.data.unwrap_or_default())
                    }
                    SubstituteKind::Secret => secrets
                        .get_opt(&r.name)
                        .await
                        .map_err(|e| {
                            build_failed(format!("substitute from 'Secret/{}' error: {e}", r.name))
                        })?
                        .map(|s| {
                            s.data
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                                .collect()
                        }),
                };
                match data {
                    Some(d) => all.extend(d),
                    None if r.optional => {}
                    None => {
                        let kind = match r.kind {
                            SubstituteKind::ConfigMap => "ConfigMap",
                            SubstituteKind::Secret => "Secret",
                        };
                        return Err(build_failed(format!(
                            "substitute from '{kind}/{}' error: {kind} '{ns}/{}' not found",
                            r.name, r.name
                        )));
                    }
                }
            }
            for (k, v) in pb.substitute.iter().flatten() {
                all.insert(k.clone(), v.clone());
            }
            vars = Some(all);
        }
        Ok(BuildInput {
            path: obj.spec.path.clone(),
            spec: obj.spec.clone(),
            keys,
            vars,
            strict: ctx
                .config
                .feature_gates
                .enabled("StrictPostBuildSubstitutions"),
        })
    }

    /// Server-side apply, inventory, prune and health checks.
    #[allow(clippy::too_many_arguments)] // one call site; the inputs of one reconcile step
    async fn apply_prune_health(
        &self,
        obj: &mut Kustomization,
        ctx: &ReconcileContext,
        objects: &[serde_json::Value],
        revision: &str,
        origin: Option<&str>,
        timeout: Duration,
        checks: &Checks,
    ) -> Step {
        let generation = obj.metadata.generation;
        let client = self
            .clients
            .for_object(&ctx.client, obj)
            .await
            .map_err(|e| ReconcileError::generic(RECONCILIATION_FAILED, e.to_string()))?;
        let rm = resource_manager(client, obj, &self.discovery);
        let annotations = revision_annotations(revision, origin);

        let mut opts = rm.default_apply_options();
        opts.force = obj.spec.force;
        opts.ignore = checks.ignore.clone();
        opts.wait_timeout = timeout;
        let change_set = rm
            .apply_all_staged(objects.to_vec(), &opts)
            .await
            .map_err(|e| ReconcileError::generic(RECONCILIATION_FAILED, e.to_string()))?;
        let changes = change_set.changed();
        let changed = !changes.is_empty();
        let text = changes.to_string();
        if changed && !text.is_empty() {
            ctx.event(
                obj,
                EventType::Normal,
                reason::PROGRESSING,
                &text,
                annotations.clone(),
            );
        }
        tracing::info!(revision, changes = %text, "server-side apply completed");

        let old = obj
            .status
            .as_ref()
            .and_then(|s| s.inventory.as_ref())
            .map(|i| i.entries.clone())
            .unwrap_or_default();
        let new: Vec<ResourceRef> = ferroflux_ssa::inventory::from_change_set(&change_set)
            .into_iter()
            .map(|e| ResourceRef { id: e.id, v: e.v })
            .collect();
        status(obj).inventory = Some(ResourceInventory {
            entries: new.clone(),
        });

        if obj.spec.prune {
            let old_inv: Vec<ferroflux_ssa::inventory::Entry> = old
                .iter()
                .map(|e| ferroflux_ssa::inventory::Entry {
                    id: e.id.clone(),
                    v: e.v.clone(),
                })
                .collect();
            let new_inv: Vec<ferroflux_ssa::inventory::Entry> = new
                .iter()
                .map(|e| ferroflux_ssa::inventory::Entry {
                    id: e.id.clone(),
                    v: e.v.clone(),
                })
                .collect();
            let stale = ferroflux_ssa::inventory::stale(&old_inv, &new_inv);
            if !stale.is_empty() {
                let opts = rm.default_delete_options();
                let deleted = rm
                    .delete_all(&stale, &opts)
                    .await
                    .map_err(|e| ReconcileError::generic(reason::PRUNE_FAILED, e.to_string()))?;
                let text = deleted.changed().to_string();
                if !text.is_empty() {
                    ctx.event(
                        obj,
                        EventType::Normal,
                        reason::PROGRESSING,
                        &text,
                        annotations.clone(),
                    );
                }
            }
        }

        // Health checks: every applied object with `wait`, else `healthChecks`.
        let to_check: Vec<ObjMetadata> = if obj.spec.wait == Some(true) {
            inventory_objects(&new)?
        } else {
            obj.spec
                .health_checks
                .iter()
                .flatten()
                .map(|h| ObjMetadata {
                    namespace: h
                        .namespace
                        .clone()
                        .unwrap_or_else(|| obj.namespace().unwrap_or_default()),
                    name: h.name.clone(),
                    group: h
                        .api_version
                        .as_deref()
                        .and_then(|v| v.rsplit_once('/').map(|(g, _)| g.to_string()))
                        .unwrap_or_default(),
                    kind: h.kind.clone(),
                })
                .collect()
        };
        if to_check.is_empty() {
            conditions::remove(conds(obj), HEALTHY);
            return Ok(());
        }
        let last_applied = obj
            .status
            .as_ref()
            .and_then(|s| s.last_applied_revision.clone());
        let healthy_now = conditions::is_true(
            obj.status.as_ref().map_or(&[][..], |s| &s.conditions),
            HEALTHY,
        );
        if !changed && last_applied.as_deref() == Some(revision) && healthy_now {
            return Ok(());
        }
        let msg = format!(
            "Running health checks for revision {revision} with a timeout of {}",
            fmt_duration(timeout)
        );
        conditions::mark_unknown(conds(obj), HEALTHY, reason::PROGRESSING, &msg, generation);
        conditions::mark_reconciling(conds(obj), reason::PROGRESSING, &msg, generation);
        if let Err(e) = ctx.patch_status(obj).await {
            tracing::debug!(error = %e, "progress status patch failed");
        }
        let started = Instant::now();
        let wait = ferroflux_ssa::WaitOptions {
            interval: Duration::from_secs(2),
            timeout,
            fail_fast: !ctx.config.feature_gates.enabled("DisableFailFastBehavior"),
        };
        let waited = if checks.health.is_empty() {
            rm.wait_for_set(&to_check, wait).await
        } else {
            let custom = |v: &serde_json::Value| checks.health.status(v);
            rm.wait_for_set_with(&to_check, wait, &custom).await
        };
        if let Err(e) = waited {
            let msg = format!(
                "health check failed after {}: {e}",
                fmt_duration(round(started.elapsed()))
            );
            conditions::mark_false(
                conds(obj),
                HEALTHY,
                reason::HEALTH_CHECK_FAILED,
                &msg,
                generation,
            );
            return Err(ReconcileError::generic(reason::HEALTH_CHECK_FAILED, msg));
        }
        let msg = format!(
            "Health check passed in {}",
            fmt_duration(round(started.elapsed()))
        );
        conditions::mark_true(conds(obj), HEALTHY, reason::SUCCEEDED, &msg, generation);
        if !healthy_now {
            ctx.event(
                obj,
                EventType::Normal,
                reason::PROGRESSING,
                &msg,
                annotations,
            );
        }
        Ok(())
    }
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().try_into().unwrap_or(u64::MAX))
}

/// Whether the Ready condition of a status is True (for tests and the benchmark).
pub fn is_ready(obj: &Kustomization) -> bool {
    obj.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == READY && c.status == ConditionStatus::True)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_five_and_counts_repeats() {
        let mut k = Kustomization::new("a", Default::default());
        for i in 0..7 {
            record_history(
                &mut k,
                &format!("sha256:{i}"),
                "main@sha1:x",
                None,
                "ReconciliationSucceeded",
                Duration::from_millis(1500),
            );
        }
        record_history(
            &mut k,
            "sha256:6",
            "main@sha1:y",
            Some("o"),
            "HealthCheckFailed",
            Duration::from_secs(1),
        );
        let h = &k.status.as_ref().unwrap().history;
        assert_eq!(h.len(), HISTORY_LIMIT);
        assert_eq!(h[0].digest, "sha256:6");
        assert_eq!(h[0].total_reconciliations, 2);
        assert_eq!(h[0].last_reconciled_status, "HealthCheckFailed");
        assert_eq!(h[0].metadata.as_ref().unwrap()["revision"], "main@sha1:y");
        assert_eq!(h[1].digest, "sha256:5");
        assert_eq!(h[4].digest, "sha256:2");
    }

    #[test]
    fn revision_annotations_use_the_kustomize_group() {
        let a = revision_annotations("main@sha1:1", Some("v1"));
        assert_eq!(a["kustomize.toolkit.fluxcd.io/revision"], "main@sha1:1");
        assert_eq!(a["kustomize.toolkit.fluxcd.io/originRevision"], "v1");
    }
}
