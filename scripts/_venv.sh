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
