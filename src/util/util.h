/*
 * util.h - the small set of helpers every ovfdeploy library shares: error
 * values with context, overflow-checked arithmetic, growable buffers, whole
 * file reads with a limit, crash-safe output files, a thread pool.
 *
 * Nothing here knows about the CLI.  Nothing here calls exit() or abort():
 * failures come back as an od_err that the caller decorates with context
 * and, at the very top, the CLI prints once.
 */
#ifndef OD_UTIL_H
#define OD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- errors -------------------------------------------------------------
 * The code tells the CLI which exit status to use; the message tells the
 * user what went wrong and where ("disk.vmdk: grain table 3 points past the
 * end of the file (offset 0x...)").  Codes map to exit statuses 1:1 for the
 * first three, so that a library can say "this input is bad" (1) without
 * knowing about exit codes.
 */
enum od_errcode {
	OD_OK = 0,
	OD_E_INVALID = 1,     /* the input is invalid, or a check failed */
	OD_E_USAGE = 2,       /* the caller asked for something meaningless */
	OD_E_IO = 3,          /* the system failed us: open, read, write, ... */
	OD_E_NOMEM = 4,       /* an allocation failed */
	OD_E_UNSUPPORTED = 5, /* valid input that we do not handle (yet) */
	OD_E_INTERNAL = 6,    /* a bug of ours */
};

#define OD_ERR_MSG_MAX 1024

typedef struct od_err {
	int code;
	char msg[OD_ERR_MSG_MAX];
} od_err;

#define OD_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Record an error; returns -1 so that "return od_err_set(...)" reads well.
 * `e` may be NULL when the caller does not care. */
int od_err_set(od_err *e, int code, const char *fmt, ...) OD_PRINTF(3, 4);
/* Same, appending ": strerror(errnum)" and using OD_E_IO (OD_E_NOMEM for
 * ENOMEM). */
int od_err_errno(od_err *e, int errnum, const char *fmt, ...) OD_PRINTF(3, 4);
/* Prefix context to an existing message: "PREFIX: old message". */
void od_err_prefix(od_err *e, const char *fmt, ...) OD_PRINTF(2, 3);
void od_err_clear(od_err *e);
/* Shorthand for an allocation failure. */
int od_err_nomem(od_err *e);

/* ---- overflow-checked arithmetic ----------------------------------------
 * Every offset, size and count that comes from a file, a user or a guest
 * goes through these.  They return true when the result is exact. */
static inline bool od_add_u64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline bool od_mul_u64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool od_add_size(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline bool od_mul_size(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
/* true when [off, off+len) lies inside [0, limit) without overflow */
static inline bool od_range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
	uint64_t end;
	return od_add_u64(off, len, &end) && end <= limit;
}
static inline bool od_is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* ---- little-endian fields -------------------------------------------------
 * Byte by byte, so any alignment on any host: the structures firmware,
 * guests and boot protocols exchange (ACPI, SMBIOS, PCI, virtio, ELF). */
static inline uint16_t od_ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t od_ld32(const uint8_t *p) { return od_ld16(p) | (uint32_t)od_ld16(p + 2) << 16; }
static inline uint64_t od_ld64(const uint8_t *p) { return od_ld32(p) | (uint64_t)od_ld32(p + 4) << 32; }
static inline void od_st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void od_st32(uint8_t *p, uint32_t v) { od_st16(p, (uint16_t)v); od_st16(p + 2, (uint16_t)(v >> 16)); }
static inline void od_st64(uint8_t *p, uint64_t v) { od_st32(p, (uint32_t)v); od_st32(p + 4, (uint32_t)(v >> 32)); }

/* ---- memory and strings -------------------------------------------------- */
char *od_strdup(const char *s);             /* NULL in, NULL out */
char *od_strndup(const char *s, size_t n);
char *od_asprintf(const char *fmt, ...) OD_PRINTF(1, 2); /* NULL on ENOMEM */
/* Lower-case hex of `n` bytes into `out` (2n+1 bytes, NUL-terminated). */
void od_hex(const unsigned char *in, size_t n, char *out);

/* A character's key on a US keyboard (keymap.c): its Linux input event
 * code, which for these keys is also the scan code set 1 make code (KEY_A
 * is 30 = 0x1e), and whether Shift goes with it.  Printable ASCII, '\n',
 * '\t', '\b' and 0x1b; -1 for anything else. */
#define OD_KEY_LEFTSHIFT 42
int od_us_key(unsigned char ch, unsigned *code, bool *shift);

/* A growable byte buffer; data is always NUL-terminated for convenience. */
typedef struct od_buf {
	char *data;
	size_t len, cap;
} od_buf;
int od_buf_append(od_buf *b, const void *p, size_t n);
int od_buf_puts(od_buf *b, const char *s);
int od_buf_printf(od_buf *b, const char *fmt, ...) OD_PRINTF(2, 3);
void od_buf_free(od_buf *b);

/* ---- sizes ----------------------------------------------------------------
 * "4096", "512K", "512M", "2G", "1T", "256MiB", "1.5G" is refused: sizes are
 * exact.  Suffixes are binary (K = 1024).  Overflow is an error. */
int od_parse_size(const char *s, uint64_t *out, od_err *e);

/* ---- files --------------------------------------------------------------- */
/* Read a whole file, refusing files larger than `limit` bytes.  The buffer is
 * NUL-terminated (not counted in *len).  Free with free(). */
int od_read_file(const char *path, size_t limit, char **data, size_t *len, od_err *e);
/* Full reads and writes that retry on EINTR and short counts.  A short read
 * at end of file is an error naming `what`. */
int od_write_all(int fd, const void *p, size_t n, const char *what, od_err *e);
int od_pwrite_all(int fd, const void *p, size_t n, uint64_t off, const char *what, od_err *e);
int od_pread_all(int fd, void *p, size_t n, uint64_t off, const char *what, od_err *e);

/* Crash-safe output: data goes to a temporary file next to `path`
 * (".NAME.XXXXXX.tmp"), and only od_atomic_commit() makes it appear under its
 * real name (fsync, rename, fsync of the directory).  A crash or an
 * od_atomic_abort() leaves nothing at `path`.  */
typedef struct od_atomic_file {
	int fd;
	char *path;
	char *tmp;
	/* Set after od_atomic_open for bulk output that can be made again
	 * (convert, pack, unpack without --sync, as qemu-img convert and tar):
	 * commit renames without the fsyncs.  Every process still
	 * sees the output appear whole or not at all, and a killed writer
	 * leaves nothing at `path`; only an OS crash or a power cut may leave
	 * the destination empty or short.  Never for state a user cannot make
	 * again (instance configuration, the verify cache). */
	bool no_sync;
} od_atomic_file;
int od_atomic_open(od_atomic_file *af, const char *path, int mode, od_err *e);
int od_atomic_commit(od_atomic_file *af, od_err *e);
void od_atomic_abort(od_atomic_file *af);

/* Temporaries that survive their writer.  Nothing can clean up after a
 * SIGKILL or a power cut, so every temporary of ours is held under an
 * exclusive flock() for as long as its writer lives (the kernel drops it when
 * the process dies, however it dies), and the next writer to the same
 * destination removes the ones nobody holds.  A temporary is named
 * PREFIX[TAG]XXXXXX[SUFFIX] (XXXXXX from mkstemp/mkdtemp, TAG "" or "gz-"):
 * only such names are ever touched, so a user's file is never removed.
 *
 * od_tmp_lock takes the lock on a temporary just made at `path` (file or
 * directory fd), and fails if someone removed it before the lock was taken
 * (the caller then makes another).  od_tmp_clean removes, in `dir`, the
 * unlocked temporaries named PREFIX...SUFFIX, files and whole directory trees;
 * it is best effort and never fails. */
int od_tmp_lock(int fd, const char *path, od_err *e);
void od_tmp_clean(const char *dir, const char *prefix, const char *suffix);

/* ---- sequential writer ------------------------------------------------------
 * Writes a file front to back from `start` on, as fast as the disk allows
 * (seqw.c): when `durable` (the caller fsyncs at the end), with O_DIRECT
 * from aligned buffers and several writes in flight, the file preallocated
 * to `size_hint` bytes (0: unknown); elsewhere, or where O_DIRECT is
 * refused, buffered writes from a writer thread.  The caller keeps no other
 * writes to `fd` going meanwhile.  od_seqw_finish writes the rest (the last
 * partial block buffered), waits for every write, leaves the fd without
 * O_DIRECT and trims the preallocation to what was written; the fd then
 * takes ordinary writes again (patching reserved slots, say).  A write
 * error is reported by a later od_seqw_write or by od_seqw_finish.
 * od_seqw_free after finish, or instead of it to abandon the output.
 * OVFDEPLOY_TEST_NO_DIRECT=1 forces the buffered path (tests only). */
typedef struct od_seqw od_seqw;
od_seqw *od_seqw_new(int fd, uint64_t start, uint64_t size_hint, bool durable, const char *what, od_err *e);
int od_seqw_write(od_seqw *w, const void *p, size_t n, od_err *e);
uint64_t od_seqw_offset(const od_seqw *w);
/* true while writes go O_DIRECT (tests, and callers that want to know) */
bool od_seqw_direct(const od_seqw *w);
int od_seqw_finish(od_seqw *w, od_err *e);
void od_seqw_free(od_seqw *w);

/* ---- progress --------------------------------------------------------------
 * Libraries report progress through this callback; the CLI decides whether
 * and how to draw it.  `total` may be 0 when unknown. */
typedef void (*od_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* ---- thread pool ----------------------------------------------------------
 * A fixed set of worker threads taking jobs from a bounded queue: submit
 * blocks while the queue is full, so memory stays bounded however fast the
 * producer is. */
typedef struct od_pool od_pool;
/* nthreads 0 = number of online CPUs. queue_max 0 = 2 * nthreads. */
od_pool *od_pool_new(unsigned nthreads, unsigned queue_max, od_err *e);
unsigned od_pool_threads(const od_pool *p);
int od_pool_submit(od_pool *p, void (*fn)(void *arg), void *arg, od_err *e);
/* Wait until every submitted job has finished. */
void od_pool_wait(od_pool *p);
void od_pool_free(od_pool *p);
/* Forbid the calling thread to start pools from now on: od_pool_new then
 * fails, and code that can do without workers asks od_pool_allowed()
 * before anything else a pool needs (sysconf reads /sys).  The runner's
 * vCPU threads serve disk reads under a seccomp filter that kills the
 * process on clone or open, so they must never start one. */
void od_pool_forbid(void);
bool od_pool_allowed(void);

#endif
