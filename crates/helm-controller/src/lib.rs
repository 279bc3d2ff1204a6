//! helm-controller.
