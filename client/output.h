/* What the CLI prints (output.c): JSON converted from the daemon's msgpack,
 * aligned tables, relative times, optional colour, and alerts in human
 * form. Text from the network is written with control characters replaced. */
#ifndef AGAH_OUTPUT_H
#define AGAH_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <agah/mp.h>

/* Colour is used only when stdout is a terminal, NO_COLOR is unset and
 * TERM is not "dumb". */
void out_init(int json);
int out_colour(void);
const char *out_c(const char *sgr); /* the escape for sgr, or "" without colour */
const char *out_reset(void);

/* JSON writer: any msgpack object to JSON (strings escaped, UTF-8 kept,
 * invalid bytes replaced by U+FFFD, bin as lowercase hex). */
void json_object(FILE *f, const msgpack_object *o);
void json_string(FILE *f, const char *s, size_t n);
/* One JSON object of string fields on its own line: {"k1": "v1", ...}.
 * Keys and values are C strings, in pairs, ended by a NULL key. */
void json_strings(FILE *f, const char *key, ...) __attribute__((sentinel));
/* A result as one JSON document on its own line of stdout; returns 0. */
int json_print(const msgpack_object *res);

/* Text from another party (a name, a note) for a terminal: control
 * characters become '?', invalid UTF-8 U+FFFD. */
void out_text(FILE *f, const char *s, size_t n);

/* Relative time: "3 h ago", "in 364 d", "just now", "never". */
void out_reltime(char *buf, size_t size, uint64_t t, uint64_t now);

/* A table of text cells, printed with aligned columns (by display width).
 * The last column is never padded (notes in right-to-left scripts go last
 * so they cannot disturb the alignment of the others). A table that runs
 * out of memory is "failed": it takes no more rows and table_end says so,
 * so a caller checks once, at the end. */
struct table;
/* A table of ncols columns whose first row is `head`, in bold; NULL when
 * out of memory, which table_row and table_end take as a failed table. */
struct table *table_new(size_t ncols, const char *const *head);
/* Adds a row of ncols cells (copied); colours per cell may be NULL. */
void table_row(struct table *t, const char *const *cells, const char *const *colours);
/* Prints the table to f and frees it: 0; -1 (nothing printed) when the
 * table failed. */
int table_end(struct table *t, FILE *f);
/* Frees a table without printing it. */
void table_free(struct table *t);

/* Prints one ALERT (as the daemon sends it) in human form. */
void out_alert_long(FILE *f, const msgpack_object *a, uint64_t now);
/* One line for an ALERT (watch's), led by its state: new, confirmed by N,
 * retracted or expired (watch sends an alert again as it changes). */
void out_alert_line(FILE *f, const msgpack_object *a, uint64_t now);
/* "FLAGGED: harassment, reported by 2 members, last 3 d ago" from a list of
 * alerts. */
void out_flagged_summary(char *buf, size_t size, const msgpack_object *alerts, uint64_t now);

#endif
