/* log.c -- one line per event on stderr, journal-aware. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "util.h"

static const char	*log_name = "warrend";
static int		 log_debug_on;
static int		 log_journal;
static int		 log_tool;	/* a command, not the daemon */

/*
 * Under systemd, stderr is the journal when $JOURNAL_STREAM names its device
 * and inode: then priorities go in "<N>" prefixes and the journal adds time.
 */
static int
log_stderr_is_journal(void)
{
	const char		*js;
	struct stat		 st;
	unsigned long long	 dev, ino;

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

/* Write one line at priority pri, with errstr appended when not NULL. */
static void
log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char		 msg[2048], ts[32];
	struct timespec	 now;
	struct tm	 tm;

	vsnprintf(msg, sizeof msg, fmt, ap);
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
		fprintf(stderr, "%s.%03ld %s: %s\n", ts,
		    now.tv_nsec / 1000000, log_name, msg);
}

/* Log a warning with strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, util_strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

/* Log a debug line when -d is on. */
void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

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
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, util_strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log an error and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
