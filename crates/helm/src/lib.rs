//! Helm charts rendered as `helm template` renders them: loading (directories and `.tgz`,
//! `.helmignore`), values (files, `--set`, coalescing, dependencies, import-values, schema),
//! the template engine set-up (`.Values`, `.Release`, `.Chart`, `.Capabilities`, `.Files`,
//! `.Template`, `.Subcharts`), and the manifest stream (hooks, install order, CRDs).
#![forbid(unsafe_code)]

pub mod chart;
mod error;
pub mod glob;
pub mod ignore;
pub mod loader;
pub mod manifest;
pub mod objects;
pub mod render;
pub mod schema;
pub mod strvals;
pub mod template;
pub mod values;
pub mod yaml;

pub use chart::Chart;

pub use error::{Error, Result};
pub use template::{Options, Rendered, default_funcs, render_chart, template, template_then_exit};
