//! Applies the objects of a JSON file (an array, or a `v1` `List`) with the staged server-side
//! apply engine against the cluster of `$KUBECONFIG`, and prints the change set's counts and the
//! wall time. Used by `hack/bench/ssa.sh`; handy to try the engine by hand.
//!
//! `cargo run --release -p ferroflux-ssa --example apply -- FILE [OWNER_NAME]`

use std::collections::BTreeMap;
use std::time::Instant;

use ferroflux_ssa::{Owner, ResourceManager};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let file = args.next().ok_or("usage: apply FILE [OWNER_NAME]")?;
    let owner_name = args.next().unwrap_or_else(|| "ssa-example".into());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
    let objects = match doc {
        serde_json::Value::Array(items) => items,
        mut list => match list.get_mut("items").map(serde_json::Value::take) {
            Some(serde_json::Value::Array(items)) => items,
            _ => return Err(format!("{file}: neither a JSON array nor a List").into()),
        },
    };
    let count = objects.len();

    let start = Instant::now();
    let client = kube::Client::try_default().await?;
    let rm = ResourceManager::new(
        client,
        "ferroflux-ssa-example",
        Owner {
            group: "kustomize.toolkit.fluxcd.io".into(),
            name: owner_name,
            namespace: "default".into(),
        },
    );
    let opts = rm.default_apply_options();
    let cs = rm.apply_all_staged(objects, &opts).await?;
    let elapsed = start.elapsed();

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &cs.entries {
        *counts.entry(e.action.to_string()).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(a, n)| format!("{a}={n}")).collect();
    println!(
        "{count} objects {} in {} ms",
        counts.join(" "),
        elapsed.as_millis()
    );
    Ok(())
}
