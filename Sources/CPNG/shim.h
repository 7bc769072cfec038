#ifndef GRADFEAT_CPNG_SHIM_H
#define GRADFEAT_CPNG_SHIM_H
#include <png.h>
#endif
