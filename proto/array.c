/* agah_array_reserve (include/agah/array.h). */
#include <stdint.h>
#include <stdlib.h>

#include <agah/array.h>
#include <agah/error.h>

int agah_array_reserve(void **arr, size_t *cap, size_t n, size_t size, size_t min, size_t max)
{
    size_t next;
    void *p;

    if (n < *cap)
        return 0;
    if (n >= max)
        return AGAH_ETOOBIG;
    next = *cap == 0 ? (min > 0 ? min : 1) : (*cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2);
    if (next > max)
        next = max;
    if (next <= n)
        next = n + 1;
    if (size != 0 && next > SIZE_MAX / size)
        return AGAH_ENOMEM;
    if ((p = realloc(*arr, next * size)) == NULL)
        return AGAH_ENOMEM;
    *arr = p;
    *cap = next;
    return 0;
}
