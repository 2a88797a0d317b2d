#!/usr/bin/env bash
# Prints the CPU name to pass to `swiftc -target-cpu` for this host (e.g. znver4), or nothing.
#
# SIMD code built for the default x86-64 target runs about 100x slower on an AVX-512 machine than code built for
# the host, so release builds target the host. Asks the Swift toolchain's own clang which CPU "native" means;
# prints nothing (the portable default target) when that cannot be told. Override with TARGET_CPU=... make.
set -u
cpu=$(clang -march=native -x c -c /dev/null -o /dev/null -### 2>&1 | sed -n 's/.*"-target-cpu" "\([^"]*\)".*/\1/p' | head -n 1)
case "$cpu" in
  ""|generic|x86-64) echo "" ;;
  *) echo "$cpu" ;;
esac
