//! Flux kustomize-controller behaviours on top of the build engine, as pure functions:
//!
//! * [`generate`]: the kustomization Flux generates for a directory without one;
//! * [`overrides`]: a Flux `Kustomization`'s `targetNamespace`, `namePrefix`/`nameSuffix`,
//!   `patches`, `images`, `components` and `commonMetadata` layered over the user's;
//! * [`substitute`]: post-build variable substitution (`spec.postBuild`).

pub mod generate;
pub mod overrides;
pub mod substitute;

pub use generate::generate_kustomization;
pub use overrides::{CommonMetadata, Overrides, apply_common_metadata, apply_overrides};
pub use substitute::{SubstituteOptions, substitute, substitute_with};
