#!/usr/bin/env bash
# scripts/bench.sh: the scheduler benchmark. Builds the release host, the
# latency proxy and the plugins, starts moto on 127.0.0.1 and runs two
# scenarios, printing the figures of each:
#
#   latency  5 accounts x 3 regions of the full fixture (every type of every
#            collector, seed.py --suite full), every collector, with a proxy
#            adding LATENCY_MS (default 50) to every request. Prints wall
#            time, collection time, AWS calls, peak calls in flight, peak RSS
#            and the share of CPU spent inside plugins, and compares the
#            collection time with the longest chain of dependent calls (the
#            identity check, then the calls of the busiest collector part of
#            one target, read from the audit log, each costing the mean round
#            trip the proxy measured).
#   scale    100,000 synthetic resources (5 accounts x 2 regions x 10,000,
#            from the benchmark-only synthetic collector) written as JSON.
#            Prints wall time, peak RSS and the resources in the BOM.
#
# Usage: scripts/bench.sh [latency|scale]...   (default: both)
# Env:   LATENCY_MS, CARGO_TARGET_DIR (default $HOME/.cache/inventag/target)

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$REPO_ROOT"
need_cmd cargo "install Rust with rustup: https://rustup.rs"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed for peak RSS (apt-get install time)"

scenarios=("$@")
((${#scenarios[@]})) || scenarios=(latency scale)
LATENCY_MS="${LATENCY_MS:-50}"

ensure_wasm_target
ensure_venv
"$REPO_ROOT/scripts/build-plugins.sh" --locked
log "building the host and the latency proxy (release)"
cargo build --release --locked -p inventag --bin inventag --example latency_proxy
BIN="$CARGO_TARGET_DIR/release/inventag"
PROXY_BIN="$CARGO_TARGET_DIR/release/examples/latency_proxy"

make_run_tmp
start_moto

ACCOUNTS="111111111111,222222222222,333333333333,444444444444,555555555555"
log "seeding moto: 5 accounts x 3 regions, every collector's types"
"$VENV_DIR/bin/python" tests/fixtures/seed.py --suite full \
    --accounts "$ACCOUNTS" --regions us-east-1,eu-west-1,ap-southeast-2 \
    --profile-dir "$RUN_TMP/aws" --manifest "$RUN_TMP/manifest.json" \
    --accounts-file "$RUN_TMP/accounts.json" >"$RUN_TMP/seed.log" 2>&1 ||
    { tail -n 20 "$RUN_TMP/seed.log" >&2; die "seeding failed"; }

run_env=(
    env
    -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN
    -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION
    AWS_CONFIG_FILE="$RUN_TMP/aws/config"
    AWS_SHARED_CREDENTIALS_FILE="$RUN_TMP/aws/credentials"
    AWS_EC2_METADATA_DISABLED=true
)

# Runs inventag under /usr/bin/time; sets WALL, RSS_MB, CPU_S, SUMMARY and
# STATUS. A partial run (3) is reported, not fatal: moto fails a few calls
# (MOTO_GAPS in tests/fixtures/suite.py).
timed_run() {
    local out="$RUN_TMP/run.out" err="$RUN_TMP/run.err" status=0
    run_interruptible "${run_env[@]}" /usr/bin/time -v -o "$RUN_TMP/time.txt" \
        "$BIN" --quiet run "$@" >"$out" 2>"$err" || status=$?
    if ((status != 0 && status != 3)); then
        tail -n 20 "$err" >&2
        die "inventag exited with status $status"
    fi
    STATUS="$status"
    if ((status == 3)); then
        log "partial run (exit status 3):"
        grep '^problem:' "$err" >&2 || true
    fi
    WALL="$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$RUN_TMP/time.txt")"
    RSS_MB="$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$RUN_TMP/time.txt")"
    CPU_S="$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' \
        "$RUN_TMP/time.txt")"
    # --quiet keeps only errors on stderr; the summary comes from a second,
    # cheap source: the run's own report line is printed at error level too.
    SUMMARY="$(grep -E '^(Complete|Partial|Failed):' "$err" || true)"
    BOM_FILE="$(head -n 1 "$out")"
}

figure() { sed -n "s/.*$1.*/\\1/p" <<<"$SUMMARY"; }

for scenario in "${scenarios[@]}"; do
    case "$scenario" in
    latency)
        log "scenario latency: ${LATENCY_MS} ms per request"
        "$PROXY_BIN" --upstream "127.0.0.1:$MOTO_PORT" --latency-ms "$LATENCY_MS" \
            --stats "$RUN_TMP/proxy.json" >"$RUN_TMP/proxy.out" 2>&1 &
        proxy_pid=$!
        on_exit kill "$proxy_pid"
        for _ in $(seq 50); do
            grep -q '^listening on' "$RUN_TMP/proxy.out" 2>/dev/null && break
            sleep 0.1
        done
        proxy_addr="$(sed -n 's/^listening on //p' "$RUN_TMP/proxy.out")"
        [[ -n "$proxy_addr" ]] || die "the latency proxy did not start"
        timed_run --accounts-file "$RUN_TMP/accounts.json" --formats json \
            --output-dir "$RUN_TMP/out-latency" --plugin-dir dist/plugins \
            --endpoint-url "http://$proxy_addr"
        sleep 0.3
        kill "$proxy_pid" 2>/dev/null || true
        python3 - "$RUN_TMP/proxy.json" "$SUMMARY" "$WALL" "$RSS_MB" "$CPU_S" "$LATENCY_MS" \
            "$RUN_TMP"/out-latency/inventag-audit-*.jsonl <<'PY'
