//! Types shared by several v1beta2 source kinds that differ from their v1 counterparts.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The output of a v1beta2 source reconciliation. Unlike the v1 `crate::meta::Artifact`, the
/// digest is optional: objects written by older controllers may only carry a checksum-less
/// artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// `<algo>:<checksum>` of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: Option<String>,
    pub last_update_time: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Path relative to the storage root: `<kind>/<namespace>/<name>/<file>`.
    pub path: String,
    /// Human-readable source revision, e.g. `main@sha1:<hex>`.
    pub revision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    pub url: String,
}
