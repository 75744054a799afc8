#!/usr/bin/env bash
# Runs the Python package's tests (python/tests) with pytest, installing what they need:
# a virtualenv under build/pyenv with `pip install ./python[test]` (which builds
# libhivegym.so with the Go toolchain), made once and reused while python/pyproject.toml
# is unchanged. Each run rebuilds the shared library (go build's cache makes that fast)
# and tests the source tree against it. Extra arguments go to pytest (or, with
# --bench, run python/bench.py instead).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=build/pyenv
STAMP=$VENV/.stamp
want=$(cat python/pyproject.toml python/setup.py | sha256sum | cut -c1-16)

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
	rm -rf "$VENV"
	if ! "$PY" -m venv "$VENV" 2>/dev/null; then
		# Debian's python3 keeps venv (ensurepip) in a separate package.
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
		fi
		rm -rf "$VENV"
		"$PY" -m venv "$VENV"
	fi
	"$VENV/bin/pip" install -q --upgrade pip
	"$VENV/bin/pip" install -q "./python[test]" ruff
	echo "$want" >"$STAMP"
fi

go build -buildmode=c-shared -o build/libhivegym.so ./cabi
export HIVEGYM_LIB=$PWD/build/libhivegym.so PYTHONPATH=$PWD/python
if [ "${1:-}" = "--bench" ]; then
	shift
	exec "$VENV/bin/python" python/bench.py "$@"
fi
"$VENV/bin/ruff" check python/ examples/python/
"$VENV/bin/ruff" format --check python/ examples/python/
cd python && exec ../"$VENV/bin/python" -m pytest -q "$@"
