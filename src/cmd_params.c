/* JSON-RPC parameters from the command table's argument specs: built
 * from a parsed command line for the engine, and checked by the engine
 * before a method runs, so both sides agree on every method's shape. */
#include "cmd.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest message text accepted on standard input ("-"). */
#define CMD_PARAMS_STDIN_MAX (64 * 1024)

void
cmd_params_key(const struct cmd_arg *arg, char *buf, size_t size)
{
	size_t i;

	for (i = 0; arg->name[i] != '\0' && i + 1 < size; i++)
		buf[i] = arg->name[i] == '-' ? '_' : (char)tolower((unsigned char)arg->name[i]);
	buf[i] = '\0';
}

static int
cmd_params_read_stream(FILE *in, char **out, struct err *e)
{
	char *buf;
	size_t len;

	if (in == NULL)
		return err_set(e, ERR_INVALID, "no standard input to read the text from");
	buf = xmalloc(CMD_PARAMS_STDIN_MAX + 2);
	len = fread(buf, 1, CMD_PARAMS_STDIN_MAX + 1, in);
	if (ferror(in)) {
		free(buf);
		return err_set(e, ERR_IO, "reading standard input: %s", strerror(errno));
	}
	if (len > CMD_PARAMS_STDIN_MAX) {
		free(buf);
		return err_set(e, ERR_TOOLARGE, "text on standard input is longer than %d bytes",
		               CMD_PARAMS_STDIN_MAX);
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		return err_set(e, ERR_INVALID, "text on standard input contains a NUL byte");
	}
	*out = buf;
	return 0;
}

static json_t *
cmd_params_value(const struct cmd_arg *arg, const char *value, FILE *in, struct err *e)
{
	char cwd[PATH_MAX], *text = NULL, *path;
	long long n;
	json_t *j;

	switch (arg->type) {
	case CMD_T_FLAG:
		return json_true();
	case CMD_T_INT:
		if (cmd_parse_count(value, &n) < 0) {
			err_set(e, ERR_INVALID, "%s must be a number, not '%s'", arg->name, value);
			return NULL;
		}
		return json_integer(n);
	case CMD_T_PATH:
		if (value[0] == '/')
			return json_string(value);
		if (getcwd(cwd, sizeof cwd) == NULL) {
			err_set(e, ERR_IO, "getcwd: %s", strerror(errno));
			return NULL;
		}
		path = xasprintf("%s/%s", cwd, value);
		j = json_string(path);
		free(path);
		if (j == NULL)
			err_set(e, ERR_INVALID, "%s: path is not valid UTF-8", arg->name);
		return j;
	case CMD_T_STRING:
	case CMD_T_TEXT:
		if ((arg->flags & CMD_A_STDIN) && strcmp(value, "-") == 0) {
			if (cmd_params_read_stream(in, &text, e) < 0)
				return NULL;
			value = text;
		}
		j = json_string(value);
		free(text);
		if (j == NULL)
			err_set(e, ERR_INVALID, "%s is not valid UTF-8", arg->name);
		return j;
	}
	err_set(e, ERR_INTERNAL, "%s: unknown argument type", arg->name);
	return NULL;
}

static int
cmd_params_add(json_t *params, const struct cmd_arg *list, char *const *values, FILE *in,
               struct err *e)
{
	char key[64];
	json_t *v;
	size_t i;

	for (i = 0; list != NULL && list[i].name != NULL; i++) {
		if (values[i] == NULL || (list[i].flags & CMD_A_LOCAL))
			continue;
		v = cmd_params_value(&list[i], values[i], in, e);
		if (v == NULL)
			return -1;
		cmd_params_key(&list[i], key, sizeof key);
		json_object_set_new(params, key, v);
	}
	return 0;
}

json_t *
cmd_params_from_args(const struct cmd_args *a, FILE *in, struct err *e)
{
	json_t *params = json_object();

	if (cmd_params_add(params, a->entry->options, a->opt, in, e) < 0 ||
	    cmd_params_add(params, a->entry->args, a->pos, in, e) < 0) {
		json_decref(params);
		return NULL;
	}
	return params;
}

static const struct cmd_arg *
cmd_params_spec(const struct cmd_arg *list, const char *key)
{
	char k[64];
	size_t i;

	for (i = 0; list != NULL && list[i].name != NULL; i++) {
		if (list[i].flags & CMD_A_LOCAL)
			continue;
		cmd_params_key(&list[i], k, sizeof k);
		if (strcmp(k, key) == 0)
			return &list[i];
	}
	return NULL;
}

static int
cmd_params_type_ok(const struct cmd_arg *arg, json_t *v)
{
	switch (arg->type) {
	case CMD_T_FLAG:
		return json_is_boolean(v);
	case CMD_T_INT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case CMD_T_PATH:
		return json_is_string(v) && json_string_value(v)[0] == '/';
	case CMD_T_STRING:
	case CMD_T_TEXT:
		return json_is_string(v);
	}
	return 0;
}

static const char *
cmd_params_type_name(const struct cmd_arg *arg)
{
	switch (arg->type) {
	case CMD_T_FLAG:
		return "a boolean";
	case CMD_T_INT:
		return "a non-negative integer";
	case CMD_T_PATH:
		return "an absolute path";
	default:
		return "a string";
	}
}

/* Every argument of list that is required (positionals unless skip_flag,
 * options when need_flag) must be in params. */
static int
cmd_params_required(const struct cmd_arg *list, int skip_flag, int need_flag,
                    const struct cmd_entry *ce, json_t *params, struct err *e)
{
	char k[64];
	size_t i;

	for (i = 0; list != NULL && list[i].name != NULL; i++) {
		if ((list[i].flags & (skip_flag | CMD_A_LOCAL)) ||
		    (need_flag && !(list[i].flags & need_flag)))
			continue;
		cmd_params_key(&list[i], k, sizeof k);
		if (json_object_get(params, k) == NULL)
			return err_set(e, ERR_INVALID, "%s: missing parameter \"%s\"", ce->method,
			               k);
	}
	return 0;
}

int
cmd_params_check(const struct cmd_entry *ce, json_t *params, struct err *e)
{
	const struct cmd_arg *spec;
	const char *key;
	json_t *v;

	if (params != NULL && !json_is_object(params))
		return err_set(e, ERR_INVALID, "params must be an object of named parameters");
	json_object_foreach(params, key, v) {
		spec = cmd_params_spec(ce->options, key);
		if (spec == NULL)
			spec = cmd_params_spec(ce->args, key);
		if (spec == NULL)
			return err_set(e, ERR_INVALID, "%s: unknown parameter \"%s\"", ce->method,
			               key);
		if (!cmd_params_type_ok(spec, v))
			return err_set(e, ERR_INVALID, "%s: \"%s\" must be %s", ce->method, key,
			               cmd_params_type_name(spec));
	}
	if (cmd_params_required(ce->args, CMD_A_OPTIONAL, 0, ce, params, e) < 0 ||
	    cmd_params_required(ce->options, 0, CMD_A_REQUIRED, ce, params, e) < 0)
		return -1;
	return 0;
}
