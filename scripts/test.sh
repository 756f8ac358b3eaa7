#!/usr/bin/env bash
# scripts/test.sh: runs every test of the inventag host. Installs what a fresh
# machine lacks (the wasm32-wasip2 target, .venv with a pinned moto, boto3 and
# the JSON Schema and CycloneDX validators, and on Debian LibreOffice and
# poppler for the rendering check), builds the plugins into dist/ and the
# out-of-tree examples/custom-* plugins on their own, runs the
# formatter plugins' and the HTML example's unit tests (when no ARGS are
# given), then
#
#   cargo test -p inventag --locked [ARGS...] -- --test-threads 2
#
# The Rust tests start their own moto servers on 127.0.0.1 through
# INVENTAG_MOTO_SERVER and seed them with INVENTAG_PYTHON.
#
# Usage: scripts/test.sh [extra cargo test args, e.g. a test name filter]
#        Arguments after `--` go to the test binaries, after --test-threads 2.
# Env:   CARGO_TARGET_DIR (default $HOME/.cache/inventag/target)

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$REPO_ROOT"
need_cmd cargo "install Rust with rustup: https://rustup.rs"

ensure_wasm_target
ensure_venv
ensure_office_tools
"$REPO_ROOT/scripts/build-plugins.sh" --locked

# The third-party examples build on their own, outside the workspace, as the
# README's plugin author guide says; tests/third_party_plugins.rs runs them.
example_target="$CARGO_TARGET_DIR/examples"
for example in custom-collector custom-formatter; do
    log "building examples/$example (cargo build --target $WASM_TARGET --release)"
    (cd "examples/$example" && CARGO_TARGET_DIR="$example_target" \
        cargo build --target "$WASM_TARGET" --release --locked) ||
        die "examples/$example does not build"
done
export INVENTAG_EXAMPLE_PLUGIN_DIR="$CARGO_TARGET_DIR/example-plugins"
mkdir -p "$INVENTAG_EXAMPLE_PLUGIN_DIR"
cp -- "$example_target/$WASM_TARGET/release/inventag_ecr.wasm" "$INVENTAG_EXAMPLE_PLUGIN_DIR/ecr.wasm"
cp -- "$example_target/$WASM_TARGET/release/inventag_html.wasm" "$INVENTAG_EXAMPLE_PLUGIN_DIR/html.wasm"

# Split the caller's arguments at `--`: cargo's own before, the test
# harness's after.
cargo_args=()
harness_args=()
seen_separator=0
for arg in "$@"; do
    if ((seen_separator)); then
        harness_args+=("$arg")
    elif [[ "$arg" == "--" ]]; then
        seen_separator=1
    else
        cargo_args+=("$arg")
    fi
done

# Tests reach AWS only through the moto servers they start: no ambient
# credentials or profiles, no metadata endpoint.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
    AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI MOTO_ACCOUNT_ID

# Ambient AWS config files must not leak into the tests; a test that wants
# profiles writes its own files and points these variables at them.
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null

export INVENTAG_PYTHON="$VENV_DIR/bin/python"
export INVENTAG_MOTO_SERVER="$VENV_DIR/bin/moto_server"
export INVENTAG_PLUGIN_DIR="$REPO_ROOT/dist/plugins"
export INVENTAG_TEST_PLUGIN_DIR="$REPO_ROOT/dist/test-plugins"
# Runs keep their precompiled plugins beside the build, not in ~/.cache.
export INVENTAG_PLUGIN_CACHE="$CARGO_TARGET_DIR/tmp/plugin-cache"
export AWS_EC2_METADATA_DISABLED=true

# The formatters' text, sheet-name and escaping rules have unit tests of
# their own, which run natively.
if ((${#cargo_args[@]} == 0)); then
    plugin_tests=()
    for crate in formatter-kit formatter-json formatter-excel formatter-word formatter-csv \
        formatter-markdown formatter-cyclonedx; do
        plugin_tests+=(-p "inventag-$crate")
    done
    log "cargo test --locked ${plugin_tests[*]}"
    cargo test --locked "${plugin_tests[@]}"
    log "cargo test --locked in examples/custom-formatter (its escaping rules)"
    (cd examples/custom-formatter && CARGO_TARGET_DIR="$example_target" cargo test --locked)
fi

log "cargo test -p inventag --locked ${cargo_args[*]} -- --test-threads 2 ${harness_args[*]}"
cargo test -p inventag --locked "${cargo_args[@]}" -- --test-threads 2 "${harness_args[@]}"
