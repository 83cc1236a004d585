/*
 * The fake's companion library, libvixDiskLibVim.so.8: VMware's VDDK ships
 * libvixDiskLib.so.8 with its dependencies (libvixDiskLibVim, OpenSSL, …) in
 * the same lib64/ directory and no RPATH, so a loader must find them itself
 * (nbdkit re-execs with LD_LIBRARY_PATH). The fake reproduces that: its
 * thumbprint check lives here, and libvixDiskLib.so.8 needs this library by
 * soname only.
 */
#include <ctype.h>

__attribute__((visibility("default"))) int VixDiskLibVim_SameThumbprint(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    if (toupper((unsigned char)*a) != toupper((unsigned char)*b)) return 0;
  }
  return *a == *b;
}
