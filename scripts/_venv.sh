# Shared by the scripts: create .venv and install the project into it.
# Usage: source scripts/_venv.sh; ensure_venv [EXTRAS]
# Versions are pinned by constraints.txt (regenerate it with scripts/update-constraints),
# so every machine installs the same releases. Installs again only when
# pyproject.toml or constraints.txt changed since the last install; pip's chatter
# goes to .venv/install.log and is shown only if it fails.

ensure_venv() {
    local extras="${1:-}"
    local python="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv with $($python --version 2>&1)" >&2
        "$python" -m venv .venv
    fi
    local target="."
    [ -n "$extras" ] && target=".[$extras]"
    local constraints=()
    local inputs=(pyproject.toml)
    if [ -f constraints.txt ]; then
        constraints=(-c constraints.txt)
        inputs+=(constraints.txt)
    fi
    local stamp=".venv/.provarchive-install-${extras:-base}"
    local digest
    digest=$(cat "${inputs[@]}" | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        echo "Installing provarchive${extras:+ with [$extras]} into .venv (log: .venv/install.log)" >&2
        if ! { .venv/bin/python -m pip install --upgrade pip \
               && .venv/bin/python -m pip install "${constraints[@]}" -e "$target"; } > .venv/install.log 2>&1; then
            tail -n 40 .venv/install.log >&2
            echo "error: installing into .venv failed (full log: .venv/install.log)" >&2
            return 1
        fi
        echo "$digest" > "$stamp"
    fi
}

# PostgreSQL server binaries for the tests of the server mode (tests/postgres.py
# starts a throw-away server from them). Debian's packages are installed with apt
# when missing and we are root; otherwise we stop with a message saying what to do.
# PROVARCHIVE_SKIP_POSTGRES=1 skips this (and those tests) explicitly.
postgres_present() {
    local bin ext
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] || continue
        ext="/usr/share/postgresql/$(basename "$(dirname "$bin")")/extension"
        [ -f "$ext/pg_trgm.control" ] && [ -f "$ext/fuzzystrmatch.control" ] && return 0
    done
    return 1
}

ensure_postgres() {
    [ "${PROVARCHIVE_SKIP_POSTGRES:-}" = 1 ] && return 0
    postgres_present && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
        echo "error: the PostgreSQL tests need the server binaries (/usr/lib/postgresql/*/bin)" >&2
        echo "  and its contrib extensions; install them as root with" >&2
        echo "    apt-get install postgresql postgresql-contrib" >&2
        echo "  or skip those tests explicitly with PROVARCHIVE_SKIP_POSTGRES=1" >&2
        return 1
    fi
    mkdir -p .venv
    echo "Installing postgresql and postgresql-contrib with apt-get (log: .venv/apt.log)" >&2
    if ! { apt-get update -q \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                postgresql postgresql-contrib; } > .venv/apt.log 2>&1 \
       || ! postgres_present; then
        tail -n 40 .venv/apt.log >&2
        echo "error: installing PostgreSQL failed (full log: .venv/apt.log)" >&2
        return 1
    fi
}
