#!/bin/sh
# Lays out the bundled plugins the way Kiln discovers them:
#   <dist>/<id>/kiln-plugin.toml   (the crate's manifest + the component's sha256)
#   <dist>/<id>/<file>.wasm
# Usage: plugins/bundle.sh <wasm build dir> <dist dir> <plugin crate dir>...
set -eu
build=$1 dist=$2
shift 2
for crate in "$@"; do
    manifest=$crate/kiln-plugin.toml
    id=$(sed -n 's/^id = "\(.*\)"$/\1/p' "$manifest")
    wasm=$(sed -n 's/^wasm = "\(.*\)"$/\1/p' "$manifest")
    mkdir -p "$dist/$id"
    cp "$build/$wasm" "$dist/$id/$wasm"
    sum=$(sha256sum "$dist/$id/$wasm" | cut -d' ' -f1)
    # The hash goes first: after a [table] it would belong to that table.
    { echo "sha256 = \"$sum\""; cat "$manifest"; } > "$dist/$id/kiln-plugin.toml.tmp"
    mv "$dist/$id/kiln-plugin.toml.tmp" "$dist/$id/kiln-plugin.toml"
done
