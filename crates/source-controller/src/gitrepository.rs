//! The GitRepository reconciler: storage → source → include → artifact, each step owning the
//! conditions it sets; the runtime's wrapper summarises `Ready` and patches the status once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferroflux_api::conditions::{
    ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, FETCH_FAILED, INCLUDE_UNAVAILABLE, SOURCE_VERIFIED,
    STORAGE_OPERATION_FAILED, reason,
};
use ferroflux_api::meta::Artifact;
use ferroflux_api::source::v1::{
    GitProvider, GitRepository, GitRepositoryInclude, GitRepositoryStatus,
};
use ferroflux_artifact::Storage;
use ferroflux_git::{Auth, CloneOptions, Proxy, Reference, TlsConfig};
use ferroflux_runtime::conditions::{self, Polarity};
use ferroflux_runtime::events::{EventType, revision_annotations};
use ferroflux_runtime::reconcile::{Triggers, WatchContext};
use ferroflux_runtime::{Outcome, ReconcileContext, ReconcileError, Reconciler};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;

/// Storage directory name of the kind (`<storage>/gitrepository/<ns>/<name>/…`).
const KIND_DIR: &str = "gitrepository";
const GROUP: &str = ferroflux_api::source::GROUP;

/// Reconciles GitRepositories into artifacts in `storage`.
#[derive(Clone, Debug)]
pub struct GitRepositoryReconciler {
    storage: Storage,
}

impl GitRepositoryReconciler {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }
}

/// What the steps hand each other during one reconcile.
#[derive(Default)]
struct Work {
    /// The checked-out tree (kept alive for the artifact step).
    dir: Option<tempfile::TempDir>,
    /// Revision the remote ref resolves to.
    revision: Option<String>,
    /// First line of the commit message, for the event.
    commit_subject: String,
    /// Artifacts of the included repositories, in `spec.include` order.
    included: Vec<(GitRepositoryInclude, Artifact)>,
}

type StepResult = Result<(), ReconcileError>;

fn generation(obj: &GitRepository) -> Option<i64> {
    obj.metadata.generation
}

fn status(obj: &mut GitRepository) -> &mut GitRepositoryStatus {
    obj.status.get_or_insert_with(Default::default)
}

fn conds(obj: &mut GitRepository) -> &mut Vec<ferroflux_api::meta::Condition> {
    &mut status(obj).conditions
}

impl Reconciler<GitRepository> for GitRepositoryReconciler {
    const POLARITY: Polarity = Polarity {
        negative: &[
            FETCH_FAILED,
            INCLUDE_UNAVAILABLE,
            STORAGE_OPERATION_FAILED,
            ARTIFACT_OUTDATED,
        ],
        positive: &[ARTIFACT_IN_STORAGE, SOURCE_VERIFIED],
    };

    async fn reconcile(
        &self,
        obj: &mut GitRepository,
        ctx: &ReconcileContext,
    ) -> Result<Outcome, ReconcileError> {
        let mut work = Work::default();
        // Includes come before the source so that the no-op fast path can tell whether an
        // included artifact changed.
        self.reconcile_storage(obj, ctx, &mut work).await?;
        self.reconcile_include(obj, ctx, &mut work).await?;
        self.reconcile_source(obj, ctx, &mut work).await?;
        self.reconcile_artifact(obj, ctx, &mut work).await?;
        let revision = obj
            .status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .map(|a| a.revision.clone())
            .unwrap_or_default();
        Ok(Outcome::ready(
            reason::SUCCEEDED,
            format!("stored artifact for revision '{revision}'"),
        ))
    }

    async fn finalize(&self, obj: &GitRepository, _ctx: &ReconcileContext) -> StepResult {
        let ns = obj.namespace().unwrap_or_default();
        self.storage
            .remove_all(KIND_DIR, &ns, &obj.name_any())
            .await
            .map_err(|e| {
                ReconcileError::generic(
                    reason::STORAGE_OPERATION_FAILED,
                    format!("garbage collection for deleted resource failed: {e}"),
                )
            })
    }

