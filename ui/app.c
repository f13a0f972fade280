/* The UI's event loop and its life cycle: attach and unlock, load the
 * lists, then poll() the terminal and the engine socket. SIGWINCH only
 * sets a flag; the loop resizes and redraws from data. Engine events
 * (messages, states, identity changes, connection) update the windows;
 * if the engine goes away the UI attaches again and asks for what it
 * missed. */
#include "config.h"

#include "ui/app.h"

#include "cmd.h"
#include "jsonrpc.h"
#include "util/sanitize.h"
#include "ui/screen.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t app_winch;
/* The signal mask while waiting in ppoll(): ours, with SIGWINCH let in. */
static sigset_t app_poll_mask;

static void
app_on_winch(int sig)
{
	(void)sig;
	app_winch = 1;
}

static void
app_set_str(char **slot, const char *raw)
{
	free(*slot);
	*slot = sanitize_str(raw != NULL ? raw : "", 0);
}

void
app_notice(struct app *a, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	buffer_notice(a->cur != NULL ? a->cur : a->system, text);
	free(text);
	a->dirty |= APP_DIRTY_MSGS;
}

int
app_call(struct app *a, const char *method, json_t *params, json_t **result,
         struct client_rpc_error *rerr)
{
	struct client_rpc_error own;
	struct err e;
	int r;

	*result = NULL;
	if (a->client.conn.fd < 0) {
		json_decref(params);
		if (rerr != NULL) {
			rerr->code = JSONRPC_UNAVAILABLE;
			snprintf(rerr->message, sizeof rerr->message, "not attached to an engine");
		}
		return 1;
	}
	r = client_call(&a->client, method, params, result, rerr != NULL ? rerr : &own, &e);
	if (r < 0) {
		app_engine_lost(a, &e);
		if (rerr != NULL) {
			rerr->code = JSONRPC_UNAVAILABLE;
			snprintf(rerr->message, sizeof rerr->message, "%s", e.msg);
		}
		return 1;
	}
	if (r == 1 && rerr == NULL)
		app_notice(a, "%s: %s", method, own.message);
	return r;
}

void
app_load_contacts(struct app *a)
{
	struct client_rpc_error re;
	json_t *res;

	if (app_call(a, "contacts", NULL, &res, &re) == 0) {
		convlist_load_contacts(&a->list, res);
		json_decref(res);
		a->dirty |= APP_DIRTY_TITLE | APP_DIRTY_STATUS;
	}
}

static void
app_load_status(struct app *a)
{
	struct client_rpc_error re;
	json_t *res;

	if (app_call(a, "status", NULL, &res, &re) != 0) {
		a->messaging = false;
		app_set_str(&a->connection, "no messaging yet");
		return;
	}
	a->messaging = true;
	app_set_str(&a->account, json_string_value(json_object_get(res, "account")));
	app_set_str(&a->relay, json_string_value(json_object_get(res, "relay")));
	app_set_str(&a->connection, json_string_value(json_object_get(res, "connection")));
	json_decref(res);
	a->dirty |= APP_DIRTY_STATUS;
}

void
app_load_conversations(struct app *a)
{
	struct client_rpc_error re;
	json_t *res;
	size_t i;

	if (app_call(a, "conversations", NULL, &res, &re) != 0)
		return;
	convlist_load(&a->list, res);
	json_decref(res);
	/* Windows that the engine has since given an id. */
	for (i = 0; i < a->nbufs; i++) {
		long k = convlist_find(&a->list, 0, a->bufs[i]->peer);
		if (k >= 0 && a->bufs[i]->conversation <= 0)
			a->bufs[i]->conversation = a->list.items[k].id;
	}
	a->dirty |= APP_DIRTY_LIST | APP_DIRTY_STATUS | APP_DIRTY_TITLE;
}

/* Everything the windows show, from the engine, after unlocking or
 * after events were missed. */
