#include "sim/core/strings.hpp"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <algorithm>

namespace isolab {

namespace {
constexpr const char* kSpace = " \t\r\n\v\f";
bool digit(char c) { return c >= '0' && c <= '9'; }
}

std::string_view trim_view(std::string_view s) {
    size_t b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(kSpace);
    return s.substr(b, e - b + 1);
}

std::string trim(std::string s) { return std::string(trim_view(s)); }

std::string trim_left(std::string s) {
    size_t b = s.find_first_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b);
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Go's %q for the strings that appear in pflag messages: "value" with \" \\ and control escapes.
std::string go_quote(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}


Result<int64_t> go_ram_in_bytes(std::string_view text) {
    // go-units RAMInBytes (parseSize): the number is everything up to the last digit, '.' or space
    // (a space is dropped), the rest a suffix: b, or k/m/g/t/p with an optional "b" or "ib", binary
    // multiples, any case. Its three errors, word for word.
    const std::string original(text);
    auto invalid_size = [&] { return make_error("invalid size: '" + original + "'"); };
    size_t sep = original.find_last_of("01234567890. ");
    if (sep == std::string::npos) return invalid_size();
    std::string num = original[sep] == ' ' ? original.substr(0, sep) : original.substr(0, sep + 1);
    std::string sfx = original.substr(sep + 1);
    // strconv.ParseFloat on decimal text: [+-] digits [. digits], at least one digit.
    auto syntax_error = [&] { return make_error("strconv.ParseFloat: parsing " + go_quote(num) + ": invalid syntax"); };
    size_t i = 0;
    bool negative = false;
    if (i < num.size() && (num[i] == '+' || num[i] == '-')) negative = num[i++] == '-';
    long double value = 0;
    int digits = 0;
    for (; i < num.size() && digit(num[i]); ++i, ++digits) value = value * 10 + (num[i] - '0');
    if (i < num.size() && num[i] == '.') {
        long double scale = 0.1L;  // digit arithmetic, not strtold: the GUI's locale may use ','
        for (++i; i < num.size() && digit(num[i]); ++i, ++digits, scale /= 10) value += (num[i] - '0') * scale;
    }
    if (digits == 0 || i != num.size()) return syntax_error();
    if (negative && value != 0) return invalid_size();
    auto bad_suffix = [&](const std::string& shown) { return make_error("invalid suffix: '" + shown + "'"); };
    if (!sfx.empty()) {
        if (sfx.size() > 3) return bad_suffix(sfx);
        std::string lower = sfx;
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower[0] == 'b') {
            if (lower.size() > 1) return bad_suffix(lower);
        } else {
            const char* const units = "kmgtp";
            const char* unit = std::strchr(units, lower[0]);
            if (!unit || lower[0] == '\0') return bad_suffix(lower);
            for (long k = 0; k <= unit - units; ++k) value *= 1024.0L;
            if ((lower.size() == 2 && lower[1] != 'b') || (lower.size() == 3 && lower.substr(1) != "ib"))
                return bad_suffix(lower);
        }
    }
    if (value >= 9.2233720368547758e18L) return invalid_size();  // would not fit int64
    return static_cast<int64_t>(value);
}

bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (digit(a[i]) && digit(b[j])) {
            size_t ei = i, ej = j;
            while (ei < a.size() && digit(a[ei])) ++ei;
            while (ej < b.size() && digit(b[ej])) ++ej;
            std::string na = a.substr(i, ei - i), nb = b.substr(j, ej - j);
            na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
            nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = ei;
            j = ej;
            continue;
        }
        if (a[i] != b[j]) return a[i] < b[j];
        ++i;
        ++j;
    }
    return a.size() - i < b.size() - j;
}

size_t display_width(std::string_view s) {
    size_t width = 0;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        char32_t cp = c;
        size_t len = 1;
        if (c >= 0xF0) len = 4, cp = c & 0x07;
        else if (c >= 0xE0) len = 3, cp = c & 0x0F;
        else if (c >= 0xC0) len = 2, cp = c & 0x1F;
        for (size_t k = 1; k < len && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        i += len;
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6);
        width += wide ? 2 : 1;
    }
    return width;
}

}  // namespace isolab
