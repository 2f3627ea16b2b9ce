// The few string helpers every layer needs, once (issue 13 found seven trims and six all_digits).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/core/result.hpp"

namespace isolab {

// S without leading and trailing white space (space, tab, CR, LF, VT, FF).
std::string trim(std::string s);
// The same, as a view into S (no copy).
std::string_view trim_view(std::string_view s);
// S without leading spaces and tabs.
std::string trim_left(std::string s);
// S is one or more ASCII digits and nothing else.
bool all_digits(std::string_view s);
// Go's %q for the strings that appear in Docker's messages: "value" with \" \\ and control escapes.
std::string go_quote(std::string_view s);
// go-units RAMInBytes: "512", "512b", "64k", "64kb", "1.5g", "2 GiB" (binary units, any case, up
// to p). Its errors word for word: "invalid size: '12q'", "invalid suffix: 'q'", strconv's.
Result<int64_t> go_ram_in_bytes(std::string_view text);
// Go's sortorder.NaturalLess (Docker sorts volume names and prune filters with it): runs of digits
// compare as numbers ("v2" < "v10"), everything else byte by byte.
bool natural_less(const std::string& a, const std::string& b);
// Terminal columns taken by UTF-8 text S: Hangul and other East Asian wide characters take two,
// so Korean labels line up with English ones in a padded table.
size_t display_width(std::string_view s);

}  // namespace isolab
