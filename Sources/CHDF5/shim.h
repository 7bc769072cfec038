#ifndef GRADFEAT_CHDF5_SHIM_H
#define GRADFEAT_CHDF5_SHIM_H

// C shim for libhdf5. Swift cannot import HDF5's runtime macros (`H5P_DEFAULT` is a cast,
// `H5T_NATIVE_*` expand to `H5open()` plus a global id, `H5F_ACC_*` call `H5check()`), so each
// is wrapped in a `static inline` getter named `gf_<MACRO>()`. Functions whose name changed
// between HDF5 1.10 and 1.12+ are wrapped too, so the Swift side builds against either.

#include <hdf5.h>

// MARK: - Default and "all" identifiers

static inline hid_t gf_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t gf_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t gf_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hsize_t gf_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
static inline size_t gf_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline haddr_t gf_HADDR_UNDEF(void) { return HADDR_UNDEF; }

// MARK: - File access flags

static inline unsigned gf_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned gf_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned gf_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned gf_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }

// MARK: - Property list classes

static inline hid_t gf_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t gf_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t gf_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t gf_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }

// MARK: - Native (memory) types

static inline hid_t gf_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t gf_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t gf_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t gf_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
static inline hid_t gf_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t gf_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t gf_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t gf_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t gf_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t gf_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }

// MARK: - File types

static inline hid_t gf_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t gf_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }

// MARK: - Version-portable wrappers

/// `H5Fis_hdf5` (1.10) / `H5Fis_accessible` (1.12+): >0 if the file is HDF5, 0 if not, <0 on error.
static inline htri_t gf_H5Fis_hdf5(const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(name, H5P_DEFAULT);
#else
    return H5Fis_hdf5(name);
#endif
}

/// Frees the memory libhdf5 allocated for variable-length data (strings) read into `buf`.
static inline herr_t gf_H5vlen_reclaim(hid_t type_id, hid_t space_id, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type_id, space_id, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(type_id, space_id, H5P_DEFAULT, buf);
#endif
}

#endif
