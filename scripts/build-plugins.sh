#!/usr/bin/env bash
# scripts/build-plugins.sh: builds every plugin crate (a cdylib workspace
# member under plugins/, except plugins/sdk) for wasm32-wasip2 with the
# `plugin` profile, then copies the components to
#
#   dist/plugins/<short>.wasm        product plugins
#   dist/test-plugins/<short>.wasm   test-only plugins (crate name has `test_`)
#
# where <short> is the crate name without `inventag_`, `_` turned into `-`
# (inventag_collector_ec2.wasm -> dist/plugins/collector-ec2.wasm).
# Stale .wasm files in those two directories are removed. Each directory
# gets a lock file, inventag-plugins.lock, listing the components just built
# by file name and sha256: building from this source is what vets them.
#
# Usage: scripts/build-plugins.sh [extra cargo build args, e.g. --locked]
# Env:   CARGO_TARGET_DIR (default $HOME/.cache/inventag/target)

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$REPO_ROOT"
need_cmd cargo "install Rust with rustup: https://rustup.rs"
need_cmd python3 "needed to read the Cargo manifests"

# Lists "<package name> <lib crate name> <plugin dir>" for each plugin: a
# workspace member under plugins/ whose manifest declares a cdylib.
plugin_list() {
    python3 - "$REPO_ROOT" <<'EOF'
import fnmatch, glob, os, sys
try:
    import tomllib
except ImportError:
    sys.exit("build-plugins.sh: needs Python 3.11+ (tomllib) to read Cargo.toml")

root = sys.argv[1]
with open(os.path.join(root, "Cargo.toml"), "rb") as f:
    workspace = tomllib.load(f).get("workspace", {})
members = workspace.get("members", [])
excluded = set(workspace.get("exclude", []))

def is_member(rel):
    return rel not in excluded and any(fnmatch.fnmatchcase(rel, m) for m in members)

for manifest in sorted(glob.glob(os.path.join(root, "plugins", "*", "Cargo.toml"))):
    rel = os.path.relpath(os.path.dirname(manifest), root).replace(os.sep, "/")
    if rel == "plugins/sdk":
        continue
    with open(manifest, "rb") as f:
        raw = f.read()
    if b"cdylib" not in raw:
        continue
    data = tomllib.loads(raw.decode("utf-8"))
    lib = data.get("lib", {})
    if "cdylib" not in lib.get("crate-type", []):
        continue
    if not is_member(rel):
        print(f"build-plugins.sh: warning: {rel} is a cdylib but not a workspace member; skipped",
              file=sys.stderr)
        continue
    package = data["package"]["name"]
    crate = lib.get("name", package.replace("-", "_"))
    print(package, crate, rel)
EOF
}

plugins="$(plugin_list)" || die "could not read the plugin manifests"
[[ -n "$plugins" ]] || die "no cdylib plugin crates found under plugins/"

packages=()
crates=()
dirs=()
while read -r package crate dir; do
    packages+=("$package")
    crates+=("$crate")
    dirs+=("$dir")
done <<<"$plugins"

ensure_wasm_target

cargo_args=(build --profile plugin --target "$WASM_TARGET")
for package in "${packages[@]}"; do
    cargo_args+=(-p "$package")
done
log "building ${#packages[@]} plugins: ${packages[*]} (target dir $CARGO_TARGET_DIR)"
cargo "${cargo_args[@]}" "$@" || die "cargo build of the plugins failed"

out_dir="$CARGO_TARGET_DIR/$WASM_TARGET/plugin"
mkdir -p dist/plugins dist/test-plugins
rm -f dist/plugins/*.wasm dist/test-plugins/*.wasm dist/plugins/*.sig dist/test-plugins/*.sig

built=()
for i in "${!crates[@]}"; do
    crate="${crates[i]}"
    src="$out_dir/$crate.wasm"
    [[ -f "$src" ]] || die "cargo reported success but $src is missing"
    short="${crate#inventag_}"
    short="${short//_/-}"
    if [[ "$crate" == *test_* ]]; then
        dest="dist/test-plugins/$short.wasm"
    else
        dest="dist/plugins/$short.wasm"
    fi
    cp -- "$src" "$dest"
    chmod 644 "$dest"
    built+=("$dest" "${dirs[i]}")
    log "$dest ($(wc -c <"$dest") bytes)"
done

# The lock files (format: README, "Vetting plugins"), written whole and
# renamed into place.
python3 - "${built[@]}" <<'EOF'
import hashlib, json, os, sys

args = sys.argv[1:]
locks = {}
for dest, source in zip(args[0::2], args[1::2]):
    with open(dest, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    locks.setdefault(os.path.dirname(dest), []).append({
        "file": os.path.basename(dest),
        "sha256": digest,
        "vetted": f"built from {source} by scripts/build-plugins.sh",
    })
for directory in ("dist/plugins", "dist/test-plugins"):
    entries = sorted(locks.get(directory, []), key=lambda e: e["file"])
    path = os.path.join(directory, "inventag-plugins.lock")
    with open(path + ".tmp", "w") as f:
        json.dump({"version": 1, "plugins": entries}, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print(f"[build-plugins.sh] {path} ({len(entries)} plugins)", file=sys.stderr)
EOF
