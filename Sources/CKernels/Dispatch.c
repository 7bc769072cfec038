#include "CKernels.h"
#include "Dispatch.h"

#include <stdatomic.h>

// -1 until first asked; then the widest build the CPU runs, for every thread without a choice of its own.
static _Atomic int gf_widest_choice = -1;
// This thread's build when `gf_use_isa` or `gf_set_thread_isa` chose one (tests), else -1.
static _Thread_local int gf_thread_choice = -1;

static enum gf_isa gf_widest_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512bw"))
        return GF_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GF_AVX2;
#endif
    return GF_BASELINE;
}

enum gf_isa gf_active_isa(void) {
    if (gf_thread_choice >= 0) return (enum gf_isa)gf_thread_choice;
    int choice = atomic_load_explicit(&gf_widest_choice, memory_order_relaxed);
    if (__builtin_expect(choice < 0, 0)) {
        choice = (int)gf_widest_isa();
        atomic_store_explicit(&gf_widest_choice, choice, memory_order_relaxed);
    }
    return (enum gf_isa)choice;
}

static const char *const gf_isa_names[] = {"baseline", "avx2", "avx512"};

const char *gf_kernel_isa(void) { return gf_isa_names[gf_active_isa()]; }

int gf_use_isa(const char *name) {
    enum gf_isa widest = gf_widest_isa();
    for (int isa = GF_BASELINE; isa <= (int)widest; isa++) {
        if (strcmp(name, gf_isa_names[isa]) == 0) {
            gf_thread_choice = isa;
            return 1;
        }
    }
    return 0;
}

int gf_thread_isa(void) { return gf_thread_choice; }

void gf_set_thread_isa(int choice) { gf_thread_choice = choice; }
