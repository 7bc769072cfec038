#include "CKernels.h"
#include "Dispatch.h"

#include <stdatomic.h>

// -1 until first asked; then the build every kernel runs.
static _Atomic int gf_isa_choice = -1;

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
    int choice = atomic_load_explicit(&gf_isa_choice, memory_order_relaxed);
    if (__builtin_expect(choice < 0, 0)) {
        choice = (int)gf_widest_isa();
        atomic_store_explicit(&gf_isa_choice, choice, memory_order_relaxed);
    }
    return (enum gf_isa)choice;
}

static const char *const gf_isa_names[] = {"baseline", "avx2", "avx512"};

const char *gf_kernel_isa(void) { return gf_isa_names[gf_active_isa()]; }

int gf_use_isa(const char *name) {
    enum gf_isa widest = gf_widest_isa();
    for (int isa = GF_BASELINE; isa <= (int)widest; isa++) {
        if (strcmp(name, gf_isa_names[isa]) == 0) {
            atomic_store_explicit(&gf_isa_choice, isa, memory_order_relaxed);
            return 1;
        }
    }
    return 0;
}