static void
app_reload(struct app *a)
{
	struct client_rpc_error re;
	json_t *res;
	size_t i;

	app_load_status(a);
	app_load_contacts(a);
	app_load_conversations(a);
	for (i = 0; i < a->nbufs; i++) {
		struct buffer *b = a->bufs[i];
		if (b->conversation <= 0)
			continue;
		if (app_call(a, "messages", buffer_params_latest(b, BUFFER_PAGE), &res, &re) == 0) {
			buffer_load(b, res, BUFFER_PAGE, true);
			json_decref(res);
		}
	}
	a->dirty |= APP_DIRTY_ALL;
}

static void
app_subscribe(struct app *a, uint64_t cursor)
{
	struct client_rpc_error re;
	json_t *res;

	if (app_call(a, "engine.subscribe", json_pack("{s:I}", "cursor", (json_int_t)cursor), &res,
	             &re) != 0) {
		app_notice(a, "cannot follow the engine's events: %s", re.message);
		return;
	}
	a->cursor = cursor;
	a->replayed_upto = (uint64_t)json_integer_value(json_object_get(res, "cursor"));
	/* Events we can no longer be told about: read the state instead. */
	if (json_is_true(json_object_get(res, "missed")))
		app_reload(a);
	json_decref(res);
}

/* Unlocked: follow events from now, then load what the windows show. */
static void
app_start(struct app *a)
{
	json_t *c = json_object_get(a->client.info, "cursor");

	app_subscribe(a, json_is_integer(c) ? (uint64_t)json_integer_value(c) : 0);
	app_reload(a);
	if (a->open_peer != NULL && a->messaging)
		app_open(a, 0, a->open_peer);
	a->open_peer = NULL;
	if (!a->messaging)
		app_notice(a, "This engine does not answer the messaging methods yet: "
		              "conversations and sending are not available.");
}

static void
app_set_locked(struct app *a, bool locked)
{
	a->locked = locked;
	editor_clear(&a->ed);
	a->ed.secret = locked;
	a->dirty |= APP_DIRTY_ALL;
}

/* Returns like client_call(); wrong passphrases are said on screen. */
static int
app_unlock(struct app *a, const char *pass)
{
	struct client_rpc_error re;
	json_t *params = json_object(), *res;
	int r;

	json_object_set_new(params, "passphrase", json_string(pass));
	if (json_object_get(params, "passphrase") == NULL) {
		json_decref(params);
		app_notice(a, "The passphrase is not valid UTF-8.");
		return 1;
	}
	r = app_call(a, "unlock", params, &res, &re);
	if (r == 0) {
		json_decref(res);
		json_object_set_new(a->client.info, "locked", json_false());
		app_set_locked(a, false);
		app_notice(a, "Unlocked.");
		app_start(a);
	} else if (re.code == JSONRPC_BAD_PASSPHRASE) {
		app_notice(a, "Wrong passphrase; try again.");
	} else {
		app_notice(a, "unlock: %s", re.message);
	}
	return r;
}

void
app_engine_lost(struct app *a, const struct err *why)
{
	struct err e;

	if (a->client.conn.fd >= 0)
		client_close(&a->client);
	client_init(&a->client);
	buffer_notice(a->system, "The engine went away; attaching again...");
	if (client_attach(&a->client, a->profile, true, &e) < 0) {
		app_notice(a,
		           "Cannot reach the engine (%s; before that: %s). /quit and start "
		           "sotto again.",
		           e.msg, why != NULL ? why->msg : "?");
		app_set_str(&a->connection, "engine gone");
		a->dirty |= APP_DIRTY_STATUS;
		return;
	}
	if (json_is_true(json_object_get(a->client.info, "locked"))) {
		app_set_locked(a, true);
		app_notice(a, "The new engine is locked: type the passphrase.");
		return;
	}
	/* A new engine's cursors start again: reload everything. */
	app_subscribe(a, 0);
	app_reload(a);
}

