/* JSON shapes of the messaging contract (/work/briefs/rpc.md): the message
 * object every method and event uses, state names, and the "since"
 * parameter of history. */
#include "msg_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/conversations.h"

const char *
msg_json_state(enum history_state s, enum history_direction dir)
{
	switch (s) {
	case HISTORY_SENDING:
		return "sending";
	case HISTORY_SENT:
		return "sent";
	case HISTORY_DELIVERED:
		return "delivered";
	case HISTORY_READ:
		return "read";
	case HISTORY_FAILED:
		return "failed";
	case HISTORY_RECEIVED:
		return "received";
	}
	return dir == HISTORY_IN ? "received" : "sending";
}

/* Incoming rows keep the sender's id as "sender/id" in client_id (the
 * column is unique over all messages, and two senders may pick the same
 * id). */
const char *
msg_json_peer_msg_id(const struct history_message *h)
{
	const char *slash;

	if (h->client_id == NULL)
		return NULL;
	if (h->direction == HISTORY_OUT)
		return h->client_id;
	slash = strchr(h->client_id, '/');
	return slash != NULL ? slash + 1 : h->client_id;
}

/* peer when given, else the conversation's, read into conv (*found: the
 * caller clears conv). */
static const char *
msg_json_peer(struct msg *m, const struct history_message *h, const char *peer,
              struct conversations_entry *conv, bool *found)
{
	struct err e;

	*found = false;
	if (peer == NULL && m != NULL && m->c->db != NULL &&
	    conversations_get(m->c->db, h->conversation_id, conv, &e) == 0) {
		*found = true;
		peer = conv->peer;
	}
	return peer;
}

json_t *
msg_json_message(struct msg *m, const struct history_message *h, const char *peer)
{
	struct conversations_entry conv;
	const char *msg_id = msg_json_peer_msg_id(h);
	json_t *o;
	bool have_conv;

	peer = msg_json_peer(m, h, peer, &conv, &have_conv);
	o = json_pack("{s:I,s:I,s:s?,s:s,s:s?,s:i,s:s,s:I,s:o,s:o,s:s,s:s?}", "id",
	              (json_int_t)h->id, "conversation", (json_int_t)h->conversation_id, "peer",
	              peer, "direction", h->direction == HISTORY_IN ? "in" : "out", "sender",
	              h->sender_name, "sender_device", (int)h->sender_device, "text",
	              h->body ? h->body : "", "sent_ms", (json_int_t)h->sent_at, "server_ms",
	              h->server_at > 0 ? json_integer(h->server_at) : json_null(), "received_ms",
	              h->received_at > 0 ? json_integer(h->received_at) : json_null(), "state",
	              msg_json_state(h->state, h->direction), "msg_id", msg_id);
	if (have_conv)
		conversations_entry_clear(&conv);
	if (o == NULL) /* text that is not UTF-8 cannot reach the store; be safe */
		o = json_pack("{s:I,s:s}", "id", (json_int_t)h->id, "text", "");
	return o;
}

/* A message event kept compact until a frontend reads it: the message's
 * fields with its strings copied into the same allocation. */
struct msg_json_snapshot {
	struct history_message h;
	char *peer;
	char strings[];
};

static size_t
msg_json_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static char *
msg_json_snapshot_copy(char **at, const char *s)
{
	char *copy;
	size_t n = msg_json_size(s);

	if (n == 0)
		return NULL;
	copy = memcpy(*at, s, n);
	*at += n;
	return copy;
}

struct msg_json_snapshot *
msg_json_snapshot(struct msg *m, const struct history_message *h, const char *peer)
{
	struct conversations_entry conv;
	struct msg_json_snapshot *snap;
	bool have_conv;
	char *at;

	peer = msg_json_peer(m, h, peer, &conv, &have_conv);
	snap = xmalloc(sizeof *snap + msg_json_size(h->sender_name) + msg_json_size(h->body) +
	               msg_json_size(h->client_id) + msg_json_size(peer));
	memset(snap, 0, sizeof *snap);
	snap->h.id = h->id;
	snap->h.conversation_id = h->conversation_id;
	snap->h.direction = h->direction;
	snap->h.sender_device = h->sender_device;
	snap->h.sent_at = h->sent_at;
	snap->h.server_at = h->server_at;
	snap->h.received_at = h->received_at;
	snap->h.state = h->state;
	at = snap->strings;
	snap->h.sender_name = msg_json_snapshot_copy(&at, h->sender_name);
	snap->h.body = msg_json_snapshot_copy(&at, h->body);
	snap->h.client_id = msg_json_snapshot_copy(&at, h->client_id);
	snap->peer = msg_json_snapshot_copy(&at, peer);
	if (have_conv)
		conversations_entry_clear(&conv);
	return snap;
}

const struct history_message *
msg_json_snapshot_message(const struct msg_json_snapshot *snap)
{
	return &snap->h;
}

/* {"message": ...}, the event's data. */
static json_t *
msg_json_snapshot_build(const void *arg)
{
	const struct msg_json_snapshot *snap = arg;

	return json_pack("{s:o}", "message", msg_json_message(NULL, &snap->h, snap->peer));
}

void
msg_json_emit_snapshot(struct msg *m, struct msg_json_snapshot *snap)
{
	if (!m->has_hooks && m->c->eng != NULL) {
		engine_emit_lazy(m->c->eng, "message", msg_json_snapshot_build, snap);
		return;
	}
	msg_emit(m, "message", msg_json_snapshot_build(snap));
	free(snap);
}

static int
msg_json_all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
msg_json_parse_since(const char *s, int64_t now_ms, int64_t *out, struct err *e)
{
	size_t len = strlen(s);
	const char *end;
	struct tm tm;
	char *num_end;
	long long n;
	int64_t unit;

	if (msg_json_all_digits(s) && len >= 10) {
		*out = strtoll(s, NULL, 10);
		return 0;
	}
	/* A duration back from now: 30s, 15m, 2h, 3d, 1w. */
	if (len >= 2 && isdigit((unsigned char)s[0])) {
		n = strtoll(s, &num_end, 10);
		if (num_end == s + len - 1 && n >= 0 && n < 100000000) {
			switch (s[len - 1]) {
			case 's':
				unit = 1000;
				break;
			case 'm':
				unit = 60 * 1000;
				break;
			case 'h':
				unit = 3600 * 1000;
				break;
			case 'd':
				unit = 86400 * 1000LL;
				break;
			case 'w':
				unit = 7 * 86400 * 1000LL;
				break;
			default:
				unit = 0;
				break;
			}
			if (unit != 0) {
				*out = now_ms - (int64_t)n * unit;
				return 0;
			}
		}
	}
	/* ISO 8601, UTC: 2026-11-26, 2026-11-26T13:05, 2026-11-26T13:05:09Z. */
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && (*end == 'T' || *end == ' ')) {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);

		end = t != NULL ? t : strptime(end + 1, "%H:%M", &tm);
	}
	if (end != NULL && (*end == '\0' || (end[0] == 'Z' && end[1] == '\0'))) {
		*out = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	return err_set(e, ERR_INVALID,
	               "since: \"%s\" is neither an ISO 8601 time nor a duration such as 2h or 3d",
	               s);
}
