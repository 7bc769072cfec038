// The HDF5 module: a Swift API over libhdf5.
