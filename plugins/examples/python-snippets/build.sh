#!/bin/sh
# Builds the Python example plugin into a Kiln plugin directory:
#   plugins/dist/examples/example.python-snippets/{python_snippets.wasm,kiln-plugin.toml}
# Installs componentize-py (a PyPI package: a Rust binary with CPython 3.14 and
# wasi-libc inside, ~17 MB download) into a venv under $TOOLS_DIR first, once.
# Needs python3 >= 3.11 with venv (for the tool and the native tests).
# Usage: plugins/examples/python-snippets/build.sh [dist dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dist=${1:-$root/plugins/dist/examples}
version=0.25.1
venv=${TOOLS_DIR:-$HOME/.cache/kiln/tools}/componentize-py
cpy=$venv/bin/componentize-py

# 1. The tool, unless this version is already there.
if ! "$cpy" --version 2>/dev/null | grep -qx "componentize-py $version"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "componentize-py==$version"
fi

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
wit="-d $root/wit -w snippet-extractor"

# 2. Bindings (wit_world/...), for the native tests and for editors.
"$cpy" $wit bindings "$build/bindings"
PYTHONDONTWRITEBYTECODE=1 python3 "$here/test_app.py" "$build/bindings"

# 3. The component: CPython + app.py, pre-initialised (imports done at build time).
"$cpy" -q $wit componentize -p "$here" app -o "$build/python_snippets.wasm"

# 4. The plugin directory: the component and the manifest with its sha256.
"$root/plugins/bundle.sh" "$build" "$dist" "$here"
ls -l "$dist/example.python-snippets/python_snippets.wasm"
