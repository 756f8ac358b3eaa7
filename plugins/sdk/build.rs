//! Rebuilds the SDK when the WIT contract changes. The bindings are
//! generated from `../../wit` by a macro, and a shared build cache may hold
//! a build made from another checkout of the same tree; naming the
//! directory here makes cargo compare this checkout's files.

fn main() {
    println!("cargo:rerun-if-changed=../../wit");
}
