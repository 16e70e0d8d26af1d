# Shared by scripts/run and scripts/test: create .venv and install the project.
# Usage: source scripts/_venv.sh; ensure_venv [EXTRAS]
# Re-installs only when pyproject.toml changed since the last install.

ensure_venv() {
    local extras="${1:-}"
    local python="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv with $($python --version 2>&1)" >&2
        "$python" -m venv .venv
    fi
    local target="."
    [ -n "$extras" ] && target=".[$extras]"
    local stamp=".venv/.provarchive-install-${extras:-base}"
    local digest
    digest=$(.venv/bin/python -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest())')
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        echo "Installing provarchive${extras:+ with [$extras]} into .venv" >&2
        .venv/bin/python -m pip install --quiet --upgrade pip >&2
        .venv/bin/python -m pip install --quiet -e "$target" >&2
        echo "$digest" > "$stamp"
    fi
}
