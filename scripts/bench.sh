#!/usr/bin/env bash
# scripts/bench.sh: the scheduler benchmark. Builds the release host, the
# latency proxy and the plugins, starts moto on 127.0.0.1 and runs two
# scenarios, printing the figures of each:
#
#   latency  5 accounts x 3 regions of the full fixture (every type of every
#            collector, seed.py --suite full), every collector, with a proxy
#            adding LATENCY_MS (default 50) to every request. It runs first
#            against moto itself, the proxy recording moto's answers, then
#            REPLAYS times against that recording, replayed by the proxy. On
#            two cores moto answers about 120 calls a second, so the first
#            run measures moto; the replay answers at once and measures
#            inventag's scheduling (the median run is shown, as this
#            machine's noise is tens of milliseconds). Each run's BOM is
#            checked against the fixture's ground truth. For each it prints
#            wall time, collection time, AWS calls, peak calls in flight,
#            peak RSS and the share of CPU spent inside plugins, and compares
#            the collection time with the longest chain of dependent calls
#            (the identity check, then the calls of the busiest collector
#            part of one target, read from the audit log, each costing the
#            mean round trip the proxy measured).
#   scale    100,000 synthetic resources (5 accounts x 2 regions x 10,000,
#            from the benchmark-only synthetic collector) written as JSON.
#            Prints wall time, peak RSS and the resources in the BOM.
#
# Usage: scripts/bench.sh [latency|scale]...   (default: both)
# Env:   LATENCY_MS, REPLAYS (replayed runs, default 5),
#        CARGO_TARGET_DIR (default $HOME/.cache/inventag/target)

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$REPO_ROOT"
need_cmd cargo "install Rust with rustup: https://rustup.rs"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed for peak RSS (apt-get install time)"

