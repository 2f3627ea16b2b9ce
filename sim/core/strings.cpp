#include "sim/core/strings.hpp"

namespace isolab {

namespace {
constexpr const char* kSpace = " \t\r\n\v\f";
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

}  // namespace isolab
