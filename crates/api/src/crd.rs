//! CRD generation: one CustomResourceDefinition per kind, all served versions merged, finished
//! so that it matches Flux's published CRDs (see `tests/flux_reference.rs`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use std::collections::BTreeMap;

use kube::core::crd::merge_crds;

use crate::{helm, kustomize, source};

/// Which controller (and so which chart) installs a CRD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    Source,
    Kustomize,
    Helm,
}

impl Controller {
    pub const ALL: [Controller; 3] = [Self::Source, Self::Kustomize, Self::Helm];

    /// Binary, chart and field-manager name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "source-controller",
            Self::Kustomize => "kustomize-controller",
            Self::Helm => "helm-controller",
        }
    }
}

/// Every CRD with the controller that owns it, in a stable order.
pub fn all() -> Vec<(Controller, CustomResourceDefinition)> {
    let mut out = Vec::new();
    for c in Controller::ALL {
        for crd in for_controller(c) {
            out.push((c, crd));
        }
    }
    out
}

/// The CRDs one controller owns: every served version of each kind, merged into one CRD whose
/// storage version is the current one.
pub fn for_controller(c: Controller) -> Vec<CustomResourceDefinition> {
    let (versions, storage) = match c {
        Controller::Source => (
            [source::v1::crds(), source::v1beta2::crds()].concat(),
            source::v1::VERSION,
        ),
        Controller::Kustomize => (
            [kustomize::v1::crds(), kustomize::v1beta2::crds()].concat(),
            kustomize::v1::VERSION,
        ),
        Controller::Helm => (
            [
                helm::v2::crds(),
                helm::v2beta1::crds(),
                helm::v2beta2::crds(),
            ]
            .concat(),
            helm::v2::VERSION,
        ),
    };
    let mut by_name: BTreeMap<String, Vec<CustomResourceDefinition>> = BTreeMap::new();
    for crd in versions {
        by_name
            .entry(crd.metadata.name.clone().unwrap_or_default())
            .or_default()
            .push(crd);
    }
    by_name
        .into_values()
        .map(|crds| merge(crds, storage))
        .collect()
}

fn merge(crds: Vec<CustomResourceDefinition>, storage: &str) -> CustomResourceDefinition {
    let mut crd = match merge_crds(crds, storage) {
        Ok(crd) => crd,
        // The inputs are generated from our own types; a mismatch is a programming error that
        // every test run catches.
        Err(e) => panic!("CRD versions do not merge: {e}"),
    };
    finish(&mut crd);
    crd
}

/// Brings kube's generated CRD to Flux's shape: no `nullable` (Flux rejects nulls), no
/// schemars titles, and the annotation that keeps Flux's own post-build substitution off CRDs.
fn finish(crd: &mut CustomResourceDefinition) {
    crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
    crd.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            "kustomize.toolkit.fluxcd.io/substitute".into(),
            "disabled".into(),
        );
    for v in &mut crd.spec.versions {
        if let Some(schema) = v
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            clean(schema);
            // Flux's root: apiVersion, kind, metadata declared; spec not required.
            schema.required = None;
            let props = schema.properties.get_or_insert_with(Default::default);
            for field in ["apiVersion", "kind"] {
                props.insert(
                    field.into(),
                    JSONSchemaProps {
                        type_: Some("string".into()),
                        ..Default::default()
                    },
                );
            }
            props.insert(
                "metadata".into(),
                JSONSchemaProps {
                    type_: Some("object".into()),
                    ..Default::default()
                },
            );
        }
    }
}

fn clean(s: &mut JSONSchemaProps) {
    s.nullable = None;
    s.title = None;
    if let Some(e) = s.enum_.as_mut() {
        e.retain(|v| !v.0.is_null());
    }
    if let Some(props) = s.properties.as_mut() {
        props.values_mut().for_each(clean);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = s.items.as_mut() {
        clean(items);
    }
    if let Some(JSONSchemaPropsOrBool::Schema(ap)) = s.additional_properties.as_mut() {
        clean(ap);
    }
    for list in [&mut s.all_of, &mut s.any_of, &mut s.one_of]
        .into_iter()
        .flatten()
    {
        list.iter_mut().for_each(clean);
    }
}

/// File name Flux uses for a CRD: `<group>_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}
