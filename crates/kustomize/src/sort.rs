//! Output order: kustomize's legacy kind order (default) or input order (`fifo`).

use crate::kustomization::SortOptions;
use crate::resource::{Gvk, Resource};
use std::collections::HashMap;

const ORDER_FIRST: &[&str] = &[
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
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn gvk_key(g: &Gvk) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(&g.group, "~G"),
        or(&g.version, "~V"),
        or(&g.kind, "~K")
    )
}

/// Check `sortOptions` as kustomize does (same messages).
pub fn validate(opts: Option<&SortOptions>) -> crate::error::Result<()> {
    let Some(o) = opts else {
        return Ok(());
    };
    let order = o.order.as_deref().unwrap_or("legacy");
    if order != "legacy" && order != "fifo" {
        return Err(crate::error::Error::Transform(
            "the field 'sortOptions.order' must be one of [fifo, legacy]".into(),
        ));
    }
    if order == "fifo" && o.legacy_sort_options.is_some() {
        return Err(crate::error::Error::Transform(
            "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'".into(),
        ));
    }
    Ok(())
}

/// Sort in place per `sortOptions`.
pub fn sort(res: &mut [Resource], opts: Option<&SortOptions>) {
    if opts.and_then(|o| o.order.as_deref()) == Some("fifo") {
        return;
    }
    let legacy = opts.and_then(|o| o.legacy_sort_options.as_ref());
    let first: Vec<&str> = legacy.map_or(ORDER_FIRST.to_vec(), |l| {
        l.order_first.iter().map(String::as_str).collect()
    });
    let last: Vec<&str> = legacy.map_or(ORDER_LAST.to_vec(), |l| {
        l.order_last.iter().map(String::as_str).collect()
    });
    let mut rank: HashMap<&str, i64> = HashMap::new();
    let n = i64::try_from(first.len()).unwrap_or(0);
    for (i, k) in first.iter().enumerate() {
        rank.insert(k, -n + i64::try_from(i).unwrap_or(0));
    }
    for (i, k) in last.iter().enumerate() {
        rank.insert(k, 1 + i64::try_from(i).unwrap_or(0));
    }
    res.sort_by_cached_key(|r| {
        let g = r.gvk();
        let ns = if r.namespace().is_empty() {
            "~X".to_string()
        } else {
            r.namespace().to_string()
        };
        let name = if r.name().is_empty() {
            "~N".to_string()
        } else {
            r.name().to_string()
        };
        // kustomize compares `ns|name` as one string, so `a-b|x` sorts before `a|x`.
        (
            rank.get(g.kind.as_str()).copied().unwrap_or(0),
            gvk_key(&g),
            format!("{ns}|{name}"),
        )
    });
}
