//! Condition types and reasons, as Flux spells them. Consumers match on these strings.

/// kstatus: the object is in its desired state.
pub const READY: &str = "Ready";
/// kstatus: the controller is working on the object.
pub const RECONCILING: &str = "Reconciling";
/// kstatus: the controller cannot make progress without a change from the user.
pub const STALLED: &str = "Stalled";
/// Health checks of applied objects (kustomize-controller).
pub const HEALTHY: &str = "Healthy";

// source-controller condition types.
pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
pub const ARTIFACT_OUTDATED: &str = "ArtifactOutdated";
pub const FETCH_FAILED: &str = "FetchFailed";
pub const SOURCE_VERIFIED: &str = "SourceVerified";
pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
pub const BUILD_FAILED: &str = "BuildFailed";

// helm-controller condition types.
pub const RELEASED: &str = "Released";
pub const TEST_SUCCESS: &str = "TestSuccess";
pub const REMEDIATED: &str = "Remediated";

/// Reasons shared by all controllers (fluxcd/pkg/apis/meta).
pub mod reason {
    pub const SUCCEEDED: &str = "Succeeded";
    pub const FAILED: &str = "Failed";
    pub const PROGRESSING: &str = "Progressing";
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
    pub const SUSPENDED: &str = "Suspended";
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    pub const RECONCILIATION_SUCCEEDED: &str = "ReconciliationSucceeded";
    pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    pub const PRUNE_FAILED: &str = "PruneFailed";
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    pub const BUILD_FAILED: &str = "BuildFailed";
    pub const INVALID_URL: &str = "URLInvalid";
    pub const INVALID_PATH: &str = "InvalidPath";
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    pub const VERIFICATION_ERROR: &str = "VerificationError";
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    pub const NEW_ARTIFACT: &str = "NewArtifact";
    pub const ARTIFACT_UP_TO_DATE: &str = "ArtifactUpToDate";
    pub const FEATURE_GATE_DISABLED: &str = "FeatureGateDisabled";
    pub const ACCESS_DENIED: &str = "AccessDenied";
    pub const UNSUPPORTED: &str = "UnsupportedProvider";
}
