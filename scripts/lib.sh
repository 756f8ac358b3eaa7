#!/usr/bin/env bash
# scripts/lib.sh: helpers sourced by the other scripts (not run on its own).
#
#   REPO_ROOT           the repository root (absolute)
#   VENV_DIR            $REPO_ROOT/.venv, the local Python environment for moto
#   CARGO_TARGET_DIR    exported; defaults to $HOME/.cache/inventag/target so
#                       CI and repeated runs reuse one build cache outside the clone
#   die / log           error and progress messages on stderr
#   on_exit CMD...      run CMD at exit (last registered runs first), also on
#                       failure and on Ctrl-C / SIGTERM
#   run_interruptible CMD...  runs CMD so that a signal to the script stops
#                       it at once (and CMD with it)
#   make_run_tmp        creates $RUN_TMP, a per-run temp dir removed at exit
#   ensure_wasm_target  rustup target add wasm32-wasip2 (only when missing)
#   ensure_venv         creates .venv with moto[server] (pinned) and boto3;
#                       a stamp file makes it a no-op when already done
#   start_moto          moto_server on 127.0.0.1 and a free port, in the
#                       background; waits until it answers; exports
#                       AWS_ENDPOINT_URL, MOTO_PORT, MOTO_PID; stops it at exit
#   stop_moto           stops the server started by start_moto (by its pid)
#
# Every AWS client started from these scripts talks to the local moto server
# only: the instance metadata endpoint is disabled and loopback bypasses any
# proxy.

set -euo pipefail

if [[ -n "${_INVENTAG_LIB_SOURCED:-}" ]]; then
    return 0
fi
_INVENTAG_LIB_SOURCED=1

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV_DIR="$REPO_ROOT/.venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/inventag/target}"

# The pinned test requirements. Changing this string re-runs the install.
# jsonschema validates the JSON BOM against schemas/bom.schema.json;
# cyclonedx-python-lib ships the official CycloneDX schemas and validator.
MOTO_REQUIREMENTS=("moto[server]==5.2.1" "boto3" "jsonschema==4.26.0"
    "cyclonedx-python-lib[json-validation]==11.12.0")
WASM_TARGET="wasm32-wasip2"

# Never let an AWS client fall back to an instance metadata endpoint, and keep
# loopback traffic away from any configured proxy.
export AWS_EC2_METADATA_DISABLED=true
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

log() {
    printf '[%s] %s\n' "$(basename "$0")" "$*" >&2
}

die() {
    printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}

# --- exit handlers ----------------------------------------------------------

_EXIT_HANDLERS=()

