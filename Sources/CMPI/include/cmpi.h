#ifndef GRADFEAT_CMPI_H
#define GRADFEAT_CMPI_H
// Open MPI, loaded at run time (dlopen), so that GradFeat builds and runs where Open MPI is not installed.
// Open MPI's predefined handles are the addresses of exported globals (MPI_COMM_WORLD is &ompi_mpi_comm_world,
// MPI_FLOAT is &ompi_mpi_float), so no mpi.h is needed: the shim looks every symbol up by name. Only Open MPI's
// ABI is supported (MPICH's handles are integers).
//
// Every function returns MPI's error code (0: success), or CMPI_NOT_LOADED before a successful cmpi_load.
#include <stddef.h>
#include <stdint.h>

#define CMPI_NOT_LOADED (-1)

/// Opens `library` (a file name or path) and resolves the functions and handles; 0 on success, otherwise -1 with
/// a message in `error`.
int cmpi_load(const char *library, char *error, size_t error_size);
/// MPI_Init_thread asking for MPI_THREAD_SERIALIZED; `provided` receives what the library gives.
int cmpi_init(int *provided);
int cmpi_finalize(void);
/// 1 once MPI_Finalize has run (or before loading: nothing to finalize).
int cmpi_finalized(void);
int cmpi_rank(int *rank);
int cmpi_size(int *size);
int cmpi_barrier(void);
/// MPI_Allgatherv of bytes: every rank's `count` bytes into `receive` at `offsets[r]` (counts[r] bytes).
int cmpi_allgatherv_bytes(const void *send, int count, void *receive, const int *counts, const int *offsets);
/// MPI_Allgather of one int64 per rank.
int cmpi_allgather_int64(int64_t value, int64_t *receive);
/// MPI_Allreduce (sum) of floats in place: the order of the sum is the library's (for measurements, not results).
int cmpi_allreduce_sum_float(float *values, int count);
int cmpi_bcast_bytes(void *buffer, int count, int root);
/// MPI_Abort on MPI_COMM_WORLD: ends every rank of the job.
int cmpi_abort(int code);
/// MPI_Error_string into `buffer` (NUL-terminated).
void cmpi_error_string(int code, char *buffer, size_t size);
#endif
