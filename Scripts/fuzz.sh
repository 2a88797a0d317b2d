#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (issue 18): libFuzzer + AddressSanitizer over Fuzz/Sources/FuzzTargets.
#
#   Scripts/fuzz.sh build                     instrumented build into .build-fuzz/ (its own scratch path)
#   Scripts/fuzz.sh run [TARGET...]           build, seed, then run each target for FUZZ_SECONDS (default 600)
#
# Prints per target: executions, exec/s, coverage (libFuzzer's `cov:` edges), corpus size, findings.
# Corpora persist in $FUZZ_DIR/corpus/<target> (default .fuzz/, git-ignored); findings (crash-*, timeout-*, oom-*)
# land in $FUZZ_DIR/findings/<target>/: replay one with `.build/release/filtervis-fuzz TARGET FILE`, fix it, and
# copy it into Fuzz/regressions/<target>/ so `make test` replays it. Exit 1 when any target found something.
# FUZZ_LOG=FILE appends a markdown row per target (Fuzz/campaign-log.md). Every run is `nice -n 19`.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_DIR=${FUZZ_DIR:-.fuzz}
FUZZ_LOG=${FUZZ_LOG:-}
SCRATCH=.build-fuzz
BIN=$SCRATCH/release/filtervis-fuzz

# The contract's bounds per target: inputs up to max_len bytes, each run within timeout seconds, no single
# allocation over malloc_mb and no more than rss_mb resident (hangs and huge allocations are findings).
# Timeouts are wall-clock and generous: at nice 19 on a busy machine a 50 ms input can wait seconds for a core
# (a timeout is confirmed by replaying it with the plain build; the regression replay allows 5 s).
#  target          max_len  timeout  malloc_mb  rss_mb  dictionary
TARGETS="
   pickle           65536     25       512       2048    pickle
   zip              65536     25       512       2048    zip
   legacy           65536     25       512       2048    legacy
   onnx             65536     25       512       2048    onnx
   onnx-graph       65536     25       512       2048    onnx
   onnx-import      65536     25       512       2048    onnx
   safetensors      65536     25       512       2048    safetensors
   pickle-gen        4096     25       512       2048    -
   zip-gen           4096     25       512       2048    -
   safetensors-gen   4096     25       512       2048    -
   image            65536     25       512       2048    image
   config           65536     25       512       2048    config
   args               256      15       256       2048    args
"

build() {
    local started=$SECONDS
    # --sanitize fuzzer tells SwiftPM not to rename main (libFuzzer supplies it); -sanitize=fuzzer,address in one
    # flag because the driver keeps only the last of two separate -sanitize flags. C code gets the same instrumentation.
    nice -n 19 swift build -c release --scratch-path "$SCRATCH" --product filtervis-fuzz --sanitize fuzzer \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link,address 2>&1 \
        | grep -v "Cannot export local symbol" || { echo "fuzz: build failed" >&2; exit 1; }
    [[ -x $BIN ]] || { echo "fuzz: build produced no $BIN" >&2; exit 1; }
    echo "fuzz: instrumented build took $((SECONDS - started)) s"
}

stat() { grep -o "^stat::$1: *[0-9]*" "$2" | tail -1 | grep -o "[0-9]*$" || true; }

run_target() {
    local name=$1 max_len=$2 timeout=$3 malloc=$4 rss=$5 dict=$6
    local corpus=$FUZZ_DIR/corpus/$name seeds=$FUZZ_DIR/seeds/$name findings=$FUZZ_DIR/findings/$name
    local log=$FUZZ_DIR/logs/$name.log
    mkdir -p "$corpus" "$seeds" "$findings" "$FUZZ_DIR/logs"
    local before; before=$(ls "$findings" | wc -l)
    local args=(-max_total_time="$FUZZ_SECONDS" -max_len="$max_len" -timeout="$timeout" -malloc_limit_mb="$malloc"
                -rss_limit_mb="$rss" -print_final_stats=1 -detect_leaks=0 -artifact_prefix="$findings/")
    [[ $dict != - ]] && args+=(-dict="Fuzz/dictionaries/$dict.dict")
    local status=0 started=$SECONDS
    # Swift's own crash backtracer would race ASan's report; libFuzzer's is enough.
    FILTERVIS_FUZZ_TARGET=$name SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 \
        nice -n 19 "$BIN" "${args[@]}" "$corpus" "$seeds" > "$log" 2>&1 || status=$?
    local execs rate cov corp found elapsed=$((SECONDS - started))
    execs=$(stat number_of_executed_units "$log"); rate=$(stat average_exec_per_sec "$log")
    [[ -n $execs ]] || execs=$(grep -o "^#[0-9]*" "$log" | tail -1 | tr -d '#')
    cov=$(grep -o "cov: [0-9]*" "$log" | tail -1 | grep -o "[0-9]*" || echo 0)
    corp=$(ls "$corpus" | wc -l)
    found=$(( $(ls "$findings" | wc -l) - before ))
    (( status != 0 && found == 0 )) && found=1  # e.g. a crash while loading the corpus
    printf "%-16s %7s %12s %8s %6s %7s %8s\n" "$name" "$elapsed" "${execs:-0}" "${rate:-0}" "$cov" "$corp" "$found"
    if (( found > 0 )); then
        grep -E "==filtervis-fuzz==|ERROR: (AddressSanitizer|libFuzzer)|Fatal error|SUMMARY" "$log" | head -3 | sed 's/^/    /'
        ls -t "$findings" | head -3 | sed "s|^|    $findings/|"
    fi
    if [[ -n $FUZZ_LOG ]]; then
        local what=""
        (( found > 0 )) && what=$(grep -m1 -oE "==filtervis-fuzz== .*|ERROR: (AddressSanitizer|libFuzzer): [^(]*" "$log" | cut -c1-120)
        printf "| %s | %s | %s | %s | %s | %s | %s | %s %s |\n" "$(date -u +%FT%H:%MZ)" "$name" "$elapsed" "${execs:-0}" \
            "${rate:-0}" "$cov" "$corp" "$found" "$what" >> "$FUZZ_LOG"
    fi
    FOUND_TOTAL=$((FOUND_TOTAL + found))
}

case "${1:-run}" in
    build) build ;;
    run)
        shift || true
        build
        python3 Fuzz/make_seeds.py "$FUZZ_DIR/seeds" >&2
        FOUND_TOTAL=0
        printf "%-16s %7s %12s %8s %6s %7s %8s\n" target seconds executions exec/s cov corpus findings
        while read -r name max_len timeout malloc rss dict; do
            [[ -z $name ]] && continue
            if (( $# > 0 )) && [[ " $* " != *" $name "* ]]; then continue; fi
            run_target "$name" "$max_len" "$timeout" "$malloc" "$rss" "$dict"
        done <<< "$TARGETS"
        if (( FOUND_TOTAL > 0 )); then
            echo "fuzz: $FOUND_TOTAL finding(s); inputs in $FUZZ_DIR/findings/ (logs in $FUZZ_DIR/logs/)" >&2
            exit 1
        fi
        ;;
    *) echo "usage: Scripts/fuzz.sh build | run [TARGET...]" >&2; exit 2 ;;
esac