struct buffer *
app_find_buffer(struct app *a, int64_t id, const char *peer)
{
	size_t i;

	for (i = 0; i < a->nbufs; i++)
		if ((id > 0 && a->bufs[i]->conversation == id) ||
		    (peer != NULL && strcmp(a->bufs[i]->peer, peer) == 0))
			return a->bufs[i];
	return NULL;
}

void
app_mark_read(struct app *a)
{
	struct client_rpc_error re;
	struct buffer *b = a->cur;
	json_t *res;
	long k;
	int64_t last;

	if (b == NULL || b == a->system || b->conversation <= 0 || b->scroll > 0)
		return;
	k = convlist_find(&a->list, b->conversation, b->peer);
	last = buffer_last_incoming_id(b);
	/* Messages that arrived in the open window were never counted
	 * unread here, but the engine counts them until told. */
	if (k < 0 || last <= 0 || last <= b->read_up_to)
		return;
	b->read_up_to = last;
	convlist_mark_read(&a->list, (size_t)k);
	a->dirty |= APP_DIRTY_LIST | APP_DIRTY_STATUS;
	if (app_call(a, "mark_read",
	             json_pack("{s:I,s:I}", "conversation", (json_int_t)b->conversation, "up_to_id",
	                       (json_int_t)last),
	             &res, &re) == 0)
		json_decref(res);
}

void
app_open(struct app *a, int64_t id, const char *peer)
{
	struct client_rpc_error re;
	struct buffer *b = app_find_buffer(a, id, peer);
	json_t *res;
	long k;

	if (id <= 0 && (k = convlist_find(&a->list, 0, peer)) >= 0)
		id = a->list.items[k].id;
	if (b == NULL) {
		b = buffer_new(id, peer);
		a->bufs = xreallocarray(a->bufs, a->nbufs + 1, sizeof *a->bufs);
		a->bufs[a->nbufs++] = b;
		if (id > 0 &&
		    app_call(a, "messages", buffer_params_latest(b, BUFFER_PAGE), &res, &re) == 0) {
			buffer_load(b, res, BUFFER_PAGE, true);
			json_decref(res);
		}
	}
	convlist_ensure(&a->list, id, peer);
	a->cur = b;
	a->read_after_draw = true;
	a->dirty |= APP_DIRTY_ALL & ~APP_DIRTY_LAYOUT;
}

void
app_close_current(struct app *a)
{
	size_t i;

	if (a->cur == a->system || a->cur == NULL) {
		app_notice(a, "The status window stays open; /quit leaves sotto.");
		return;
	}
	for (i = 0; i < a->nbufs; i++)
		if (a->bufs[i] == a->cur) {
			buffer_free(a->bufs[i]);
			memmove(a->bufs + i, a->bufs + i + 1, (a->nbufs - i - 1) * sizeof *a->bufs);
			a->nbufs--;
			break;
		}
	a->cur = a->system;
	a->dirty |= APP_DIRTY_ALL & ~APP_DIRTY_LAYOUT;
}

/* Position in the window order: -1 the status window, then the list. */
static long
app_position(const struct app *a)
{
	if (a->cur == a->system || a->cur == NULL)
		return -1;
	return convlist_find(&a->list, a->cur->conversation, a->cur->peer);
}

static void
app_switch(struct app *a, long pos)
{
	if (pos < 0 || a->list.n == 0) {
		a->cur = a->system;
		a->dirty |= APP_DIRTY_ALL & ~APP_DIRTY_LAYOUT;
		return;
	}
	if ((size_t)pos >= a->list.n)
		return;
	app_open(a, a->list.items[pos].id, a->list.items[pos].peer);
}

