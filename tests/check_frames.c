/* check_frames.c -- the frames warrend writes itself decode, with
 * rabbitmq-c's own decoders, as the publish they encode; the writer never
 * blocks and loses nothing when the socket takes only part. */
#include <sys/socket.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frames.h"

struct frame {
	int		     type;
	int		     channel;
	size_t		     size;
	const unsigned char *payload;
};

static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* Read the frame at *pos of b (len bytes); advance *pos past it. */
static struct frame
next_frame(const unsigned char *b, size_t len, size_t *pos)
{
	struct frame f;

	ck_assert_uint_ge(len - *pos, 8);
	f.type = b[*pos];
	f.channel = b[*pos + 1] << 8 | b[*pos + 2];
	f.size = get32(b + *pos + 3);
	ck_assert_uint_ge(len - *pos, 8 + f.size);
	f.payload = b + *pos + 7;
	ck_assert_uint_eq(b[*pos + 7 + f.size], 0xce);
	*pos += 8 + f.size;
	return (f);
}

static void
props_init(amqp_basic_properties_t *p, amqp_table_entry_t *h)
{
	memset(p, 0, sizeof *p);
	p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
	p->content_type = amqp_cstring_bytes("application/json");
	p->delivery_mode = 2;
	p->message_id =
	    amqp_cstring_bytes("3f0e6c1a-1111-4222-8333-444455556666");
	p->timestamp = 1764900000;
	h->key = amqp_cstring_bytes("cloudEvents:type");
	h->value.kind = AMQP_FIELD_KIND_UTF8;
	h->value.value.bytes = amqp_cstring_bytes("ResourceAccessedEvent");
	p->headers.num_entries = 1;
	p->headers.entries = h;
}

START_TEST(publish_decodes_as_sent)
{
	struct frames		fb = { 0 };
	amqp_basic_properties_t props, *got;
	amqp_basic_publish_t   *pub;
	amqp_table_entry_t	h;
	amqp_pool_t		pool;
	amqp_bytes_t		in;
	struct frame		f;
	size_t			pos = 0;
	uint64_t		size = 0;
	void		       *decoded;
	int			i;

	props_init(&props, &h);
	ck_assert_int_eq(frames_publish(&fb, 131072, 1, "warren.ex",
			     "resource.accessed", 1, &props, "{\"a\":1}", 7),
	    0);
	init_amqp_pool(&pool, 4096);
	f = next_frame(fb.buf + fb.off, frames_held(&fb), &pos);
	ck_assert_int_eq(f.type, AMQP_FRAME_METHOD);
	ck_assert_int_eq(f.channel, 1);
	ck_assert_uint_eq(get32(f.payload), AMQP_BASIC_PUBLISH_METHOD);
	in.bytes = (void *)(f.payload + 4);
	in.len = f.size - 4;
	ck_assert_int_eq(amqp_decode_method(AMQP_BASIC_PUBLISH_METHOD, &pool,
			     in, &decoded),
	    0);
	pub = decoded;
	ck_assert_int_eq(pub->exchange.len, 9);
	ck_assert(memcmp(pub->exchange.bytes, "warren.ex", 9) == 0);
	ck_assert_int_eq(pub->routing_key.len, 17);
	ck_assert(memcmp(pub->routing_key.bytes, "resource.accessed", 17) == 0);
	ck_assert_int_eq(pub->mandatory, 1);
	ck_assert_int_eq(pub->immediate, 0);
	f = next_frame(fb.buf + fb.off, frames_held(&fb), &pos);
	ck_assert_int_eq(f.type, AMQP_FRAME_HEADER);
	ck_assert_int_eq(f.channel, 1);
	ck_assert_int_eq(f.payload[0] << 8 | f.payload[1], AMQP_BASIC_CLASS);
	ck_assert_int_eq(f.payload[2] << 8 | f.payload[3], 0);
	for (i = 0; i < 8; i++)
		size = size << 8 | f.payload[4 + i];
	ck_assert_uint_eq(size, 7);
	in.bytes = (void *)(f.payload + 12);
	in.len = f.size - 12;
	ck_assert_int_eq(amqp_decode_properties(AMQP_BASIC_CLASS, &pool, in,
			     &decoded),
	    0);
	got = decoded;
	ck_assert_uint_eq(got->_flags, props._flags);
	ck_assert_int_eq(got->delivery_mode, 2);
	ck_assert_uint_eq(got->timestamp, 1764900000);
	ck_assert_int_eq(got->message_id.len, 36);
	ck_assert(memcmp(got->message_id.bytes, props.message_id.bytes, 36) ==
	    0);
	ck_assert_int_eq(got->headers.num_entries, 1);
	ck_assert_int_eq(got->headers.entries[0].value.kind,
	    AMQP_FIELD_KIND_UTF8);
	ck_assert_int_eq(got->headers.entries[0].value.value.bytes.len, 21);
	f = next_frame(fb.buf + fb.off, frames_held(&fb), &pos);
	ck_assert_int_eq(f.type, AMQP_FRAME_BODY);
	ck_assert_uint_eq(f.size, 7);
	ck_assert(memcmp(f.payload, "{\"a\":1}", 7) == 0);
	ck_assert_uint_eq(pos, frames_held(&fb)); /* nothing else */
	empty_amqp_pool(&pool);
	frames_free(&fb);
}
END_TEST

