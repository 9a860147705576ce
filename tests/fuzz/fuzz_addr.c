/* libFuzzer target for the "host:port" parser (proto/addr.c): it reads
 * only the bytes given, and whatever it accepts it writes back as text
 * that it parses again to the same address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <agah/addr.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agah_addr a, b;
    struct agah_why why;
    char text[AGAH_ADDR_MAX];
    /* An exact-size copy, so ASan sees any read past `size`. */
    char *s = malloc(size ? size : 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    if (agah_addr_parse(s, size, &a, &why) == 0) {
        if (a.port == 0 || a.kind < AGAH_ADDR_IPV4 || a.kind > AGAH_ADDR_ONION)
            abort();
        if (agah_addr_format(&a, text) != 0 ||
            agah_addr_parse(text, strlen(text), &b, NULL) != 0 || b.kind != a.kind ||
            b.port != a.port || strcmp(a.host, b.host) != 0)
            abort();
        (void)agah_addr_wildcard(&a);
    }
    free(s);
    return 0;
}
