/* The message window of one conversation. Text is sanitised once, when a
 * message enters the window; layout is recomputed from the sanitised text
 * for whatever width the pane has, with a per-message row count cached. */
#include "ui/buffer.h"

#include "util/sanitize.h"
#include "util/width.h"
#include "ui/wrap.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <time.h>

/* Indent of continuation rows when the prefix gets a row of its own. */
#define BUFFER_NARROW_INDENT 2

static const char *const buffer_state_names[] = {
    [BUFFER_STATE_NONE] = "",     [BUFFER_STATE_SENDING] = "sending",
    [BUFFER_STATE_SENT] = "sent", [BUFFER_STATE_DELIVERED] = "delivered",
    [BUFFER_STATE_READ] = "read", [BUFFER_STATE_FAILED] = "failed",
};

const char *
buffer_state_name(enum buffer_state s)
{
	if ((size_t)s >= sizeof buffer_state_names / sizeof buffer_state_names[0])
		return "";
	return buffer_state_names[s];
}

enum buffer_state
buffer_state_parse(const char *name)
{
	size_t i;

	if (name == NULL)
		return BUFFER_STATE_NONE;
	for (i = 1; i < sizeof buffer_state_names / sizeof buffer_state_names[0]; i++)
		if (strcmp(buffer_state_names[i], name) == 0)
			return (enum buffer_state)i;
	return BUFFER_STATE_NONE;
}

struct buffer *
buffer_new(int64_t conversation, const char *peer)
{
	struct buffer *b = xcalloc(1, sizeof *b);

	b->conversation = conversation;
	b->peer = xstrdup(peer != NULL ? peer : "");
	return b;
}

static void
buffer_msg_clear(struct buffer_msg *m)
{
	free(m->sender);
	free(m->msg_id);
	free(m->display);
	memset(m, 0, sizeof *m);
}

void
buffer_free(struct buffer *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		buffer_msg_clear(&b->msgs[i]);
	free(b->msgs);
	free(b->peer);
	free(b);
}

/* display = text, then " [state]" for outgoing messages. */
static void
buffer_msg_set_display(struct buffer_msg *m, const char *text)
{
	char *old = m->display;
	size_t tlen = text != NULL ? strlen(text) : m->tag_off;
	const char *src = text != NULL ? text : old;

	m->display = m->outgoing && m->state != BUFFER_STATE_NONE
	                 ? xasprintf("%.*s [%s]", (int)tlen, src, buffer_state_name(m->state))
	                 : xstrndup(src, tlen);
	m->tag_off = tlen;
	m->layout_cols = 0;
	free(old);
}

