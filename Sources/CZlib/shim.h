#ifndef GRADFEAT_CZLIB_SHIM_H
#define GRADFEAT_CZLIB_SHIM_H
#include <zlib.h>
#endif