START_TEST(body_cut_at_frame_max)
{
	struct frames		fb = { 0 };
	amqp_basic_properties_t props;
	amqp_table_entry_t	h;
	unsigned char		body[10000], got[10000];
	size_t			pos = 0, n = 0, sizes[3] = { 4088, 4088, 1824 };
	struct frame		f;
	int			i;

	for (i = 0; i < (int)sizeof body; i++)
		body[i] = (unsigned char)(i * 7);
	props_init(&props, &h);
	ck_assert_int_eq(frames_publish(&fb, 4096, 3, "x", "k", 0, &props, body,
			     sizeof body),
	    0);
	(void)next_frame(fb.buf, fb.len, &pos);
	(void)next_frame(fb.buf, fb.len, &pos);
	for (i = 0; i < 3; i++) {
		f = next_frame(fb.buf, fb.len, &pos);
		ck_assert_int_eq(f.type, AMQP_FRAME_BODY);
		ck_assert_int_eq(f.channel, 3);
		ck_assert_uint_eq(f.size, sizes[i]);
		memcpy(got + n, f.payload, f.size);
		n += f.size;
	}
	ck_assert_uint_eq(pos, fb.len);
	ck_assert(memcmp(got, body, sizeof body) == 0);
	frames_free(&fb);
}
END_TEST

START_TEST(empty_body_has_no_body_frame)
{
	struct frames		fb = { 0 };
	amqp_basic_properties_t props;
	amqp_table_entry_t	h;
	size_t			pos = 0;

	props_init(&props, &h);
	ck_assert_int_eq(frames_publish(&fb, 131072, 1, "x", "k", 0, &props, "",
			     0),
	    0);
	ck_assert_int_eq(next_frame(fb.buf, fb.len, &pos).type,
	    AMQP_FRAME_METHOD);
	ck_assert_int_eq(next_frame(fb.buf, fb.len, &pos).type,
	    AMQP_FRAME_HEADER);
	ck_assert_uint_eq(pos, fb.len);
	frames_free(&fb);
}
END_TEST

START_TEST(properties_larger_than_a_frame_refused_whole)
{
	struct frames		fb = { 0 };
	amqp_basic_properties_t props;
	amqp_table_entry_t	h[40];
	static char		big[200];
	size_t			held;
	int			i;

	props_init(&props, &h[0]);
	memset(big, 'v', sizeof big - 1);
	for (i = 0; i < 40; i++) {
		h[i].key = amqp_cstring_bytes("k");
		h[i].value.kind = AMQP_FIELD_KIND_UTF8;
		h[i].value.value.bytes = amqp_cstring_bytes(big);
	}
	props.headers.num_entries = 40; /* ~8 KB of headers */
	props.headers.entries = h;
	frames_heartbeat(&fb);
	held = frames_held(&fb);
	ck_assert_int_eq(frames_publish(&fb, 4096, 1, "x", "k", 0, &props, "{}",
			     2),
	    -1);
	ck_assert_uint_eq(frames_held(&fb), held); /* not half a publish */
	ck_assert_int_eq(frames_publish(&fb, 131072, 1, "x", "k", 0, &props,
			     "{}", 2),
	    0);
	frames_free(&fb);
}
END_TEST

