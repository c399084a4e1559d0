#ifndef SYNCCTL_CLIBMONGOC_SHIM_H
#define SYNCCTL_CLIBMONGOC_SHIM_H

// The one C header Swift sees. Debian builds libbson with BSON_EXTRA_ALIGN, so bson_t and
// bson_iter_t are 128-byte aligned and Swift imports them as opaque pointers: they must never
// live on the Swift stack. These helpers give them properly aligned heap memory and expose the
// few struct fields Swift cannot reach.

#include <mongoc/mongoc.h>
#include <stdlib.h>

/// A heap bson_t, uninitialised; initialise with bson_init/bson_init_static, release with
/// bson_destroy followed by syncctl_aligned_free.
static inline bson_t *syncctl_bson_alloc(void) {
    return (bson_t *)aligned_alloc(BSON_ALIGN_OF_PTR > 128 ? BSON_ALIGN_OF_PTR : 128, sizeof(bson_t));
}

/// A heap bson_iter_t, zeroed; release with syncctl_aligned_free.
static inline bson_iter_t *syncctl_iter_alloc(void) {
    bson_iter_t *iter = (bson_iter_t *)aligned_alloc(128, sizeof(bson_iter_t));
    if (iter) {
        memset(iter, 0, sizeof(bson_iter_t));
    }
    return iter;
}

static inline void syncctl_aligned_free(void *p) { free(p); }

/// The document's length in bytes (a field Swift cannot see through the opaque type).
static inline uint32_t syncctl_bson_len(const bson_t *b) { return b->len; }

static inline const char *syncctl_error_message(const bson_error_t *e) { return e->message; }

#endif
