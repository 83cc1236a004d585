/*
 * The VDDK 8 types v2v's fake libvixDiskLib shares with vixDiskLib.h: the
 * same names, values and layouts (test/unit checks the koffi declarations in
 * native/vixdisklib.ts against these with offsetof/sizeof).
 */
#ifndef V2V_FAKE_VIXDISKLIB_TYPES_H
#define V2V_FAKE_VIXDISKLIB_TYPES_H
#include <stdarg.h>
#include <stdint.h>

typedef uint64_t VixError;

enum {
  VIX_OK = 0,
  VIX_E_FAIL = 1,
  VIX_E_OUT_OF_MEMORY = 2,
  VIX_E_INVALID_ARG = 3,
  VIX_E_FILE_NOT_FOUND = 4,
  VIX_E_NOT_SUPPORTED = 6,
  VIX_E_FILE_ERROR = 7,
  VIX_E_HOST_USER_PERMISSIONS = 3014,
  VIX_E_DISK_INVAL = 16000,
  VIX_E_DISK_NOINIT = 16001,
  VIX_E_DISK_OUTOFRANGE = 16007,
  VIX_E_DISK_INVALID_CONNECTION = 16054,
  VIX_ASYNC = 25000,
  VIX_E_NET_HTTP_SSL_SECURITY = 30201,
};

#define SECTOR 512
#define MIN_CHUNK 128
#define MAX_CHUNKS (512 * 1024)

typedef void VixDiskLibGenericLogFunc(const char *fmt, va_list args);
typedef void (*VixDiskLibCompletionCB)(void *cbData, VixError result);

typedef enum {
  VIXDISKLIB_CRED_UID = 1,
  VIXDISKLIB_CRED_SESSIONID = 2,
  VIXDISKLIB_CRED_TICKETID = 3,
  VIXDISKLIB_CRED_SSPI = 4,
  VIXDISKLIB_CRED_UNKNOWN = 256
} VixDiskLibCredType;

typedef enum { VIXDISKLIB_SPEC_VMX = 0, VIXDISKLIB_SPEC_VSTORAGE_OBJECT = 1, VIXDISKLIB_SPEC_UNKNOWN = 2 } VixDiskLibSpecType;

typedef struct {
  char *id;
  char *datastoreMoRef;
  char *ssId;
} VixDiskLibVStorageObjectSpec;

typedef struct {
  char *vmxSpec;
  char *serverName;
  char *thumbPrint;
  long privateUse;
  VixDiskLibCredType credType;
  union {
    struct { char *userName; char *password; } uid;
    struct { char *cookie; char *userName; char *key; } sessionId;
    void *ticketId;
  } creds;
  uint32_t port;
  uint32_t nfcHostPort;
  char *privateUse2;
  char reserved[8];
  void *reserved2;
  union { VixDiskLibVStorageObjectSpec vStorageObjSpec; } spec;
  VixDiskLibSpecType specType;
} VixDiskLibConnectParams;

typedef struct { uint32_t cylinders, heads, sectors; } VixDiskLibGeometry;

typedef enum {
  VIXDISKLIB_ADAPTER_IDE = 1,
  VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC = 2,
  VIXDISKLIB_ADAPTER_SCSI_LSILOGIC = 3,
  VIXDISKLIB_ADAPTER_UNKNOWN = 256
} VixDiskLibAdapterType;

typedef struct {
  VixDiskLibGeometry biosGeo;
  VixDiskLibGeometry physGeo;
  uint64_t capacity;
  VixDiskLibAdapterType adapterType;
  int numLinks;
  char *parentFileNameHint;
  char *uuid;
  uint32_t logicalSectorSize;
  uint32_t physicalSectorSize;
} VixDiskLibInfo;

typedef struct { uint64_t offset; uint64_t length; } VixDiskLibBlock;
typedef struct { uint32_t numBlocks; VixDiskLibBlock blocks[1]; } VixDiskLibBlockList;

#endif