    /// A change of an included GitRepository reconciles the repositories that include it.
    fn configure(
        &self,
        controller: Controller<GitRepository>,
        ctx: &WatchContext<GitRepository>,
    ) -> Controller<GitRepository> {
        let store = controller.store();
        let triggers: Triggers<GitRepository> = ctx.triggers.clone();
        let mapper = triggers.forcing(move |changed: GitRepository| {
            let ns = changed.namespace();
            let name = changed.name_any();
            store
                .state()
                .into_iter()
                .filter(|r| r.namespace() == ns)
                .filter(|r| {
                    r.spec
                        .include
                        .iter()
                        .flatten()
                        .any(|i| i.repository.name == name)
                })
                .map(|r| ObjectRef::from_obj(&*r))
                .collect::<Vec<_>>()
        });
        controller.watches(
            ctx.api::<GitRepository>(),
            watcher::Config::default(),
            mapper,
        )
    }
}

impl GitRepositoryReconciler {
    /// Storage: forget an artifact that vanished from disk, refresh its URL (the advertised
    /// address may have changed), and collect garbage.
    async fn reconcile_storage(
        &self,
        obj: &mut GitRepository,
        _ctx: &ReconcileContext,
        _work: &mut Work,
    ) -> StepResult {
        let generation = generation(obj);
        let ns = obj.namespace().unwrap_or_default();
        let name = obj.name_any();
        let Some(artifact) = obj.status.as_ref().and_then(|s| s.artifact.clone()) else {
            conditions::mark_reconciling(
                conds(obj),
                reason::PROGRESSING,
                "building artifact",
                generation,
            );
            return Ok(());
        };
        if !self.storage.exists(&artifact.path) {
            status(obj).artifact = None;
            conditions::mark_reconciling(
                conds(obj),
                reason::PROGRESSING,
                "building artifact: disappeared from storage",
                generation,
            );
            return Ok(());
        }
        if let Some(a) = status(obj).artifact.as_mut() {
            a.url = self.storage.url_for(&a.path);
        }
        if let Err(e) = self
            .storage
            .garbage_collect(KIND_DIR, &ns, &name, &artifact.path)
            .await
        {
            // Garbage collection failing does not make the current artifact wrong.
            tracing::warn!(error = %e, "garbage collection of old artifacts failed");
        }
        Ok(())
    }

    /// Source: resolve the ref (cheaply when nothing changed) or clone it.
    async fn reconcile_source(
        &self,
        obj: &mut GitRepository,
        ctx: &ReconcileContext,
        work: &mut Work,
    ) -> StepResult {
        let generation = generation(obj);
        if let Some(provider) = obj.spec.provider
            && provider != GitProvider::Generic
        {
            let msg = format!(
                "provider '{}' is not supported yet: only 'generic' authentication is implemented",
                provider_name(provider)
            );
            conditions::mark_true(
                conds(obj),
                FETCH_FAILED,
                reason::UNSUPPORTED,
                &msg,
                generation,
            );
            return Err(ReconcileError::stalling(reason::UNSUPPORTED, msg));
        }
        if obj.spec.verify.is_none() {
            conditions::remove(conds(obj), SOURCE_VERIFIED);
            status(obj).source_verification_mode = None;
        }

        let opts = match self.clone_options(obj, ctx).await {
            Ok(o) => o,
            Err(e) => {
                conditions::mark_true(conds(obj), FETCH_FAILED, &e.reason, &e.message, generation);
                return Err(e);
            }
        };

        // No-op fast path: the remote ref still points at the stored revision and nothing
        // that shapes the artifact changed, so the clone is skipped (ls-remote only).
        if self.artifact_is_current_for_spec(obj)
            && includes_unchanged(obj, work)
            && verification_unchanged(obj)
        {
            let current = obj
                .status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .map(|a| a.revision.clone());
            let probe = opts.clone();
            let remote =
                tokio::task::spawn_blocking(move || ferroflux_git::remote_revision(&probe))
                    .await
                    .map_err(|e| {
                        ReconcileError::generic(reason::GIT_OPERATION_FAILED, e.to_string())
                    })?;
            if let Ok(Some(rev)) = &remote
                && Some(rev) == current.as_ref()
            {
                work.revision = Some(rev.clone());
                conditions::remove(conds(obj), FETCH_FAILED);
                return Ok(());
            }
        }

        let dir = tempfile::Builder::new()
            .prefix("gitrepository-")
            .tempdir()
            .map_err(|e| {
                ReconcileError::generic(
                    reason::STORAGE_OPERATION_FAILED,
                    format!("failed to create temporary working directory: {e}"),
                )
            })?;
        let target = dir.path().to_path_buf();
        let result = tokio::task::spawn_blocking(move || ferroflux_git::checkout(&opts, &target))
            .await
            .map_err(|e| ReconcileError::generic(reason::GIT_OPERATION_FAILED, e.to_string()))?;
        match result {
            Ok(checkout) => {
                conditions::remove(conds(obj), FETCH_FAILED);
                self.verify_signatures(obj, ctx, &checkout).await?;
                work.commit_subject = checkout
                    .commit
                    .message
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                work.revision = Some(checkout.revision);
                work.dir = Some(dir);
                Ok(())
            }
            Err(e) => {
                let reason = e.reason();
                let msg = format!("failed to checkout and determine revision: {e}");
                conditions::mark_true(conds(obj), FETCH_FAILED, reason, &msg, generation);
                if matches!(e, ferroflux_git::Error::Url(_)) {
                    return Err(ReconcileError::stalling(reason, msg));
                }
                Err(ReconcileError::generic(reason, msg))
            }
        }
    }