_run_exit_handlers() {
    local status=$?
    local i
    set +e
    for ((i = ${#_EXIT_HANDLERS[@]} - 1; i >= 0; i--)); do
        eval "${_EXIT_HANDLERS[i]}" 2>/dev/null
    done
    _EXIT_HANDLERS=()
    return "$status"
}

# on_exit CMD [ARGS...]: registers a command, quoted safely, to run at exit.
on_exit() {
    local quoted
    printf -v quoted '%q ' "$@"
    _EXIT_HANDLERS+=("$quoted")
}

trap _run_exit_handlers EXIT
# Turn signals into an ordinary exit so the EXIT trap runs exactly once.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# run_interruptible CMD [ARGS...]: runs CMD in its own process group and
# waits for it, so a signal to this script is handled at once (bash defers
# traps while a foreground child runs); at exit a still-running CMD, and
# anything it started, is sent SIGTERM. Returns CMD's exit status.
_CHILD_PGID=""
_kill_child() {
    local pgid="${_CHILD_PGID:-}"
    [[ -n "$pgid" ]] || return 0
    _CHILD_PGID=""
    kill -TERM -- "-$pgid" 2>/dev/null || kill -TERM "$pgid" 2>/dev/null || true
}
_CHILD_KILL_REGISTERED=""
run_interruptible() {
    if [[ -z "$_CHILD_KILL_REGISTERED" ]]; then
        on_exit _kill_child
        _CHILD_KILL_REGISTERED=1
    fi
    if command -v setsid >/dev/null 2>&1; then
        setsid "$@" &
    else
        "$@" &
    fi
    _CHILD_PGID=$!
    local status=0
    wait "$_CHILD_PGID" || status=$?
    _CHILD_PGID=""
    return "$status"
}

# --- temp dir ---------------------------------------------------------------

# make_run_tmp: sets RUN_TMP to a fresh directory removed at exit, unless
# KEEP_TMP=1 (then its path is printed for inspection).
make_run_tmp() {
    if [[ -n "${RUN_TMP:-}" && -d "${RUN_TMP}" ]]; then
        return 0
    fi
    RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/inventag.XXXXXX")"
    export RUN_TMP
    if [[ "${KEEP_TMP:-0}" == 1 ]]; then
        on_exit log "kept temp dir $RUN_TMP"
    else
        on_exit rm -rf -- "$RUN_TMP"
    fi
}

# --- toolchain --------------------------------------------------------------

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed or not on PATH${2:+ ($2)}"
}

ensure_wasm_target() {
    need_cmd rustup "install Rust with rustup: https://rustup.rs"
    local installed
    installed="$(rustup target list --installed 2>/dev/null || true)"
    if grep -qx "$WASM_TARGET" <<<"$installed"; then
        return 0
    fi
    log "adding Rust target $WASM_TARGET"
    rustup target add "$WASM_TARGET" || die "rustup could not add the $WASM_TARGET target"
}

# --- Python virtual environment ---------------------------------------------

_find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python; do
        [[ -n "$candidate" ]] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    local stamp="$VENV_DIR/.inventag-requirements"
    local wanted
    wanted="$(printf '%s\n' "${MOTO_REQUIREMENTS[@]}")"
    if [[ -x "$VENV_DIR/bin/python" && -x "$VENV_DIR/bin/moto_server" && -f "$stamp" ]] &&
        [[ "$(cat "$stamp")" == "$wanted" ]] &&
        "$VENV_DIR/bin/python" -c 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("boto3") and u.find_spec("moto") else 1)' 2>/dev/null; then
        return 0
    fi

    local python
    python="$(_find_python)" || die "need Python 3.9 or newer (python3) to create $VENV_DIR"
    if [[ ! -x "$VENV_DIR/bin/python" ]] || ! "$VENV_DIR/bin/python" -c 'import sys' 2>/dev/null; then
        log "creating $VENV_DIR with $python"
        rm -rf -- "$VENV_DIR"
        "$python" -m venv "$VENV_DIR" ||
            die "could not create a virtual environment (on Debian: apt-get install python3-venv)"
    fi
    log "installing ${MOTO_REQUIREMENTS[*]} into $VENV_DIR"
    rm -f -- "$stamp"
    "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check --quiet "${MOTO_REQUIREMENTS[@]}" ||
        die "pip could not install ${MOTO_REQUIREMENTS[*]}"
    [[ -x "$VENV_DIR/bin/moto_server" ]] || die "moto_server missing from $VENV_DIR/bin after install"
    printf '%s\n' "$wanted" >"$stamp"
}

# --- moto server --------------------------------------------------------------

