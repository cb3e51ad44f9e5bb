# Shared by scripts/quickstart and scripts/test: create .venv and install ringfence.
# Usage: source scripts/_venv.sh [extra]   (extra = "dev" for the test tools)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "ringfence needs Python >= 3.11 (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 3
fi
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "==> creating $ROOT/.venv"
  "$PY" -m venv "$ROOT/.venv"
fi
VENV="$ROOT/.venv"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
if [ "${1:-}" = "dev" ]; then
  echo "==> installing ringfence with test tools"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[dev]"
else
  echo "==> installing ringfence"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT"
fi
# Byte-compile now: the hook starts a fresh interpreter on every tool call.
"$VENV/bin/python" -m compileall -q "$ROOT/src/ringfence" >/dev/null
