#!/usr/bin/env bash
# Build the virtual environment from the pinned Python and the lock file.
set -euo pipefail
version="$1"
venv="$2"

find_python() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)/versions/${version}/bin/python")
  fi
  candidates+=("${PYENV_ROOT:-$HOME/.pyenv}/versions/${version}/bin/python" "/root/.pyenv/versions/${version}/bin/python")
  candidates+=("$(command -v "python${version%.*}" || true)")
  for c in "${candidates[@]}"; do
    if [[ -n "$c" && -x "$c" ]] && "$c" -c "import sys; sys.exit(sys.version_info[:2] != (3, 10))"; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

python="$(find_python)" || {
  echo "Python ${version} not found: install it with pyenv (pyenv install ${version})." >&2
  exit 1
}
if [[ ! -x "${venv}/bin/python" ]] || ! "${venv}/bin/python" -c "import sys; sys.exit(sys.version_info[:2] != (3, 10))"; then
  rm -rf "${venv}"
  echo "Creating ${venv} with ${python}"
  "${python}" -m venv "${venv}"
fi
"${venv}/bin/python" -m pip install --quiet --upgrade "pip==24.0"
echo "Installing pinned dependencies from requirements.lock"
"${venv}/bin/python" -m pip install --quiet -r requirements.lock
