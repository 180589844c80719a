/* term_print.c - write terms byte for byte as OTP 25's io_lib:format("~tp") and ("~tw") do:
 * the layout rules of io_lib_pretty.erl and the spelling rules of io_lib.erl
 *
 * ~tp is io_lib_pretty:print/2 with depth -1, chars_limit -1, encoding unicode, strings true
 * and no record printer.  It builds the "intermediate format" (here a tree of struct pnode:
 * each node knows its one-line text length, computed once bottom-up) and then lays it out
 * with pp/cind exactly as io_lib_pretty does.  Lists of integers are strings when
 * io_lib:printable_list/1 says so under the default printable range (latin1), as in
 * `erl -noshell`.  Maps print in the order maps:iterator/1 gives for small maps (integers
 * before floats, otherwise term order); OTP walks maps of more than 32 keys in hash order,
 * which this port does not reproduce (they print in that same small-map order).
 */
#include "term_print.h"
#include "utf8.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- characters ---------------------------------------------------------------------- */

/* utf8_next - the code point at *P (advancing it); a byte that does not start well-formed
 * UTF-8 is taken as a latin-1 character, the way term_string reads text */
static unsigned long utf8_next(const uint8_t **pp, const uint8_t *end)
{
    size_t k;
    uint32_t c = utf8_decode_or_latin1(*pp, (size_t)(end - *pp), &k);
    *pp += k;
    return c;
}

/* string_char (io_lib.erl, unicode_as_unicode): C inside a string or atom quoted by Q */
static void put_string_char(struct buf *b, unsigned long c, char q)
{
    if (c == (unsigned char)q || c == '\\') {
        buf_addc(b, '\\');
        buf_addc(b, (char)c);
    } else if (c >= 0x20 && c <= 0x7E) {
        buf_addc(b, (char)c);
    } else if (c >= 0xA0) {
        buf_add_utf8(b, c);
    } else {
        const char *esc = NULL;
        switch (c) {
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case 0x1B:
            esc = "\\e";
            break;
        case 0x7F:
            esc = "\\d";
            break;
        default:
            break;
        }
        if (esc)
            buf_adds(b, esc);
        else
            buf_addf(b, "\\%c%c%c", (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)),
                     (char)('0' + (c & 7)));
    }
}