static void
app_scroll(struct app *a, long delta)
{
	struct client_rpc_error re;
	struct buffer *b = a->cur;
	size_t rows = screen_msg_rows(a->screen), cols = screen_msg_cols(a->screen);
	enum buffer_fetch f = buffer_scroll(b, delta, cols, rows);
	json_t *res;

	if (f == BUFFER_FETCH_OLDER &&
	    app_call(a, "messages", buffer_params_older(b, BUFFER_PAGE), &res, &re) == 0) {
		buffer_load(b, res, BUFFER_PAGE, false);
		json_decref(res);
	} else if (f == BUFFER_FETCH_LATEST &&
	           app_call(a, "messages", buffer_params_latest(b, BUFFER_PAGE), &res, &re) == 0) {
		buffer_load(b, res, BUFFER_PAGE, true);
		json_decref(res);
	}
	if (b->scroll == 0)
		app_mark_read(a);
	a->dirty |= APP_DIRTY_MSGS | APP_DIRTY_STATUS;
}

static void
app_complete(struct app *a)
{
	const char *found[16];
	size_t nnames, n, i;
	const char **names = convlist_names(&a->list, &nnames);
	char *list = xstrdup(""), *next;

	n = editor_complete(&a->ed, names, nnames, found, 16);
	if (n > 1) {
		for (i = 0; i < n && i < 16; i++) {
			next = xasprintf("%s %s", list, found[i]);
			free(list);
			list = next;
		}
		app_notice(a, "Completions:%s%s", list, n > 16 ? " ..." : "");
	}
	free(list);
	free(names);
}

