/* conf-int.h -- catch libconfig 1.5's silent integer truncation. */
#ifndef WARREN_CONF_INT_H
#define WARREN_CONF_INT_H

#include <stddef.h>
#include <libconfig.h>

/* 1 when the literal on s's source line says s's value (or cannot be
 * found), 0 when it does not (4294967296 read as 0), with it in lit. */
int conf_int_literal_ok(const config_setting_t *s, char *lit, size_t);
/* Drop the file kept for the check. */
void conf_int_forget(void);

#endif
