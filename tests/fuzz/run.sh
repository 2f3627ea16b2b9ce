#!/bin/bash
# Builds the Dockerfile parser's libFuzzer target with clang-14 (ASan + UBSan) and runs it for
# $1 seconds (default 60) from the seed corpus. Exits non-zero when the fuzzer finds a crash, a
# leak or undefined behaviour; the reproducer is left in build/fuzz/.
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")/../.." && pwd)
out="$here/build/fuzz"
mkdir -p "$out/corpus"
if ! command -v clang++-14 >/dev/null; then
  echo "SKIPPED: fuzzing needs clang++-14 and libFuzzer (apt-get install clang-14 libclang-rt-14-dev)"
  exit 0
fi
clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -I"$here" "$here/tests/fuzz/fuzz_dockerfile.cpp" "$here/sim/engine/dockerfile.cpp" \
  -o "$out/fuzz_dockerfile"
# The seeds stay untouched in the repository; new inputs go to build/fuzz/corpus.
cd "$out"
UBSAN_OPTIONS=print_stacktrace=1 ./fuzz_dockerfile -max_total_time="$seconds" -max_len=4096 \
  -print_final_stats=1 corpus "$here/tests/fuzz/corpus/dockerfile" 2>fuzz.log || {
  tail -n 60 fuzz.log
  exit 1
}
grep -E '^stat::number_of_executed_units|^Done' fuzz.log || true
echo "fuzz_dockerfile: no crash in ${seconds} s"
