#ifndef LOCI_UTIL_VERSION_H
#define LOCI_UTIL_VERSION_H
#define LOCI_VERSION "0.1.0"
#endif
