/* The methods the engine answers itself: engine.info, engine.subscribe,
 * engine.persist, engine.shutdown, and the unlock placeholder that checks
 * its parameters until the database arrives to be unlocked. */
#include "config.h"

#include "engine_int.h"

#include "jsonrpc.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest passphrase accepted (bytes). */
#define ENGINE_PASSPHRASE_MAX 4096

static void
engine_methods_info(struct engine_req *req, json_t *params, void *ctx)
{
	struct engine *eng = req->eng;
	int64_t now_us = engine_now_us();

	engine_req_reply(req,
	                 json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:b,s:b,s:I}", "pid",
	                           (json_int_t)getpid(), "profile", eng->profile.name, "home",
	                           eng->profile.dir, "version", PACKAGE_VERSION, "uptime",
	                           (json_int_t)((now_us - eng->started_us) / 1000000), "frontends",
	                           (json_int_t)eng->nconns, "persistent", eng->persistent, "locked",
	                           eng->locked, "cursor", (json_int_t)eng->events.last));
}

static void
engine_methods_subscribe(struct engine_req *req, json_t *params, void *ctx)
{
	struct engine *eng = req->eng;
	struct engine_conn *conn = req->conn;
	json_t *jcursor = json_object_get(params, "cursor");
	uint64_t cursor = jcursor != NULL ? (uint64_t)json_integer_value(jcursor) : 0;
	uint64_t oldest = engine_events_oldest(&eng->events);

	/* Answer first, so the backlog follows the answer in order. */
	engine_req_reply(req,
	                 json_pack("{s:I,s:I,s:b}", "cursor", (json_int_t)eng->events.last,
	                           "oldest", (json_int_t)oldest, "missed", cursor + 1 < oldest));
	if (conn != NULL)
		engine_events_subscribe(eng, conn, cursor);
}

static void
engine_methods_persist(struct engine_req *req, json_t *params, void *ctx)
{
	engine_set_persistent(req->eng, true);
	engine_req_reply(req, json_pack("{s:b}", "persistent", 1));
}

static void
engine_methods_shutdown(struct engine_req *req, json_t *params, void *ctx)
{
	struct engine *eng = req->eng;

	engine_req_reply(req, json_pack("{s:b}", "stopping", 1));
	engine_stop(eng);
}

static void
engine_methods_unlock(struct engine_req *req, json_t *params, void *ctx)
{
	json_t *pass = json_object_get(params, "passphrase");

	if (json_string_length(pass) == 0 || json_string_length(pass) > ENGINE_PASSPHRASE_MAX ||
	    strlen(json_string_value(pass)) != json_string_length(pass)) {
		engine_req_fail(req, JSONRPC_INVALID_PARAMS,
		                "unlock: the passphrase must be 1 to %d bytes, without NUL",
		                ENGINE_PASSPHRASE_MAX);
		return;
	}
	engine_req_fail(req, JSONRPC_NOT_IMPLEMENTED,
	                "unlock: not implemented yet in this build (there is no database yet)");
}

void
engine_methods_add_builtins(struct engine *eng)
{
	static const struct {
		const char *name;
		engine_method_fn *fn;
		bool placeholder;
	} builtins[] = {
	    {"engine.info", engine_methods_info, false},
	    {"engine.subscribe", engine_methods_subscribe, false},
	    {"engine.persist", engine_methods_persist, false},
	    {"engine.shutdown", engine_methods_shutdown, false},
	    {"unlock", engine_methods_unlock, true},
	};
	size_t i;

	for (i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		engine_method_register(eng, builtins[i].name, builtins[i].fn, NULL, NULL);
		engine_method_find(eng, builtins[i].name)->placeholder = builtins[i].placeholder;
	}
}
