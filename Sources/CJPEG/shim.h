#ifndef GRADFEAT_CJPEG_SHIM_H
#define GRADFEAT_CJPEG_SHIM_H
#include <stdio.h>
#include <jpeglib.h>
#endif