static bool is_name_start(unsigned long c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

static bool is_name_char(unsigned long c)
{
    return is_name_start(c) || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
           (c >= '0' && c <= '9') || c == '_' || c == '@';
}

/* erl_scan:f_reserved_word/1; no feature keywords are enabled by default in OTP 25 */
static bool is_reserved(const char *s, size_t n)
{
    static const char *const words[] = {
        "after", "begin", "case", "try", "cond",    "catch", "andalso", "orelse", "end",
        "fun",   "if",    "let",  "of",  "receive", "when",  "bnot",    "not",    "div",
        "rem",   "band",  "and",  "bor", "bxor",    "bsl",   "bsr",     "or",     "xor",
    };
    /* every reserved word is 2 to 7 lower-case letters: most atoms stop here */
    if (n < 2 || n > 7 || s[0] < 'a' || s[0] > 'x')
        return false;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (words[i][0] == s[0] && strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
            return true;
    return false;
}

/* io_lib:quote_atom/2 */
static bool atom_needs_quotes(const char *name, size_t len)
{
    const uint8_t *p = (const uint8_t *)name, *end = p + len;
    if (len == 0 || is_reserved(name, len))
        return true;
    /* ASCII names, most of them, without decoding */
    if (*p >= 'a' && *p <= 'z') {
        const uint8_t *q = p + 1;
        while (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                           (*q >= '0' && *q <= '9') || *q == '_' || *q == '@'))
            q++;
        if (q == end)
            return false;
    }
    if (!is_name_start(utf8_next(&p, end)))
        return true;
    while (p < end)
        if (!is_name_char(utf8_next(&p, end)))
            return true;
    return false;
}

bool term_atom_needs_quotes(const char *name, size_t len)
{
    return atom_needs_quotes(name, len);
}

/* io_lib:write_atom/1 */
static void put_atom(struct buf *b, const char *name, size_t len)
{
    if (!atom_needs_quotes(name, len)) {
        buf_add(b, name, len);
        return;
    }
    const uint8_t *p = (const uint8_t *)name, *end = p + len;
    buf_addc(b, '\'');
    while (p < end)
        put_string_char(b, utf8_next(&p, end), '\'');
    buf_addc(b, '\'');
}

/* ---- grapheme clusters ----------------------------------------------------------------
 * io_lib:chars_length/1 counts iolist_size when every character is below 256, and
 * string:length/1 (grapheme clusters) otherwise; only quoted atoms can hold such
 * characters in ~tp output.  The clustering below follows the extended grapheme cluster
 * rules of UAX #29 (GB4-GB13) with the classes OTP itself uses. */

struct cp_range {
    uint32_t lo, hi;
};

/* Grapheme_Cluster_Break classes of the code points from U+00A0 up as OTP 25's
 * unicode_util sees them (SpacingMark behaves as Extend there; Hangul and regional
 * indicators are classified in gc_class below). */
/* clang-format off */
/* generated by: escript tests/otp/print_gc_table.escript (OTP 25) */
static const struct cp_range gc_extend[] = {
    {0x300, 0x36F}, {0x483, 0x489}, {0x591, 0x5BD}, {0x5BF, 0x5BF}, {0x5C1, 0x5C2},
    {0x5C4, 0x5C5}, {0x5C7, 0x5C7}, {0x610, 0x61A}, {0x64B, 0x65F}, {0x670, 0x670},
    {0x6D6, 0x6DC}, {0x6DF, 0x6E4}, {0x6E7, 0x6E8}, {0x6EA, 0x6ED}, {0x711, 0x711},
    {0x730, 0x74A}, {0x7A6, 0x7B0}, {0x7EB, 0x7F3}, {0x7FD, 0x7FD}, {0x816, 0x819},
    {0x81B, 0x823}, {0x825, 0x827}, {0x829, 0x82D}, {0x859, 0x85B}, {0x898, 0x89F},
    {0x8CA, 0x8E1}, {0x8E3, 0x903}, {0x93A, 0x93C}, {0x93E, 0x94F}, {0x951, 0x957},
    {0x962, 0x963}, {0x981, 0x983}, {0x9BC, 0x9BC}, {0x9BE, 0x9C4}, {0x9C7, 0x9C8},
    {0x9CB, 0x9CD}, {0x9D7, 0x9D7}, {0x9E2, 0x9E3}, {0x9FE, 0x9FE}, {0xA01, 0xA03},
    {0xA3C, 0xA3C}, {0xA3E, 0xA42}, {0xA47, 0xA48}, {0xA4B, 0xA4D}, {0xA51, 0xA51},
    {0xA70, 0xA71}, {0xA75, 0xA75}, {0xA81, 0xA83}, {0xABC, 0xABC}, {0xABE, 0xAC5},
    {0xAC7, 0xAC9}, {0xACB, 0xACD}, {0xAE2, 0xAE3}, {0xAFA, 0xAFF}, {0xB01, 0xB03},
    {0xB3C, 0xB3C}, {0xB3E, 0xB44}, {0xB47, 0xB48}, {0xB4B, 0xB4D}, {0xB55, 0xB57},
    {0xB62, 0xB63}, {0xB82, 0xB82}, {0xBBE, 0xBC2}, {0xBC6, 0xBC8}, {0xBCA, 0xBCD},
    {0xBD7, 0xBD7}, {0xC00, 0xC04}, {0xC3C, 0xC3C}, {0xC3E, 0xC44}, {0xC46, 0xC48},
    {0xC4A, 0xC4D}, {0xC55, 0xC56}, {0xC62, 0xC63}, {0xC81, 0xC83}, {0xCBC, 0xCBC},
    {0xCBE, 0xCC4}, {0xCC6, 0xCC8}, {0xCCA, 0xCCD}, {0xCD5, 0xCD6}, {0xCE2, 0xCE3},
    {0xD00, 0xD03}, {0xD3B, 0xD3C}, {0xD3E, 0xD44}, {0xD46, 0xD48}, {0xD4A, 0xD4D},
    {0xD57, 0xD57}, {0xD62, 0xD63}, {0xD81, 0xD83}, {0xDCA, 0xDCA}, {0xDCF, 0xDD4},
    {0xDD6, 0xDD6}, {0xDD8, 0xDDF}, {0xDF2, 0xDF3}, {0xE31, 0xE31}, {0xE33, 0xE3A},
    {0xE47, 0xE4E}, {0xEB1, 0xEB1}, {0xEB3, 0xEBC}, {0xEC8, 0xECD}, {0xF18, 0xF19},
    {0xF35, 0xF35}, {0xF37, 0xF37}, {0xF39, 0xF39}, {0xF3E, 0xF3F}, {0xF71, 0xF84},
    {0xF86, 0xF87}, {0xF8D, 0xF97}, {0xF99, 0xFBC}, {0xFC6, 0xFC6}, {0x102D, 0x1037},
    {0x1039, 0x103E}, {0x1056, 0x1059}, {0x105E, 0x1060}, {0x1071, 0x1074},
    {0x1082, 0x1082}, {0x1084, 0x1086}, {0x108D, 0x108D}, {0x109D, 0x109D},
    {0x135D, 0x135F}, {0x1712, 0x1715}, {0x1732, 0x1734}, {0x1752, 0x1753},
    {0x1772, 0x1773}, {0x17B4, 0x17D3}, {0x17DD, 0x17DD}, {0x180B, 0x180D},
    {0x180F, 0x180F}, {0x1885, 0x1886}, {0x18A9, 0x18A9}, {0x1920, 0x192B},
    {0x1930, 0x193B}, {0x1A17, 0x1A1B}, {0x1A55, 0x1A5E}, {0x1A60, 0x1A60},
    {0x1A62, 0x1A62}, {0x1A65, 0x1A7C}, {0x1A7F, 0x1A7F}, {0x1AB0, 0x1ACE},
    {0x1B00, 0x1B04}, {0x1B34, 0x1B44}, {0x1B6B, 0x1B73}, {0x1B80, 0x1B82},
    {0x1BA1, 0x1BAD}, {0x1BE6, 0x1BF3}, {0x1C24, 0x1C37}, {0x1CD0, 0x1CD2},
    {0x1CD4, 0x1CE8}, {0x1CED, 0x1CED}, {0x1CF4, 0x1CF4}, {0x1CF7, 0x1CF9},
    {0x1DC0, 0x1DFF}, {0x200C, 0x200C}, {0x20D0, 0x20F0}, {0x2CEF, 0x2CF1},
    {0x2D7F, 0x2D7F}, {0x2DE0, 0x2DFF}, {0x302A, 0x302F}, {0x3099, 0x309A},
    {0xA66F, 0xA672}, {0xA674, 0xA67D}, {0xA69E, 0xA69F}, {0xA6F0, 0xA6F1},
    {0xA802, 0xA802}, {0xA806, 0xA806}, {0xA80B, 0xA80B}, {0xA823, 0xA827},
    {0xA82C, 0xA82C}, {0xA880, 0xA881}, {0xA8B4, 0xA8C5}, {0xA8E0, 0xA8F1},
    {0xA8FF, 0xA8FF}, {0xA926, 0xA92D}, {0xA947, 0xA953}, {0xA980, 0xA983},
    {0xA9B3, 0xA9C0}, {0xA9E5, 0xA9E5}, {0xAA29, 0xAA36}, {0xAA43, 0xAA43},
    {0xAA4C, 0xAA4D}, {0xAA7C, 0xAA7C}, {0xAAB0, 0xAAB0}, {0xAAB2, 0xAAB4},
    {0xAAB7, 0xAAB8}, {0xAABE, 0xAABF}, {0xAAC1, 0xAAC1}, {0xAAEB, 0xAAEF},
    {0xAAF5, 0xAAF6}, {0xABE3, 0xABEA}, {0xABEC, 0xABED}, {0xFB1E, 0xFB1E},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFF9E, 0xFF9F}, {0x101FD, 0x101FD},
    {0x102E0, 0x102E0}, {0x10376, 0x1037A}, {0x10A01, 0x10A03}, {0x10A05, 0x10A06},
    {0x10A0C, 0x10A0F}, {0x10A38, 0x10A3A}, {0x10A3F, 0x10A3F}, {0x10AE5, 0x10AE6},
    {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC}, {0x10F46, 0x10F50}, {0x10F82, 0x10F85},
    {0x11000, 0x11002}, {0x11038, 0x11046}, {0x11070, 0x11070}, {0x11073, 0x11074},
    {0x1107F, 0x11082}, {0x110B0, 0x110BA}, {0x110C2, 0x110C2}, {0x11100, 0x11102},
    {0x11127, 0x11134}, {0x11145, 0x11146}, {0x11173, 0x11173}, {0x11180, 0x11182},
    {0x111B3, 0x111C0}, {0x111C9, 0x111CC}, {0x111CE, 0x111CF}, {0x1122C, 0x11237},
    {0x1123E, 0x1123E}, {0x112DF, 0x112EA}, {0x11300, 0x11303}, {0x1133B, 0x1133C},
    {0x1133E, 0x11344}, {0x11347, 0x11348}, {0x1134B, 0x1134D}, {0x11357, 0x11357},
    {0x11362, 0x11363}, {0x11366, 0x1136C}, {0x11370, 0x11374}, {0x11435, 0x11446},
    {0x1145E, 0x1145E}, {0x114B0, 0x114C3}, {0x115AF, 0x115B5}, {0x115B8, 0x115C0},
    {0x115DC, 0x115DD}, {0x11630, 0x11640}, {0x116AB, 0x116B7}, {0x1171D, 0x1171F},
    {0x11722, 0x1172B}, {0x1182C, 0x1183A}, {0x11930, 0x11935}, {0x11937, 0x11938},
    {0x1193B, 0x1193E}, {0x11940, 0x11940}, {0x11942, 0x11943}, {0x119D1, 0x119D7},
    {0x119DA, 0x119E0}, {0x119E4, 0x119E4}, {0x11A01, 0x11A0A}, {0x11A33, 0x11A39},
    {0x11A3B, 0x11A3E}, {0x11A47, 0x11A47}, {0x11A51, 0x11A5B}, {0x11A8A, 0x11A99},
    {0x11C2F, 0x11C36}, {0x11C38, 0x11C3F}, {0x11C92, 0x11CA7}, {0x11CA9, 0x11CB6},
    {0x11D31, 0x11D36}, {0x11D3A, 0x11D3A}, {0x11D3C, 0x11D3D}, {0x11D3F, 0x11D45},
    {0x11D47, 0x11D47}, {0x11D8A, 0x11D8E}, {0x11D90, 0x11D91}, {0x11D93, 0x11D97},
    {0x11EF3, 0x11EF6}, {0x16AF0, 0x16AF4}, {0x16B30, 0x16B36}, {0x16F4F, 0x16F4F},
    {0x16F51, 0x16F87}, {0x16F8F, 0x16F92}, {0x16FE4, 0x16FE4}, {0x16FF0, 0x16FF1},
    {0x1BC9D, 0x1BC9E}, {0x1CF00, 0x1CF2D}, {0x1CF30, 0x1CF46}, {0x1D165, 0x1D169},
    {0x1D16D, 0x1D172}, {0x1D17B, 0x1D182}, {0x1D185, 0x1D18B}, {0x1D1AA, 0x1D1AD},
    {0x1D242, 0x1D244}, {0x1DA00, 0x1DA36}, {0x1DA3B, 0x1DA6C}, {0x1DA75, 0x1DA75},
    {0x1DA84, 0x1DA84}, {0x1DA9B, 0x1DA9F}, {0x1DAA1, 0x1DAAF}, {0x1E000, 0x1E006},
    {0x1E008, 0x1E018}, {0x1E01B, 0x1E021}, {0x1E023, 0x1E024}, {0x1E026, 0x1E02A},
    {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF}, {0x1E8D0, 0x1E8D6},
    {0x1E944, 0x1E94A}, {0x1F3FB, 0x1F3FF}, {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
};
static const struct cp_range gc_control[] = {
    {0xAD, 0xAD}, {0x61C, 0x61C}, {0x180E, 0x180E}, {0x200B, 0x200B}, {0x200E, 0x200F},
    {0x2028, 0x202E}, {0x2060, 0x206F}, {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFB},
    {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE001F},
    {0xE0080, 0xE00FF}, {0xE01F0, 0xE0FFF},
};
static const struct cp_range gc_prepend[] = {
    {0x600, 0x605}, {0x6DD, 0x6DD}, {0x70F, 0x70F}, {0x890, 0x891}, {0x8E2, 0x8E2},
    {0xD4E, 0xD4E}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x111C2, 0x111C3},
    {0x1193F, 0x1193F}, {0x11941, 0x11941}, {0x11A3A, 0x11A3A}, {0x11A84, 0x11A89},
    {0x11D46, 0x11D46},
};
static const struct cp_range gc_extpict[] = {
    {0xA9, 0xA9}, {0xAE, 0xAE}, {0x203C, 0x203C}, {0x2049, 0x2049}, {0x2122, 0x2122},
    {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA}, {0x231A, 0x231B},
    {0x2328, 0x2328}, {0x2388, 0x2388}, {0x23CF, 0x23CF}, {0x23E9, 0x23F3},
    {0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB}, {0x25B6, 0x25B6},
    {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x2605}, {0x2607, 0x2612},
    {0x2614, 0x2685}, {0x2690, 0x2705}, {0x2708, 0x2712}, {0x2714, 0x2714},
    {0x2716, 0x2716}, {0x271D, 0x271D}, {0x2721, 0x2721}, {0x2728, 0x2728},
    {0x2733, 0x2734}, {0x2744, 0x2744}, {0x2747, 0x2747}, {0x274C, 0x274C},
    {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2763, 0x2767},
    {0x2795, 0x2797}, {0x27A1, 0x27A1}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF},
    {0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50},
    {0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297},
    {0x3299, 0x3299}, {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F}, {0x1F12F, 0x1F12F},
    {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A},
    {0x1F1AD, 0x1F1E5}, {0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A}, {0x1F22F, 0x1F22F},
    {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA}, {0x1F400, 0x1F53D},
    {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F}, {0x1F7D5, 0x1F7FF},
    {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F}, {0x1F888, 0x1F88F},
    {0x1F8AE, 0x1F8FF}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1FAFF},
    {0x1FC00, 0x1FFFD},
};
/* clang-format on */