START_TEST(heartbeat_is_eight_bytes)
{
	struct frames	    fb = { 0 };
	const unsigned char hb[8] = { 8, 0, 0, 0, 0, 0, 0, 0xce };

	frames_heartbeat(&fb);
	ck_assert_uint_eq(frames_held(&fb), 8);
	ck_assert(memcmp(fb.buf + fb.off, hb, 8) == 0);
	frames_free(&fb);
}
END_TEST

START_TEST(full_socket_keeps_the_rest_in_order)
{
	struct frames		fb = { 0 };
	amqp_basic_properties_t props;
	amqp_table_entry_t	h;
	unsigned char		body[3000], *want, *got, chunk[65536];
	size_t			total, have = 0;
	int			sv[2], i, rv, small = 4096, partial = 0;
	ssize_t			n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
			     sizeof small),
	    0);
	props_init(&props, &h);
	for (i = 0; i < 300; i++) {
		memset(body, 'a' + i % 26, sizeof body);
		ck_assert_int_eq(frames_publish(&fb, 131072, 1, "x", "k", 0,
				     &props, body, sizeof body),
		    0);
	}
	total = frames_held(&fb);
	want = malloc(total);
	got = malloc(total + 8);
	memcpy(want, fb.buf + fb.off, total);
	/* The reader is not reading: part goes, the call does not block. */
	ck_assert_int_eq(frames_write(&fb, sv[0]), 1);
	ck_assert_uint_gt(frames_held(&fb), 0);
	ck_assert_uint_lt(frames_held(&fb), total);
	/* Frames added while some wait go after them. */
	frames_heartbeat(&fb);
	while (have < total + 8) {
		n = read(sv[1], chunk, sizeof chunk);
		ck_assert_int_gt(n, 0);
		ck_assert_uint_le(have + (size_t)n, total + 8);
		memcpy(got + have, chunk, (size_t)n);
		have += (size_t)n;
		if ((rv = frames_write(&fb, sv[0])) == 1)
			partial++;
		ck_assert_int_ne(rv, -1);
	}
	ck_assert_uint_eq(frames_held(&fb), 0);
	ck_assert_uint_eq(have, total + 8); /* and the heartbeat after */
	ck_assert(memcmp(got, want, total) == 0);
	ck_assert(memcmp(got + total, "\x08\0\0\0\0\0\0\xce", 8) == 0);
	ck_assert_int_gt(partial, 0);
	free(want);
	free(got);
	frames_free(&fb);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(closed_peer_is_an_error_not_a_signal)
{
	struct frames fb = { 0 };
	int	      sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	frames_heartbeat(&fb);
	errno = 0;
	ck_assert_int_eq(frames_write(&fb, sv[0]), -1);
	ck_assert_int_eq(errno, EPIPE);
	frames_free(&fb);
	close(sv[0]);
}
END_TEST

static Suite *
frames_suite(void)
{
	Suite *s = suite_create("frames");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, publish_decodes_as_sent);
	tcase_add_test(tc, body_cut_at_frame_max);
	tcase_add_test(tc, empty_body_has_no_body_frame);
	tcase_add_test(tc, properties_larger_than_a_frame_refused_whole);
	tcase_add_test(tc, heartbeat_is_eight_bytes);
	tcase_add_test(tc, full_socket_keeps_the_rest_in_order);
	tcase_add_test(tc, closed_peer_is_an_error_not_a_signal);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(frames_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