_free_port() {
    "$VENV_DIR/bin/python" - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# _moto_ready PORT: true once the server answers its management API.
_moto_ready() {
    local url="http://127.0.0.1:$1/moto-api/"
    if command -v curl >/dev/null 2>&1; then
        curl --silent --fail --noproxy '*' --max-time 2 --output /dev/null "$url"
    else
        "$VENV_DIR/bin/python" - "$url" <<'EOF'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    opener.open(sys.argv[1], timeout=2).read()
except Exception:
    sys.exit(1)
EOF
    fi
}

MOTO_PID=""
_MOTO_STOP_REGISTERED=""

stop_moto() {
    local pid="${MOTO_PID:-}"
    [[ -n "$pid" ]] || return 0
    MOTO_PID=""
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# start_moto [TIMEOUT_SECONDS]: starts moto_server on loopback. Needs
# ensure_venv first. The log goes to $RUN_TMP/moto.log.
start_moto() {
    local timeout="${1:-30}"
    [[ -x "$VENV_DIR/bin/moto_server" ]] || die "moto_server not found; call ensure_venv first"
    [[ -z "${MOTO_PID:-}" ]] || die "a moto server is already running (pid $MOTO_PID)"
    make_run_tmp
    MOTO_LOG="$RUN_TMP/moto.log"

    local attempt port deadline
    for attempt in 1 2 3; do
        port="$(_free_port)" || die "could not find a free port on 127.0.0.1"
        # moto uses botocore itself: keep the caller's AWS profile, keys and
        # config files away from it (AWS_PROFILE naming a missing profile
        # makes every EC2 call fail), and never let an inherited
        # MOTO_ACCOUNT_ID change the default account.
        env -u MOTO_ACCOUNT_ID -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
            -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
            -u AWS_SECURITY_TOKEN -u AWS_ENDPOINT_URL \
            AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
            AWS_EC2_METADATA_DISABLED=true \
            "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
        MOTO_PID=$!
        if [[ -z "$_MOTO_STOP_REGISTERED" ]]; then
            on_exit stop_moto
            _MOTO_STOP_REGISTERED=1
        fi
        deadline=$((SECONDS + timeout))
        while ((SECONDS < deadline)); do
            if ! kill -0 "$MOTO_PID" 2>/dev/null; then
                break
            fi
            if _moto_ready "$port"; then
                export MOTO_PORT="$port"
                export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
                export MOTO_PID MOTO_LOG
                log "moto server up at $AWS_ENDPOINT_URL (pid $MOTO_PID, log $MOTO_LOG)"
                return 0
            fi
            sleep 0.2
        done
        if kill -0 "$MOTO_PID" 2>/dev/null; then
            stop_moto
            log "moto server did not answer within ${timeout}s; last log lines:"
            tail -n 20 "$MOTO_LOG" >&2 || true
            die "moto server failed to start"
        fi
        # The process exited: most likely the port was taken in between. Retry.
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=""
        log "moto server exited during start-up (attempt $attempt); last log lines:"
        tail -n 10 "$MOTO_LOG" >&2 || true
    done
    die "moto server failed to start after 3 attempts (log: $MOTO_LOG)"
}

# --- office tools (rendering checks) -----------------------------------------

# The Debian packages the rendering check needs: LibreOffice without its GUI
# (to convert xlsx and docx to PDF), poppler (pdftoppm, pdfinfo) and fonts
# with Latin, Arabic, CJK and symbol coverage (Symbola draws the Control
# Pictures that stand for control characters).
OFFICE_PACKAGES=(libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils
    fonts-dejavu-core fonts-droid-fallback fonts-symbola)

# ensure_office_tools: installs OFFICE_PACKAGES with apt-get when soffice,
# pdftoppm or pdfinfo is missing; a no-op when all three are there.
ensure_office_tools() {
    if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 &&
        command -v pdfinfo >/dev/null 2>&1; then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "soffice or pdftoppm is missing and there is no apt-get: install LibreOffice, poppler"
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "as root: apt-get install --no-install-recommends ${OFFICE_PACKAGES[*]}"
        sudo=(sudo)
    fi
    log "installing ${OFFICE_PACKAGES[*]} (apt-get, no recommends)"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${OFFICE_PACKAGES[@]}" >/dev/null || die "apt-get could not install ${OFFICE_PACKAGES[*]}"
    command -v soffice >/dev/null 2>&1 || die "soffice missing after installing LibreOffice"
}
