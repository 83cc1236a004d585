/*
 * A fake libvixDiskLib for v2v's tests: the exported symbols and struct
 * layouts of VMware's VDDK 8 (vixDiskLib.h), backed by local files.
 *
 * VMware's library cannot be had on a test machine, and Debian's nbdkit has no
 * vddk plugin, so v2v loads libvixDiskLib itself (koffi) and the tests point it
 * at this one. Only what v2v calls is implemented, but faithfully: same names,
 * same argument types, same error codes and texts, allocation rules
 * (GetInfo/FreeInfo, QueryAllocatedBlocks/FreeBlockList, GetErrorText/
 * FreeErrorText), ReadAsync completions delivered from the library's own
 * threads, and the QueryAllocatedBlocks chunk rules.
 *
 * Configuration comes from the environment, read at InitEx / ConnectEx / Open
 * (never at load time, so a test can change it between connections):
 *   FAKE_VDDK_DATASTORES  "LocalDS_0=/dir;Other=/dir2": datastore name -> directory
 *   FAKE_VDDK_THUMBPRINT  the SHA-1 thumbprint the "server" presents (AA:BB:..)
 *   FAKE_VDDK_USER        the only user accepted (unset: any)
 *   FAKE_VDDK_PASSWORD    its password (unset: any non-empty)
 *   FAKE_VDDK_FAULTS      comma list: fail-read=N (the Nth read fails), fail-count=K
 *                         (that many consecutive reads fail, default 1),
 *                         slow-read-ms=M (every read sleeps M ms)
 *   FAKE_VDDK_TRACE       a file that gets one line per InitEx / ConnectEx / Open
 *                         (config file, transports, snapshot, vmxSpec), for tests
 *
 * A disk path is "[datastore] dir/name.vmdk". When the descriptor has a
 * flat extent line (RW <sectors> FLAT|VMFS "file" [offset]) that names the
 * data; an empty descriptor (as vcsim writes) means "<name>-flat.vmdk" with
 * the capacity of that file.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* The VDDK major version this build imitates (8 by default; build.sh also makes a 6.7-like one). */
#ifndef FAKE_VDDK_VERSION
#define FAKE_VDDK_VERSION 8
#endif

#include "vixdisklib-types.h"

struct connection {
  char *vmxSpec;
  char *snapshotRef;
  char *transports;
  char *server;
};

struct handle {
  struct connection *conn;
  int fd;
  uint64_t dataOffset; /* byte offset of the disk in the flat file */
  uint64_t capacity;   /* sectors */
  const char *transport;
  pthread_mutex_t lock;
  pthread_cond_t idle;
  int outstanding;
};

static int initialized;
static char *configFile;
static pthread_mutex_t readCountLock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long readCount;

