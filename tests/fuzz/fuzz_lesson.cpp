// libFuzzer target for the lesson loader (sim/lesson/lesson.cpp). See README.md here.
//
// Feeds arbitrary bytes to parse_lesson() as a lesson file. Beyond ASan/UBSan findings it checks
// the loader's promises and aborts when one breaks: it never throws; a file gives either a lesson
// or at least one error, never both; every error names the file and a line inside it (or 0 for
// the whole file) and is one line; a loaded lesson has steps, both languages in every title, and
// a quiz with a correct choice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sim/lesson/lesson.hpp"

using namespace isolab::lesson;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    int lines = 1;
    for (char c : text) lines += c == '\n';
    LessonFile f;
    try {
        f = parse_lesson("fuzz.json", text);
    } catch (...) {
        check(false);  // the loader must never throw
    }
    check(f.lesson.has_value() != !f.errors.empty());
    for (const auto& e : f.errors) {
        check(e.file == "fuzz.json");
        check(e.line >= 0 && e.line <= lines);
        check(!e.message.empty());
        check(e.format().find('\n') == std::string::npos);
    }
    if (f.lesson) {
        check(!f.lesson->steps.empty());
        check(!f.lesson->title.en.empty() && !f.lesson->title.ko.empty());
        for (const auto& s : f.lesson->steps) {
            check(!s.title.en.empty() && !s.title.ko.empty());
            if (!s.quiz.empty()) {
                bool any = false;
                for (const auto& c : s.quiz.choices) any = any || c.correct;
                check(any);
            }
            if (s.predict) check(s.predict->answer < static_cast<int>(s.predict->choices.size()));
        }
    }
    return 0;
}
