#ifndef GRADFEAT_CHDF5_SHIM_H
#define GRADFEAT_CHDF5_SHIM_H
#include <hdf5.h>
#endif
