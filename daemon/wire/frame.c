/* Encrypted frames: length-prefixed XChaCha20-Poly1305 with counter nonces
 * (proto/PROTOCOL.md, "Frames"). Each direction has its own key, so the two
 * counters can never produce the same (key, nonce) pair. */
#include <string.h>
#include <sodium.h>
#include "frame.h"

struct frame_keys {
    uint8_t tx[FRAME_KEY_LEN];
    uint8_t rx[FRAME_KEY_LEN];
    uint64_t tx_n, rx_n;
};

struct frame_keys *frame_keys_new(const uint8_t tx[FRAME_KEY_LEN], const uint8_t rx[FRAME_KEY_LEN])
{
    struct frame_keys *k;

    if (sodium_init() < 0)
        return NULL;
    k = sodium_malloc(sizeof *k);
    if (k == NULL)
        return NULL;
    memcpy(k->tx, tx, FRAME_KEY_LEN);
    memcpy(k->rx, rx, FRAME_KEY_LEN);
    k->tx_n = 0;
    k->rx_n = 0;
    return k;
}

void frame_keys_free(struct frame_keys *k)
{
    if (k != NULL)
        sodium_free(k); /* sodium_free wipes before unmapping */
}

uint64_t frame_keys_sent(const struct frame_keys *k) { return k->tx_n; }
uint64_t frame_keys_received(const struct frame_keys *k) { return k->rx_n; }

/* The nonce is the counter, little-endian, in the first 8 bytes. */
static void frame__nonce(uint64_t n, uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES])
{
    memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    for (int i = 0; i < 8; i++)
        nonce[i] = (uint8_t)(n >> (8 * i));
}

int frame_peek(const uint8_t hdr[FRAME_HDR], size_t *ct_len)
{
    uint32_t n = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
                 ((uint32_t)hdr[2] << 8) | (uint32_t)hdr[3];

    if (n > FRAME_CT_MAX)
        return AGAH_ETOOBIG;
    if (n <= FRAME_TAG)
        return AGAH_ETRUNC;
    *ct_len = n;
    return 0;
}

int frame_seal(struct frame_keys *k, const uint8_t *pt, size_t len, uint8_t *out)
{
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned long long clen = 0;
    size_t n = len + FRAME_TAG;

    if (len == 0 || len > FRAME_PT_MAX)
        return AGAH_ETOOBIG;
    if (k->tx_n == UINT64_MAX)
        return AGAH_EINTERNAL;
    out[0] = (uint8_t)(n >> 24);
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    frame__nonce(k->tx_n, nonce);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + FRAME_HDR, &clen, pt, len, out,
                                                   FRAME_HDR, NULL, nonce, k->tx) != 0 ||
        clen != n)
        return AGAH_EINTERNAL;
    k->tx_n++;
    return 0;
}

int frame_open(struct frame_keys *k, const uint8_t *frame, size_t len, uint8_t *pt,
               size_t *pt_len)
{
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned long long mlen = 0;
    size_t ct_len;
    int r;

    if (len < FRAME_HDR)
        return AGAH_ETRUNC;
    if ((r = frame_peek(frame, &ct_len)) != 0)
        return r;
    if (len != FRAME_HDR + ct_len)
        return AGAH_ETRUNC;
    if (k->rx_n == UINT64_MAX)
        return AGAH_ECRYPTO;
    frame__nonce(k->rx_n, nonce);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL, frame + FRAME_HDR, ct_len,
                                                   frame, FRAME_HDR, nonce, k->rx) != 0)
        return AGAH_ECRYPTO;
    k->rx_n++;
    *pt_len = (size_t)mlen;
    return 0;
}
