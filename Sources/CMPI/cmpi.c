#include "cmpi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void *Handle; // Open MPI: MPI_Comm, MPI_Datatype and MPI_Op are pointers to its structures

static struct {
    int loaded;
    int (*init_thread)(int *, char ***, int, int *);
    int (*finalize)(void);
    int (*finalized)(int *);
    int (*comm_rank)(Handle, int *);
    int (*comm_size)(Handle, int *);
    int (*barrier)(Handle);
    int (*allgather)(const void *, int, Handle, void *, int, Handle, Handle);
    int (*allgatherv)(const void *, int, Handle, void *, const int *, const int *, Handle, Handle);
    int (*allreduce)(const void *, void *, int, Handle, Handle, Handle);
    int (*bcast)(void *, int, Handle, int, Handle);
    int (*abort)(Handle, int);
    int (*error_string)(int, char *, int *);
    Handle world, byte, float32, int64, sum, in_place;
} mpi;

enum { THREAD_SERIALIZED = 2, MAX_ERROR_STRING = 256 };

int cmpi_load(const char *library, char *error, size_t error_size) {
    if (mpi.loaded) return 0;
    // RTLD_GLOBAL: Open MPI's own plugins, which it opens in turn, resolve their symbols against libmpi.
    void *lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(error, error_size, "%s", dlerror());
        return -1;
    }
#define RESOLVE(field, name)                                                                                         \
    do {                                                                                                             \
        *(void **)&mpi.field = dlsym(lib, name);                                                                     \
        if (!mpi.field) {                                                                                            \
            snprintf(error, error_size, "%s has no symbol %s: is it Open MPI's libmpi?", library, name);             \
            return -1;                                                                                               \
        }                                                                                                            \
    } while (0)
    RESOLVE(init_thread, "MPI_Init_thread");
    RESOLVE(finalize, "MPI_Finalize");
    RESOLVE(finalized, "MPI_Finalized");
    RESOLVE(comm_rank, "MPI_Comm_rank");
    RESOLVE(comm_size, "MPI_Comm_size");
    RESOLVE(barrier, "MPI_Barrier");
    RESOLVE(allgather, "MPI_Allgather");
    RESOLVE(allgatherv, "MPI_Allgatherv");
    RESOLVE(allreduce, "MPI_Allreduce");
    RESOLVE(bcast, "MPI_Bcast");
    RESOLVE(abort, "MPI_Abort");
    RESOLVE(error_string, "MPI_Error_string");
    // The predefined handles: the addresses of these globals (what mpi.h's macros expand to).
    RESOLVE(world, "ompi_mpi_comm_world");
    RESOLVE(byte, "ompi_mpi_byte");
    RESOLVE(float32, "ompi_mpi_float");
    RESOLVE(int64, "ompi_mpi_int64_t");
    RESOLVE(sum, "ompi_mpi_op_sum");
#undef RESOLVE
    mpi.in_place = (Handle)1; // MPI_IN_PLACE in Open MPI's mpi.h: ((void *) 1)
    mpi.loaded = 1;
    return 0;
}

int cmpi_init(int *provided) {
    if (!mpi.loaded) return CMPI_NOT_LOADED;
    return mpi.init_thread(NULL, NULL, THREAD_SERIALIZED, provided);
}

int cmpi_finalize(void) { return mpi.loaded ? mpi.finalize() : CMPI_NOT_LOADED; }

int cmpi_finalized(void) {
    int done = 1;
    if (mpi.loaded) mpi.finalized(&done);
    return done;
}

int cmpi_rank(int *rank) { return mpi.loaded ? mpi.comm_rank(mpi.world, rank) : CMPI_NOT_LOADED; }
int cmpi_size(int *size) { return mpi.loaded ? mpi.comm_size(mpi.world, size) : CMPI_NOT_LOADED; }
int cmpi_barrier(void) { return mpi.loaded ? mpi.barrier(mpi.world) : CMPI_NOT_LOADED; }

int cmpi_allgatherv_bytes(const void *send, int count, void *receive, const int *counts, const int *offsets) {
    if (!mpi.loaded) return CMPI_NOT_LOADED;
    return mpi.allgatherv(send, count, mpi.byte, receive, counts, offsets, mpi.byte, mpi.world);
}

int cmpi_allgather_int64(int64_t value, int64_t *receive) {
    if (!mpi.loaded) return CMPI_NOT_LOADED;
    return mpi.allgather(&value, 1, mpi.int64, receive, 1, mpi.int64, mpi.world);
}

int cmpi_allreduce_sum_float(float *values, int count) {
    if (!mpi.loaded) return CMPI_NOT_LOADED;
    return mpi.allreduce(mpi.in_place, values, count, mpi.float32, mpi.sum, mpi.world);
}

int cmpi_bcast_bytes(void *buffer, int count, int root) {
    return mpi.loaded ? mpi.bcast(buffer, count, mpi.byte, root, mpi.world) : CMPI_NOT_LOADED;
}

int cmpi_abort(int code) { return mpi.loaded ? mpi.abort(mpi.world, code) : CMPI_NOT_LOADED; }

void cmpi_error_string(int code, char *buffer, size_t size) {
    if (size == 0) return;
    if (!mpi.loaded || code == CMPI_NOT_LOADED) {
        snprintf(buffer, size, "Open MPI is not loaded");
        return;
    }
    char text[MAX_ERROR_STRING] = {0};
    int length = 0;
    if (mpi.error_string(code, text, &length) != 0) snprintf(text, sizeof text, "MPI error %d", code);
    snprintf(buffer, size, "%s", text);
}
