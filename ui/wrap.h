/* Word wrapping of sanitised UTF-8 text to a number of columns: breaks
 * at spaces where it can, inside a word only when the word is wider than
 * the line, and never splits a character (a wide one that does not fit
 * in what is left of a line moves whole to the next). */
#ifndef SOTTO_UI_WRAP_H
#define SOTTO_UI_WRAP_H

#include <stddef.h>

/* One screen line: bytes [off, off + len) of the text, cols wide. */
struct wrap_line {
	size_t off, len;
	size_t cols;
};

/* Wrap len bytes of text to cols columns (cols >= 2 keeps every line
 * within cols; with cols 1 a wide character gets a line of its own).
 * '\n' ends a line. Returns the number of lines (at least 1) and sets
 * *lines to an array the caller frees. */
size_t wrap_text(const char *text, size_t len, size_t cols, struct wrap_line **lines);

#endif
