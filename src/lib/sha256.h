/* sha256.h -- SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): what the
 * spool needs to prove that warrend wrote a record. */
#ifndef WARREN_SHA256_H
#define WARREN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct sha256 {
	uint32_t      h[8];
	uint64_t      bytes;		   /* hashed so far */
	unsigned char block[SHA256_BLOCK]; /* partial block */
	size_t	      fill;
};

struct hmac_sha256 {
	struct sha256 inner;
	struct sha256 outer;
};

void sha256_init(struct sha256 *);
void sha256_update(struct sha256 *, const void *buf, size_t len);
void sha256_final(struct sha256 *, unsigned char out[SHA256_LEN]);
/* The digest of buf in one call. */
void sha256(const void *buf, size_t len, unsigned char out[SHA256_LEN]);

void hmac_sha256_init(struct hmac_sha256 *, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *, const void *buf, size_t len);
void hmac_sha256_final(struct hmac_sha256 *, unsigned char out[SHA256_LEN]);
/* The MAC of buf under key in one call. */
void hmac_sha256(const void *key, size_t keylen, const void *buf, size_t len,
    unsigned char out[SHA256_LEN]);

/* Compare two MACs in time that does not depend on where they differ. */
int sha256_equal(const unsigned char *a, const unsigned char *b, size_t len);

#endif