    /// Include: the artifacts of other GitRepositories, copied in under `toPath`.
    async fn reconcile_include(
        &self,
        obj: &mut GitRepository,
        ctx: &ReconcileContext,
        work: &mut Work,
    ) -> StepResult {
        let generation = generation(obj);
        let ns = obj.namespace().unwrap_or_default();
        let includes = obj.spec.include.clone().unwrap_or_default();
        let api: Api<GitRepository> = ctx.api(&ns);
        for inc in includes {
            let name = &inc.repository.name;
            let repo = match api.get_opt(name).await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let msg = format!("could not get resource for include '{name}': not found");
                    conditions::mark_true(
                        conds(obj),
                        INCLUDE_UNAVAILABLE,
                        "NotFound",
                        &msg,
                        generation,
                    );
                    return Err(ReconcileError::waiting(
                        "NotFound",
                        msg,
                        ctx.config.requeue_dependency,
                    ));
                }
                Err(e) => {
                    let msg = format!("could not get resource for include '{name}': {e}");
                    conditions::mark_true(
                        conds(obj),
                        INCLUDE_UNAVAILABLE,
                        "NotFound",
                        &msg,
                        generation,
                    );
                    return Err(ReconcileError::generic("NotFound", msg));
                }
            };
            let Some(artifact) = repo.status.and_then(|s| s.artifact) else {
                let msg = format!("no artifact available for include '{name}'");
                conditions::mark_true(
                    conds(obj),
                    INCLUDE_UNAVAILABLE,
                    "NoArtifact",
                    &msg,
                    generation,
                );
                return Err(ReconcileError::waiting(
                    "NoArtifact",
                    msg,
                    ctx.config.requeue_dependency,
                ));
            };
            work.included.push((inc, artifact));
        }
        conditions::remove(conds(obj), INCLUDE_UNAVAILABLE);
        Ok(())
    }

    /// Artifact: archive the tree (ignore rules applied) unless the stored one is current.
    async fn reconcile_artifact(
        &self,
        obj: &mut GitRepository,
        ctx: &ReconcileContext,
        work: &mut Work,
    ) -> StepResult {
        let generation = generation(obj);
        let Some(revision) = work.revision.clone() else {
            return Ok(());
        };
        let included: Vec<Artifact> = work.included.iter().map(|(_, a)| a.clone()).collect();
        let current = obj.status.as_ref().and_then(|s| s.artifact.clone());
        let up_to_date = current.as_ref().is_some_and(|a| a.revision == revision)
            && self.artifact_is_current_for_spec(obj)
            && includes_unchanged(obj, work);
        if up_to_date {
            let msg = format!("stored artifact for revision '{revision}'");
            conditions::remove(conds(obj), ARTIFACT_OUTDATED);
            conditions::mark_true(
                conds(obj),
                ARTIFACT_IN_STORAGE,
                reason::SUCCEEDED,
                &msg,
                generation,
            );
            return Ok(());
        }
        if current.as_ref().is_some_and(|a| a.revision != revision) {
            let msg = format!("new upstream revision '{revision}'");
            conditions::mark_true(
                conds(obj),
                ARTIFACT_OUTDATED,
                "NewRevision",
                &msg,
                generation,
            );
        }
        // The fast path skips the clone only when the artifact is up to date, so a tree is
        // always there when we get here.
        let Some(dir) = work.dir.as_ref() else {
            return Err(ReconcileError::generic(
                reason::GIT_OPERATION_FAILED,
                "no working tree to archive",
            ));
        };
        let root = dir.path().to_path_buf();
        for (inc, artifact) in &work.included {
            if let Err(e) = self.copy_include(inc, artifact, &root).await {
                let msg = format!(
                    "failed to copy artifact from include '{}': {e}",
                    inc.repository.name
                );
                conditions::mark_true(
                    conds(obj),
                    INCLUDE_UNAVAILABLE,
                    "CopyFailure",
                    &msg,
                    generation,
                );
                return Err(ReconcileError::generic("CopyFailure", msg));
            }
        }

        let ignore = obj.spec.ignore.clone();
        let filter_root = root.clone();
        let filter = tokio::task::spawn_blocking(move || {
            ferroflux_git::ignore::Filter::new(&filter_root, ignore.as_deref())
        })
        .await
        .map_err(|e| ReconcileError::generic(reason::STORAGE_OPERATION_FAILED, e.to_string()))?
        .map_err(|e| {
            let msg = format!("failed to parse ignore rules: {e}");
            ReconcileError::stalling("InvalidIgnore", msg)
        })?;
        let filter = Arc::new(filter);
        let hash = revision.rsplit(':').next().unwrap_or(&revision).to_string();
        let ns = obj.namespace().unwrap_or_default();
        let loc =
            self.storage
                .artifact_path(KIND_DIR, &ns, &obj.name_any(), &format!("{hash}.tar.gz"));
        let stored = match self
            .storage
            .archive_dir(&loc, &root, move |rel: &Path, is_dir: bool| {
                !filter.is_ignored(rel, is_dir)
            })
            .await
        {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("unable to archive artifact to storage: {e}");
                conditions::mark_true(
                    conds(obj),
                    STORAGE_OPERATION_FAILED,
                    "ArchiveOperationFailed",
                    &msg,
                    generation,
                );
                return Err(ReconcileError::generic("ArchiveOperationFailed", msg));
            }
        };
        let artifact = Artifact {
            digest: stored.digest.clone(),
            last_update_time: Time(stored.last_update_time),
            metadata: None,
            path: stored.path,
            revision: revision.clone(),
            size: Some(stored.size),
            url: stored.url,
        };
        let (ignore, include, submodules, sparse) = (
            obj.spec.ignore.clone(),
            obj.spec.include.clone(),
            obj.spec.recurse_submodules,
            obj.spec.sparse_checkout.clone(),
        );
        let st = status(obj);
        st.artifact = Some(artifact);
        st.included_artifacts = (!included.is_empty()).then_some(included);
        st.observed_ignore = ignore;
        st.observed_include = include;
        st.observed_recurse_submodules = submodules;
        st.observed_sparse_checkout = sparse;
        let msg = format!("stored artifact for revision '{revision}'");
        conditions::remove(conds(obj), ARTIFACT_OUTDATED);
        conditions::remove(conds(obj), STORAGE_OPERATION_FAILED);
        conditions::mark_true(
            conds(obj),
            ARTIFACT_IN_STORAGE,
            reason::SUCCEEDED,
            &msg,
            generation,
        );
        let annotations = revision_annotations(GROUP, &revision, Some(&stored.digest));
        ctx.event(
            obj,
            EventType::Normal,
            reason::NEW_ARTIFACT,
            &format!("stored artifact for commit '{}'", work.commit_subject),
            annotations,
        );
        Ok(())
    }

    /// `spec.verify`: the commit and/or tag must be signed by a key from the secret. On
    /// failure nothing new is stored; the last verified artifact stays.
    async fn verify_signatures(
        &self,
        obj: &mut GitRepository,
        ctx: &ReconcileContext,
        checkout: &ferroflux_git::Checkout,
    ) -> StepResult {
        let generation = generation(obj);
        let Some(verify) = obj.spec.verify.clone() else {
            return Ok(());
        };
        let mode_name = verify_mode_name(verify.mode);
        let fail = |obj: &mut GitRepository, reason: &str, msg: String| {
            conditions::mark_false(conds(obj), SOURCE_VERIFIED, reason, &msg, generation);
            ReconcileError::generic(reason, msg)
        };
        let Some(mode) = ferroflux_git::verify::Mode::from_flux(mode_name) else {
            let msg = format!("invalid verification mode '{mode_name}'");
            return Err(fail(obj, "InvalidVerificationMode", msg));
        };
        let ns = obj.namespace().unwrap_or_default();
        let data = match secret_data(ctx, &ns, &verify.secret_ref.name).await {
            Ok(d) => d,
            Err(e) => return Err(fail(obj, reason::VERIFICATION_ERROR, e.message)),
        };
        let keys = match ferroflux_git::verify::Keys::from_secret_data(&data) {
            Ok(k) => k,
            Err(e) => return Err(fail(obj, reason::VERIFICATION_ERROR, e.to_string())),
        };
        match ferroflux_git::verify::verify(checkout, mode, &keys) {
            Ok(verified) => {
                let mut lines = Vec::new();
                if let Some(key) = verified.tag_key {
                    let tag = checkout
                        .tag
                        .as_ref()
                        .map(|t| t.name.as_str())
                        .unwrap_or_default();
                    lines.push(format!(" - tag '{tag}' with key '{key}'"));
                }
                if let Some(key) = verified.commit_key {
                    lines.push(format!(
                        " - commit '{}' with key '{key}'",
                        checkout.commit.hash
                    ));
                }
                let msg = format!("verified signature of\n{}", lines.join("\n"));
                conditions::mark_true(
                    conds(obj),
                    SOURCE_VERIFIED,
                    reason::SUCCEEDED,
                    &msg,
                    generation,
                );
                status(obj).source_verification_mode = Some(mode_name.to_string());
                Ok(())
            }
            Err(e) => Err(fail(obj, reason::VERIFICATION_ERROR, e.to_string())),
        }
    }

    /// Whether the stored artifact was built from the same artifact-shaping spec fields.
    fn artifact_is_current_for_spec(&self, obj: &GitRepository) -> bool {
        let Some(st) = obj.status.as_ref() else {
            return false;
        };
        st.artifact
            .as_ref()
            .is_some_and(|a| self.storage.exists(&a.path))
            && st.observed_ignore == obj.spec.ignore
            && st.observed_include == obj.spec.include
            && st.observed_recurse_submodules == obj.spec.recurse_submodules
            && st.observed_sparse_checkout == obj.spec.sparse_checkout
    }

    /// Extracts an included artifact from our own storage and copies `fromPath` to `toPath`.
    async fn copy_include(
        &self,
        inc: &GitRepositoryInclude,
        artifact: &Artifact,
        root: &Path,
    ) -> Result<(), String> {
        let src = self
            .storage
            .local_path(&artifact.path)
            .map_err(|e| e.to_string())?;
        let to = inc
            .to_path
            .clone()
            .unwrap_or_else(|| inc.repository.name.clone());
        let from = inc.from_path.clone().unwrap_or_default();
        let dest = safe_join(root, &to)?;
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
            let file = std::fs::File::open(&src).map_err(|e| format!("{}: {e}", src.display()))?;
            ferroflux_artifact::tarball::extract_safe(
                flate2_reader(file),
                tmp.path(),
                &ferroflux_artifact::tarball::ExtractLimits::default(),
            )
            .map_err(|e| e.to_string())?;
            let from_dir = safe_join(tmp.path(), &from)?;
            if dest.exists() {
                std::fs::remove_dir_all(&dest).map_err(|e| e.to_string())?;
            }
            copy_tree(&from_dir, &dest).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Builds clone options from the spec and its `secretRef`.
    async fn clone_options(
        &self,
        obj: &GitRepository,
        ctx: &ReconcileContext,
    ) -> Result<CloneOptions, ReconcileError> {
        let r = obj.spec.r#ref.clone().unwrap_or_default();
        let reference = Reference::from_flux(
            r.branch.as_deref(),
            r.tag.as_deref(),
            r.semver.as_deref(),
            r.name.as_deref(),
            r.commit.as_deref(),
        );
        let mut opts = CloneOptions::new(obj.spec.url.clone(), reference);
        if let Some(t) = obj.spec.timeout.as_deref() {
            opts.timeout = ferroflux_api::duration::parse(t)
                .map_err(|e| ReconcileError::stalling("InvalidTimeout", e.to_string()))?;
        }
        opts.recurse_submodules = obj.spec.recurse_submodules.unwrap_or(false);
        opts.sparse_checkout = obj.spec.sparse_checkout.clone().filter(|s| !s.is_empty());
        let ns = obj.namespace().unwrap_or_default();
        if let Some(secret_ref) = &obj.spec.secret_ref {
            let data = secret_data(ctx, &ns, &secret_ref.name).await?;
            let get = |k: &str| data.get(k).cloned();
            let text = |k: &str| get(k).map(|v| String::from_utf8_lossy(&v).into_owned());
            // Flux's keys, then the older ones it still accepts.
            let client_cert_pem = get("tls.crt").or_else(|| get("certFile"));
            let client_key_pem = get("tls.key").or_else(|| get("keyFile"));
            if client_cert_pem.is_some() != client_key_pem.is_some() {
                return Err(ReconcileError::stalling(
                    reason::AUTHENTICATION_FAILED,
                    format!(
                        "invalid '{}' secret data: a TLS client certificate needs both 'tls.crt' and 'tls.key'",
                        secret_ref.name
                    ),
                ));
            }
            opts.tls = TlsConfig {
                ca_pem: get("ca.crt").or_else(|| get("caFile")),
                client_cert_pem,
                client_key_pem,
            };
            opts.auth = if let Some(identity) = get("identity") {
                let Some(known_hosts) = get("known_hosts") else {
                    return Err(ReconcileError::stalling(
                        reason::AUTHENTICATION_FAILED,
                        format!(
                            "invalid '{}' secret data: required field 'known_hosts' (host keys are always verified)",
                            secret_ref.name
                        ),
                    ));
                };
                Auth::Ssh {
                    identity,
                    known_hosts,
                    passphrase: text("password"),
                }
            } else if let Some(token) = text("bearerToken") {
                Auth::Bearer(token)
            } else if let (Some(username), Some(password)) = (text("username"), text("password")) {
                Auth::Basic { username, password }
            } else {
                Auth::None
            };
        }
        if let Some(proxy_ref) = &obj.spec.proxy_secret_ref {
            let data = secret_data(ctx, &ns, &proxy_ref.name).await?;
            let text = |k: &str| {
                data.get(k)
                    .map(|v| String::from_utf8_lossy(v).trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            let address = text("address").ok_or_else(|| {
                ReconcileError::stalling(
                    reason::AUTHENTICATION_FAILED,
                    format!(
                        "invalid proxy secret '{}': key 'address' is missing",
                        proxy_ref.name
                    ),
                )
            })?;
            opts.proxy = Some(Proxy {
                address,
                username: text("username"),
                password: text("password"),
            });
        }
        Ok(opts)
    }
}

async fn secret_data(
    ctx: &ReconcileContext,
    ns: &str,
    name: &str,
) -> Result<BTreeMap<String, Vec<u8>>, ReconcileError> {
    let api: Api<Secret> = ctx.api(ns);
    match api.get_opt(name).await {
        Ok(Some(s)) => Ok(s
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect()),
        Ok(None) => Err(ReconcileError::generic(
            reason::AUTHENTICATION_FAILED,
            format!("failed to get secret '{ns}/{name}': not found"),
        )),
        Err(e) => Err(ReconcileError::generic(
            reason::AUTHENTICATION_FAILED,
            format!("failed to get secret '{ns}/{name}': {e}"),
        )),
    }
}

fn provider_name(p: GitProvider) -> &'static str {
    match p {
        GitProvider::Generic => "generic",
        GitProvider::Aws => "aws",
        GitProvider::Azure => "azure",
        GitProvider::Github => "github",
    }
}

fn flate2_reader(file: std::fs::File) -> impl std::io::Read {
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
}

/// Flux's spelling of a verification mode (`HEAD` when unset).
fn verify_mode_name(mode: Option<ferroflux_api::source::v1::GitVerificationMode>) -> &'static str {
    use ferroflux_api::source::v1::GitVerificationMode as M;
    match mode {
        Some(M::Head) => "head",
        None | Some(M::HeadUpper) => "HEAD",
        Some(M::Tag) => "Tag",
        Some(M::TagAndHEAD) => "TagAndHEAD",
    }
}

