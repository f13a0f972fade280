/* Unit tests for jsonrpc: strict parsing of each kind of line, every
 * refusal with its code, the line limit, and the builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"

static int
parse(const char *line, struct jsonrpc_msg *m, struct jsonrpc_fault *f)
{
	return jsonrpc_parse(line, strlen(line), m, f);
}

/* The code a line is refused with; the fault is released. */
static int
refusal(const char *line)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	int code;

	assert_int_equal(parse(line, &m, &f), -1);
	assert_null(m.root);
	assert_true(f.message[0] != '\0');
	code = f.code;
	jsonrpc_fault_clear(&f);
	return code;
}

static void
test_jsonrpc_parses_request_with_params(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"send\","
	                       "\"params\":{\"to\":\"bob\"}}",
	                       &m, &f),
	                 0);
	assert_int_equal(m.kind, JSONRPC_REQUEST);
	assert_string_equal(m.method, "send");
	assert_int_equal(json_integer_value(m.id), 7);
	assert_string_equal(json_string_value(json_object_get(m.params, "to")), "bob");
	jsonrpc_msg_clear(&m);
}

static void
test_jsonrpc_parses_notification_without_id(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":[1]}", &m, &f),
	                 0);
	assert_int_equal(m.kind, JSONRPC_NOTIFICATION);
	assert_null(m.id);
	assert_true(json_is_array(m.params));
	jsonrpc_msg_clear(&m);
}

static void
test_jsonrpc_parses_result_and_error_responses(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":null}", &m, &f), 0);
	assert_int_equal(m.kind, JSONRPC_RESULT);
	assert_true(json_is_null(m.result));
	assert_string_equal(json_string_value(m.id), "a");
	jsonrpc_msg_clear(&m);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
	                       "\"message\":\"no\",\"data\":{\"x\":1}}}",
	                       &m, &f),
	                 0);
	assert_int_equal(m.kind, JSONRPC_ERROR);
	assert_int_equal(m.error_code, -32600);
	assert_string_equal(m.error_message, "no");
	assert_non_null(m.error_data);
	jsonrpc_msg_clear(&m);
}

static void
test_jsonrpc_refuses_bad_json_as_parse_error(void **state)
{
	(void)state;
	assert_int_equal(refusal("{\"jsonrpc\":"), JSONRPC_PARSE_ERROR);
	assert_int_equal(refusal("garbage"), JSONRPC_PARSE_ERROR);
	assert_int_equal(refusal("{} trailing"), JSONRPC_PARSE_ERROR);
	assert_int_equal(refusal(""), JSONRPC_PARSE_ERROR);
	/* Duplicate members are ambiguous: which "method" runs? */
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"method\":\"b\"}"),
	                 JSONRPC_PARSE_ERROR);
}

static void
test_jsonrpc_refuses_batches_with_clear_error(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	(void)state;
	assert_int_equal(parse("[{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":1}]", &m, &f), -1);
	assert_int_equal(f.code, JSONRPC_INVALID_REQUEST);
	assert_non_null(strstr(f.message, "batch"));
	jsonrpc_fault_clear(&f);
	assert_int_equal(refusal("[]"), JSONRPC_INVALID_REQUEST);
}

static void
test_jsonrpc_refuses_malformed_requests(void **state)
{
	(void)state;
	assert_int_equal(refusal("42"), JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"method\":\"a\",\"id\":1}"), JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"1.0\",\"method\":\"a\",\"id\":1}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":1}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"\",\"id\":1}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":1.5}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":true}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":null}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"params\":3}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"extra\":1}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"method\":\"a\\u0000b\"}"),
	                 JSONRPC_PARSE_ERROR);
}

static void
test_jsonrpc_refuses_malformed_responses(void **state)
{
	(void)state;
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"result\":1}"), JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"id\":1}"), JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":"
	                         "{\"code\":1,\"message\":\"x\"}}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"x\"}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\","
	                         "\"message\":\"x\"}}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}"),
	                 JSONRPC_INVALID_REQUEST);
	assert_int_equal(refusal("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,"
	                         "\"message\":\"x\",\"more\":2}}"),
	                 JSONRPC_INVALID_REQUEST);
}

static void
test_jsonrpc_fault_keeps_readable_id(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"1.0\",\"method\":\"a\",\"id\":\"req-9\"}", &m, &f),
	                 -1);
	assert_string_equal(json_string_value(f.id), "req-9");
	jsonrpc_fault_clear(&f);
	assert_null(f.id);
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":[1]}", &m, &f), -1);
	assert_null(f.id);
	jsonrpc_fault_clear(&f);
}

