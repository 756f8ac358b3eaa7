#!/usr/bin/env bash
# scripts/demo.sh: the end-to-end demo. On a fresh machine it installs the
# wasm32-wasip2 target and a local .venv with moto, builds the plugins and the
# release host, starts a moto server on 127.0.0.1, seeds it with at least one
# resource of every type the collectors cover (tests/fixtures/seed.py --suite
# full) in two accounts (111111111111, 222222222222) and two regions
# (us-east-1, eu-west-1), IAM, CloudFront and Route 53 once per account, runs
#
#   inventag run --accounts-file ACCOUNTS --formats json \
#       --output-dir out/demo --plugin-dir dist/plugins
#
# against it with per-account profiles, and prints the run's wall time, peak
# memory, where the BOM is and how many resources it lists next to what moto
# holds (N/N resources). Exits non-zero if inventag fails or the BOM does not
# match moto (resource identities, accounts, regions or tags, or a target that
# did not end ok; tests/fixtures/compare_bom.py). A partial run (exit status
# 3) passes only when every target that did not end ok is explained by a moto
# gap the fixture lists (MOTO_GAPS in tests/fixtures/suite.py).
#
# Usage: scripts/demo.sh        (KEEP_TMP=1 keeps the temp dir with the
#                                seeded profiles, manifest and moto log)
# Env:   CARGO_TARGET_DIR (default $HOME/.cache/inventag/target)

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$REPO_ROOT"
need_cmd cargo "install Rust with rustup: https://rustup.rs"

ACCOUNTS="111111111111,222222222222"
REGIONS="us-east-1,eu-west-1"
OUT_DIR="out/demo"

ensure_wasm_target
ensure_venv
"$REPO_ROOT/scripts/build-plugins.sh" --locked
log "building the host (release)"
cargo build --release -p inventag --locked || die "cargo build of the host failed"
INVENTAG_BIN="$CARGO_TARGET_DIR/release/inventag"
[[ -x "$INVENTAG_BIN" ]] || die "cargo reported success but $INVENTAG_BIN is missing"

make_run_tmp
start_moto

log "seeding moto"
"$VENV_DIR/bin/python" "$REPO_ROOT/tests/fixtures/seed.py" \
    --accounts "$ACCOUNTS" --regions "$REGIONS" --suite full \
    --profile-dir "$RUN_TMP/aws" \
    --accounts-file "$RUN_TMP/accounts.json" \
    --manifest "$RUN_TMP/manifest.json" || {
    log "last lines of the moto log:"
    tail -n 30 "$MOTO_LOG" >&2 || true
    die "seeding moto failed (run with KEEP_TMP=1 to keep $MOTO_LOG)"
}

rm -rf -- "$OUT_DIR"
mkdir -p "$OUT_DIR"

# The run sees the seeded profiles and the moto endpoint, nothing else: no
# ambient keys, profiles or regions, and no instance metadata endpoint.
run_env=(
    env
    -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN
    -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION
    -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE
    -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI -u AWS_CONTAINER_CREDENTIALS_FULL_URI
    AWS_CONFIG_FILE="$RUN_TMP/aws/config"
    AWS_SHARED_CREDENTIALS_FILE="$RUN_TMP/aws/credentials"
    AWS_EC2_METADATA_DISABLED=true
    AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL"
)
run_cmd=(
    "$INVENTAG_BIN" run
    --accounts-file "$RUN_TMP/accounts.json"
    --formats json
    --output-dir "$OUT_DIR"
    --plugin-dir dist/plugins
)

log "running: inventag run --accounts-file \$TMP/accounts.json --formats json --output-dir $OUT_DIR --plugin-dir dist/plugins"
status=0
peak_rss="n/a"
start="$(date +%s.%N)"
if [[ -x /usr/bin/time ]]; then
    run_interruptible "${run_env[@]}" /usr/bin/time -v -o "$RUN_TMP/time.txt" "${run_cmd[@]}" ||
        status=$?
    rss_kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$RUN_TMP/time.txt" 2>/dev/null || true)"
    if [[ "$rss_kb" =~ ^[0-9]+$ ]]; then
        peak_rss="$((rss_kb / 1024)) MiB ($rss_kb KiB)"
    fi
else
    TIMEFORMAT='inventag: real %R s, user %U s, sys %S s (bash time; no /usr/bin/time for peak RSS)'
    time run_interruptible "${run_env[@]}" "${run_cmd[@]}" || status=$?
fi
end="$(date +%s.%N)"
wall="$(LC_ALL=C awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')"

echo "inventag run: exit status $status, wall ${wall} s, peak RSS $peak_rss"
# 3 is a partial run: the comparison below accepts it only when moto's own
# gaps explain every target that did not end ok.
if ((status != 0 && status != 3)); then
    die "inventag run failed with exit status $status (rerun with KEEP_TMP=1 to keep the seeded files and moto log)"
fi

compare=0
"$VENV_DIR/bin/python" "$REPO_ROOT/tests/fixtures/compare_bom.py" "$OUT_DIR" "$RUN_TMP/manifest.json" ||
    compare=$?
stop_moto
case "$compare" in
    0) log "demo finished: the BOM lists exactly the resources moto holds, with their tags" ;;
    1) die "the BOM does not match what moto holds (see above)" ;;
    *) die "could not read the BOM under $OUT_DIR" ;;
esac
