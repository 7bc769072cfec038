// The Datasets module: loaders, transforms and HDF5 caches.
