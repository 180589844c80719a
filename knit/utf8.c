/* utf8.c - the one UTF-8 decoder (see utf8.h) */
#include "utf8.h"

uint32_t utf8_decode(const uint8_t *s, size_t n, size_t *len)
{
    uint8_t c = s[0];
    *len = 0;
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    /* the lead byte gives the length and the range of the first continuation byte, which
     * is where overlong forms, surrogates and code points past U+10FFFF show */
    size_t k;
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3, cp = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, cp = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t j = 1; j < k; j++) {
        uint8_t b = s[j];
        if (b < (j == 1 ? lo : 0x80) || b > (j == 1 ? hi : 0xBF))
            return 0;
        cp = cp << 6 | (b & 0x3F);
    }
    *len = k;
    return cp;
}

uint32_t utf8_decode_or_latin1(const uint8_t *s, size_t n, size_t *len)
{
    uint32_t cp = utf8_decode(s, n, len);
    if (*len == 0) {
        *len = 1;
        return s[0];
    }
    return cp;
}

long utf8_count(const uint8_t *s, size_t n)
{
    long chars = 0;
    for (size_t i = 0; i < n; chars++) {
        size_t k;
        utf8_decode(s + i, n - i, &k);
        if (k == 0)
            return -1;
        i += k;
    }
    return chars;
}

bool utf8_valid(const uint8_t *s, size_t n)
{
    return utf8_count(s, n) >= 0;
}
