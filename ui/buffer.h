/* One conversation's message window: a bounded slice of its history
 * fetched with the engine's "messages" method (never the whole history,
 * so a 100k-message conversation opens as fast as an empty one), kept in
 * id order with each message's state, plus the scroll position. Screen
 * rows are laid out from this data, so a resize just lays out again. */
#ifndef SOTTO_UI_BUFFER_H
#define SOTTO_UI_BUFFER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Messages fetched per request, and the most one window holds. */
#define BUFFER_PAGE 100
#define BUFFER_WINDOW_MAX 1000
/* Longest sender name shown before a message, in columns. */
#define BUFFER_SENDER_COLS 16

enum buffer_state {
	BUFFER_STATE_NONE, /* incoming messages and notices */
	BUFFER_STATE_SENDING,
	BUFFER_STATE_SENT,
	BUFFER_STATE_DELIVERED,
	BUFFER_STATE_READ,
	BUFFER_STATE_FAILED,
};

struct buffer_msg {
	int64_t id; /* local history id; 0 for notices */
	bool outgoing;
	bool notice;  /* a line from the UI itself, not a message */
	char *sender; /* sanitised, one line */
	char *msg_id; /* the client message id as received (for events) */
	int64_t time_ms;
	enum buffer_state state;
	char *display;                    /* sanitised text, then the state tag */
	size_t tag_off;                   /* where the state tag starts in display */
	size_t layout_cols, layout_lines; /* cache for the last width */
};

struct buffer {
	int64_t conversation;    /* 0 until the engine names it */
	char *peer;              /* the contact's name as the engine spells it */
	struct buffer_msg *msgs; /* oldest first */
	size_t n, cap;
	bool more_before; /* the engine holds older messages */
	bool more_after;  /* newer ones were let go while reading back */
	size_t scroll;    /* screen lines scrolled up from the bottom */
	size_t unseen;    /* arrived while scrolled up */
	size_t view_cols; /* width of the last layout */
	/* The newest incoming id the engine was told is read. */
	int64_t read_up_to;
};

enum buffer_fetch {
	BUFFER_FETCH_NONE,
	BUFFER_FETCH_OLDER,  /* at the top and the engine has more */
	BUFFER_FETCH_LATEST, /* back at the bottom of a window cut short */
};

/* One screen row of the laid-out window. */
struct buffer_row {
	size_t msg;      /* index into msgs */
	size_t line;     /* 0: the row that starts with time and sender */
	size_t off, len; /* bytes of the message's display */
	size_t indent;   /* columns before the text (the prefix on line 0) */
};

struct buffer *buffer_new(int64_t conversation, const char *peer);
void buffer_free(struct buffer *b);

const char *buffer_state_name(enum buffer_state s);
/* Unknown names give BUFFER_STATE_NONE. */
enum buffer_state buffer_state_parse(const char *name);

/* params for "messages": the newest page, or the page before the oldest
 * message held. The caller owns the object. */
json_t *buffer_params_latest(const struct buffer *b, size_t limit);
json_t *buffer_params_older(const struct buffer *b, size_t limit);
/* Take a "messages" answer (its "messages" array, or the array itself).
 * latest replaces the window; otherwise the messages are older ones
 * going in front (and, past BUFFER_WINDOW_MAX, the newest are let go). limit is what was asked for:
 * fewer means there are no more before. Malformed entries are skipped. Returns how many were taken.
 */
size_t buffer_load(struct buffer *b, json_t *answer, size_t limit, bool latest);
/* A message object from an event or a send: updated in place when held,
 * else inserted in id order. When the window is full the oldest message
 * goes. Returns false when the object is not a usable message. */
bool buffer_add(struct buffer *b, json_t *message);
/* True when the window holds the message with this local id. */
bool buffer_holds(const struct buffer *b, int64_t id);
/* A "message.state" event; true when a held message changed. */
bool buffer_set_state(struct buffer *b, int64_t id, const char *msg_id, const char *state);
/* A line from the UI itself (help, errors, warnings); text is sanitised
 * here. */
void buffer_notice(struct buffer *b, const char *text);
/* The newest incoming message's id, or 0. */
int64_t buffer_last_incoming_id(const struct buffer *b);

/* Columns of the "HH:MM sender: " prefix of message i. */
size_t buffer_prefix_cols(const struct buffer *b, size_t i);
/* Rows message i takes at cols columns. */
size_t buffer_msg_rows(struct buffer *b, size_t i, size_t cols);
/* Rows the whole window takes. */
size_t buffer_total_rows(struct buffer *b, size_t cols);
/* Lay out the rows visible in a rows x cols pane at the current scroll:
 * fills out (rows entries at most) top to bottom and returns how many;
 * fewer than rows means the window is shorter than the pane. */
size_t buffer_view(struct buffer *b, size_t cols, size_t rows, struct buffer_row *out);
/* Scroll by delta rows (positive: back in time), clamped. Says what to
 * fetch next, if anything. */
enum buffer_fetch buffer_scroll(struct buffer *b, long delta, size_t cols, size_t rows);

#endif