static bool in_ranges(const struct cp_range *r, size_t n, unsigned long c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid].lo)
            hi = mid;
        else if (c > r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

#define IN_TABLE(t, c) in_ranges(t, sizeof t / sizeof t[0], c)

enum gclass {
    GC_OTHER,
    GC_EXTEND,
    GC_ZWJ,
    GC_CONTROL,
    GC_PREPEND,
    GC_EXTPICT,
    GC_L,
    GC_V,
    GC_T,
    GC_LV,
    GC_LVT,
    GC_RI
};

static enum gclass gc_class(unsigned long c)
{
    if (c < 0xA0)
        return c < 0x20 || c >= 0x7F ? GC_CONTROL : GC_OTHER;
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0xA960 && c <= 0xA97C))
        return GC_L;
    if ((c >= 0x1160 && c <= 0x11A7) || (c >= 0xD7B0 && c <= 0xD7C6))
        return GC_V;
    if ((c >= 0x11A8 && c <= 0x11FF) || (c >= 0xD7CB && c <= 0xD7FB))
        return GC_T;
    if (c >= 0xAC00 && c <= 0xD7A3)
        return (c - 0xAC00) % 28 == 0 ? GC_LV : GC_LVT;
    if (c >= 0x1F1E6 && c <= 0x1F1FF)
        return GC_RI;
    if (c == 0x200D)
        return GC_ZWJ;
    if (IN_TABLE(gc_extend, c))
        return GC_EXTEND;
    if (IN_TABLE(gc_control, c))
        return GC_CONTROL;
    if (IN_TABLE(gc_prepend, c))
        return GC_PREPEND;
    if (IN_TABLE(gc_extpict, c))
        return GC_EXTPICT;
    return GC_OTHER;
}

/* gc_joins - whether no cluster boundary falls between PREV and CUR (UAX #29 GB4-GB13);
 * PICT_ZWJ: the text so far ends in ExtPict Extend* ZWJ; RI_ODD: it ends in an odd run of
 * regional indicators */
static bool gc_joins(enum gclass prev, enum gclass cur, bool pict_zwj, bool ri_odd)
{
    if (prev == GC_CONTROL || cur == GC_CONTROL)
        return false;
    /* OTP's unicode_util ends the cluster after ExtPict Extend* ZWJ unless ExtPict follows,
     * even before an Extend */
    if (pict_zwj)
        return cur == GC_EXTPICT;
    if (prev == GC_L && (cur == GC_L || cur == GC_V || cur == GC_LV || cur == GC_LVT))
        return true;
    if ((prev == GC_LV || prev == GC_V) && (cur == GC_V || cur == GC_T))
        return true;
    if ((prev == GC_LVT || prev == GC_T) && cur == GC_T)
        return true;
    if (cur == GC_EXTEND || cur == GC_ZWJ || prev == GC_PREPEND)
        return true;
    return prev == GC_RI && cur == GC_RI && ri_odd;
}

/* text_length - io_lib:chars_length/1 of UTF-8 text S: characters, or grapheme clusters
 * (string:length/1) when some character is above 255 */
static long text_length(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    size_t k = 0;
    while (k < n && p[k] < 0x80)
        k++;
    if (k == n) /* ASCII: one character a byte (no character above 0xFF, so no clusters) */
        return (long)n;
    long cps = 0, clusters = 0;
    bool wide = false, pict = false, pict_zwj = false;
    enum gclass prev = GC_OTHER;
    long ri_run = 0;
    while (p < end) {
        unsigned long c = utf8_next(&p, end);
        enum gclass g = gc_class(c);
        if (cps == 0 || !gc_joins(prev, g, pict_zwj, ri_run % 2 == 1))
            clusters++;
        /* ExtPict Extend* ZWJ: the state GB11 needs */
        pict_zwj = pict && g == GC_ZWJ;
        pict = g == GC_EXTPICT || (pict && g == GC_EXTEND);
        ri_run = g == GC_RI ? ri_run + 1 : 0;
        prev = g;
        wide |= c > 0xFF;
        cps++;
    }
    return wide ? clusters : cps;
}

/* ---- numbers ------------------------------------------------------------------------- */

