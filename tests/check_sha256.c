/* check_sha256.c -- SHA-256 against the FIPS 180-4 examples and
 * HMAC-SHA256 against the RFC 4231 test cases. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* A digest as lower-case hex. */
static void
hex(const unsigned char *d, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The digest of s (len bytes) must be want. */
static void
expect_sha256(const void *s, size_t len, const char *want)
{
	unsigned char d[SHA256_LEN];
	char	      got[2 * SHA256_LEN + 1];

	sha256(s, len, d);
	hex(d, sizeof d, got);
	ck_assert_msg(strcmp(got, want) == 0,
	    "SHA-256 of %zu bytes: expected "
	    "%s, got %s",
	    len, want, got);
}

/* The MAC of data under key must start with want (RFC 4231 case 5 is
 * truncated to 128 bits). */
static void
expect_hmac(const void *key, size_t keylen, const void *data, size_t len,
    const char *want)
{
	unsigned char d[SHA256_LEN];
	char	      got[2 * SHA256_LEN + 1];

	hmac_sha256(key, keylen, data, len, d);
	hex(d, sizeof d, got);
	ck_assert_msg(strncmp(got, want, strlen(want)) == 0,
	    "HMAC-SHA256 "
	    "with a %zu-byte key of %zu bytes: expected %s, got %s",
	    keylen, len, want, got);
}

START_TEST(sha256_fips_180_examples)
{
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklm"
				  "klmnlmnomnopnopq";
	static const char four[] =
	    "abcdefghbcdefghicdefghijdefghijkefghij"
	    "klfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
	    "nopqrlmnopqrsmnopqrstnopqrstu";

	expect_sha256("abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a39617"
	    "7a9cb410ff61f20015ad");
	expect_sha256(two, strlen(two),
	    "248d6a61d20638b8e5c026930c3e6039a33c"
	    "e45964ff2167f6ecedd419db06c1");
	expect_sha256(four, strlen(four),
	    "cf5b16a778af8380036ce59e7b049237"
	    "0b249b11e8f07a51afac45037afee9d1");
	expect_sha256("", 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
	    "a495991b7852b855");
}
END_TEST

START_TEST(sha256_million_a_in_uneven_pieces)
{
	struct sha256 s;
	unsigned char d[SHA256_LEN], *a;
	char	      got[2 * SHA256_LEN + 1];
	size_t	      off = 0, n = 1;

	a = malloc(1000000);
	ck_assert_ptr_nonnull(a);
	memset(a, 'a', 1000000);
	expect_sha256(a, 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a4"
	    "97200e046d39ccc7112cd0");
	/* The same bytes fed in pieces that straddle block boundaries. */
	sha256_init(&s);
	while (off < 1000000) {
		if (n > 1000000 - off)
			n = 1000000 - off;
		sha256_update(&s, a + off, n);
		off += n;
		n = n % 131 + 7;
	}
	sha256_final(&s, d);
	hex(d, sizeof d, got);
	ck_assert_str_eq(got,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a49720"
	    "0e046d39ccc7112cd0");
	free(a);
}
END_TEST

START_TEST(sha256_padding_edges)
{
	unsigned char m[130];
	char	      name[64];
	size_t	      len;

	/* 55, 56, 63, 64 and 119 bytes: where the length does or does not
	 * fit in the last block. Compared with the one-call digest fed one
	 * byte at a time. */
	memset(m, 'x', sizeof m);
	for (len = 54; len <= 129; len++) {
		struct sha256 s;
		unsigned char a[SHA256_LEN], b[SHA256_LEN];
		size_t	      i;

		sha256(m, len, a);
		sha256_init(&s);
		for (i = 0; i < len; i++)
			sha256_update(&s, m + i, 1);
		sha256_final(&s, b);
		snprintf(name, sizeof name, "%zu bytes", len);
		ck_assert_msg(memcmp(a, b, sizeof a) == 0,
		    "%s: digest differs "
		    "fed byte by byte",
		    name);
	}
	/* 56 bytes is the FIPS two-block example above; 64 'x' is known. */
	expect_sha256(m, 64,
	    "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d"
	    "5fd6219506b5393c");
}
END_TEST

START_TEST(hmac_rfc_4231_cases)
{
	unsigned char k[131], d[50];
	size_t	      i;

	memset(k, 0x0b, 20);
	expect_hmac(k, 20, "Hi There", 8,
	    "b0344c61d8db38535ca8afceaf0bf12b88"
	    "1dc200c9833da726e9376c2e32cff7");
	expect_hmac("Jefe", 4, "what do ya want for nothing?", 28,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k, 0xaa, 20);
	memset(d, 0xdd, 50);
	expect_hmac(k, 20, d, 50,
	    "773ea91e36800e46854db8ebd09181a72959098b3e"
	    "f8c122d9635514ced565fe");
	for (i = 0; i < 25; i++)
		k[i] = (unsigned char)(i + 1);
	memset(d, 0xcd, 50);
	expect_hmac(k, 25, d, 50,
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e5"
	    "78f8077a2e3ff46729665b");
	memset(k, 0x0c, 20);
	expect_hmac(k, 20, "Test With Truncation", 20,
	    "a3b6167473100ee06e0c796c2955552b");
	memset(k, 0xaa, 131);
	expect_hmac(k, 131,
	    "Test Using Larger Than Block-Size Key - Hash Key "
	    "First",
	    54,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c514054"
	    "6040f0ee37f54");
	expect_hmac(k, 131,
	    "This is a test using a larger than block-size key "
	    "and a larger than block-size data. The key needs to be hashed "
	    "before being used by the HMAC algorithm.",
	    152,
	    "9b09ffa71b942fcb"
	    "27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

START_TEST(hmac_incremental_equals_one_call)
{
	struct hmac_sha256 m;
	unsigned char	   a[SHA256_LEN], b[SHA256_LEN];
	static const char  text[] = "what do ya want for nothing?";

	hmac_sha256("Jefe", 4, text, 28, a);
	hmac_sha256_init(&m, "Jefe", 4);
	hmac_sha256_update(&m, text, 5);
	hmac_sha256_update(&m, text + 5, 0);
	hmac_sha256_update(&m, text + 5, 23);
	hmac_sha256_final(&m, b);
	ck_assert(sha256_equal(a, b, sizeof a));
	b[31] ^= 1;
	ck_assert(!sha256_equal(a, b, sizeof a));
	b[31] ^= 1;
	b[0] ^= 0x80;
	ck_assert(!sha256_equal(a, b, sizeof a));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sha256");
	TCase	*tc = tcase_create("sha256");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, sha256_fips_180_examples);
	tcase_add_test(tc, sha256_million_a_in_uneven_pieces);
	tcase_add_test(tc, sha256_padding_edges);
	tcase_add_test(tc, hmac_rfc_4231_cases);
	tcase_add_test(tc, hmac_incremental_equals_one_call);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
