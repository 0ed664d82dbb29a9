/* stream-from.c -- where a replay from a stream starts: the "from" member of
 * a subscribe, and the RFC 3339 times it compares. Pure: no I/O. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream-from.h"
#include "util.h"

/* Read n digits at s into *v; 0, or -1 if one is not a digit. */
static int
stream_from_digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (s[i] - '0');
	}
	return (0);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
stream_from_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* The days of month m of year y. */
static int
stream_from_mdays(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return (29);
	return (days[m - 1]);
}

/* Read the zone at p (Z or +-HH:MM) into minutes east; 0 or -1. */
static int
stream_from_zone(const char *p, int *minutes)
{
	int h, m;

	*minutes = 0;
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
		return (0);
	if ((p[0] != '+' && p[0] != '-') || stream_from_digits(p + 1, 2, &h) ||
	    p[3] != ':' || stream_from_digits(p + 4, 2, &m) || p[6] != '\0' ||
	    h > 23 || m > 59)
		return (-1);
	*minutes = (p[0] == '-' ? -1 : 1) * (h * 60 + m);
	return (0);
}

/* Read an RFC 3339 date-time into Unix milliseconds. */
int
stream_from_time(const char *s, int64_t *ms)
{
	int	    y, mo, d, h, mi, sec, frac = 0, scale = 100, zone;
	const char *p;

	if (strlen(s) < 20 || stream_from_digits(s, 4, &y) || s[4] != '-' ||
	    stream_from_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    stream_from_digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') ||
	    stream_from_digits(s + 11, 2, &h) || s[13] != ':' ||
	    stream_from_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    stream_from_digits(s + 17, 2, &sec))
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || d > stream_from_mdays(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return (-1);
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return (-1);
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (stream_from_zone(p, &zone) != 0)
		return (-1);
	*ms = ((stream_from_days(y, mo, d) * 24 + h) * 60 + mi - zone) * 60 +
	    sec;
	*ms = *ms * 1000 + frac;
	return (0);
}

/* Read a "from" value. */
int
stream_from_parse(const cJSON *v, struct stream_from *f, char **message)
{
	memset(f, 0, sizeof *f);
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble <= (double)STREAM_FROM_MAX_OFFSET &&
	    floor(v->valuedouble) == v->valuedouble) {
		f->kind = STREAM_FROM_OFFSET;
		f->offset = (uint64_t)v->valuedouble;
		return (0);
	}
	if (cJSON_IsString(v)) {
		if (strcmp(v->valuestring, "first") == 0)
			f->kind = STREAM_FROM_FIRST;
		else if (strcmp(v->valuestring, "last") == 0)
			f->kind = STREAM_FROM_LAST;
		else if (strcmp(v->valuestring, "next") == 0)
			f->kind = STREAM_FROM_NEXT;
		else if (stream_from_time(v->valuestring, &f->time_ms) == 0) {
			f->kind = STREAM_FROM_TIME;
			if (f->time_ms < 0) /* before 1970: every message */
				f->time_ms = 0;
		} else
			goto bad;
		return (0);
	}
bad:
	xasprintf(message,
	    "from must be \"first\", \"last\", \"next\", an RFC 3339 "
	    "date-time with a timezone offset, or an offset (an integer "
	    "from 0 to 2^53-1)");
	return (-1);
}
