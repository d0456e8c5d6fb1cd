#ifndef DEEPSCOPE_ALLOCATION_COUNTER_H
#define DEEPSCOPE_ALLOCATION_COUNTER_H
// Counts heap allocations made anywhere in the process (Swift runtime, Foundation, OpenBLAS, ...).
//
// The executable that links this target defines malloc, calloc, realloc, free and the aligned
// allocators itself; ELF symbol lookup finds the executable's definitions first, so every shared
// library's allocations pass through here and on to glibc's __libc_* implementations. Counting
// costs one relaxed atomic load per call while disabled.
#include <stdint.h>

/// Starts counting (resets the counter to 0).
void ds_allocation_counter_start(void);
/// Stops counting and returns the number of allocation calls since the last start.
uint64_t ds_allocation_counter_stop(void);
/// The allocation calls since the last start, without stopping.
uint64_t ds_allocation_counter_read(void);
/// The allocation calls the calling thread made while counting was on (never reset).
uint64_t ds_allocation_counter_thread(void);
/// 1 when this process's malloc really goes through the counter.
int ds_allocation_counter_active(void);

/// 1 when the CPU has AVX2 and FMA, which the engine's kernels are compiled for (x86-64-v3).
int ds_cpu_supports_avx2_fma(void);

#endif