static int64_t
buffer_json_int(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Parse one message object; false when it lacks a usable id. */
static bool
buffer_msg_parse(json_t *j, struct buffer_msg *m)
{
	json_t *text = json_object_get(j, "text");
	const char *dir = json_string_value(json_object_get(j, "direction"));
	const char *sender = json_string_value(json_object_get(j, "sender"));
	const char *msg_id = json_string_value(json_object_get(j, "msg_id"));
	char *clean;

	memset(m, 0, sizeof *m);
	m->id = buffer_json_int(j, "id");
	if (!json_is_object(j) || m->id <= 0)
		return false;
	m->outgoing = dir != NULL && strcmp(dir, "out") == 0;
	if (sender == NULL)
		sender = m->outgoing ? "me" : "?";
	m->sender = sanitize_str(sender, 0);
	m->msg_id = xstrdup(msg_id != NULL ? msg_id : "");
	m->time_ms = buffer_json_int(j, "sent_ms");
	if (!m->outgoing && buffer_json_int(j, "received_ms") > 0 && m->time_ms <= 0)
		m->time_ms = buffer_json_int(j, "received_ms");
	m->state = buffer_state_parse(json_string_value(json_object_get(j, "state")));
	if (m->outgoing && m->state == BUFFER_STATE_NONE)
		m->state = BUFFER_STATE_SENDING;
	if (!m->outgoing)
		m->state = BUFFER_STATE_NONE;
	/* Bodies may hold NUL bytes: sanitise by length. */
	clean = json_is_string(text) ? sanitize(json_string_value(text), json_string_length(text),
	                                        SANITIZE_MULTILINE)
	                             : xstrdup("");
	buffer_msg_set_display(m, clean);
	free(clean);
	return true;
}

static void
buffer_reserve(struct buffer *b, size_t extra)
{
	if (b->n + extra <= b->cap)
		return;
	b->cap = (b->n + extra) * 2;
	b->msgs = xreallocarray(b->msgs, b->cap, sizeof *b->msgs);
}

/* Drop the oldest messages beyond the window's bound. */
static void
buffer_trim(struct buffer *b)
{
	size_t drop, i;

	if (b->n <= BUFFER_WINDOW_MAX)
		return;
	drop = b->n - BUFFER_WINDOW_MAX;
	for (i = 0; i < drop; i++)
		buffer_msg_clear(&b->msgs[i]);
	memmove(b->msgs, b->msgs + drop, BUFFER_WINDOW_MAX * sizeof *b->msgs);
	b->n = BUFFER_WINDOW_MAX;
	b->more_before = true;
}

static json_t *
buffer_params(const struct buffer *b, size_t limit)
{
	return json_pack("{s:I,s:I}", "conversation", (json_int_t)b->conversation, "limit",
	                 (json_int_t)limit);
}

json_t *
buffer_params_latest(const struct buffer *b, size_t limit)
{
	return buffer_params(b, limit);
}

json_t *
buffer_params_older(const struct buffer *b, size_t limit)
{
	json_t *p = buffer_params(b, limit);
	size_t i;

	for (i = 0; i < b->n; i++)
		if (!b->msgs[i].notice) {
			json_object_set_new(p, "before_id", json_integer(b->msgs[i].id));
			break;
		}
	return p;
}

/* While scrolled up, a message added below the view must not move what
 * the reader is looking at: scroll (counted from the bottom) grows by its
 * rows. */
static void
buffer_keep_view(struct buffer *b, size_t i)
{
	if (b->scroll == 0)
		return;
	b->unseen++;
	if (b->view_cols > 0)
		b->scroll += buffer_msg_rows(b, i, b->view_cols);
}

static ssize_t
buffer_find_id(const struct buffer *b, int64_t id)
{
	size_t i;

	for (i = b->n; i-- > 0;)
		if (!b->msgs[i].notice && b->msgs[i].id == id)
			return (ssize_t)i;
	return -1;
}

static int
buffer_msg_cmp(const void *a, const void *b)
{
	const struct buffer_msg *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

size_t
buffer_load(struct buffer *b, json_t *answer, size_t limit, bool latest)
{
	json_t *arr = json_is_array(answer) ? answer : json_object_get(answer, "messages");
	size_t i, n = json_array_size(arr), taken = 0, j;
	struct buffer_msg *fresh = xcalloc(n + 1, sizeof *fresh);

	for (i = 0; i < n; i++) {
		struct buffer_msg m;
		if (!buffer_msg_parse(json_array_get(arr, i), &m))
			continue;
		if (!latest && buffer_find_id(b, m.id) >= 0) {
			buffer_msg_clear(&m);
			continue;
		}
		fresh[taken++] = m;
	}
	qsort(fresh, taken, sizeof *fresh, buffer_msg_cmp);
	if (latest) {
		for (j = 0; j < b->n; j++)
			buffer_msg_clear(&b->msgs[j]);
		b->n = 0;
		b->scroll = 0;
		b->unseen = 0;
	}
	buffer_reserve(b, taken);
	memmove(b->msgs + taken, b->msgs, b->n * sizeof *b->msgs);
	memcpy(b->msgs, fresh, taken * sizeof *fresh);
	b->n += taken;
	free(fresh);
	b->more_before = n >= limit && limit > 0;
	if (latest) {
		b->more_after = false;
		buffer_trim(b);
	} else if (b->n > BUFFER_WINDOW_MAX) {
		/* Reading far back: let the newest end go instead, and
		 * fetch it again when the view comes back down. */
		for (j = BUFFER_WINDOW_MAX; j < b->n; j++)
			buffer_msg_clear(&b->msgs[j]);
		b->n = BUFFER_WINDOW_MAX;
		b->more_after = true;
	}
	return taken;
}

bool
buffer_add(struct buffer *b, json_t *message)
{
	struct buffer_msg m;
	ssize_t at;
	size_t pos;

	if (!buffer_msg_parse(message, &m))
		return false;
	at = buffer_find_id(b, m.id);
	if (at >= 0) {
		buffer_msg_clear(&b->msgs[at]);
		b->msgs[at] = m;
		return true;
	}
	if (b->more_after) {
		/* Not adjacent to what is held: it comes with the reload
		 * when the view returns to the bottom. */
		buffer_msg_clear(&m);
		b->unseen++;
		return true;
	}
	/* Usually the newest: walk back only past newer messages; a notice
	 * stays where it was said. */
	pos = b->n;
	while (pos > 0 && !b->msgs[pos - 1].notice && b->msgs[pos - 1].id > m.id)
		pos--;
	buffer_reserve(b, 1);
	memmove(b->msgs + pos + 1, b->msgs + pos, (b->n - pos) * sizeof *b->msgs);
	b->msgs[pos] = m;
	b->n++;
	buffer_keep_view(b, pos);
	buffer_trim(b);
	return true;
}

bool
buffer_holds(const struct buffer *b, int64_t id)
{
	return buffer_find_id(b, id) >= 0;
}

bool
buffer_set_state(struct buffer *b, int64_t id, const char *msg_id, const char *state)
{
	enum buffer_state s = buffer_state_parse(state);
	struct buffer_msg *m = NULL;
	size_t i;

	if (s == BUFFER_STATE_NONE)
		return false;
	for (i = b->n; i-- > 0 && m == NULL;) {
		struct buffer_msg *c = &b->msgs[i];
		if (c->notice || !c->outgoing)
			continue;
		if ((id > 0 && c->id == id) ||
		    (msg_id != NULL && msg_id[0] != '\0' && strcmp(c->msg_id, msg_id) == 0))
			m = c;
	}
	if (m == NULL || m->state == s)
		return false;
	m->state = s;
	buffer_msg_set_display(m, NULL);
	return true;
}

void
buffer_notice(struct buffer *b, const char *text)
{
	struct buffer_msg *m;
	char *clean = sanitize_str(text, SANITIZE_MULTILINE);
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	buffer_reserve(b, 1);
	m = &b->msgs[b->n++];
	memset(m, 0, sizeof *m);
	m->notice = true;
	m->sender = xstrdup("-!-");
	m->msg_id = xstrdup("");
	m->time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	buffer_msg_set_display(m, clean);
	free(clean);
	buffer_keep_view(b, b->n - 1);
	buffer_trim(b);
}

int64_t
buffer_last_incoming_id(const struct buffer *b)
{
	size_t i;

	for (i = b->n; i-- > 0;)
		if (!b->msgs[i].notice && !b->msgs[i].outgoing)
			return b->msgs[i].id;
	return 0;
}

size_t
buffer_prefix_cols(const struct buffer *b, size_t i)
{
	const struct buffer_msg *m = &b->msgs[i];
	size_t used;

	width_fit(m->sender, strlen(m->sender), BUFFER_SENDER_COLS, &used);
	/* "HH:MM " + sender + ": " (a notice has no colon) */
	return 6 + used + (m->notice ? 1 : 2);
}

/* Where text goes for message i at cols: its indent, and whether the
 * prefix has a row to itself (too wide to hang text after it). */
static size_t
buffer_text_indent(const struct buffer *b, size_t i, size_t cols, bool *own_row)
{
	size_t p = buffer_prefix_cols(b, i);

	*own_row = p > cols / 2;
	if (*own_row)
		return cols > BUFFER_NARROW_INDENT + 1 ? BUFFER_NARROW_INDENT : 0;
	return p;
}

static size_t
buffer_wrap(struct buffer *b, size_t i, size_t cols, struct wrap_line **lines, size_t *indent,
            bool *own_row)
{
	const struct buffer_msg *m = &b->msgs[i];

	*indent = buffer_text_indent(b, i, cols, own_row);
	return wrap_text(m->display, strlen(m->display), cols - *indent, lines);
}

size_t
buffer_msg_rows(struct buffer *b, size_t i, size_t cols)
{
	struct buffer_msg *m = &b->msgs[i];
	struct wrap_line *lines;
	size_t indent;
	bool own_row;

	if (cols == 0)
		cols = 1;
	if (m->layout_cols != cols) {
		m->layout_lines = buffer_wrap(b, i, cols, &lines, &indent, &own_row) + own_row;
		free(lines);
		m->layout_cols = cols;
	}
	return m->layout_lines;
}

size_t
buffer_total_rows(struct buffer *b, size_t cols)
{
	size_t i, total = 0;

	for (i = 0; i < b->n; i++)
		total += buffer_msg_rows(b, i, cols);
	return total;
}

static size_t
buffer_max_scroll(struct buffer *b, size_t cols, size_t rows)
{
	size_t total = buffer_total_rows(b, cols);

	return total > rows ? total - rows : 0;
}

size_t
buffer_view(struct buffer *b, size_t cols, size_t rows, struct buffer_row *out)
{
	size_t total, end, start, row = 0, i, k, nlines, indent, n = 0, mrows;
	struct wrap_line *lines;
	bool own_row;

	if (cols == 0)
		cols = 1;
	b->view_cols = cols;
	total = buffer_total_rows(b, cols);
	if (b->scroll > buffer_max_scroll(b, cols, rows))
		b->scroll = buffer_max_scroll(b, cols, rows);
	end = total - b->scroll;
	start = end > rows ? end - rows : 0;
	for (i = 0; i < b->n && row < end; i++) {
		mrows = buffer_msg_rows(b, i, cols);
		if (row + mrows <= start) {
			row += mrows;
			continue;
		}
		nlines = buffer_wrap(b, i, cols, &lines, &indent, &own_row);
		for (k = 0; k < mrows; k++, row++) {
			struct buffer_row *r;
			if (row < start || row >= end)
				continue;
			r = &out[n++];
			r->msg = i;
			r->line = k;
			if (own_row && k == 0) {
				r->off = r->len = 0;
				r->indent = buffer_prefix_cols(b, i);
				continue;
			}
			r->off = lines[k - own_row].off;
			r->len = lines[k - own_row].len;
			r->indent = indent;
		}
		(void)nlines;
		free(lines);
	}
	return n;
}

enum buffer_fetch
buffer_scroll(struct buffer *b, long delta, size_t cols, size_t rows)
{
	size_t max = buffer_max_scroll(b, cols, rows);

	if (delta < 0)
		b->scroll = (size_t)-delta >= b->scroll ? 0 : b->scroll - (size_t)-delta;
	else
		b->scroll = b->scroll + (size_t)delta > max ? max : b->scroll + (size_t)delta;
	if (b->scroll == 0) {
		b->unseen = 0;
		if (b->more_after)
			return BUFFER_FETCH_LATEST;
	}
	if (b->scroll == max && delta > 0 && b->more_before)
		return BUFFER_FETCH_OLDER;
	return BUFFER_FETCH_NONE;
}
