//! Bucket `v1beta2`: the v1 spec plus `accessFrom` and without `serviceAccountName`.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::Artifact;
use crate::meta::{Condition, LocalObjectReference};
use crate::source::v1::{AccessFrom, BucketProvider, BucketSTSSpec};

/// Desired state of an S3-compatible, GCS or Azure Blob bucket source (deprecated version).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "Bucket",
    plural = "buckets",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "BucketStatus",
    deprecated = "v1beta2 Bucket is deprecated, upgrade to v1",
    printcolumn = r#"{"jsonPath":".spec.endpoint","name":"Endpoint","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "message": "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
        "rule": "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)"
    },
    {
        "message": "'aws' is the only supported STS provider for the 'aws' Bucket provider",
        "rule": "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'"
    },
    {
        "message": "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
        "rule": "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'"
    },
    {
        "message": "spec.sts.secretRef is not required for the 'aws' STS provider",
        "rule": "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)"
    },
    {
        "message": "spec.sts.certSecretRef is not required for the 'aws' STS provider",
        "rule": "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)"
    }
]))]
pub struct BucketSpec {
    /// Cross-namespace access control (ignored by current controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    pub bucket_name: String,
    /// TLS client certificate, key and CA for the endpoint (generic provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Object storage endpoint, host[:port] or a URL.
    pub endpoint: String,
    /// Paths to exclude from the artifact, in gitignore syntax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Use plain HTTP towards the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Only objects under this key prefix are fetched (server-side filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default = "default_provider", skip_serializing_if = "Option::is_none")]
    pub provider: Option<BucketProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Security Token Service used to obtain temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<BucketSTSSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default = "default_timeout", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
}

fn default_provider() -> Option<BucketProvider> {
    Some(BucketProvider::Generic)
}

fn default_timeout() -> Option<String> {
    Some("60s".into())
}

/// Observed state of a v1beta2 Bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct BucketStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// Download URL of the latest artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::v1::BucketSTSProvider;

    #[test]
    fn v1beta2_manifest_round_trips_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: Bucket
metadata:
  name: minio-bucket
  namespace: flux-system
spec:
  interval: 5m0s
  endpoint: minio.example.com
  insecure: true
  bucketName: example
  prefix: manifests/
  secretRef:
    name: minio-bucket-secret
  sts:
    provider: ldap
    endpoint: https://minio.example.com
    secretRef:
      name: ldap-credentials
status:
  observedGeneration: 1
  conditions:
    - type: Ready
      status: "True"
      reason: Succeeded
      message: stored artifact for revision 'sha256:c3ab8ff1'
      lastTransitionTime: "2024-01-01T00:00:00Z"
"#;
        let bucket: Bucket = serde_saphyr::from_str(yaml).unwrap();
        let spec = &bucket.spec;
        assert_eq!(
            spec.provider,
            Some(BucketProvider::Generic),
            "provider defaults"
        );
        assert_eq!(spec.timeout.as_deref(), Some("60s"), "timeout defaults");
        assert_eq!(spec.bucket_name, "example");
        assert_eq!(spec.prefix.as_deref(), Some("manifests/"));
        let sts = spec.sts.as_ref().unwrap();
        assert_eq!(sts.provider, BucketSTSProvider::Ldap);
        assert_eq!(sts.secret_ref.as_ref().unwrap().name, "ldap-credentials");
        let status = bucket.status.as_ref().unwrap();
        assert_eq!(status.conditions[0].reason, "Succeeded");

        let json = serde_json::to_value(&bucket).unwrap();
        assert_eq!(json["spec"]["provider"], "generic");
        assert_eq!(json["spec"]["bucketName"], "example");
        let back: Bucket = serde_json::from_value(json).unwrap();
        assert_eq!(back, bucket);
    }
}