static void trace(const char *fmt, ...) {
  const char *path = getenv("FAKE_VDDK_TRACE");
  if (!path || !*path) return;
  FILE *f = fopen(path, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static long faultValue(const char *key, long fallback) {
  const char *faults = getenv("FAKE_VDDK_FAULTS");
  if (!faults) return fallback;
  size_t klen = strlen(key);
  for (const char *p = faults; *p;) {
    if (strncmp(p, key, klen) == 0 && p[klen] == '=') return strtol(p + klen + 1, NULL, 10);
    const char *comma = strchr(p, ',');
    if (!comma) break;
    p = comma + 1;
  }
  return fallback;
}

/* ----- init, errors ----- */

EXPORT VixError VixDiskLib_InitEx(uint32_t major, uint32_t minor, VixDiskLibGenericLogFunc *log, VixDiskLibGenericLogFunc *warn,
                                  VixDiskLibGenericLogFunc *panic, const char *libDir, const char *config) {
  (void)log; (void)warn; (void)panic;
  if (major > 8 || major < 6) return VIX_E_NOT_SUPPORTED;
  free(configFile);
  configFile = config ? strdup(config) : NULL;
  if (config) {
    struct stat st;
    if (stat(config, &st) != 0) return VIX_E_FILE_NOT_FOUND;
  }
  pthread_mutex_lock(&readCountLock);
  readCount = 0;
  pthread_mutex_unlock(&readCountLock);
  initialized = 1;
  trace("InitEx major=%u minor=%u libDir=%s config=%s", major, minor, libDir ? libDir : "", config ? config : "");
  return VIX_OK;
}

static void stopWorkers(void);

EXPORT void VixDiskLib_Exit(void) {
  stopWorkers();
  initialized = 0;
  free(configFile);
  configFile = NULL;
  trace("Exit");
}

static const char *errorText(VixError err) {
  switch (err & 0xFFFF) {
  case VIX_OK: return "The operation was successful";
  case VIX_E_FAIL: return "Unknown error";
  case VIX_E_OUT_OF_MEMORY: return "Memory allocation failed: out of memory";
  case VIX_E_INVALID_ARG: return "One of the parameters was invalid";
  case VIX_E_FILE_NOT_FOUND: return "The file was not found";
  case VIX_E_NOT_SUPPORTED: return "The operation is not supported";
  case VIX_E_FILE_ERROR: return "A file access error occurred on the host or guest operating system";
  case VIX_E_HOST_USER_PERMISSIONS: return "Insufficient permissions in the host operating system";
  case VIX_E_DISK_INVAL: return "One of the parameters supplied is invalid";
  case VIX_E_DISK_NOINIT: return "The disk library has not been initialized";
  case VIX_E_DISK_OUTOFRANGE: return "The data you tried to access is out of range";
  case VIX_E_DISK_INVALID_CONNECTION: return "The specified connection is invalid";
  case VIX_E_NET_HTTP_SSL_SECURITY: return "SSL Exception: The remote host certificate has these problems: * The host thumbprint does not match";
  default: return "Unknown error";
  }
}

EXPORT char *VixDiskLib_GetErrorText(VixError err, const char *locale) {
  (void)locale;
  return strdup(errorText(err));
}

EXPORT void VixDiskLib_FreeErrorText(char *text) { free(text); }

EXPORT const char *VixDiskLib_ListTransportModes(void) { return "file:san:hotadd:nbdssl:nbd"; }

/* ----- connections ----- */

#if FAKE_VDDK_VERSION >= 7
/* VDDK 7 added AllocateConnectParams; 6.x callers pass a struct of their own. */
EXPORT VixDiskLibConnectParams *VixDiskLib_AllocateConnectParams(void) { return calloc(1, sizeof(VixDiskLibConnectParams)); }
#endif

/* Like VDDK's: frees the struct; the strings belong to whoever set them. */
EXPORT void VixDiskLib_FreeConnectParams(VixDiskLibConnectParams *params) { free(params); }

/* In the companion library, as VDDK keeps its vim/SSL code in libraries of its own. */
int VixDiskLibVim_SameThumbprint(const char *a, const char *b);

EXPORT VixError VixDiskLib_ConnectEx(const VixDiskLibConnectParams *params, char readOnly, const char *snapshotRef, const char *transportModes,
                                     void **connection) {
  if (!initialized) return VIX_E_DISK_NOINIT;
  if (!connection) return VIX_E_INVALID_ARG;
  *connection = NULL;
  if (params && params->serverName) {
    const char *expected = getenv("FAKE_VDDK_THUMBPRINT");
    if (!params->thumbPrint || (expected && !VixDiskLibVim_SameThumbprint(expected, params->thumbPrint))) return VIX_E_NET_HTTP_SSL_SECURITY;
    if (params->credType == VIXDISKLIB_CRED_UID) {
      const char *user = getenv("FAKE_VDDK_USER");
      const char *password = getenv("FAKE_VDDK_PASSWORD");
      const char *givenUser = params->creds.uid.userName;
      const char *givenPassword = params->creds.uid.password;
      if (!givenUser || !givenPassword || !*givenPassword) return VIX_E_HOST_USER_PERMISSIONS;
      if (user && strcmp(user, givenUser) != 0) return VIX_E_HOST_USER_PERMISSIONS;
      if (password && strcmp(password, givenPassword) != 0) return VIX_E_HOST_USER_PERMISSIONS;
    } else if (params->credType == VIXDISKLIB_CRED_SESSIONID) {
      if (!params->creds.sessionId.cookie || !*params->creds.sessionId.cookie) return VIX_E_HOST_USER_PERMISSIONS;
    } else {
      return VIX_E_NOT_SUPPORTED;
    }
    if (!params->vmxSpec || strncmp(params->vmxSpec, "moref=", 6) != 0) return VIX_E_INVALID_ARG;
  }
  struct connection *c = calloc(1, sizeof *c);
  if (!c) return VIX_E_OUT_OF_MEMORY;
  c->vmxSpec = strdup(params && params->vmxSpec ? params->vmxSpec : "");
  c->server = strdup(params && params->serverName ? params->serverName : "");
  c->snapshotRef = snapshotRef ? strdup(snapshotRef) : NULL;
  c->transports = strdup(transportModes ? transportModes : VixDiskLib_ListTransportModes());
  trace("ConnectEx server=%s vmxSpec=%s readOnly=%d snapshot=%s transports=%s port=%u nfcHostPort=%u", c->server, c->vmxSpec, readOnly,
        snapshotRef ? snapshotRef : "", c->transports, params ? params->port : 0, params ? params->nfcHostPort : 0);
  *connection = c;
  return VIX_OK;
}

EXPORT VixError VixDiskLib_Disconnect(void *connection) {
  struct connection *c = connection;
  if (!c) return VIX_E_INVALID_ARG;
  free(c->vmxSpec);
  free(c->server);
  free(c->snapshotRef);
  free(c->transports);
  free(c);
  return VIX_OK;
}

/* ----- disks ----- */

/* "[ds] dir/disk.vmdk" -> "<datastore dir>/dir/disk.vmdk" (malloc'd), or NULL. */
static char *resolveDatastorePath(const char *path) {
  if (path[0] != '[') return strdup(path); /* local mode: a plain file name */
  const char *close = strchr(path, ']');
  if (!close) return NULL;
  size_t nameLen = (size_t)(close - path - 1);
  const char *rel = close + 1;
  while (*rel == ' ') rel++;
  const char *map = getenv("FAKE_VDDK_DATASTORES");
  if (!map) return NULL;
  for (const char *p = map; *p;) {
    const char *end = p + strcspn(p, ";");
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (eq && (size_t)(eq - p) == nameLen && strncmp(p, path + 1, nameLen) == 0) {
      char *out = NULL;
      if (asprintf(&out, "%.*s/%s", (int)(end - eq - 1), eq + 1, rel) < 0) return NULL;
      return out;
    }
    p = *end ? end + 1 : end;
  }
  return NULL;
}

/* Finds the flat extent behind a descriptor: its path, capacity and offset. */
static VixError describeDisk(const char *descriptor, char **flat, uint64_t *capacity, uint64_t *offset) {
  FILE *f = fopen(descriptor, "r");
  if (!f) return VIX_E_FILE_NOT_FOUND;
  char line[1024];
  *flat = NULL;
  *offset = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long long sectors = 0, off = 0;
    char kind[32], name[512];
    int n = sscanf(line, " RW %llu %31s \"%511[^\"]\" %llu", &sectors, kind, name, &off);
    if (n >= 3 && (strcmp(kind, "FLAT") == 0 || strcmp(kind, "VMFS") == 0)) {
      if (*flat) { /* more than one extent: not a disk this fake serves */
        free(*flat);
        fclose(f);
        return VIX_E_NOT_SUPPORTED;
      }
      const char *slash = strrchr(descriptor, '/');
      if (asprintf(flat, "%.*s/%s", slash ? (int)(slash - descriptor) : 1, slash ? descriptor : ".", name) < 0) {
        fclose(f);
        return VIX_E_OUT_OF_MEMORY;
      }
      *capacity = sectors;
      *offset = (uint64_t)(n == 4 ? off : 0) * SECTOR;
    }
  }
  fclose(f);
  if (*flat) return VIX_OK;
  /* An empty descriptor, as vcsim writes: name.vmdk -> name-flat.vmdk, capacity from its size. */
  size_t len = strlen(descriptor);
  if (len < 5 || strcmp(descriptor + len - 5, ".vmdk") != 0) return VIX_E_DISK_INVAL;
  if (asprintf(flat, "%.*s-flat.vmdk", (int)(len - 5), descriptor) < 0) return VIX_E_OUT_OF_MEMORY;
  struct stat st;
  if (stat(*flat, &st) != 0) {
    free(*flat);
    *flat = NULL;
    return VIX_E_FILE_NOT_FOUND;
  }
  *capacity = ((uint64_t)st.st_size + SECTOR - 1) / SECTOR;
  return VIX_OK;
}

/* The first transport of the connection's list this fake can serve (all but san and hotadd, which need a proxy VM). */
static const char *pickTransport(const char *list) {
  static const char *known[] = {"file", "nbdssl", "nbd"};
  char *copy = strdup(list);
  const char *found = NULL;
  for (char *save = NULL, *mode = strtok_r(copy, ":", &save); mode && !found; mode = strtok_r(NULL, ":", &save)) {
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
      if (strcmp(mode, known[i]) == 0) found = known[i];
    }
  }
  free(copy);
  return found;
}

