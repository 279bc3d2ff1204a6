use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Artifact, Condition, LocalObjectReference};

/// Desired state of an object storage bucket source (S3-compatible, GCS or Azure Blob).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "Bucket",
    plural = "buckets",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "BucketStatus",
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
    },
    {
        "message": "ServiceAccountName is not supported for the 'generic' Bucket provider",
        "rule": "self.provider != 'generic' || !has(self.serviceAccountName)"
    },
    {
        "message": "cannot set both .spec.secretRef and .spec.serviceAccountName",
        "rule": "!has(self.secretRef) || !has(self.serviceAccountName)"
    }
]))]
pub struct BucketSpec {
    pub bucket_name: String,
    /// Secret with `tls.crt`/`tls.key` (client certificate) and/or `ca.crt` for the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Object storage address (host[:port], or a URL for some providers).
    pub endpoint: String,
    /// Paths to exclude from the artifact, in gitignore syntax; replaces the default exclusions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Plain HTTP to the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Only objects whose key starts with this are listed (server-side filtering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(
        default = "default_bucket_provider",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<BucketProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Secret with the provider's credentials (e.g. `accesskey`/`secretkey` for `generic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount for workload identity; `aws`, `azure` and `gcp` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Security Token Service issuing temporary credentials; `aws` and `generic` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<BucketSTSSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(
        default = "default_bucket_timeout",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
}

fn default_bucket_provider() -> Option<BucketProvider> {
    Some(BucketProvider::Generic)
}

fn default_bucket_timeout() -> Option<String> {
    Some("60s".into())
}

/// Object storage API: `generic` is any S3-compatible store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BucketProvider {
    #[default]
    Generic,
    Aws,
    Gcp,
    Azure,
}

/// A Security Token Service to obtain temporary bucket credentials from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketSTSSpec {
    /// Secret with `tls.crt`/`tls.key` and/or `ca.crt` for the STS endpoint; `ldap` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    #[schemars(regex(pattern = r"^(http|https)://.*$"))]
    pub endpoint: String,
    pub provider: BucketSTSProvider,
    /// Secret with `username`/`password` for the STS endpoint; `ldap` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// STS flavour: AWS's own, or MinIO's LDAP identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BucketSTSProvider {
    #[default]
    Aws,
    Ldap,
}

/// Observed state of a Bucket.
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
    /// Download address of the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_manifest_deserialises_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
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
      name: sts-credentials
"#;
        let bucket: Bucket = serde_saphyr::from_str(yaml).unwrap();
        let spec = &bucket.spec;
        assert_eq!(spec.bucket_name, "example");
        assert_eq!(spec.endpoint, "minio.example.com");
        assert_eq!(spec.interval, "5m0s");
        assert_eq!(spec.provider, Some(BucketProvider::Generic));
        assert_eq!(spec.timeout.as_deref(), Some("60s"));
        assert_eq!(spec.prefix.as_deref(), Some("manifests/"));
        assert_eq!(spec.insecure, Some(true));
        let sts = spec.sts.as_ref().unwrap();
        assert_eq!(sts.provider, BucketSTSProvider::Ldap);
        assert_eq!(sts.endpoint, "https://minio.example.com");

        let json = serde_json::to_value(&bucket).unwrap();
        assert_eq!(json["spec"]["provider"], "generic");
        assert_eq!(json["spec"]["sts"]["provider"], "ldap");
        assert_eq!(json["spec"]["bucketName"], "example");
        let back: Bucket = serde_json::from_value(json).unwrap();
        assert_eq!(back, bucket);
    }
}
