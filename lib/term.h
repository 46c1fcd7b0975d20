/*
 * Text made safe for a terminal. What a model, a tool or a server wrote
 * may hold escape sequences (window titles, clipboard writes, a cleared
 * screen) or bare carriage returns that rewrite what the user sees; every
 * byte that reaches a terminal goes through term_escape first. Bytes
 * written to a pipe or a file are never passed through it.
 */
#ifndef LLM_TERM_H
#define LLM_TERM_H

#include <stddef.h>
#include <stdio.h>

#include "common.h"

/* Flags of term_escape. */
enum {
	TERM_NEWLINES = 1 /* keep newline and tab as they are */
};

/*
 * Append s (n bytes) to out with every C0 control (but newline and tab
 * under TERM_NEWLINES), DEL, C1 control (U+0080-U+009F), Unicode
 * bidirectional and line-separator control, and every byte that is not
 * part of valid UTF-8 shown visibly escaped: \e for ESC, \r, \n, \t,
 * \xHH for other bytes, \u{HHHH} for code points. Valid UTF-8 text
 * stays readable. out is NUL-terminated.
 */
void term_escape(struct buf *out, const char *s, size_t n, int flags);

/* Write s (n bytes) to f through term_escape; 0, or EOF on error. */
int term_write(FILE *f, const char *s, size_t n, int flags);

#endif
