#!/bin/sh
# Build to a private directory (never touches ./dist) and print the ATOMITON_BENCH_DIST to use:
#   ATOMITON_BENCH_DIST=$(sh bench/private-build.sh) node bench/run.js --quick
# The directory mirrors the package root: package.json (the CLI reads its version from ../package.json)
# and node_modules (a symlink, so bare imports resolve).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${TMPDIR:-/tmp}/atomiton-bench}
mkdir -p "$out"
cp "$root/package.json" "$out/package.json"
ln -sfn "$root/node_modules" "$out/node_modules"
cd "$root"
# tsup.config.ts's builds (the ESM library and entries, the CLI's CommonJS bundle), into $out/dist.
rm -rf "$out/dist"
npx tsup --out-dir "$out/dist" >&2
echo "$out/dist"
