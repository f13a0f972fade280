/* Building notification escape sequences. Everything taken from a peer
 * goes through sanitize() and then loses the characters that mean
 * something inside an OSC string, so the only escape bytes in the output
 * are the ones written here. */
#include "ui/notify.h"

#include "util/sanitize.h"
#include "util/utf8.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
notify_clean(const char *s, size_t max)
{
	char *clean = sanitize_str(s, 0), *out = xmalloc(strlen(clean) + 1);
	size_t pos = 0, len = strlen(clean), o = 0, n;
	uint32_t cp;

	while (pos < len) {
		n = utf8_decode(clean + pos, len - pos, &cp);
		if (o + n > max)
			break;
		/* sanitize() already replaced every control; ';' separates
		 * OSC 777 fields. */
		if (cp != ';') {
			memcpy(out + o, clean + pos, n);
			o += n;
		}
		pos += n;
	}
	out[o] = '\0';
	free(clean);
	return out;
}

/* tmux passes a sequence on to the outer terminal only inside
 * ESC P tmux; ... ESC \, with every ESC in it doubled. */
static char *
notify_tmux_wrap(const char *seq)
{
	size_t len = strlen(seq), i, o = 0;
	char *out = xmalloc(2 * len + 16);

	memcpy(out, "\x1bPtmux;", 7);
	o = 7;
	for (i = 0; i < len; i++) {
		if (seq[i] == '\x1b')
			out[o++] = '\x1b';
		out[o++] = seq[i];
	}
	memcpy(out + o, "\x1b\\", 3);
	return out;
}

char *
notify_sequence(const struct theme *t, const char *sender, const char *text, bool tmux)
{
	char *who = notify_clean(sender, NOTIFY_TEXT_MAX);
	char *body =
	    t->notify_preview ? notify_clean(text, NOTIFY_TEXT_MAX) : xstrdup("new message");
	char *osc = xstrdup(""), *next, *out;

	if (t->notify_osc & THEME_NOTIFY_OSC777) {
		next = xasprintf("%s\x1b]777;notify;sotto: %s;%s\x1b\\", osc, who, body);
		free(osc);
		osc = next;
	}
	if (t->notify_osc & THEME_NOTIFY_OSC9) {
		next = xasprintf("%s\x1b]9;sotto: %s: %s\x1b\\", osc, who, body);
		free(osc);
		osc = next;
	}
	if (tmux && osc[0] != '\0') {
		next = notify_tmux_wrap(osc);
		free(osc);
		osc = next;
	}
	out = xasprintf("%s%s", t->notify_bell ? "\a" : "", osc);
	free(osc);
	free(who);
	free(body);
	return out;
}
