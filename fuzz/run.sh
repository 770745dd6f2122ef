#!/usr/bin/env bash
# fuzz/run.sh MODE RUNS [libFuzzer flags…]: build the sanitized parser, fuzz it, and fail on any crash,
# sanitizer report, disagreement or leak of memory the native parser allocated.
# MODE is native (the C parser alone, for volume) or differential (C against pure Python).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=$1 runs=$2
shift 2
python=${PYTHON:-.venv/bin/python}
fuzz/build-native.sh >/dev/null || exit 1
preload=$("$python" -c 'import atheris, os; print(os.path.join(atheris.path(), "asan_with_fuzzer.so"))')
export FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
corpus=${CORPUS:-$FUZZ_BUILD/corpus-$mode}
log=${LOG:-$FUZZ_BUILD/$mode.log}
mkdir -p "$corpus"
run() {
  FUZZ_MODE=$mode PYTHONMALLOC=malloc LD_PRELOAD=$preload "$python" -m fuzz.native_parser -max_len=2048 "$@"
}
# 1. fuzz: any crash, sanitizer report or disagreement stops the run and saves the input
ASAN_OPTIONS=detect_leaks=0 run -runs="$runs" -print_final_stats=1 -artifact_prefix="$FUZZ_BUILD/" "$@" "$corpus" \
  >"$log" 2>&1
status=$?
grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" "$log"
if [ "$status" -ne 0 ] || grep -qE "ERROR: AddressSanitizer|runtime error:|Uncaught Python exception|deadly signal" "$log"; then
  echo "fuzzing found a problem (status $status): see $log"
  exit 1
fi
# 2. leaks: the whole corpus once more with LeakSanitizer at exit. The interpreter and other
# extensions keep memory for the process's life; only what the native parser (_books) allocated counts.
mkdir -p "$FUZZ_BUILD/leak-pass"
ASAN_OPTIONS=detect_leaks=1 run -runs=0 -detect_leaks=0 -artifact_prefix="$FUZZ_BUILD/leak-pass/" "$corpus" \
  >"$log.leaks" 2>&1
if ! grep -q "INITED\|Done" "$log.leaks"; then
  echo "the leak pass did not run: see $log.leaks"
  exit 1
fi
if grep -A40 "leak of" "$log.leaks" | grep -q "_books"; then
  echo "the native parser leaked memory: see $log.leaks"
  exit 1
fi
echo "$mode: no crash, sanitizer report, disagreement or native leak in $runs runs"
