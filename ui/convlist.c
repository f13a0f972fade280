/* Conversation list bookkeeping. Names and texts from the engine come
 * from peers: they are sanitised to one line before anything draws them;
 * the raw peer name is kept only to address calls. */
#include "ui/convlist.h"

#include "util/sanitize.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void
convlist_init(struct convlist *l)
{
	memset(l, 0, sizeof *l);
}

static void
convlist_item_clear(struct convlist_item *it)
{
	free(it->peer);
	free(it->title);
	free(it->last_text);
	memset(it, 0, sizeof *it);
}

static void
convlist_contacts_clear(struct convlist *l)
{
	size_t i;

	for (i = 0; i < l->ncontacts; i++)
		free(l->contacts[i].name);
	free(l->contacts);
	l->contacts = NULL;
	l->ncontacts = 0;
}

void
convlist_clear(struct convlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		convlist_item_clear(&l->items[i]);
	free(l->items);
	convlist_contacts_clear(l);
	memset(l, 0, sizeof *l);
}

static int64_t
convlist_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static char *
convlist_line(json_t *o, const char *key, const char *fallback)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return sanitize_str(fallback, 0);
	return sanitize(json_string_value(v), json_string_length(v), 0);
}

static struct convlist_item *
convlist_push(struct convlist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap * 2 + 8;
		l->items = xreallocarray(l->items, l->cap, sizeof *l->items);
	}
	memset(&l->items[l->n], 0, sizeof l->items[0]);
	return &l->items[l->n++];
}

static json_t *
convlist_array(json_t *answer, const char *key)
{
	return json_is_array(answer) ? answer : json_object_get(answer, key);
}

size_t
convlist_load(struct convlist *l, json_t *answer)
{
	json_t *arr = convlist_array(answer, "conversations"), *o;
	const char *peer;
	size_t i;

	for (i = 0; i < l->n; i++)
		convlist_item_clear(&l->items[i]);
	l->n = 0;
	json_array_foreach(arr, i, o) {
		struct convlist_item *it;
		peer = json_string_value(json_object_get(o, "peer"));
		if (peer == NULL || peer[0] == '\0')
			continue;
		it = convlist_push(l);
		it->id = convlist_int(o, "id");
		it->peer = xstrdup(peer);
		it->title = convlist_line(o, "title", peer);
		it->last_text = convlist_line(o, "last_text", "");
		it->unread =
		    (size_t)(convlist_int(o, "unread") > 0 ? convlist_int(o, "unread") : 0);
		it->last_ms = convlist_int(o, "last_activity_ms");
	}
	return l->n;
}

size_t
convlist_load_contacts(struct convlist *l, json_t *answer)
{
	json_t *arr = convlist_array(answer, "contacts"), *o;
	const char *name;
	size_t i;

	convlist_contacts_clear(l);
	l->contacts = xcalloc(json_array_size(arr) + 1, sizeof *l->contacts);
	json_array_foreach(arr, i, o) {
		struct convlist_contact *c;
		name = json_string_value(json_object_get(o, "name"));
		if (name == NULL || name[0] == '\0')
			continue;
		c = &l->contacts[l->ncontacts++];
		c->name = xstrdup(name);
		c->verified = json_is_true(json_object_get(o, "verified"));
		c->identity_changed = json_is_true(json_object_get(o, "identity_changed"));
	}
	return l->ncontacts;
}

long
convlist_find(const struct convlist *l, int64_t id, const char *peer)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if ((id > 0 && l->items[i].id == id) ||
		    (peer != NULL && strcmp(l->items[i].peer, peer) == 0))
			return (long)i;
	return -1;
}

size_t
convlist_ensure(struct convlist *l, int64_t id, const char *peer)
{
	long at = convlist_find(l, id, peer);
	struct convlist_item *it;

	if (at >= 0) {
		if (id > 0)
			l->items[at].id = id;
		return (size_t)at;
	}
	it = convlist_push(l);
	it->id = id;
	it->peer = xstrdup(peer);
	it->title = sanitize_str(peer, 0);
	it->last_text = xstrdup("");
	return l->n - 1;
}

/* Move item at to the front, keeping the others in order. */
static size_t
convlist_to_front(struct convlist *l, size_t at)
{
	struct convlist_item it = l->items[at];

	memmove(l->items + 1, l->items, at * sizeof *l->items);
	l->items[0] = it;
	return 0;
}

long
convlist_note_message(struct convlist *l, json_t *m, bool open)
{
	const char *peer = json_string_value(json_object_get(m, "peer"));
	const char *dir = json_string_value(json_object_get(m, "direction"));
	int64_t id = convlist_int(m, "conversation");
	int64_t when = convlist_int(m, "received_ms");
	struct convlist_item *it;
	size_t at;

	if (!json_is_object(m) || peer == NULL || peer[0] == '\0')
		return -1;
	at = convlist_to_front(l, convlist_ensure(l, id, peer));
	it = &l->items[0];
	free(it->last_text);
	it->last_text = convlist_line(m, "text", "");
	if (when <= 0)
		when = convlist_int(m, "sent_ms");
	if (when > it->last_ms)
		it->last_ms = when;
	if (dir != NULL && strcmp(dir, "in") == 0 && !open)
		it->unread++;
	return (long)at;
}

void
convlist_mark_read(struct convlist *l, size_t index)
{
	if (index < l->n)
		l->items[index].unread = 0;
}

struct convlist_contact *
convlist_contact(const struct convlist *l, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < l->ncontacts; i++)
		if (strcmp(l->contacts[i].name, name) == 0)
			return &l->contacts[i];
	return NULL;
}

const char **
convlist_names(const struct convlist *l, size_t *n)
{
	const char **names = xcalloc(l->ncontacts + l->n + 1, sizeof *names);
	size_t i, k = 0;

	for (i = 0; i < l->ncontacts; i++)
		names[k++] = l->contacts[i].name;
	/* Peers of conversations who are not (yet) contacts too. */
	for (i = 0; i < l->n; i++)
		if (convlist_contact(l, l->items[i].peer) == NULL)
			names[k++] = l->items[i].peer;
	*n = k;
	return names;
}
