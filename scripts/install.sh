#!/usr/bin/env bash
# Install what the project needs, fast when it is already there.
#
#   scripts/install.sh          system packages for the app + .venv with the pinned requirements
#   scripts/install.sh --test   also what the test suite needs (Debian's chromium for browser tests)
#
# Debian packages are checked with dpkg-query and only the missing ones are installed; pip runs only when
# the requirements derived from pyproject.toml (or the Python) changed since the last install into .venv.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

with_test=0
for arg in "$@"; do
    case "$arg" in
        --test) with_test=1 ;;
        *) die "unknown option: $arg" ;;
    esac
done

packages=(
    # building psycopg2 from source, and a venv for Debian's own Python
    build-essential libpq-dev python3-dev python3-venv
    # WeasyPrint: Pango for layout, HarfBuzz subsetting to embed only the glyphs a notice uses, a CJK font
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-noto-cjk
    # pdftotext for reading issued notices back; msgfmt for the translation catalogs
    poppler-utils gettext
    # ps/pkill for stopping the demo's processes
    procps ca-certificates
)
if [ "$with_test" -eq 1 ]; then
    # The browser tests drive Debian's chromium through Playwright; Playwright's own browser download is
    # never used (it cannot be fetched on machines that reach only the package registries).
    packages+=(chromium)
    # certutil: the signed-notice tests give pdfsig an NSS database that trusts the demo CA
    packages+=(libnss3-tools)
fi
apt_ensure "${packages[@]}"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    die "Python 3.11 is required (pyproject.toml); $python is $("$python" --version 2>&1). Set PYTHON=/path/to/python3.11"
fi

if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' 2>/dev/null; then
    say "creating $VENV"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
fi

requirements="$("$python" "$ROOT/scripts/requirements.py" --dev)"
stamp="$VENV/.casework-requirements"
digest="$(printf '%s\n%s\n' "$requirements" "$("$PY" --version 2>&1)" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    say "installing Python requirements into $VENV"
    # psycopg2 is built from source against Debian's libpq (no binary wheel), hence libpq-dev above.
    printf '%s\n' "$requirements" | "$PY" -m pip install --quiet --disable-pip-version-check -r /dev/stdin
    echo "$digest" >"$stamp"
    rm -f "$ROOT/var/staticfiles/staticfiles.json"  # packages may bring new static files: collect again
fi
# English catalog → django.mo (not committed: build output, like .venv).
compile_messages

# The notice fonts: Noto Serif CJK SC cut to GB 2312 (scripts/build_notice_fonts.py; derived from the Debian
# font, so built here rather than committed). Up to date = nothing to do.
"$PY" "$ROOT/scripts/build_notice_fonts.py"
# Static files under hashed names, pre-compressed (gzip, brotli), served by whitenoise on every web node.
# Only when something under static/ changed since the last collection.
manifest="$ROOT/var/staticfiles/staticfiles.json"
if [ ! -f "$manifest" ] || [ -n "$(find "$ROOT/static" -newer "$manifest" -print -quit)" ]; then
    say "collecting static files"
    (cd "$ROOT" && STATIC_ROOT="$ROOT/var/staticfiles" "$PY" manage.py collectstatic --noinput --clear --verbosity 0)
fi
