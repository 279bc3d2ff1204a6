//! kustomize-controller.
