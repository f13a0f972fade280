/* Terminal notifications for messages in conversations that are not
 * open: the bell, and desktop notifications through OSC 777 (rxvt,
 * foot, kitty, WezTerm) or OSC 9 (iTerm2, Windows Terminal), wrapped in
 * tmux's DCS passthrough when running inside tmux. No ncurses here. */
#ifndef SOTTO_UI_NOTIFY_H
#define SOTTO_UI_NOTIFY_H

#include <stdbool.h>

#include "ui/theme.h"

/* Longest title or body put in a notification, in bytes. */
#define NOTIFY_TEXT_MAX 200

/* The bytes to write to the terminal for a notification about a message
 * from sender: bell and/or OSC sequences as t says, the text hidden
 * unless t->notify_preview. Peer text is reduced to printable
 * characters without ';' so it can never end the sequence early. The
 * caller frees the string; "" when nothing is to be sent. */
char *notify_sequence(const struct theme *t, const char *sender, const char *text, bool tmux);
/* Copy of s fit to go inside an OSC string: valid UTF-8, no controls
 * (C0, DEL, C1), no bidi controls, no ';', at most max bytes. */
char *notify_clean(const char *s, size_t max);

#endif
