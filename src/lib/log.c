/* log.c -- one line per event on stderr, journal-aware. */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "util.h"

static const char *log_name = "warrend";
static int	   log_debug_on;
static int	   log_journal;
static int	   log_tool; /* a command, not the daemon */

/*
 * Under systemd, stderr is the journal when $JOURNAL_STREAM names its device
 * and inode: then priorities go in "<N>" prefixes and the journal adds time.
 */
static int
log_stderr_is_journal(void)
{
	const char	  *js;
	struct stat	   st;
	unsigned long long dev, ino;

	if ((js = getenv("JOURNAL_STREAM")) == NULL)
		return (0);
	if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return (0);
	if (fstat(fileno(stderr), &st) == -1)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

/* Set the program name and level; decide the line format once. */
void
log_init(const char *progname, int debug)
{
	log_name = progname;
	log_debug_on = debug;
	log_journal = log_stderr_is_journal();
}

/* Log as a command does: "name: message", no time stamp (the journal
 * still gets "<N>message", since it adds the name itself). */
void
log_set_tool(int tool)
{
	log_tool = tool;
}

/* Turn debug logging on or off. */
void
log_set_debug(int debug)
{
	log_debug_on = debug;
}

/* The length of the UTF-8 sequence at s (n bytes left) when it is valid
 * and not a C1 control (U+0080..U+009F, which terminals obey), else 0. */
static size_t
log_utf8_len(const unsigned char *s, size_t n)
{
	size_t	 len, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
		return (0);
	return (len);
}

/* The escape of a byte that is not shown as it is. */
static void
log_escape_byte(char *e, size_t len, unsigned char c)
{
	if (c == '\n')
		snprintf(e, len, "\\n");
	else if (c == '\r')
		snprintf(e, len, "\\r");
	else if (c == '\t')
		snprintf(e, len, "\\t");
	else
		snprintf(e, len, "\\x%02x", c);
}

/*
 * Copy src into dst (len bytes, always terminated), writing control
 * characters, C1 controls and bytes that are not UTF-8 as \n, \r, \t or
 * \xNN: text from outside (a broker's message_id or reply text, a file
 * name) can neither start a forged line or journal priority nor drive a
 * terminal. Cut short only at a whole character or escape.
 */
void
log_escape(char *dst, size_t len, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	const char	    *from;
	size_t		     o = 0, n = strlen(src), u, step;
	char		     e[8];

	if (len == 0)
		return;
	while (n > 0) {
		u = *s >= 0x20 && *s < 0x7f ? 1 :
		    *s >= 0x80		    ? log_utf8_len(s, n) :
					      0;
		if ((step = u) > 0)
			from = (const char *)s;
		else {
			log_escape_byte(e, sizeof e, *s);
			from = e;
			u = strlen(e);
			step = 1;
		}
		if (o + u >= len)
			break;
		memcpy(dst + o, from, u);
		o += u;
		s += step;
		n -= step;
	}
	dst[o] = '\0';
}

/* Write one line at priority pri, with errstr appended when not NULL. */
static void
log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char		raw[2048], msg[2048], ts[32];
	struct timespec now;
	struct tm	tm;

	vsnprintf(raw, sizeof raw, fmt, ap);
	log_escape(msg, sizeof msg, raw);
	if (log_journal) {
		if (errstr != NULL)
			fprintf(stderr, "<%d>%s: %s\n", pri, msg, errstr);
		else
			fprintf(stderr, "<%d>%s\n", pri, msg);
		return;
	}
	if (log_tool) {
		if (errstr != NULL)
			fprintf(stderr, "%s: %s: %s\n", log_name, msg, errstr);
		else
			fprintf(stderr, "%s: %s\n", log_name, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (errstr != NULL)
		fprintf(stderr, "%s.%03ld %s: %s: %s\n", ts,
		    now.tv_nsec / 1000000, log_name, msg, errstr);
	else
		fprintf(stderr, "%s.%03ld %s: %s\n", ts, now.tv_nsec / 1000000,
		    log_name, msg);
}

/* Log a warning with strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, util_strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

/* Log a debug line when -d is on. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

/* Log an error with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, util_strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log an error and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
