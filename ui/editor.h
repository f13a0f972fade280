/* The input line editor as plain data: a UTF-8 buffer with a cursor on
 * character boundaries, Emacs-style editing, multi-line compose, input
 * history and tab completion. No ncurses here, so every key is testable. */
#ifndef SOTTO_UI_EDITOR_H
#define SOTTO_UI_EDITOR_H

#include <stdbool.h>
#include <stddef.h>

/* Keys that are not text. Control keys are their ASCII codes (Ctrl-A is
 * 1); the rest sit above Unicode so they never collide with a character. */
enum editor_key {
	EDITOR_KEY_CTRL_A = 0x01,
	EDITOR_KEY_CTRL_B = 0x02,
	EDITOR_KEY_CTRL_D = 0x04,
	EDITOR_KEY_CTRL_E = 0x05,
	EDITOR_KEY_CTRL_F = 0x06,
	EDITOR_KEY_CTRL_H = 0x08,
	EDITOR_KEY_TAB = 0x09,
	EDITOR_KEY_CTRL_K = 0x0b,
	EDITOR_KEY_CTRL_U = 0x15,
	EDITOR_KEY_CTRL_W = 0x17,
	EDITOR_KEY_CTRL_Y = 0x19,
	EDITOR_KEY_BACKSPACE = 0x7f,
	EDITOR_KEY_LEFT = 0x110000,
	EDITOR_KEY_RIGHT,
	EDITOR_KEY_UP,
	EDITOR_KEY_DOWN,
	EDITOR_KEY_HOME,
	EDITOR_KEY_END,
	EDITOR_KEY_DELETE,
	EDITOR_KEY_ALT_ENTER, /* a newline inside the message */
};

/* Lines of input history kept. */
#define EDITOR_HISTORY_MAX 100
/* Longest input accepted, in bytes (a message is at most this). */
#define EDITOR_MAX_BYTES (64 * 1024)

struct editor {
	char *buf; /* NUL-terminated, valid UTF-8 */
	size_t len, cap;
	size_t cursor;  /* byte offset, on a character boundary */
	char *kill;     /* the last killed text, for Ctrl-Y */
	bool secret;    /* a passphrase: no history, no kill ring, wiped */
	char **history; /* oldest first */
	size_t nhistory;
	size_t hpos; /* == nhistory when not browsing */
	char *draft; /* what was typed before browsing history */
};

void editor_init(struct editor *ed);
void editor_free(struct editor *ed);
/* Empty the buffer (wiping it when secret). */
void editor_clear(struct editor *ed);
/* Replace the whole text; the cursor goes to its end. Invalid UTF-8 is
 * refused (-1). */
int editor_set(struct editor *ed, const char *text);
/* Insert len bytes of UTF-8 at the cursor. -1 (and nothing inserted)
 * when it is not valid UTF-8, holds a control character other than
 * '\n', or would make the input longer than EDITOR_MAX_BYTES. */
int editor_insert(struct editor *ed, const char *text, size_t len);
/* Apply a key (enum editor_key, or a Unicode character to insert).
 * Returns true when the text or cursor changed. Tab is left to
 * editor_complete(). */
bool editor_key(struct editor *ed, int key);
/* Hand over the text for sending and clear; the caller frees it. A
 * non-empty, non-secret text goes into the history. */
char *editor_take(struct editor *ed);

/* Tab completion of the word before the cursor: the command word of a
 * "/command" line from the command table (UI commands), anything else
 * from names. A single match is completed with a space after it;
 * several extend the word to their longest common prefix. Returns how
 * many matched; up to max of them go to out (borrowed). */
size_t editor_complete(struct editor *ed, const char *const *names, size_t nnames, const char **out,
                       size_t max);

#endif
