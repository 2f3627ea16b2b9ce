// Translations: a tiny string table so that everything a learner reads exists in Korean and English.
//
// Strings live in two flat JSON objects, DIR/en.json and DIR/ko.json ({"key": "text"}), where DIR
// is assets_dir() + "/strings". They are loaded lazily by the first tr() and never unloaded.
// Keys are dotted ("doctor.cap.kvm"); texts may hold positional placeholders {0}, {1}, … that
// trf() fills in. English is the reference language: a key missing in Korean falls back to the
// English text, and a key missing in both falls back to the key itself, so a forgotten string shows
// up as a visible key rather than as an empty label. A unit test asserts missing_translations() is
// empty, so neither fallback should ever be seen in a release.
//
// Thread safety: every function may be called from any thread. References returned by tr() stay
// valid for the life of the process (a table replaced by load_strings() is retired, not freed).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab::i18n {

enum class Lang { En, Ko };

void set_language(Lang lang);
Lang language();              // En until set_language() is called
const char* language_code(Lang lang);  // "en" | "ko"

// The language a front end should start in. The first source that says something decides:
//   1. FLAG (the value of --lang, or nullptr): "ko…" → Ko, "en…" → En (anything else is ignored;
//      the argument parser is the place to reject a bad --lang);
//   2. $ISOLAB_LANG, read the same way;
//   3. the POSIX locale for messages: the first non-empty of LC_ALL, LC_MESSAGES, LANG; Ko when it
//      starts with "ko" (ko_KR.UTF-8), En otherwise (C, POSIX, en_US.UTF-8, …).
// Nothing set at all → En.
Lang detect_language(const char* flag);

// The text of KEY in the current language → English → KEY itself.
const std::string& tr(std::string_view key);

// tr(KEY) with {0}, {1}, … replaced by ARGS in order. A placeholder without an argument is left
// as written, so a mistake is visible rather than silent.
std::string trf(std::string_view key, std::initializer_list<std::string> args);

// trf for a sentence about COUNT things: the text of "KEY.zero" when COUNT is 0 and "KEY.one"
// when it is 1, where the table has them ("1 process", "no steps yet"), else KEY's.
std::string trn(std::string_view key, long long count, std::initializer_list<std::string> args);

// trf in LANG rather than the current language, with the arguments in a vector: one table entry
// gives both a message written for a file (English, `isolab lesson check`) and the same message
// shown to a learner in their language.
std::string trf_in(Lang lang, std::string_view key, const std::vector<std::string>& args);

// Korean particles after a word whose sound is not known when the text is written (a container's
// name, a number, a command): PAIR is the marker a Korean text writes after a placeholder,
// "이(가)", "은(는)", "을(를)", "과(와)", "와(과)", "아(야)", "(이)" or "(으)로", and the result is
// the one form that fits WORD's last syllable: the first form after a final consonant (받침), the
// second after a vowel; "(으)로" is "로" after a vowel or ㄹ. The sound is read from the last
// letter or digit, skipping closing quotes and brackets: a Hangul syllable by its 받침, a digit as
// Korean reads it (1 일, 3 삼, 6 육, 7 칠, 8 팔, 0 영 end in a consonant), a Latin letter as Korean
// says the English word's end (…l, …m, …n, …ng, …b, …d, …g, …k, …p, …t and the letters L, M, N,
// R alone end in a consonant: 웹, 랩; a vowel or other letter does not: 박스, 엔진엑스). Anything
// else takes the vowel form. Returns PAIR unchanged when it is not a marker.
std::string particle(std::string_view word, std::string_view pair);

// fill() applies particle() to every marker that follows a placeholder in a Korean text
// ("{0}이(가)", "`{0}`을(를)"), so no learner ever reads a "이(가)".

// Loads DIR/en.json and DIR/ko.json and makes them the current tables. Both files must exist and
// hold one flat object of strings; on any error nothing changes and the error names the file.
Status load_strings(const std::string& dir);

// Where IsoLab's assets are, first match wins:
//   1. $ISOLAB_ASSETS;
//   2. <directory of /proc/self/exe>/../share/isolab/assets, when it exists (an installed tree);
//   3. ISOLAB_SOURCE_DIR "/assets" (a compile definition the build provides; "assets" without it).
std::string assets_dir();

// Every difference between the two tables, one readable line each:
//   "ko.json lacks `doctor.cap.kvm`", "en.json lacks `…`", "ko.json: `…` is empty",
//   "ko.json: `…` uses placeholders {0} but en.json uses {0} {1}".
// When the tables cannot be loaded, the single line says why. Empty means complete.
std::vector<std::string> missing_translations();

}  // namespace isolab::i18n