/// Whether the stored artifact was verified as `spec.verify` asks now (or needs no
/// verification), so the fast path may skip the clone.
fn verification_unchanged(obj: &GitRepository) -> bool {
    let Some(verify) = &obj.spec.verify else {
        return true;
    };
    let Some(st) = &obj.status else {
        return false;
    };
    conditions::is_true(&st.conditions, SOURCE_VERIFIED)
        && st.source_verification_mode.as_deref() == Some(verify_mode_name(verify.mode))
}

/// Whether the included artifacts are the ones the stored artifact was built with.
fn includes_unchanged(obj: &GitRepository, work: &Work) -> bool {
    let included: Vec<&Artifact> = work.included.iter().map(|(_, a)| a).collect();
    let observed: Vec<&Artifact> = obj
        .status
        .as_ref()
        .and_then(|s| s.included_artifacts.as_ref())
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    included.len() == observed.len()
        && included
            .iter()
            .zip(&observed)
            .all(|(a, b)| a.digest == b.digest && a.revision == b.revision)
}

/// `root/rel` where `rel` must stay inside `root` (no absolute paths, no `..`).
fn safe_join(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            std::path::Component::Normal(p) => out.push(p),
            std::path::Component::CurDir => {}
            _ => {
                return Err(format!(
                    "path '{rel}' must be relative and stay inside the tree"
                ));
            }
        }
    }
    Ok(out)
}

/// Copies regular files and directories (never symlinks) from `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let target = to.join(entry.file_name());
        if ft.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if ft.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_escapes() {
        let root = Path::new("/tmp/x");
        assert_eq!(safe_join(root, "a/b").unwrap(), Path::new("/tmp/x/a/b"));
        assert_eq!(safe_join(root, "./a").unwrap(), Path::new("/tmp/x/a"));
        assert!(safe_join(root, "../a").is_err());
        assert!(safe_join(root, "/etc").is_err());
    }

    #[test]
    fn copy_tree_copies_files_and_skips_symlinks() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("d")).unwrap();
        std::fs::write(src.path().join("d/f.yaml"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.path().join("link")).unwrap();
        let dst = tempfile::tempdir().unwrap();
        copy_tree(src.path(), &dst.path().join("out")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dst.path().join("out/d/f.yaml")).unwrap(),
            "x"
        );
        assert!(!dst.path().join("out/link").exists());
    }
}
