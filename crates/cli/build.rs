//! Link the `ferroflux` command as a position-dependent executable on Linux/x86-64.
//!
//! The command runs once per build or render (benchmarks and CI start it hundreds of times),
//! and a position-independent executable of this size makes the dynamic loader apply tens of
//! thousands of relocations on every start, touching ~130 extra pages: about 0.5 ms of a
//! 2 ms run here. The controllers, which run long and face the network, stay PIE.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" {
        println!("cargo:rustc-link-arg-bin=ferroflux=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
