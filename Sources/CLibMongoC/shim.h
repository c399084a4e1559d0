#ifndef SYNCCTL_CLIBMONGOC_SHIM_H
#define SYNCCTL_CLIBMONGOC_SHIM_H

// The one C header Swift sees. Debian builds libbson with BSON_EXTRA_ALIGN, so bson_t and
// bson_iter_t are 128-byte aligned and Swift imports them as opaque pointers: they must never
// live on the Swift stack. These helpers give them properly aligned heap memory and expose the
// few struct fields Swift cannot reach.

#include <mongoc/mongoc.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// A heap bson_t, uninitialised; initialise with bson_init/bson_init_static, release with
/// bson_destroy (when initialised) followed by syncctl_bson_free.
static inline bson_t *syncctl_bson_alloc(void) {
    return (bson_t *)aligned_alloc(128, sizeof(bson_t));
}

/// A heap bson_iter_t, zeroed; release with syncctl_iter_free.
static inline bson_iter_t *syncctl_iter_alloc(void) {
    bson_iter_t *iter = (bson_iter_t *)aligned_alloc(128, sizeof(bson_iter_t));
    if (iter) {
        memset(iter, 0, sizeof(bson_iter_t));
    }
    return iter;
}

static inline void syncctl_bson_free(bson_t *b) { free(b); }
static inline void syncctl_iter_free(bson_iter_t *iter) { free(iter); }

/// The document's length in bytes (a field Swift cannot see through the opaque type).
static inline uint32_t syncctl_bson_len(const bson_t *b) { return b->len; }

/// Where the current element's value starts, and where the next element starts, as offsets
/// into the iterated buffer: together the raw bytes of the value.
static inline uint32_t syncctl_iter_value_start(const bson_iter_t *iter) { return iter->d1; }
static inline uint32_t syncctl_iter_next_offset(const bson_iter_t *iter) { return iter->next_off; }

static inline const char *syncctl_error_message(const bson_error_t *e) { return e->message; }

/* glibc's malloc, tuned for streaming (see MongoRuntime): at most `arenas` arenas, and fixed
 * mmap/trim thresholds so that megabyte-sized reply buffers are reused rather than returned
 * to the kernel and faulted back in. Each setting is left alone when its MALLOC_* environment
 * variable is set. A no-op without glibc. */
static inline void syncctl_tune_malloc(int arenas, int mmap_threshold, int trim_threshold) {
#if defined(__GLIBC__)
    if (getenv("MALLOC_ARENA_MAX") == NULL) { mallopt(M_ARENA_MAX, arenas); }
    if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL) { mallopt(M_MMAP_THRESHOLD, mmap_threshold); }
    if (getenv("MALLOC_TRIM_THRESHOLD_") == NULL) { mallopt(M_TRIM_THRESHOLD, trim_threshold); }
#else
    (void)arenas; (void)mmap_threshold; (void)trim_threshold;
#endif
}

#endif
