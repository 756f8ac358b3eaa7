#!/usr/bin/env bash
# scripts/render-docs.sh: converts xlsx and docx documents to PDF with
# headless LibreOffice and renders the first page of each PDF to PNG with
# pdftoppm, so a person (or a test) can see what a reader would see.
#
#   scripts/render-docs.sh [--out DIR] FILE...
#
# For each FILE it writes DIR/FILE.pdf and DIR/FILE.png (DIR defaults to
# the FILE's own directory) and prints one line: the PDF, its page count and
# the PNG. Exits non-zero if LibreOffice reports an error or writes no PDF,
# or if the PDF has no page. Installs LibreOffice and poppler on a Debian
# machine that lacks them (scripts/lib.sh ensure_office_tools).

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out_dir=""
files=()
while (($#)); do
    case "$1" in
        --out) out_dir="${2:?--out needs a directory}"; shift 2 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        *) files+=("$1"); shift ;;
    esac
done
((${#files[@]})) || die "usage: scripts/render-docs.sh [--out DIR] FILE..."

ensure_office_tools
make_run_tmp
# A private LibreOffice profile: no clash with a running office or another
# conversion, nothing left in $HOME.
profile="file://$RUN_TMP/lo-profile"

status=0
n=0
for file in "${files[@]}"; do
    [[ -f "$file" ]] || die "$file: no such file"
    dir="${out_dir:-$(dirname -- "$file")}"
    mkdir -p -- "$dir"
    base="$(basename -- "$file")"
    # LibreOffice names the PDF after the file without its extension, so
    # book.xlsx and book.docx would meet; convert each in its own folder.
    n=$((n + 1))
    work="$RUN_TMP/convert-$n"
    mkdir -p -- "$work"
    pdf="$dir/$base.pdf"
    png="$dir/$base.png"
    rm -f -- "$pdf" "$png"
    if ! timeout 300 soffice "-env:UserInstallation=$profile" --headless --norestore \
        --convert-to pdf --outdir "$work" "$file" >"$work/soffice.log" 2>&1; then
        cat "$work/soffice.log" >&2
        log "$file: LibreOffice failed"
        status=1
        continue
    fi
    made=("$work"/*.pdf)
    if grep -qi "error" "$work/soffice.log" || [[ ! -s "${made[0]}" ]]; then
        cat "$work/soffice.log" >&2
        log "$file: LibreOffice wrote no PDF"
        status=1
        continue
    fi
    mv -- "${made[0]}" "$pdf"
    pages="$(pdfinfo "$pdf" 2>/dev/null | sed -n 's/^Pages:[[:space:]]*//p')"
    if ! [[ "$pages" =~ ^[0-9]+$ ]] || ((pages < 1)); then
        log "$pdf: not a PDF with pages"
        status=1
        continue
    fi
    pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$pdf" "${png%.png}" ||
        { log "$pdf: pdftoppm failed"; status=1; continue; }
    echo "$file -> $pdf ($pages pages) -> $png"
done
exit "$status"