scenarios=("$@")
((${#scenarios[@]})) || scenarios=(latency scale)
LATENCY_MS="${LATENCY_MS:-50}"
REPLAYS="${REPLAYS:-5}"

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

# Starts the latency proxy with the given flags; sets PROXY_ADDR, PROXY_PID.
start_proxy() {
    local out="$RUN_TMP/proxy.out"
    "$PROXY_BIN" "$@" >"$out" 2>&1 &
    PROXY_PID=$!
    on_exit kill "$PROXY_PID"
    PROXY_ADDR=""
    for _ in $(seq 50); do
        PROXY_ADDR="$(sed -n 's/^listening on //p' "$out" 2>/dev/null)"
        [[ -n "$PROXY_ADDR" ]] && return 0
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$out" >&2
    die "the latency proxy did not start"
}

# Runs the latency scenario through the proxy at PROXY_ADDR, checks the BOM
# against the ground truth and prints its figures under the label $1.
latency_run() {
    local label="$1"
    shift
    timed_run --accounts-file "$RUN_TMP/accounts.json" --formats json \
        --output-dir "$RUN_TMP/out-$label" --plugin-dir dist/plugins \
        --endpoint-url "http://$PROXY_ADDR" "$@"
    sleep 0.3
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    local truth
    truth="$("$VENV_DIR/bin/python" tests/fixtures/compare_bom.py "$BOM_FILE" \
        "$RUN_TMP/manifest.json" 2>&1)" ||
        { echo "$truth" >&2; die "the $label run's BOM differs from the fixture"; }
    python3 - "$RUN_TMP/proxy-$label.json" "$SUMMARY" "$WALL" "$RSS_MB" "$CPU_S" \
        "$(grep -o '[0-9]*/[0-9]* resources' <<<"$truth")" \
        "$RUN_TMP/out-$label"/inventag-audit-*.jsonl >"$RUN_TMP/figures-$label.json" <<'PY'
import collections, json, re, sys
stats = json.load(open(sys.argv[1]))
summary, wall, rss, cpu, truth, audit = sys.argv[2:8]
def num(pattern):
    m = re.search(pattern, summary)
    return float(m.group(1)) if m else float("nan")
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
minutes, seconds = wall.split(":")[-2:]
json.dump({
    "proxy": stats, "truth": truth, "rss_mb": int(rss), "cpu_s": float(cpu),
    "wall_s": 60 * int(minutes) + float(seconds),
    "collect_s": num(r"collected in ([0-9.]+)s"), "plugins_s": num(r"([0-9.]+)s in plugins"),
    "resources": int(num(r"(\d+) resources")),
    "chain_calls": 1 + part_calls, "chain_part": list(longest),
}, sys.stdout)
PY
}

# Prints the figures of the live run and of the median replay.
latency_report() {
    python3 - "$LATENCY_MS" "$RUN_TMP"/figures-*.json <<'PY'
import json, os, sys
latency = sys.argv[1]
runs = {os.path.basename(p)[8:-5]: json.load(open(p)) for p in sys.argv[2:]}
replays = sorted((r for k, r in runs.items() if k.startswith("replay-")),
                 key=lambda r: r["collect_s"])
def show(title, r, extra=""):
    stats = r["proxy"]
    chain = r["chain_calls"] * stats["mean_ms"] / 1000
    unloaded = r["chain_calls"] * stats["min_ms"] / 1000
    plugin, account, region, part = r["chain_part"]
    print(f"latency scenario, {latency} ms per request, {title}")
    print(f"  resources            {r['resources']} ({r['truth']} of the fixture)")
    print(f"  wall time            {r['wall_s']:.2f} s (process), {r['collect_s']:.3f} s collecting"
          + extra)
    print(f"  AWS calls            {stats['requests']} (peak {stats['peak_in_flight']} in flight, "
          f"{stats.get('misses', 0)} not on the tape)")
    print(f"  round trip           {stats['mean_ms']:.1f} ms mean, {stats['min_ms']:.1f} ms fastest")
    print(f"  longest chain        {r['chain_calls']} calls = {chain:.3f} s at the mean round trip "
          f"(identity check, then {plugin} part {part} in {account}/{region})")
    print(f"  collection / chain   {r['collect_s'] / chain:.2f}x "
          f"(process / chain {r['wall_s'] / chain:.2f}x)")
    print(f"  unloaded chain       {unloaded:.3f} s at the fastest round trip "
          f"({r['collect_s'] / unloaded:.2f}x); "
          f"{stats['requests'] / r['collect_s']:.0f} calls/s served")
    print(f"  peak RSS             {r['rss_mb']} MB")
    print(f"  CPU in plugins       {r['plugins_s']:.2f} s of {r['cpu_s']:.2f} s "
          f"({100 * r['plugins_s'] / r['cpu_s']:.0f}%)")
live = runs["live"]
served = live["proxy"]["requests"] / live["collect_s"]
print(f"latency scenario, {latency} ms per request, moto, recorded")
print(f"  resources            {live['resources']} ({live['truth']} of the fixture)")
print(f"  wall time            {live['wall_s']:.2f} s (process), "
      f"{live['collect_s']:.3f} s collecting")
print(f"  AWS calls            {live['proxy']['requests']} "
      f"(peak {live['proxy']['peak_in_flight']} in flight)")
print(f"  bound by moto        {served:.0f} calls/s served, "
      f"{live['proxy']['mean_ms']:.0f} ms mean round trip")
print(f"  peak RSS             {live['rss_mb']} MB")
if "first" in runs:
    show("moto's answers replayed, no call history (a first run)", runs["first"])
if replays:
    median = replays[len(replays) // 2]
    times = ", ".join(f"{r['collect_s']:.3f}" for r in replays)
    show(f"moto's answers replayed (median of {len(replays)} runs)", median,
         f"\n                       (collecting, each run: {times} s)")
PY
}

for scenario in "${scenarios[@]}"; do
    case "$scenario" in
    latency)
        log "scenario latency: ${LATENCY_MS} ms per request, live moto recorded"
        start_proxy --upstream "127.0.0.1:$MOTO_PORT" --latency-ms "$LATENCY_MS" \
            --record "$RUN_TMP/tape.bin" --stats "$RUN_TMP/proxy-live.json"
        latency_run live
        # Once as a first run would: the same compiled components, but no
        # call history to order the targets by.
        log "scenario latency: ${LATENCY_MS} ms per request, replayed without a call history"
        cold="$RUN_TMP/cache-without-history"
        mkdir -m 700 "$cold"
        cp "${XDG_CACHE_HOME:-$HOME/.cache}/inventag/components/"*.cwasm "$cold/"
        start_proxy --replay "$RUN_TMP/tape.bin" --latency-ms "$LATENCY_MS" \
            --stats "$RUN_TMP/proxy-first.json"
        latency_run first --plugin-cache "$cold"
        for n in $(seq "$REPLAYS"); do
            log "scenario latency: ${LATENCY_MS} ms per request, replayed ($n of $REPLAYS)"
            start_proxy --replay "$RUN_TMP/tape.bin" --latency-ms "$LATENCY_MS" \
                --stats "$RUN_TMP/proxy-replay-$n.json"
            latency_run "replay-$n"
        done
        latency_report
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