import collections, json, re, sys
stats = json.load(open(sys.argv[1]))
summary, wall, rss, cpu, latency, audit = sys.argv[2:8]
def num(pattern):
    m = re.search(pattern, summary)
    return float(m.group(1)) if m else float("nan")
collect = num(r"collected in ([0-9.]+)s")
plugins = num(r"([0-9.]+)s in plugins")
resources = int(num(r"(\d+) resources"))
# The longest chain of dependent calls: the identity check, then the calls
# of the busiest collector part of one target, which a part makes one after
# the other (the audit log names the part of every call).
chains = collections.Counter()
for line in open(audit):
    record = json.loads(line)
    if record["plugin"] != "inventag" and record["verdict"] == "allowed":
        key = (record["plugin"], record["account_id"], record["region"], record.get("part"))
        chains[key] += 1
(longest, part_calls), = chains.most_common(1)
chain_calls = 1 + part_calls
chain = chain_calls * stats["mean_ms"] / 1000
unloaded = chain_calls * stats["min_ms"] / 1000
print(f"latency scenario ({latency} ms per request)")
print(f"  resources            {resources}")
print(f"  wall time            {wall} (process), {collect:.3f} s collecting")
print(f"  AWS calls            {stats['requests']} (peak {stats['peak_in_flight']} in flight)")
print(f"  round trip           {stats['mean_ms']:.1f} ms mean, {stats['min_ms']:.1f} ms fastest")
print(f"  longest chain        {chain_calls} calls = {chain:.3f} s at the mean round trip "
      f"(identity check, then {longest[0]} part {longest[3]} in {longest[1]}/{longest[2]})")
print(f"  collection / chain   {collect / chain:.2f}x")
print(f"  unloaded chain       {unloaded:.3f} s at the fastest round trip "
      f"({collect / unloaded:.1f}x; moto serves {stats['requests'] / collect:.0f} calls/s)")
print(f"  peak RSS             {rss} MB")
print(f"  CPU in plugins       {plugins:.2f} s of {cpu} s ({100 * plugins / float(cpu):.0f}%)")
PY
        ;;
    scale)
        log "scenario scale: 100,000 synthetic resources"
        plugins="$RUN_TMP/plugins-scale"
        mkdir -p "$plugins"
        cp dist/test-plugins/test-synthetic.wasm dist/plugins/formatter-json.wasm "$plugins/"
        # Both were vetted by being built from this source; vet the copies.
        for wasm in "$plugins"/*.wasm; do
            "$BIN" plugins vet "$wasm" --yes >/dev/null
        done
        python3 - "$RUN_TMP/accounts.json" "$RUN_TMP/accounts-scale.json" <<'PY'
import json, sys
accounts = json.load(open(sys.argv[1]))["accounts"]
for a in accounts:
    a["account_name"] = "synthetic-10000"
    a["regions"] = ["us-east-1", "eu-west-1"]
json.dump({"accounts": accounts}, open(sys.argv[2], "w"))
PY
        timed_run --accounts-file "$RUN_TMP/accounts-scale.json" --formats json \
            --output-dir "$RUN_TMP/out-scale" --plugin-dir "$plugins" \
            --endpoint-url "http://127.0.0.1:$MOTO_PORT"
        count="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["resources"]))' "$BOM_FILE")"
        echo "scale scenario"
        echo "  resources in BOM     $count"
        echo "  wall time            $WALL"
        echo "  peak RSS             $RSS_MB MB"
        echo "  CPU                  $CPU_S s ($(figure ' \([0-9.]*\)s in plugins') s in plugins)"
        echo "  BOM size             $(du -h "$BOM_FILE" | cut -f1)"
        ;;
    *) die "unknown scenario $scenario (latency, scale)" ;;
    esac
done
