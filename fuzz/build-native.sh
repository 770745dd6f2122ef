#!/usr/bin/env bash
# Build venues/native/_books.c for fuzzing: clang with libFuzzer's coverage hooks, AddressSanitizer and
# UndefinedBehaviorSanitizer (any UB aborts). The result goes to $FUZZ_BUILD (build/fuzz), never over the real module.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
include=$("$python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
suffix=$("$python" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
out=${FUZZ_BUILD:-build/fuzz}
mkdir -p "$out"
clang -shared -fPIC -g -O1 -std=c11 -fno-omit-frame-pointer \
  -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined \
  -I"$include" venues/native/_books.c -o "$out/_books$suffix.tmp"
mv "$out/_books$suffix.tmp" "$out/_books$suffix"  # never rewrite a module a running fuzzer has loaded
echo "$out/_books$suffix"