/* decimal digits of V */
static void put_u64(struct buf *b, uint64_t v)
{
    char s[24];
    int i = sizeof s;
    do {
        s[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_add(b, s + i, sizeof s - (size_t)i);
}

static void put_i64(struct buf *b, int64_t v)
{
    if (v < 0) {
        buf_addc(b, '-');
        put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* integer_to_list/1 of a big integer */
static void put_bigint(struct buf *b, const struct term *t)
{
    size_t nw = (t->u.big.n + 3) / 4;
    uint32_t *w = xcalloc(nw ? nw : 1, sizeof *w);
    for (size_t i = 0; i < t->u.big.n; i++)
        w[i / 4] |= (uint32_t)t->u.big.mag[i] << (8 * (i % 4));
    /* base-10^9 digits, least significant first; each needs more than 3.7 magnitude bytes */
    size_t cap = t->u.big.n * 3 / 8 + 2, nd = 0;
    uint32_t *d = xmalloc(cap * sizeof *d);
    while (nw > 0) {
        uint64_t rem = 0;
        for (size_t i = nw; i-- > 0;) {
            uint64_t cur = rem << 32 | w[i];
            w[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        if (nd == cap)
            d = xrealloc(d, (cap *= 2) * sizeof *d);
        d[nd++] = (uint32_t)rem;
        while (nw > 0 && w[nw - 1] == 0)
            nw--;
    }
    if (t->u.big.neg)
        buf_addc(b, '-');
    if (nd == 0)
        buf_addc(b, '0');
    /* the leading group as it is, the others as nine digits each (no printf: a 128-bit
     * vsn is printed for every beam inspected) */
    for (size_t i = nd; i-- > 0;) {
        char g[9];
        uint32_t v = d[i];
        int k = 9;
        do {
            g[--k] = (char)('0' + v % 10);
            v /= 10;
        } while (i + 1 == nd ? v != 0 : k > 0);
        buf_add(b, g + k, (size_t)(9 - k));
    }
    free(d);
    free(w);
}

/* shortest_digits - the shortest decimal digits that read back as X (> 0), the closest to
 * X when several are that short (what Ryu computes): D and *ND get the digits, the result
 * is the exponent E in X ~ D[0].D[1]D[2]... * 10^E */
static int shortest_digits(double x, char *d, int *nd)
{
    char s[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*e", p - 1, x);
        char *e = strchr(s, 'e');
        int exp10 = atoi(e + 1);
        int n = 0;
        for (char *q = s; q < e; q++)
            if (*q >= '0' && *q <= '9')
                d[n++] = *q;
        if (strtod(s, NULL) == x) {
            while (n > 1 && d[n - 1] == '0')
                n--;
            *nd = n;
            return exp10;
        }
        /* the nearest p-digit number lies just outside the narrow side of X's rounding
         * interval (at a power of two); its neighbour on the wide side may still be in */
        for (int dir = -1; dir <= 1; dir += 2) {
            char alt[20];
            memcpy(alt, d, (size_t)n);
            int i = n - 1, aexp = exp10, an = n;
            if (dir > 0) {
                while (i >= 0 && alt[i] == '9')
                    alt[i--] = '0';
                if (i < 0) {
                    memmove(alt + 1, alt, (size_t)n);
                    alt[0] = '1';
                    aexp++;
                    /* 99..9 + 1 = 100..0: the first N digits of it, one exponent up */
                } else {
                    alt[i]++;
                }
            } else {
                while (i >= 0 && alt[i] == '0')
                    alt[i--] = '9';
                if (i < 0)
                    continue;
                alt[i]--;
                if (alt[0] == '0') {
                    if (n == 1)
                        continue;
                    memmove(alt, alt + 1, (size_t)n - 1);
                    alt[n - 1] = '9';
                    aexp--;
                }
            }
            char t[48];
            snprintf(t, sizeof t, "%c.%.*se%d", alt[0], an - 1, alt + 1, aexp);
            if (an == 1)
                snprintf(t, sizeof t, "%ce%d", alt[0], aexp);
            if (strtod(t, NULL) == x) {
                memcpy(d, alt, (size_t)an);
                while (an > 1 && d[an - 1] == '0')
                    an--;
                *nd = an;
                return aexp;
            }
        }
    }
    /* 17 significant digits always read back */
    snprintf(s, sizeof s, "%.16e", x);
    char *e = strchr(s, 'e');
    int n = 0;
    for (char *q = s; q < e; q++)
        if (*q >= '0' && *q <= '9')
            d[n++] = *q;
    while (n > 1 && d[n - 1] == '0')
        n--;
    *nd = n;
    return atoi(e + 1);
}

/* io_lib_format:fwrite_g/1 = float_to_list(F, [short]) (OTP's modified Ryu to_chars) */
static void put_float(struct buf *b, double f)
{
    if (signbit(f))
        buf_addc(b, '-');
    f = fabs(f);
    if (f == 0) {
        buf_adds(b, "0.0");
        return;
    }
    char d[24];
    int olen;
    int sci = shortest_digits(f, d, &olen);
    int rexp = sci - (olen - 1); /* value = digits * 10^rexp */
    uint64_t out = 0;
    for (int i = 0; i < olen; i++)
        out = out * 10 + (uint64_t)(d[i] - '0');
    int lower, upper;
    if (olen == 1) {
        lower = -4;
        upper = 2;
    } else if (sci >= 10) {
        lower = -(olen + 2);
        upper = 2;
    } else {
        lower = -(olen + 2);
        upper = 1;
    }
    bool fixed = lower <= rexp && rexp <= upper;
    if (fixed && ((out >= (1ull << 53) && rexp == 0) || (out > (1ull << 52) / 5 && rexp == 1) ||
                  (out > (1ull << 51) / 25 && rexp == 2)))
        fixed = false;
    if (fixed) {
        int whole = olen + rexp;
        if (rexp >= 0) {
            buf_add(b, d, (size_t)olen);
            for (int i = 0; i < rexp; i++)
                buf_addc(b, '0');
            buf_adds(b, ".0");
        } else if (whole > 0) {
            buf_add(b, d, (size_t)whole);
            buf_addc(b, '.');
            buf_add(b, d + whole, (size_t)(olen - whole));
        } else {
            buf_adds(b, "0.");
            for (int i = 0; i < -whole; i++)
                buf_addc(b, '0');
            buf_add(b, d, (size_t)olen);
        }
        return;
    }
    buf_addc(b, d[0]);
    buf_addc(b, '.');
    if (olen > 1)
        buf_add(b, d + 1, (size_t)(olen - 1));
    else
        buf_addc(b, '0');
    buf_addf(b, "e%d", sci);
}

/* io_lib:write_binary/2 with depth -1: <<1,2,3>> or <<1,5:3>> */
static void put_binary_bytes(struct buf *b, const struct term *t)
{
    size_t nbits = t->u.bits.nbits, full = nbits / 8, rest = nbits % 8;
    buf_adds(b, "<<");
    for (size_t i = 0; i < full; i++) {
        put_u64(b, t->u.bits.data[i]);
        if (i + 1 < full || rest)
            buf_addc(b, ',');
    }
    if (rest) {
        put_u64(b, (uint64_t)(t->u.bits.data[full] >> (8 - rest)));
        buf_addc(b, ':');
        put_u64(b, rest);
    }
    buf_adds(b, ">>");
}

/* io_lib:write/1 for the terms that print the same with ~tp and ~tw */
static void put_atomic(struct buf *b, const struct term *t)
{
    switch ((enum term_type)t->type) {
    case TERM_INT:
        put_i64(b, t->u.i);
        break;
    case TERM_BIG:
        put_bigint(b, t);
        break;
    case TERM_FLOAT:
        put_float(b, t->u.f);
        break;
    case TERM_ATOM:
        put_atom(b, t->u.atom.name, t->u.atom.len);
        break;
    case TERM_REF:
    case TERM_FUN:
    case TERM_PORT:
    case TERM_PID:
        buf_adds(b, t->u.opaque.text ? t->u.opaque.text : "");
        break;
    default:
        break;
    }
}

/* ---- map order ----------------------------------------------------------------------- */

/* mapkey_compare - the order maps:iterator/1 walks a small map in: term order, except that
 * every integer sorts before every float, at any depth */
static int mapkey_compare(const struct term *a, const struct term *b)
{
    bool an = a->type <= TERM_FLOAT, bn = b->type <= TERM_FLOAT;
    if (an && bn) {
        bool af = a->type == TERM_FLOAT, bf = b->type == TERM_FLOAT;
        if (af != bf)
            return af ? 1 : -1;
        return term_compare(a, b);
    }
    if (a->type != b->type || an)
        return term_compare(a, b);
    switch ((enum term_type)a->type) {
    case TERM_TUPLE:
        if (a->u.tuple.n != b->u.tuple.n)
            return a->u.tuple.n < b->u.tuple.n ? -1 : 1;
        for (size_t i = 0; i < a->u.tuple.n; i++) {
            int c = mapkey_compare(a->u.tuple.el[i], b->u.tuple.el[i]);
            if (c)
                return c;
        }
        return 0;
    case TERM_LIST: {
        size_t n = a->u.list.n < b->u.list.n ? a->u.list.n : b->u.list.n;
        for (size_t i = 0; i < n; i++) {
            int c = mapkey_compare(a->u.list.el[i], b->u.list.el[i]);
            if (c)
                return c;
        }
        if (a->u.list.n == b->u.list.n)
            return mapkey_compare(a->u.list.tail, b->u.list.tail);
        /* one list goes on where the other has its tail: compare that tail with the rest */
        struct term rest;
        const struct term *longer = a->u.list.n > n ? a : b;
        rest = *longer;
        rest.u.list.n = longer->u.list.n - n;
        rest.u.list.el = longer->u.list.el + n;
        if (longer == a)
            return mapkey_compare(&rest, b->u.list.tail);
        return mapkey_compare(a->u.list.tail, &rest);
    }
    case TERM_MAP:
        if (a->u.map.n != b->u.map.n)
            return a->u.map.n < b->u.map.n ? -1 : 1;
        for (size_t i = 0; i < a->u.map.n; i++) {
            int c = mapkey_compare(a->u.map.keys[i], b->u.map.keys[i]);
            if (c)
                return c;
        }
        for (size_t i = 0; i < a->u.map.n; i++) {
            int c = mapkey_compare(a->u.map.vals[i], b->u.map.vals[i]);
            if (c)
                return c;
        }
        return 0;
    default:
        return term_compare(a, b);
    }
}

/* merge sort of index array IX[0..N) by mapkey_compare on KEYS (stable) */
static void sort_by_key(size_t *ix, size_t *tmp, size_t n, const struct term *const *keys)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_by_key(ix, tmp, h, keys);
    sort_by_key(ix + h, tmp, n - h, keys);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = mapkey_compare(keys[ix[j]], keys[ix[i]]) < 0 ? ix[j++] : ix[i++];
    while (i < h)
        tmp[k++] = ix[i++];
    while (j < n)
        tmp[k++] = ix[j++];
    memcpy(ix, tmp, n * sizeof *ix);
}

/* map_order - indices of T's pairs in iteration order (malloc-owned); NULL for #{} */
static size_t *map_order(const struct term *t)
{
    size_t n = t->u.map.n;
    if (n == 0)
        return NULL;
    size_t *ix = xmalloc(2 * n * sizeof *ix);
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    sort_by_key(ix, ix + n, n, t->u.map.keys);
    return ix;
}

/* ---- ~tw ------------------------------------------------------------------------------ */

static void write_term(struct buf *b, const struct term *t)
{
    switch ((enum term_type)t->type) {
    case TERM_NIL:
        buf_adds(b, "[]");
        break;
    case TERM_LIST:
        buf_addc(b, '[');
        for (size_t i = 0; i < t->u.list.n; i++) {
            if (i)
                buf_addc(b, ',');
            write_term(b, t->u.list.el[i]);
        }
        if (t->u.list.tail->type != TERM_NIL) {
            buf_addc(b, '|');
            write_term(b, t->u.list.tail);
        }
        buf_addc(b, ']');
        break;
    case TERM_TUPLE:
        buf_addc(b, '{');
        for (size_t i = 0; i < t->u.tuple.n; i++) {
            if (i)
                buf_addc(b, ',');
            write_term(b, t->u.tuple.el[i]);
        }
        buf_addc(b, '}');
        break;
    case TERM_MAP: {
        size_t *ix = map_order(t);
        buf_adds(b, "#{");
        for (size_t i = 0; i < t->u.map.n; i++) {
            if (i)
                buf_addc(b, ',');
            write_term(b, t->u.map.keys[ix[i]]);
            buf_adds(b, " => ");
            write_term(b, t->u.map.vals[ix[i]]);
        }
        buf_addc(b, '}');
        free(ix);
        break;
    }
    case TERM_BITS:
        put_binary_bytes(b, t);
        break;
    default:
        put_atomic(b, t);
        break;
    }
}

void term_write(struct buf *out, const struct term *t)
{
    write_term(out, t);
}

/* ---- ~tp: the intermediate format ----------------------------------------------------- */

enum pkind {
    PK_LEAF, /* chars: atomic terms, strings, printable binaries, empty containers */
    PK_LIST,
    PK_TUPLE, /* {tuple, false, L} */
    PK_TAG,   /* {tuple, true, L}: first element an atom, size >= 2 */
    PK_MAP,
    PK_PAIR, /* {map_pair, K, V}: el[0] and el[1] */
    PK_BIN,  /* {bin, S}: a binary written as numbers */
};

/* A node is 40 bytes, the elements of a container are one array of nodes, a leaf keeps its
 * term, not its text (written again when the layout is done), and a container whose one-line
 * form is no longer than a line keeps its term, not its elements, until the layout needs them
 * (it mostly fits where it starts and is written in one go): a relup of a megabyte needs tens
 * of thousands of nodes, not hundreds of thousands. */
struct pnode {
    uint8_t kind;
    long len;         /* chars of the one-line form */
    struct pnode *el; /* elements, or the pairs of a map; NULL until made (see kids) */
    size_t n;
    union {
        struct pnode *tail;      /* PK_LIST with el: the tail of an improper list, else NULL */
        const struct term *bits; /* PK_BIN */
        const struct term *leaf; /* PK_LEAF, and a container without el */
    };
};

struct pctx {
    struct arena arena;
    struct buf scratch;
    struct buf *out;
    long ll, m;
};

static bool printable_list(const struct term *t);
static int printable_binary(const struct term *t);

/* leaf_text - write the one-line form of T to B when T prints as plain characters (atomic
 * terms, strings, printable binaries, empty containers): its length in characters, or -1
 * (nothing written) when T is a container to lay out */
static long leaf_text(struct buf *b, const struct term *t)
{
    size_t at = b->len;
    switch ((enum term_type)t->type) {
    case TERM_NIL:
        buf_adds(b, "[]");
        return 2;
    case TERM_LIST:
        if (!printable_list(t))
            return -1;
        buf_addc(b, '"');
        for (size_t i = 0; i < t->u.list.n; i++)
            put_string_char(b, (unsigned long)t->u.list.el[i]->u.i, '"');
        buf_addc(b, '"');
        break;
    case TERM_TUPLE:
        if (t->u.tuple.n)
            return -1;
        buf_adds(b, "{}");
        return 2;
    case TERM_MAP:
        if (t->u.map.n)
            return -1;
        buf_adds(b, "#{}");
        return 3;
    case TERM_BITS: {
        size_t nbits = t->u.bits.nbits;
        if (nbits == 0) {
            buf_adds(b, "<<>>");
            return 4;
        }
        int pr = nbits % 8 == 0 ? printable_binary(t) : 0;
        if (!pr)
            return -1;
        const uint8_t *q = t->u.bits.data, *end = q + nbits / 8;
        buf_adds(b, "<<\"");
        while (q < end)
            put_string_char(b, pr == 1 ? utf8_next(&q, end) : *q++, '"');
        buf_adds(b, pr == 1 ? "\"/utf8>>" : "\">>");
        break;
    }
    default:
        put_atomic(b, t);
        break;
    }
    return text_length(b->p + at, b->len - at);
}

static bool printable_latin1(int64_t c)
{
    return (c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xFF) || c == '\n' || c == '\r' ||
           c == '\t' || c == '\v' || c == '\b' || c == '\f' || c == 0x1B;
}

/* io_lib:printable_list/1 under the latin1 printable range */
static bool printable_list(const struct term *t)
{
    if (t->u.list.tail->type != TERM_NIL)
        return false;
    for (size_t i = 0; i < t->u.list.n; i++) {
        const struct term *e = t->u.list.el[i];
        if (e->type != TERM_INT || !printable_latin1(e->u.i))
            return false;
    }
    return true;
}

/* the decoding of printable_bin/4 (unicode): 1 valid UTF-8 with every character printable
 * latin-1 and some non-ASCII, 2 every byte printable (as latin-1 or ASCII), 0 neither */
static int printable_binary(const struct term *t)
{
    size_t n = t->u.bits.nbits / 8;
    const uint8_t *p = t->u.bits.data;
    /* valid_utf8/2: as Erlang's <<C/utf8>> matcher: no overlongs, surrogates or > 10FFFF */
    bool valid = utf8_valid(p, n);
    size_t i;
    if (valid) {
        const uint8_t *q = p, *end = p + n;
        size_t chars = 0;
        while (q < end) {
            unsigned long c = utf8_next(&q, end);
            if (c > 0xFF || !printable_latin1((int64_t)c))
                return 0;
            chars++;
        }
        return chars == n ? 2 : 1;
    }
    for (i = 0; i < n; i++)
        if (!printable_latin1(p[i]))
            return 0;
    return 2;
}

/* list_length/3: the one-line length of a container of N elements, OPEN+CLOSE brackets */
static long seq_length(const struct pnode *el, size_t n, const struct pnode *tail, long brackets)
{
    long len = brackets;
    for (size_t i = 0; i < n; i++)
        len += el[i].len + (i > 0);
    if (tail)
        len += 1 + tail->len;
    return len;
}

/* print_length/6 with depth -1 and no chars limit */
/* flat_len - the one-line length of T, or LIMIT + 1 once it is longer than LIMIT */
static long flat_len(struct pctx *c, const struct term *t, long limit)
{
    long len = leaf_text(&c->scratch, t);
    buf_reset(&c->scratch);
    if (len >= 0)
        return len;
    switch ((enum term_type)t->type) {
    case TERM_LIST:
    case TERM_TUPLE: {
        bool list = t->type == TERM_LIST;
        size_t n = list ? t->u.list.n : t->u.tuple.n;
        const struct term *const *el = list ? t->u.list.el : t->u.tuple.el;
        len = 2;
        for (size_t i = 0; i < n && len <= limit; i++)
            len += flat_len(c, el[i], limit - len) + (i > 0);
        if (list && t->u.list.tail->type != TERM_NIL && len <= limit)
            len += 1 + flat_len(c, t->u.list.tail, limit - len);
        break;
    }
    case TERM_MAP:
        len = 3;
        for (size_t i = 0; i < t->u.map.n && len <= limit; i++) {
            len += (i > 0) + 4 + flat_len(c, t->u.map.keys[i], limit - len);
            if (len <= limit)
                len += flat_len(c, t->u.map.vals[i], limit - len);
        }
        break;
    default: /* a binary written as numbers */
        put_binary_bytes(&c->scratch, t);
        len = (long)c->scratch.len;
        buf_reset(&c->scratch);
        break;
    }
    return len > limit ? limit + 1 : len;
}

static void plen(struct pctx *c, const struct term *t, struct pnode *p);

/* plen_kids - the element nodes of container node P (of term T) */
static void plen_kids(struct pctx *c, const struct term *t, struct pnode *p)
{
    p->tail = NULL;
    switch ((enum term_type)t->type) {
    case TERM_LIST:
        p->el = arena_alloc_raw(&c->arena, p->n * sizeof *p->el);
        for (size_t i = 0; i < p->n; i++)
            plen(c, t->u.list.el[i], &p->el[i]);
        if (t->u.list.tail->type != TERM_NIL) {
            p->tail = arena_alloc_raw(&c->arena, sizeof *p->tail);
            plen(c, t->u.list.tail, p->tail);
        }
        return;
    case TERM_TUPLE:
        p->el = arena_alloc_raw(&c->arena, p->n * sizeof *p->el);
        for (size_t i = 0; i < p->n; i++)
            plen(c, t->u.tuple.el[i], &p->el[i]);
        return;
    case TERM_MAP: {
        size_t *ix = map_order(t);
        p->el = arena_alloc_raw(&c->arena, p->n * sizeof *p->el);
        for (size_t i = 0; i < p->n; i++) {
            struct pnode *pair = &p->el[i];
            memset(pair, 0, sizeof *pair);
            pair->kind = PK_PAIR;
            pair->n = 2;
            pair->el = arena_alloc_raw(&c->arena, 2 * sizeof *pair->el);
            plen(c, t->u.map.keys[ix[i]], &pair->el[0]);
            plen(c, t->u.map.vals[ix[i]], &pair->el[1]);
            pair->len = pair->el[0].len + 4 + pair->el[1].len;
        }
        free(ix);
        return;
    }
    default:
        return;
    }
}

/* kids - the elements of container node P, made now if they were left out */
static const struct pnode *kids(struct pctx *c, const struct pnode *p)
{
    if (!p->el) {
        struct pnode *q = (struct pnode *)p; /* the nodes are this printer's own */
        plen_kids(c, q->leaf, q);
    }
    return p->el;
}

static void plen(struct pctx *c, const struct term *t, struct pnode *p)
{
    memset(p, 0, sizeof *p);
    long len = leaf_text(&c->scratch, t);
    buf_reset(&c->scratch);
    if (len >= 0) {
        p->kind = PK_LEAF;
        p->len = len;
        p->leaf = t;
        return;
    }
    switch ((enum term_type)t->type) {
    case TERM_LIST:
        p->kind = PK_LIST;
        p->n = t->u.list.n;
        break;
    case TERM_TUPLE:
        p->kind = t->u.tuple.n > 1 && t->u.tuple.el[0]->type == TERM_ATOM ? PK_TAG : PK_TUPLE;
        p->n = t->u.tuple.n;
        break;
    case TERM_MAP:
        p->kind = PK_MAP;
        p->n = t->u.map.n;
        break;
    default: /* a binary written as numbers */
        put_binary_bytes(&c->scratch, t);
        p->kind = PK_BIN;
        p->len = (long)c->scratch.len;
        p->bits = t;
        buf_reset(&c->scratch);
        return;
    }
    /* one line (width 0): the whole term is written in one go */
    long line = c->ll > 0 ? c->ll : LONG_MAX - 1;
    p->len = flat_len(c, t, line);
    if (p->len <= line) { /* elements made when needed */
        p->leaf = t;
        return;
    }
    plen_kids(c, t, p);
    p->len = seq_length(p->el, p->n, p->tail, p->kind == PK_MAP ? 3 : 2);
}

/* pwrite_term - the one-line form of T, as pwrite writes its node */
static void pwrite_term(struct pctx *c, const struct term *t)
{
    struct buf *o = c->out;
    if (leaf_text(o, t) >= 0)
        return;
    switch ((enum term_type)t->type) {
    case TERM_LIST:
    case TERM_TUPLE: {
        bool list = t->type == TERM_LIST;
        size_t n = list ? t->u.list.n : t->u.tuple.n;
        const struct term *const *el = list ? t->u.list.el : t->u.tuple.el;
        buf_addc(o, list ? '[' : '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_addc(o, ',');
            pwrite_term(c, el[i]);
        }
        if (list && t->u.list.tail->type != TERM_NIL) {
            buf_addc(o, '|');
            pwrite_term(c, t->u.list.tail);
        }
        buf_addc(o, list ? ']' : '}');
        return;
    }
    case TERM_MAP: {
        size_t *ix = map_order(t);
        buf_adds(o, "#{");
        for (size_t i = 0; i < t->u.map.n; i++) {
            if (i)
                buf_addc(o, ',');
            pwrite_term(c, t->u.map.keys[ix[i]]);
            buf_adds(o, " => ");
            pwrite_term(c, t->u.map.vals[ix[i]]);
        }
        buf_addc(o, '}');
        free(ix);
        return;
    }
    default:
        put_binary_bytes(o, t);
        return;
    }
}

/* ---- ~tp: writing on one line (write/1) ----------------------------------------------- */

static void pwrite(struct pctx *c, const struct pnode *p)
{
    struct buf *o = c->out;
    switch ((enum pkind)p->kind) {
    case PK_LEAF:
        leaf_text(o, p->leaf);
        break;
    case PK_LIST:
    case PK_TUPLE:
    case PK_TAG:
    case PK_MAP:
        if (!p->el) {
            pwrite_term(c, p->leaf);
            break;
        }
        if (p->kind == PK_MAP)
            buf_adds(o, "#{");
        else
            buf_addc(o, p->kind == PK_LIST ? '[' : '{');
        for (size_t i = 0; i < p->n; i++) {
            if (i)
                buf_addc(o, ',');
            pwrite(c, &p->el[i]);
        }
        if (p->tail) {
            buf_addc(o, '|');
            pwrite(c, p->tail);
        }
        buf_addc(o, p->kind == PK_LIST ? ']' : '}');
        break;
    case PK_PAIR:
        pwrite(c, &p->el[0]);
        buf_adds(o, " => ");
        pwrite(c, &p->el[1]);
        break;
    case PK_BIN:
        put_binary_bytes(o, p->bits);
        break;
    }
}

static void spaces(struct buf *o, long n)
{
    if (n <= 0)
        return;
    char *w = buf_reserve(o, (size_t)n);
    memset(w, ' ', (size_t)n);
    o->len += (size_t)n;
    o->p[o->len] = '\0';
}

static void newline_indent(struct buf *o, long ind)
{
    buf_addc(o, '\n');
    spaces(o, ind);
}

/* ?ATM: the node is plain characters */
static bool atm(const struct pnode *p)
{
    return p->kind == PK_LEAF;
}

static bool atm_pair(const struct pnode *p)
{
    return atm(&p->el[0]) && atm(&p->el[1]);
}

/* the test of pp_tail/cind_tail/pp_pairs_tail for putting an element on the current line */
static bool fits_on_line(struct pctx *c, long elen, long col, long ld1, long w)
{
    if (ld1 == 0)
        return elen + 1 < c->ll - col && w + elen + 1 <= c->m;
    return elen < c->ll - col - ld1 && w + elen + ld1 <= c->m;
}

/* the first clause of pp/cind and friends: the whole node fits where it starts */
static bool fits(struct pctx *c, const struct pnode *p, long col, long ld, long w)
{
    return p->len < c->ll - col - ld && p->len + w + ld <= c->m;
}

/* ---- ~tp: the layout (pp) -------------------------------------------------------------- */

static void pp(struct pctx *c, const struct pnode *p, long col, long tind, long ind, long ld,
               long w);

/* pp_element/8: returns the width WE */
static long pp_element(struct pctx *c, const struct pnode *e, long col, long tind, long ind,
                       long ld, long w)
{
    if (fits(c, e, col, ld, w) && atm(e)) {
        pwrite(c, e);
        return e->len;
    }
    pp(c, e, col, tind, ind, ld, w);
    return c->ll; /* force a newline */
}

/* pp_tail/10 over elements FROM.. of EL (then TAIL), with separator SEP before TAIL */
static void pp_tail(struct pctx *c, const struct pnode *el, size_t from, size_t n,
                    const struct pnode *tail, long col0, long col, long tind, long ind, long ld,
                    char sep, long w)
{
    struct buf *o = c->out;
    for (size_t i = from; i < n; i++) {
        const struct pnode *e = &el[i];
        long ld1 = i + 1 < n ? 0 : ld + 1;
        long elen = 1 + e->len;
        if (fits_on_line(c, elen, col, ld1, w) && atm(e)) {
            buf_addc(o, ',');
            pwrite(c, e);
            col += elen;
            w += elen;
        } else {
            buf_addc(o, ',');
            newline_indent(o, ind);
            long we = pp_element(c, e, col0, tind, ind, ld1, 0);
            col = col0 + we;
            w = we;
        }
    }
    if (!tail)
        return;
    buf_addc(o, sep);
    if (tail->len + 1 < c->ll - col - (ld + 1) && tail->len + 1 + w + (ld + 1) <= c->m &&
        atm(tail)) {
        pwrite(c, tail);
    } else {
        newline_indent(o, ind);
        pp(c, tail, col0, tind, ind, ld + 1, 0);
    }
}

/* pp_list/9 */
static void pp_list(struct pctx *c, const struct pnode *el, size_t n, const struct pnode *tail,
                    long col0, long tind, long ind, long ld, char sep, long w)
{
    long ld1 = n > 1 ? 0 : ld + 1;
    long we = pp_element(c, &el[0], col0, tind, ind, ld1, w);
    pp_tail(c, el, 1, n, tail, col0, col0 + we, tind, ind, ld, sep, w + we);
}

static void pp_tag_tuple(struct pctx *c, const struct pnode *p, long col, long tind, long ind,
                         long ld, long w)
{
    const struct pnode *tag = &p->el[0];
    long tlen = tag->len, tagind = tlen + 2, tcol = col + tagind;
    pwrite(c, tag);
    if (tind > 0 && tagind > tind) {
        pp_tail(c, p->el, 1, p->n, NULL, col + tind, tcol, tind, ind + tind, ld, ',', w + tlen);
    } else {
        buf_addc(c->out, ',');
        pp_list(c, p->el + 1, p->n - 1, NULL, tcol, tind, ind + tagind, ld, ',', w + tlen + 1);
    }
}

/* pp_pair/8: returns the width PW */
static long pp_pair(struct pctx *c, const struct pnode *pair, long col, long tind, long ind,
                    long ld, long w)
{
    if (fits(c, pair, col, ld, w)) {
        pwrite(c, pair);
        return atm_pair(pair) ? pair->len : c->ll;
    }
    long i = tind > 0 ? tind : 4; /* map_value_indent/1 */
    pp(c, &pair->el[0], col, tind, ind, ld, w);
    buf_adds(c->out, " =>");
    newline_indent(c->out, ind + i);
    pp(c, &pair->el[1], col + i, tind, ind + i, ld, 0);
    return c->ll;
}

static void pp_map(struct pctx *c, const struct pnode *p, long col, long tind, long ind, long ld,
                   long w)
{
    long pw = pp_pair(c, &p->el[0], col, tind, ind, p->n > 1 ? 0 : ld + 1, w);
    long col0 = col;
    col = col0 + pw;
    w = pw; /* sic: pp_map/8 passes PW, not W + PW */
    for (size_t i = 1; i < p->n; i++) {
        const struct pnode *e = &p->el[i];
        long ld1 = i + 1 < p->n ? 0 : ld + 1;
        long elen = 1 + e->len;
        if (fits_on_line(c, elen, col, ld1, w) && atm_pair(e)) {
            buf_addc(c->out, ',');
            pwrite(c, e);
            col += elen;
            w += elen;
        } else {
            buf_addc(c->out, ',');
            newline_indent(c->out, ind);
            pw = pp_pair(c, e, col0, tind, ind, ld1, 0);
            col = col0 + pw;
            w = pw;
        }
    }
}

/* pp_binary/7: the numbers of a binary, wrapped at the line width */
static void pp_binary(struct pctx *c, const struct pnode *p, long col, long ind, long ld, long w)
{
    struct buf *o = c->out;
    long a = c->ll - col, b = c->m - 4 - w;
    long n0 = (a < b ? a : b) - ld;
    if (n0 < 8)
        n0 = 8;
    long n = n0;
    const struct term *t = p->bits;
    size_t full = t->u.bits.nbits / 8, rest = t->u.bits.nbits % 8;
    size_t items = full + (rest != 0);
    char s[48];
    buf_adds(o, "<<");
    for (size_t i = 0; i < items; i++) {
        bool last = i + 1 == items;
        int sl;
        if (i < full)
            sl = snprintf(s, sizeof s, "%u", t->u.bits.data[i]);
        else
            sl = snprintf(s, sizeof s, "%u:%zu", t->u.bits.data[full] >> (8 - rest), rest);
        if (!last) {
            long len = sl + 1;
            if (n - len < 0) {
                newline_indent(o, ind);
                n = n0 - len;
            } else {
                n -= len;
            }
            buf_add(o, s, (size_t)sl);
            buf_addc(o, ',');
        } else {
            if (sl > n)
                newline_indent(o, ind);
            buf_add(o, s, (size_t)sl);
        }
    }
    buf_adds(o, ">>");
}

static void pp(struct pctx *c, const struct pnode *p, long col, long tind, long ind, long ld,
               long w)
{
    if (fits(c, p, col, ld, w)) {
        pwrite(c, p);
        return;
    }
    struct buf *o = c->out;
    if (p->kind != PK_LEAF && p->kind != PK_BIN)
        kids(c, p);
    switch ((enum pkind)p->kind) {
    case PK_LIST:
        buf_addc(o, '[');
        pp_list(c, p->el, p->n, p->tail, col + 1, tind, ind + 1, ld, '|', w + 1);
        buf_addc(o, ']');
        break;
    case PK_TAG:
        buf_addc(o, '{');
        pp_tag_tuple(c, p, col, tind, ind, ld, w + 1);
        buf_addc(o, '}');
        break;
    case PK_TUPLE:
        buf_addc(o, '{');
        pp_list(c, p->el, p->n, NULL, col + 1, tind, ind + 1, ld, ',', w + 1);
        buf_addc(o, '}');
        break;
    case PK_MAP:
        buf_adds(o, "#{");
        pp_map(c, p, col + 2, tind, ind + 2, ld, w + 1);
        buf_addc(o, '}');
        break;
    case PK_BIN:
        pp_binary(c, p, col + 2, ind + 2, ld, w);
        break;
    case PK_LEAF:
    case PK_PAIR:
        pwrite(c, p);
        break;
    }
}

/* ---- ~tp: choosing the tag indentation (cind) ------------------------------------------ */

/* Each returns false where io_lib_pretty throws no_good. */
static bool cind(struct pctx *c, const struct pnode *p, long col, long ind, long ld, long w);

/* cind_element/7: the width into *WE */
static bool cind_element(struct pctx *c, const struct pnode *e, long col, long ind, long ld, long w,
                         long *we)
{
    if (fits(c, e, col, ld, w) && atm(e)) {
        *we = e->len;
        return true;
    }
    *we = c->ll;
    return cind(c, e, col, ind, ld, w);
}

static bool cind_tail(struct pctx *c, const struct pnode *el, size_t from, size_t n,
                      const struct pnode *tail, long col0, long col, long ind, long ld, long w)
{
    for (size_t i = from; i < n; i++) {
        const struct pnode *e = &el[i];
        long ld1 = i + 1 < n ? 0 : ld + 1;
        long elen = 1 + e->len;
        if (fits_on_line(c, elen, col, ld1, w) && atm(e)) {
            col += elen;
            w += elen;
        } else {
            long we;
            if (!cind_element(c, e, col0, ind, ld1, 0, &we))
                return false;
            col = col0 + we;
            w = we;
        }
    }
    if (!tail)
        return true;
    if (tail->len + 1 < c->ll - col - (ld + 1) && tail->len + 1 + w + (ld + 1) <= c->m && atm(tail))
        return true;
    return cind(c, tail, col, ind, ld + 1, 0); /* sic: Col, where pp_tail uses Col0 */
}

static bool cind_list(struct pctx *c, const struct pnode *el, size_t n, const struct pnode *tail,
                      long col0, long ind, long ld, long w)
{
    long we;
    if (!cind_element(c, &el[0], col0, ind, n > 1 ? 0 : ld + 1, w, &we))
        return false;
    return cind_tail(c, el, 1, n, tail, col0, col0 + we, ind, ld, w + we);
}

static bool cind_tag_tuple(struct pctx *c, const struct pnode *p, long col, long ind, long ld,
                           long w)
{
    long tlen = p->el[0].len, tagind = tlen + 2, tcol = col + tagind;
    if (ind > 0 && tagind > ind) {
        long col1 = col + ind;
        if (c->m + col1 <= c->ll || col1 <= c->ll / 2)
            return cind_tail(c, p->el, 1, p->n, NULL, col1, tcol, ind, ld, w + tlen);
        return false;
    }
    if (c->m + tcol < c->ll || tcol < c->ll / 2)
        return cind_list(c, p->el + 1, p->n - 1, NULL, tcol, ind, ld, w + tlen + 1);
    return false;
}

/* cind_pair/7: the width into *PW */
static bool cind_pair(struct pctx *c, const struct pnode *pair, long col, long ind, long ld, long w,
                      long *pw)
{
    if (fits(c, pair, col, ld, w)) {
        *pw = atm_pair(pair) ? pair->len : c->ll;
        return true;
    }
    *pw = c->ll;
    if (!cind(c, &pair->el[0], col, ind, ld, w))
        return false;
    long i = ind > 0 ? ind : 4;
    return cind(c, &pair->el[1], col + i, ind, ld, 0);
}

static bool cind_map(struct pctx *c, const struct pnode *p, long col, long ind, long ld, long w)
{
    long pw;
    if (!cind_pair(c, &p->el[0], col, ind, p->n > 1 ? 0 : ld + 1, w, &pw))
        return false;
    long col0 = col;
    col = col0 + pw;
    w = w + pw; /* sic: cind_map/7 passes W + PW */
    for (size_t i = 1; i < p->n; i++) {
        const struct pnode *e = &p->el[i];
        long ld1 = i + 1 < p->n ? 0 : ld + 1;
        long elen = 1 + e->len;
        if (fits_on_line(c, elen, col, ld1, w) && atm_pair(e)) {
            col += elen;
            w += elen;
        } else {
            if (!cind_pair(c, e, col0, ind, ld1, 0, &pw))
                return false;
            col = col0 + pw;
            w = pw;
        }
    }
    return true;
}

static bool cind(struct pctx *c, const struct pnode *p, long col, long ind, long ld, long w)
{
    if (fits(c, p, col, ld, w))
        return true;
    if (p->kind != PK_LEAF && p->kind != PK_BIN)
        kids(c, p);
    switch ((enum pkind)p->kind) {
    case PK_LIST:
        return cind_list(c, p->el, p->n, p->tail, col + 1, ind, ld, w + 1);
    case PK_TAG:
        return cind_tag_tuple(c, p, col, ind, ld, w + 1);
    case PK_TUPLE:
        return cind_list(c, p->el, p->n, NULL, col + 1, ind, ld, w + 1);
    case PK_MAP:
        return cind_map(c, p, col + 2, ind, ld, w + 2);
    default:
        return true;
    }
}

/* ---- entry points ---------------------------------------------------------------------- */

void term_print_at(struct buf *out, const struct term *t, int col, int width)
{
    if (col <= 0)
        col = 1;
    switch ((enum term_type)t->type) {
    case TERM_NIL:
    case TERM_LIST:
    case TERM_TUPLE:
    case TERM_MAP:
    case TERM_BITS:
        break;
    default:
        put_atomic(out, t);
        return;
    }
    struct pctx c;
    arena_init(&c.arena);
    c.scratch = (struct buf)BUF_INIT;
    c.out = out;
    c.ll = width;
    struct pnode root;
    plen(&c, t, &root);
    struct pnode *p = &root;
    c.m = p->len; /* line_max_chars -1: M is the whole length */
    if (width == 0 || p->len < (long)width - col) {
        pwrite(&c, p);
    } else {
        long tind = 1;
        if (cind(&c, p, col, -1, 0, 0))
            tind = -1;
        else if (cind(&c, p, col, 4, 0, 0))
            tind = 4;
        pp(&c, p, col, tind, col - 1, 0, 0);
    }
    buf_free(&c.scratch);
    arena_close(&c.arena);
}

void term_print_line(struct buf *out, const struct term *t)
{
    term_print_at(out, t, 1, 0);
}

char *term_show(struct arena *a, const struct term *t, size_t max)
{
    struct buf b = BUF_INIT;
    term_print_line(&b, t);
    if (max > 0 && b.len > max) {
        size_t cut = max > 10 ? max - 10 : max;
        while (cut > 0 && ((unsigned char)b.p[cut] & 0xC0) == 0x80)
            cut--; /* not inside a UTF-8 sequence */
        b.len = cut;
        buf_adds(&b, "...");
    }
    char *s = arena_strdup(a, buf_cstr(&b));
    buf_free(&b);
    return s;
}

void term_print(struct buf *out, const struct term *t)
{
    term_print_at(out, t, 1, 80);
}

void term_print_file_terms(struct buf *out, const struct term *terms)
{
    /* systools_relup, systools_make and release_handler all write
     * io:format(Fd, "%% ~s~n~tp.~n", [epp:encoding_to_string(utf8), Term]) */
    buf_adds(out, "%% coding: utf-8\n");
    size_t n = 0;
    const struct term *const *el = term_list_els(terms, &n);
    for (size_t i = 0; i < n; i++) {
        term_print(out, el[i]);
        buf_adds(out, ".\n");
    }
}