/* Ctrl-X Ctrl-E: the compose buffer in $VISUAL / $EDITOR. */
static void
app_external_editor(struct app *a)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/sotto-compose-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int fd = mkstemp(path), status = -1;
	pid_t pid;

	if (fd < 0 || write(fd, a->ed.buf, a->ed.len) != (ssize_t)a->ed.len) {
		app_notice(a, "Cannot write %s for the editor: %s", path, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	screen_suspend(a->screen);
	pid = fork();
	if (pid == 0) {
		/* The editor must see its own resizes. */
		sigprocmask(SIG_SETMASK, &app_poll_mask, NULL);
		execl("/bin/sh", "sh", "-c", "exec ${VISUAL:-${EDITOR:-vi}} \"$1\"", "sh", path,
		      (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	screen_resume(a->screen);
	a->dirty |= APP_DIRTY_ALL;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		app_notice(a, "The editor failed; the input is unchanged.");
		goto out;
	}
	f = fopen(path, "re");
	text = xmalloc(EDITOR_MAX_BYTES + 2);
	if (f != NULL) {
		len = fread(text, 1, EDITOR_MAX_BYTES + 1, f);
		fclose(f);
	}
	while (len > 0 && text[len - 1] == '\n')
		len--;
	text[len] = '\0';
	if (f == NULL || strlen(text) != len || editor_set(&a->ed, text) < 0)
		app_notice(a, "The edited text is too long, or not valid UTF-8 text; the input "
		              "is unchanged.");
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(path);
	free(text);
}

static void
app_enter(struct app *a)
{
	char *line = editor_take(&a->ed);

	a->dirty |= APP_DIRTY_INPUT;
	if (a->locked) {
		if (line[0] != '\0')
			app_unlock(a, line);
		wipe_free_str(line);
		return;
	}
	app_cmd_submit(a, line);
	free(line);
}

static void
app_key(struct app *a, int key)
{
	bool ctrl_x = a->ctrl_x;

	a->ctrl_x = false;
	if (ctrl_x && key == EDITOR_KEY_CTRL_E) {
		if (!a->locked)
			app_external_editor(a);
		return;
	}
	if (key >= SCREEN_KEY_ALT) {
		key -= SCREEN_KEY_ALT;
		if (!a->locked && key >= '0' && key <= '9')
			app_switch(a, key - '1');
		return;
	}
	if (key == SCREEN_KEY_PASTE_START || key == SCREEN_KEY_PASTE_END) {
		a->pasting = key == SCREEN_KEY_PASTE_START;
		return;
	}
	if (a->pasting && (key == SCREEN_KEY_ENTER || key == '\n')) {
		if (!a->locked && editor_key(&a->ed, EDITOR_KEY_ALT_ENTER))
			a->dirty |= APP_DIRTY_INPUT;
		return;
	}
	if (a->pasting && key == '\t')
		key = ' ';
	switch (key) {
	case SCREEN_KEY_ENTER:
	case '\n':
		app_enter(a);
		return;
	case 0x18: /* Ctrl-X */
		a->ctrl_x = true;
		return;
	case 0x03: /* Ctrl-C: clear the line, or leave when it is empty */
		if (a->ed.len == 0)
			a->quit = true;
		editor_clear(&a->ed);
		a->dirty |= APP_DIRTY_INPUT;
		return;
	case 0x0c: /* Ctrl-L */
		a->dirty |= APP_DIRTY_LAYOUT;
		return;
	case SCREEN_KEY_RESIZE:
		app_winch = 1;
		return;
	}
	if (a->locked) {
		if (key != EDITOR_KEY_TAB && key != EDITOR_KEY_UP && key != EDITOR_KEY_DOWN &&
		    editor_key(&a->ed, key))
			a->dirty |= APP_DIRTY_INPUT;
		return;
	}
	switch (key) {
	case EDITOR_KEY_TAB:
		app_complete(a);
		break;
	case 0x07: /* Ctrl-G */
		app_search_jump(a);
		return;
	case 0x0e: /* Ctrl-N */
		app_switch(a, app_position(a) + 1);
		return;
	case 0x10: /* Ctrl-P */
		app_switch(a, app_position(a) <= 0 ? -1 : app_position(a) - 1);
		return;
	case SCREEN_KEY_PGUP:
		app_scroll(a, (long)screen_msg_rows(a->screen) - 1);
		return;
	case SCREEN_KEY_PGDN:
		app_scroll(a, -((long)screen_msg_rows(a->screen) - 1));
		return;
	default:
		if (!editor_key(&a->ed, key))
			return;
	}
	a->dirty |= APP_DIRTY_INPUT;
}

static void
app_loop(struct app *a)
{
	struct pollfd pfd[3];
	nfds_t n;
	int key;

	while (!a->quit) {
		/* Keys first, whatever poll() said: ncurses may already hold
		 * some it read before a signal interrupted it, and those would
		 * never make stdin readable again. */
		while (!a->quit && (key = screen_getkey(a->screen)) >= 0)
			app_key(a, key);
		app_events_drain(a);
		app_send_drain(a);
		if (app_winch) {
			app_winch = 0;
			screen_resize(a->screen);
			a->dirty |= APP_DIRTY_ALL;
		}
		if (a->quit)
			break;
		if (a->dirty)
			screen_draw(a->screen, a);
		if (a->read_after_draw) {
			a->read_after_draw = false;
			app_mark_read(a);
			if (a->dirty)
				continue; /* the list lost its unread count: draw it */
		}
		pfd[0].fd = 0;
		pfd[0].events = POLLIN;
		n = 1;
		if (a->client.conn.fd >= 0) {
			pfd[n].fd = a->client.conn.fd;
			pfd[n++].events = POLLIN;
		}
		if (app_send_fd(a) >= 0) {
			pfd[n].fd = app_send_fd(a);
			pfd[n++].events = POLLIN;
		}
		/* SIGWINCH is blocked except inside ppoll(): one that came
		 * between the check above and here is delivered now and wakes
		 * it, instead of leaving a stale layout until the next key. */
		if (ppoll(pfd, n, NULL, &app_poll_mask) < 0)
			continue; /* EINTR: SIGWINCH, looked at above */
		/* The terminal is gone. (The sockets are read by the drains
		 * at the top.) */
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			a->quit = true;
	}
}

static void
app_free(struct app *a)
{
	size_t i;

	screen_free(a->screen);
	a->screen = NULL;
	client_close(&a->client);
	app_send_free(a);
	json_decref(a->results);
	for (i = 0; i < a->nbufs; i++)
		buffer_free(a->bufs[i]);
	free(a->bufs);
	buffer_free(a->system);
	convlist_clear(&a->list);
	editor_free(&a->ed);
	free(a->account);
	free(a->relay);
	free(a->connection);
	free(a->theme_error);
}

static void
app_locale(void)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	/* Widths and ncursesw need UTF-8 whatever the user's locale. */
	if (cs == NULL || strcmp(cs, "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
}

/* --passphrase-file: unlock before the screen starts, so a wrong file
 * fails like any command would. */
static int
app_unlock_from_file(struct app *a, struct err *e)
{
	struct client_rpc_error re;
	int r = client_unlock_if_locked(&a->client, a->passphrase_file, &re, e);

	if (r > 0)
		return err_set(e, re.code == JSONRPC_BAD_PASSPHRASE ? ERR_BADKEY : ERR_AUTH,
		               "unlock: %s", re.message);
	return r;
}

int
ui_main(const struct profile *p, const char *passphrase_file, const char *open_peer, struct err *e)
{
	struct sigaction sa;
	struct app a;
	char *path;
	const char *no_color = getenv("NO_COLOR");
	struct err te;

	/* Before anything starts an engine: no terminal, no interface. */
	if (!isatty(0) || !isatty(1))
		return err_set(e, ERR_INVALID,
		               "the full-screen interface needs a terminal; "
		               "'sotto --help' lists the commands for scripts");
	memset(&a, 0, sizeof a);
	app_locale();
	a.profile = p;
	a.passphrase_file = passphrase_file;
	a.open_peer = open_peer;
	a.in_tmux = getenv("TMUX") != NULL;
	a.account = xstrdup("");
	a.relay = xstrdup("");
	a.connection = xstrdup("...");
	editor_init(&a.ed);
	convlist_init(&a.list);
	a.system = buffer_new(0, "");
	a.cur = a.system;
	theme_init(&a.theme, no_color != NULL && no_color[0] != '\0');
	path = profile_path(p, THEME_FILE);
	if (theme_load(&a.theme, path, &te) < 0)
		a.theme_error = xstrdup(te.msg);
	free(path);
	client_init(&a.client);
	client_init(&a.sender);
	if (client_attach(&a.client, p, true, e) < 0 ||
	    (passphrase_file != NULL && app_unlock_from_file(&a, e) < 0))
		goto fail;
	a.screen = screen_new(&a.theme, e);
	if (a.screen == NULL)
		goto fail;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = app_on_winch;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL); /* no SA_RESTART: ppoll() must wake */
	{
		sigset_t winch;

		sigemptyset(&winch);
		sigaddset(&winch, SIGWINCH);
		sigprocmask(SIG_BLOCK, &winch, &app_poll_mask);
		sigdelset(&app_poll_mask, SIGWINCH);
	}
	signal(SIGPIPE, SIG_IGN);
	buffer_notice(a.system, "Welcome to sotto. /help lists the commands, /msg NAME opens a "
	                        "conversation, Alt-1..9 or Ctrl-N/Ctrl-P switch, /quit leaves.");
	if (a.theme_error != NULL)
		app_notice(&a, "ui.conf: %s", a.theme_error);
	if (json_is_true(json_object_get(a.client.info, "locked"))) {
		app_set_locked(&a, true);
		/* The directory, not the name: with --home the name says
		 * "default" whatever the directory holds. */
		app_notice(&a, "The profile in %s is locked: type its passphrase and press Enter.",
		           p->dir);
	} else {
		app_start(&a);
	}
	a.dirty = APP_DIRTY_ALL;
	app_loop(&a);
	app_free(&a);
	return 0;
fail:
	app_free(&a);
	return -1;
}

int
ui_cmd_main(struct cmd_ctx *ctx)
{
	struct profile p;
	struct err e;
	int status = cmd_remote_profile(ctx, &p);

	if (status != CMD_EXIT_OK)
		return status;
	if (ui_main(&p, ctx->passphrase_file, ctx->ui_open, &e) < 0)
		status = cmd_remote_fail(ctx, &e);
	profile_clear(&p);
	return status;
}