static void
test_jsonrpc_refuses_line_over_limit(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	size_t len = JSONRPC_LINE_MAX + 1;
	char *line = malloc(len);
	(void)state;
	/* Valid JSON otherwise: the length alone is the reason. */
	memset(line, ' ', len);
	memcpy(line, "{\"jsonrpc\":\"2.0\",\"method\":\"a\"}", 30);
	assert_int_equal(jsonrpc_parse(line, len, &m, &f), -1);
	assert_int_equal(f.code, JSONRPC_INVALID_REQUEST);
	assert_non_null(strstr(f.message, "too long"));
	jsonrpc_fault_clear(&f);
	assert_int_equal(jsonrpc_parse(line, JSONRPC_LINE_MAX, &m, &f), 0);
	jsonrpc_msg_clear(&m);
	free(line);
}

static void
test_jsonrpc_builders_round_trip(void **state)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;
	json_t *id = json_integer(3);
	char *line;
	(void)state;

	line = jsonrpc_request_line(id, "engine.info", json_pack("{s:i}", "a", 1));
	assert_null(strchr(line, '\n'));
	assert_int_equal(parse(line, &m, &f), 0);
	assert_int_equal(m.kind, JSONRPC_REQUEST);
	assert_string_equal(m.method, "engine.info");
	jsonrpc_msg_clear(&m);
	free(line);

	line = jsonrpc_notification_line("event", NULL);
	assert_int_equal(parse(line, &m, &f), 0);
	assert_int_equal(m.kind, JSONRPC_NOTIFICATION);
	assert_null(m.params);
	jsonrpc_msg_clear(&m);
	free(line);

	line = jsonrpc_result_line(id, json_string("multi\nline"));
	assert_null(strchr(line, '\n'));
	assert_int_equal(parse(line, &m, &f), 0);
	assert_int_equal(m.kind, JSONRPC_RESULT);
	assert_string_equal(json_string_value(m.result), "multi\nline");
	jsonrpc_msg_clear(&m);
	free(line);

	line = jsonrpc_error_line(NULL, JSONRPC_METHOD_NOT_FOUND, "nope", NULL);
	assert_int_equal(parse(line, &m, &f), 0);
	assert_int_equal(m.kind, JSONRPC_ERROR);
	assert_true(json_is_null(m.id));
	assert_int_equal(m.error_code, JSONRPC_METHOD_NOT_FOUND);
	jsonrpc_msg_clear(&m);
	free(line);
	json_decref(id);
}

static void
test_jsonrpc_maps_error_values_to_codes(void **state)
{
	(void)state;
	assert_int_equal(jsonrpc_code_from_err(ERR_INVALID), JSONRPC_INVALID_PARAMS);
	assert_int_equal(jsonrpc_code_from_err(ERR_BADKEY), JSONRPC_BAD_PASSPHRASE);
	assert_int_equal(jsonrpc_code_from_err(ERR_NOTFOUND), JSONRPC_NOT_FOUND);
	assert_int_equal(jsonrpc_code_from_err(ERR_UNTRUSTED), JSONRPC_UNTRUSTED);
	assert_int_equal(jsonrpc_code_from_err(ERR_NETWORK), JSONRPC_UNAVAILABLE);
	assert_int_equal(jsonrpc_code_from_err(ERR_EXISTS), JSONRPC_EXISTS);
	assert_int_equal(jsonrpc_code_from_err(ERR_AUTH), JSONRPC_DENIED);
	assert_int_equal(jsonrpc_code_from_err(ERR_CORRUPT), JSONRPC_INVALID_DATA);
	assert_int_equal(jsonrpc_code_from_err(ERR_INTERNAL), JSONRPC_INTERNAL_ERROR);
}

static void
test_jsonrpc_wiping_allocator_still_works(void **state)
{
	json_t *o;
	char *s;
	(void)state;
	/* Installed first thing in main(); here after the other tests, so
	 * objects made before and after the switch must both free cleanly. */
	jsonrpc_use_wiping_allocator();
	o = json_pack("{s:s}", "passphrase", "hunter2");
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, "{\"passphrase\":\"hunter2\"}");
	free(s);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jsonrpc_parses_request_with_params),
	    cmocka_unit_test(test_jsonrpc_parses_notification_without_id),
	    cmocka_unit_test(test_jsonrpc_parses_result_and_error_responses),
	    cmocka_unit_test(test_jsonrpc_refuses_bad_json_as_parse_error),
	    cmocka_unit_test(test_jsonrpc_refuses_batches_with_clear_error),
	    cmocka_unit_test(test_jsonrpc_refuses_malformed_requests),
	    cmocka_unit_test(test_jsonrpc_refuses_malformed_responses),
	    cmocka_unit_test(test_jsonrpc_fault_keeps_readable_id),
	    cmocka_unit_test(test_jsonrpc_refuses_line_over_limit),
	    cmocka_unit_test(test_jsonrpc_builders_round_trip),
	    cmocka_unit_test(test_jsonrpc_maps_error_values_to_codes),
	    cmocka_unit_test(test_jsonrpc_wiping_allocator_still_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