EXPORT VixError VixDiskLib_Open(void *connection, const char *path, uint32_t flags, void **handle) {
  struct connection *c = connection;
  if (!initialized) return VIX_E_DISK_NOINIT;
  if (!c || !path || !handle) return VIX_E_INVALID_ARG;
  *handle = NULL;
  const char *transport = pickTransport(c->transports);
  if (!transport) return VIX_E_NOT_SUPPORTED;
  char *descriptor = resolveDatastorePath(path);
  if (!descriptor) return VIX_E_FILE_NOT_FOUND;
  char *flat = NULL;
  uint64_t capacity = 0, offset = 0;
  VixError err = describeDisk(descriptor, &flat, &capacity, &offset);
  free(descriptor);
  if (err != VIX_OK) return err;
  int fd = open(flat, O_RDONLY | O_CLOEXEC);
  free(flat);
  if (fd < 0) return errno == ENOENT ? VIX_E_FILE_NOT_FOUND : VIX_E_FILE_ERROR;
  struct handle *h = calloc(1, sizeof *h);
  if (!h) {
    close(fd);
    return VIX_E_OUT_OF_MEMORY;
  }
  h->conn = c;
  h->fd = fd;
  h->capacity = capacity;
  h->dataOffset = offset;
  h->transport = transport;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->idle, NULL);
  trace("Open path=%s flags=%u transport=%s", path, flags, transport);
  *handle = h;
  return VIX_OK;
}

