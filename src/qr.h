/* QR codes drawn with text: the scannable safety number on a terminal,
 * so two people can compare by pointing a phone camera at the screen. */
#ifndef SOTTO_QR_H
#define SOTTO_QR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* Encode len bytes of data and write the code to f with Unicode half
 * blocks (two modules per character cell, dark modules as the terminal's
 * background), inside the 4-module quiet zone readers need. */
int qr_print(FILE *f, const uint8_t *data, size_t len, struct err *e);

#endif
