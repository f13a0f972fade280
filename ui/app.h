/* The full-screen frontend: its state and its entry points. ui_main()
 * attaches to the profile's engine (starting it if needed), unlocks it
 * with a prompt that does not echo, then runs the loop: poll() on the
 * terminal and the engine socket, keys to the editor or to commands,
 * engine events into the windows, and redraws of what changed. */
#ifndef SOTTO_UI_APP_H
#define SOTTO_UI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "profile.h"
#include "ui/buffer.h"
#include "ui/convlist.h"
#include "ui/editor.h"
#include "ui/theme.h"
#include "util/err.h"

/* What needs drawing again. A key only dirties the input line. */
#define APP_DIRTY_TITLE 0x01
#define APP_DIRTY_LIST 0x02
#define APP_DIRTY_MSGS 0x04
#define APP_DIRTY_STATUS 0x08
#define APP_DIRTY_INPUT 0x10
#define APP_DIRTY_LAYOUT 0x20 /* window sizes changed: everything */
#define APP_DIRTY_ALL 0x3f

struct screen;
struct cmd_ctx;
struct app_send_pending;

struct app {
	const struct profile *profile;
	const char *passphrase_file;
	struct client client;
	/* A second connection for "send", answered late (app_send.c). */
	struct client sender;
	struct app_send_pending *pending; /* sends not answered yet */
	size_t npending;
	struct theme theme;
	char *theme_error; /* a bad ui.conf line, shown once started */
	struct screen *screen;
	struct convlist list;
	struct buffer *system; /* window 0: help, results, notices */
	struct buffer **bufs;  /* conversation windows, opened ones */
	size_t nbufs;
	struct buffer *cur; /* the window shown: system or one of bufs */
	struct editor ed;
	char *account;    /* sanitised; "" until known */
	char *relay;      /* sanitised */
	char *connection; /* "connected", "offline", ... */
	bool messaging;   /* the engine answers the messaging methods */
	bool locked;
	bool quit;
	bool ctrl_x; /* Ctrl-X seen: Ctrl-E next opens $EDITOR */
	bool in_tmux;
	bool pasting; /* inside a bracketed paste */
	unsigned dirty;
	uint64_t cursor; /* newest event cursor handled */
	/* Events up to this cursor were replayed on subscribing: what they
	 * did is already in the state reloaded after it. */
	uint64_t replayed_upto;
	const char *open_peer; /* the conversation to open once started */
	bool read_pending;     /* messages arrived in the open window */
	bool list_stale;       /* messages arrived elsewhere: recount */
	/* A conversation was opened: tell the engine it is read once its
	 * first frame is on the screen (marking a long unread backlog read
	 * writes thousands of rows). */
	bool read_after_draw;
	json_t *results;    /* the last /search's messages, newest first */
	size_t result_next; /* the one Ctrl-G jumps to next */
};

/* Run the interface for a prepared profile until /quit. passphrase_file
 * may be NULL (then the passphrase is asked for on screen). Returns 0, or
 * -1 with e when the engine could not be reached or the terminal is
 * unusable; the terminal is restored either way. */
int ui_main(const struct profile *p, const char *passphrase_file, const char *open_peer,
            struct err *e);
/* The same for the command line with no command: resolves the profile
 * from ctx's global options and reports failures on ctx->err. Returns
 * an exit status (enum cmd_exit). */
int ui_cmd_main(struct cmd_ctx *ctx);

/* app_cmd.c: what Enter does with the input line (a message for the
 * open conversation, or a /command). */
void app_cmd_submit(struct app *a, const char *line);
/* app_send.c: send text to peer without waiting for the engine's answer;
 * a refusal, when it comes, is said in a notice and the text goes back
 * to an empty input line. */
void app_send(struct app *a, const char *peer, const char *text);
/* The sending connection's fd for poll(), or -1. */
int app_send_fd(const struct app *a);
/* Handle the answers to sends readable now. */
void app_send_drain(struct app *a);
void app_send_free(struct app *a);
/* app_search.c: /search TEXT (in the open conversation, or everywhere
 * from the status window), listing and keeping the results. */
void app_search(struct app *a, const char *text);
/* Ctrl-G: open the next result's conversation with it on screen. */
void app_search_jump(struct app *a);
/* app_events.c: handle every engine notification already read or
 * readable now. */
void app_events_drain(struct app *a);
/* Open the window of the conversation with peer (id 0 when unknown),
 * fetching its newest messages, and show it. */
void app_open(struct app *a, int64_t id, const char *peer);
/* Show a notice in the open window (and in the system window). */
void app_notice(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Call a method; on an error answer or a lost engine, a notice says
 * what went wrong. Returns like client_call(); rerr may be NULL. */
int app_call(struct app *a, const char *method, json_t *params, json_t **result,
             struct client_rpc_error *rerr);
/* Reload the conversation list (unread counts are the engine's). */
void app_load_conversations(struct app *a);
/* Reload contacts (names for completion, trust state). */
void app_load_contacts(struct app *a);
/* The window of a conversation if it is open, else NULL. */
struct buffer *app_find_buffer(struct app *a, int64_t id, const char *peer);
/* The open conversation is read up to its newest incoming message:
 * tell the engine (it sends read receipts) unless scrolled up. */
void app_mark_read(struct app *a);
/* The socket failed: attach again (starting an engine if needed) and
 * reload, or say on screen that the engine is gone. */
void app_engine_lost(struct app *a, const struct err *why);
/* Close the open conversation window (the system window stays). */
void app_close_current(struct app *a);

#endif