EXPORT const char *VixDiskLib_GetTransportMode(void *handle) {
  struct handle *h = handle;
  return h ? h->transport : NULL;
}

static void waitIdle(struct handle *h) {
  pthread_mutex_lock(&h->lock);
  while (h->outstanding > 0) pthread_cond_wait(&h->idle, &h->lock);
  pthread_mutex_unlock(&h->lock);
}

EXPORT VixError VixDiskLib_Close(void *handle) {
  struct handle *h = handle;
  if (!h) return VIX_E_INVALID_ARG;
  waitIdle(h);
  close(h->fd);
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->idle);
  free(h);
  return VIX_OK;
}

EXPORT VixError VixDiskLib_GetInfo(void *handle, VixDiskLibInfo **info) {
  struct handle *h = handle;
  if (!h || !info) return VIX_E_INVALID_ARG;
  VixDiskLibInfo *i = calloc(1, sizeof *i);
  if (!i) return VIX_E_OUT_OF_MEMORY;
  i->capacity = h->capacity;
  i->adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  i->numLinks = 1;
  i->biosGeo = (VixDiskLibGeometry){(uint32_t)(h->capacity / (255 * 63)), 255, 63};
  i->physGeo = (VixDiskLibGeometry){(uint32_t)(h->capacity / (16 * 63)), 16, 63};
  i->uuid = strdup("60 00 C2 9a 2b 8f 4e 21-b2 63 6c 3a 5e 8e 0b 11");
#if FAKE_VDDK_VERSION >= 7
  i->logicalSectorSize = SECTOR;
  i->physicalSectorSize = SECTOR;
#else
  /* VDDK 6.x's struct ends at uuid: poison what a 7+ reader would wrongly read. */
  i->logicalSectorSize = 0xdeadbeef;
  i->physicalSectorSize = 0xdeadbeef;
#endif
  *info = i;
  return VIX_OK;
}

EXPORT void VixDiskLib_FreeInfo(VixDiskLibInfo *info) {
  if (!info) return;
  free(info->parentFileNameHint);
  free(info->uuid);
  free(info);
}

