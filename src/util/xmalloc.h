/* Allocation that cannot fail: out of memory aborts with a message, so no
 * caller carries a NULL check for it. wipe_free() is for anything that held
 * a secret. */
#ifndef SOTTO_XMALLOC_H
#define SOTTO_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#define printflike(a, b) __attribute__((format(printf, a, b)))

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t len);
char *xasprintf(const char *fmt, ...) printflike(1, 2);
char *xvasprintf(const char *fmt, va_list ap) printflike(1, 0);

/* Overwrite len bytes at p in a way the compiler may not elide. */
void wipe(void *p, size_t len);
/* wipe(p, len) then free(p); p may be NULL. */
void wipe_free(void *p, size_t len);
/* Wipe a NUL-terminated string (passphrase) and free it. */
void wipe_free_str(char *s);

#endif
