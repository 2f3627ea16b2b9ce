#!/bin/bash
# Builds the libFuzzer targets (the Dockerfile parser, the lesson loader) with clang-14 (ASan + UBSan) and runs it for
# $1 seconds (default 60) each from the seed corpus. Exits non-zero when the fuzzer finds a crash, a
# leak or undefined behaviour; the reproducer is left in build/fuzz/.
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")/../.." && pwd)
out="$here/build/fuzz"
mkdir -p "$out/corpus"
if ! command -v clang++-14 >/dev/null; then
  echo "SKIPPED: fuzzing needs clang++-14 and libFuzzer (apt-get install clang-14 libclang-rt-14-dev)"
  # Under CI=true a skip is a failure: CI installs clang (tests/skip.hpp says why).
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 0
fi
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE
       -I"$here" -DISOLAB_SOURCE_DIR="\"$here\"")
clang++-14 "${flags[@]}" "$here/tests/fuzz/fuzz_dockerfile.cpp" "$here/sim/engine/dockerfile.cpp" \
  "$here/sim/core/strings.cpp" -o "$out/fuzz_dockerfile"
clang++-14 "${flags[@]}" "$here/tests/fuzz/fuzz_lesson.cpp" "$here/sim/lesson/lesson.cpp" \
  "$here/sim/lesson/allowlist.cpp" "$here/sim/state/mounts.cpp" "$here/sim/core/command_line.cpp" "$here/sim/core/safe_path.cpp" \
  "$here/sim/core/files.cpp" "$here/sim/core/i18n.cpp" "$here/sim/core/strings.cpp" -o "$out/fuzz_lesson"
# The seeds stay untouched in the repository; new inputs go to build/fuzz/corpus-NAME.
cd "$out"
for target in dockerfile lesson; do
  mkdir -p "corpus-$target"
  UBSAN_OPTIONS=print_stacktrace=1 "./fuzz_$target" -max_total_time="$seconds" -max_len=8192 \
    -print_final_stats=1 "corpus-$target" "$here/tests/fuzz/corpus/$target" 2>"fuzz-$target.log" || {
    tail -n 60 "fuzz-$target.log"
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^Done' "fuzz-$target.log" || true
  echo "fuzz_$target: no crash in ${seconds} s"
done
