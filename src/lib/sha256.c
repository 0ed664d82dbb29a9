/* sha256.c -- SHA-256 as FIPS 180-4 section 6.2 describes it, and HMAC
 * over it as RFC 2104 does. Written for clarity over speed: the spool
 * hashes records of a few hundred bytes. */
#include <string.h>

#include "sha256.h"

/* The first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes (FIPS 180-4 4.2.2). */
static const uint32_t sha256_k[64] = { 0x428a2f98, 0x71374491, 0xb5c0fbcf,
	0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
	0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
	0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
	0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
	0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c,
	0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee,
	0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2 };

/* Rotate right. */
static uint32_t
sha256_ror(uint32_t x, int n)
{
	return ((x >> n) | (x << (32 - n)));
}

/* Load a big-endian word. */
static uint32_t
sha256_load(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Hash one 64-byte block into the state (FIPS 180-4 6.2.2). */
static void
sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], v[8], t1, t2;
	int	 i;

	for (i = 0; i < 16; i++)
		w[i] = sha256_load(p + 4 * i);
	for (; i < 64; i++)
		w[i] = (sha256_ror(w[i - 2], 17) ^ sha256_ror(w[i - 2], 19) ^
			   (w[i - 2] >> 10)) +
		    w[i - 7] +
		    (sha256_ror(w[i - 15], 7) ^ sha256_ror(w[i - 15], 18) ^
			(w[i - 15] >> 3)) +
		    w[i - 16];
	memcpy(v, s->h, sizeof v);
	for (i = 0; i < 64; i++) {
		t1 = v[7] +
		    (sha256_ror(v[4], 6) ^ sha256_ror(v[4], 11) ^
			sha256_ror(v[4], 25)) +
		    ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha256_k[i] + w[i];
		t2 = (sha256_ror(v[0], 2) ^ sha256_ror(v[0], 13) ^
			 sha256_ror(v[0], 22)) +
		    ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		s->h[i] += v[i];
}

/* Start a digest with the initial hash value (FIPS 180-4 5.3.3). */
void
sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
		0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, h0, sizeof s->h);
	s->bytes = 0;
	s->fill = 0;
}

/* Hash more bytes. */
void
sha256_update(struct sha256 *s, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t		     n;

	s->bytes += len;
	while (len > 0) {
		if (s->fill == 0 && len >= SHA256_BLOCK) {
			sha256_block(s, p);
			p += SHA256_BLOCK;
			len -= SHA256_BLOCK;
			continue;
		}
		n = SHA256_BLOCK - s->fill;
		if (n > len)
			n = len;
		memcpy(s->block + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
		if (s->fill == SHA256_BLOCK) {
			sha256_block(s, s->block);
			s->fill = 0;
		}
	}
}

/* Pad (FIPS 180-4 5.1.1), hash the last block(s) and write the digest. */
void
sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN])
{
	uint64_t bits = s->bytes * 8;
	int	 i;

	s->block[s->fill++] = 0x80;
	if (s->fill > SHA256_BLOCK - 8) {
		memset(s->block + s->fill, 0, SHA256_BLOCK - s->fill);
		sha256_block(s, s->block);
		s->fill = 0;
	}
	memset(s->block + s->fill, 0, SHA256_BLOCK - 8 - s->fill);
	for (i = 0; i < 8; i++)
		s->block[SHA256_BLOCK - 1 - i] = (unsigned char)(bits >>
		    (8 * i));
	sha256_block(s, s->block);
	for (i = 0; i < 32; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
	memset(s, 0, sizeof *s);
}

/* The digest of buf in one call. */
void
sha256(const void *buf, size_t len, unsigned char out[SHA256_LEN])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, buf, len);
	sha256_final(&s, out);
}

/* Start a MAC: a key longer than a block is hashed first (RFC 2104 2). */
void
hmac_sha256_init(struct hmac_sha256 *m, const void *key, size_t keylen)
{
	unsigned char k[SHA256_BLOCK], pad[SHA256_BLOCK];
	size_t	      i;

	memset(k, 0, sizeof k);
	if (keylen > SHA256_BLOCK)
		sha256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&m->inner);
	sha256_update(&m->inner, pad, sizeof pad);
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&m->outer);
	sha256_update(&m->outer, pad, sizeof pad);
	memset(k, 0, sizeof k);
	memset(pad, 0, sizeof pad);
}

/* MAC more bytes. */
void
hmac_sha256_update(struct hmac_sha256 *m, const void *buf, size_t len)
{
	sha256_update(&m->inner, buf, len);
}

/* Finish the MAC: H(K ^ opad, H(K ^ ipad, text)). */
void
hmac_sha256_final(struct hmac_sha256 *m, unsigned char out[SHA256_LEN])
{
	unsigned char ih[SHA256_LEN];

	sha256_final(&m->inner, ih);
	sha256_update(&m->outer, ih, sizeof ih);
	sha256_final(&m->outer, out);
	memset(ih, 0, sizeof ih);
}

/* The MAC of buf under key in one call. */
void
hmac_sha256(const void *key, size_t keylen, const void *buf, size_t len,
    unsigned char out[SHA256_LEN])
{
	struct hmac_sha256 m;

	hmac_sha256_init(&m, key, keylen);
	hmac_sha256_update(&m, buf, len);
	hmac_sha256_final(&m, out);
}

/* Compare without an early exit, so timing tells nothing. */
int
sha256_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
	unsigned char d = 0;
	size_t	      i;

	for (i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	return (d == 0);
}
