/* Internal to the wire codec: shared between its parsing files. */
#ifndef SOTTO_WIRE_INT_H
#define SOTTO_WIRE_INT_H

#include <stddef.h>

#include "wire/wire.h"

/* Read buf as one of the hot per-message frames if it is spelled exactly
 * as wire_build() writes it and every value passes the same checks as the
 * generic reader. 1 with *out filled; 0 (out untouched) means "not in the
 * canonical form": the caller parses it the generic way, which decides
 * and words any error. */
int wire_parse_fast(const char *buf, size_t len, struct wire_frame *out);

#endif