static VixError readSectors(struct handle *h, uint64_t start, uint64_t count, unsigned char *buf) {
  if (start > h->capacity || count > h->capacity - start) return VIX_E_DISK_OUTOFRANGE;
  pthread_mutex_lock(&readCountLock);
  unsigned long n = ++readCount;
  pthread_mutex_unlock(&readCountLock);
  long slowMs = faultValue("slow-read-ms", 0);
  if (slowMs > 0) {
    struct timespec ts = {slowMs / 1000, (slowMs % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  long failAt = faultValue("fail-read", 0);
  long failCount = faultValue("fail-count", 1);
  if (failAt > 0 && (long)n >= failAt && (long)n < failAt + failCount) return VIX_E_FILE_ERROR;
  size_t want = (size_t)(count * SECTOR);
  size_t done = 0;
  while (done < want) {
    ssize_t r = pread(h->fd, buf + done, want - done, (off_t)(h->dataOffset + start * SECTOR + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return VIX_E_FILE_ERROR;
    }
    if (r == 0) { /* past the end of a short flat file: zeros, as a thin disk reads */
      memset(buf + done, 0, want - done);
      break;
    }
    done += (size_t)r;
  }
  return VIX_OK;
}

EXPORT VixError VixDiskLib_Read(void *handle, uint64_t startSector, uint64_t numSectors, unsigned char *buf) {
  struct handle *h = handle;
  if (!h || !buf) return VIX_E_INVALID_ARG;
  return readSectors(h, startSector, numSectors, buf);
}

EXPORT VixError VixDiskLib_Write(void *handle, uint64_t startSector, uint64_t numSectors, const unsigned char *buf) {
  (void)handle; (void)startSector; (void)numSectors; (void)buf;
  return VIX_E_NOT_SUPPORTED; /* v2v never writes to a source */
}

/* ----- asynchronous reads: a small pool of library threads, as VDDK has ----- */

struct job {
  struct handle *h;
  uint64_t start, count;
  unsigned char *buf;
  VixDiskLibCompletionCB cb;
  void *cbData;
  struct job *next;
};

static pthread_mutex_t queueLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queueReady = PTHREAD_COND_INITIALIZER;
static struct job *queueHead, *queueTail;
#define WORKERS 4
static pthread_t workers[WORKERS];
static int workersStarted, workersStopping;

static void *worker(void *unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&queueLock);
    while (!queueHead && !workersStopping) pthread_cond_wait(&queueReady, &queueLock);
    if (!queueHead) {
      pthread_mutex_unlock(&queueLock);
      return NULL;
    }
    struct job *j = queueHead;
    queueHead = j->next;
    if (!queueHead) queueTail = NULL;
    pthread_mutex_unlock(&queueLock);
    VixError err = readSectors(j->h, j->start, j->count, j->buf);
    if (j->cb) j->cb(j->cbData, err);
    struct handle *h = j->h;
    free(j);
    pthread_mutex_lock(&h->lock);
    if (--h->outstanding == 0) pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
  }
  return NULL;
}

static VixError startWorkers(void) {
  if (workersStarted) return VIX_OK;
  workersStopping = 0;
  for (int i = 0; i < WORKERS; i++) {
    if (pthread_create(&workers[i], NULL, worker, NULL) != 0) {
      workersStopping = 1;
      pthread_cond_broadcast(&queueReady);
      pthread_mutex_unlock(&queueLock);
      for (int k = 0; k < i; k++) pthread_join(workers[k], NULL);
      pthread_mutex_lock(&queueLock);
      return VIX_E_OUT_OF_MEMORY;
    }
  }
  workersStarted = 1;
  return VIX_OK;
}

/* Exit ends the library's threads once their queue is drained, as VDDK's does. */
static void stopWorkers(void) {
  pthread_mutex_lock(&queueLock);
  if (!workersStarted) {
    pthread_mutex_unlock(&queueLock);
    return;
  }
  workersStopping = 1;
  pthread_cond_broadcast(&queueReady);
  pthread_mutex_unlock(&queueLock);
  for (int i = 0; i < WORKERS; i++) pthread_join(workers[i], NULL);
  pthread_mutex_lock(&queueLock);
  workersStarted = 0;
  pthread_mutex_unlock(&queueLock);
}

EXPORT VixError VixDiskLib_ReadAsync(void *handle, uint64_t startSector, uint64_t numSectors, unsigned char *buf, VixDiskLibCompletionCB cb,
                                     void *cbData) {
  struct handle *h = handle;
  if (!h || !buf) return VIX_E_INVALID_ARG;
  if (startSector > h->capacity || numSectors > h->capacity - startSector) return VIX_E_DISK_OUTOFRANGE;
  struct job *j = calloc(1, sizeof *j);
  if (!j) return VIX_E_OUT_OF_MEMORY;
  *j = (struct job){h, startSector, numSectors, buf, cb, cbData, NULL};
  pthread_mutex_lock(&queueLock);
  VixError err = startWorkers();
  if (err != VIX_OK) {
    pthread_mutex_unlock(&queueLock);
    free(j);
    return err;
  }
  pthread_mutex_lock(&h->lock);
  h->outstanding++;
  pthread_mutex_unlock(&h->lock);
  if (queueTail) queueTail->next = j; else queueHead = j;
  queueTail = j;
  pthread_cond_signal(&queueReady);
  pthread_mutex_unlock(&queueLock);
  return VIX_ASYNC;
}

EXPORT VixError VixDiskLib_Wait(void *handle) {
  struct handle *h = handle;
  if (!h) return VIX_E_INVALID_ARG;
  waitIdle(h);
  return VIX_OK;
}

EXPORT VixError VixDiskLib_Flush(void *handle) { return handle ? VIX_OK : VIX_E_INVALID_ARG; }

/* ----- allocation map from the flat file's real holes ----- */

EXPORT VixError VixDiskLib_QueryAllocatedBlocks(void *handle, uint64_t startSector, uint64_t numSectors, uint64_t chunkSize,
                                                VixDiskLibBlockList **blockList) {
  struct handle *h = handle;
  if (!h || !blockList) return VIX_E_INVALID_ARG;
  *blockList = NULL;
  /* VDDK's rules: chunks of at least 128 sectors, whole chunks, at most 512 Ki of them per call. */
  if (chunkSize < MIN_CHUNK || startSector % chunkSize != 0 || numSectors == 0 || numSectors / chunkSize > MAX_CHUNKS) return VIX_E_INVALID_ARG;
  if (numSectors % chunkSize != 0) return VIX_E_INVALID_ARG;
  if (startSector > h->capacity || numSectors > h->capacity - startSector) return VIX_E_DISK_OUTOFRANGE;

  uint32_t cap = 16, used = 0;
  VixDiskLibBlockList *list = malloc(sizeof(VixDiskLibBlockList) + cap * sizeof(VixDiskLibBlock));
  if (!list) return VIX_E_OUT_OF_MEMORY;
  off_t base = (off_t)h->dataOffset;
  off_t pos = base + (off_t)(startSector * SECTOR);
  off_t end = base + (off_t)((startSector + numSectors) * SECTOR);
  while (pos < end) {
    off_t data = lseek(h->fd, pos, SEEK_DATA);
    if (data < 0 || data >= end) break; /* ENXIO: nothing but hole to the end of the file */
    off_t hole = lseek(h->fd, data, SEEK_HOLE);
    if (hole < 0 || hole > end) hole = end;
    /* Round out to whole chunks, as VDDK reports allocation per chunk. */
    uint64_t chunkBytes = chunkSize * SECTOR;
    uint64_t first = (uint64_t)(data - base) / chunkBytes * chunkSize;
    uint64_t last = ((uint64_t)(hole - base) + chunkBytes - 1) / chunkBytes * chunkSize;
    if (last > startSector + numSectors) last = startSector + numSectors;
    if (used > 0 && list->blocks[used - 1].offset + list->blocks[used - 1].length >= first) {
      list->blocks[used - 1].length = last - list->blocks[used - 1].offset;
    } else {
      if (used == cap) {
        cap *= 2;
        VixDiskLibBlockList *bigger = realloc(list, sizeof(VixDiskLibBlockList) + cap * sizeof(VixDiskLibBlock));
        if (!bigger) {
          free(list);
          return VIX_E_OUT_OF_MEMORY;
        }
        list = bigger;
      }
      list->blocks[used].offset = first;
      list->blocks[used].length = last - first;
      used++;
    }
    pos = base + (off_t)(last * SECTOR);
  }
  list->numBlocks = used;
  *blockList = list;
  return VIX_OK;
}

EXPORT VixError VixDiskLib_FreeBlockList(VixDiskLibBlockList *blockList) {
  free(blockList);
  return VIX_OK;
}
