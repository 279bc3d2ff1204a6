//! Where rendering time goes: `cargo run --release -p ferroflux-helm --example phases CHART`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferroflux_gotemplate::Dict;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: phases CHART");
    let t = Instant::now();
    let funcs = ferroflux_helm::default_funcs();
    eprintln!("funcs        {:?}", t.elapsed());
    let values = std::path::Path::new(&path).join("values.yaml");
    if let Ok(text) = std::fs::read_to_string(&values) {
        let t = Instant::now();
        let _ = ferroflux_helm::yaml::parse(&text);
        eprintln!("values.yaml  {:?} ({} bytes)", t.elapsed(), text.len());
    }
    let t = Instant::now();
    let chart = ferroflux_helm::loader::load(std::path::Path::new(&path)).unwrap();
    eprintln!("load         {:?}", t.elapsed());
    let mut c2 = chart.clone();
    let t = Instant::now();
    ferroflux_helm::values::process_dependencies(&mut c2, &Dict::new()).unwrap();
    eprintln!("dependencies {:?}", t.elapsed());
    let t = Instant::now();
    let v = ferroflux_helm::values::coalesce_values(&c2, &Dict::new()).unwrap();
    eprintln!("coalesce     {:?}", t.elapsed());
    let t = Instant::now();
    let _ = ferroflux_helm::schema::validate_chart(&c2, &v);
    eprintln!("schema       {:?}", t.elapsed());
    let opts = ferroflux_helm::Options {
        kube_version: Some("1.33.0".into()),
        ..Default::default()
    };
    let t = Instant::now();
    let r = ferroflux_helm::render_chart(chart, &Dict::new(), &opts, funcs).unwrap();
    eprintln!(
        "render_chart {:?} ({} manifests)",
        t.elapsed(),
        r.manifests.len()
    );
}
