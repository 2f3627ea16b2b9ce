// The Korean a learner reads: one term per concept (assets/strings/terms.json), 해요체 in the window
// and the lessons, and no English outside commands, flags and names. Each checker is shown failing on
// a made-up sentence first, so a green run means the real texts pass, not that the checker is blind.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/i18n.hpp"
#include "sim/lesson/lesson.hpp"

using nlohmann::json;
using namespace isolab;

namespace {

// ---- reading the texts ------------------------------------------------------------------------

json read_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    return json::parse(in);
}

struct Text {
    std::string where;  // "ko.json gui.action.pause" or "07-lifecycle.json .steps[3].title"
    std::string key;    // the string table's key; "" for a lesson text
    std::string text;
};

// Every Korean string of assets/strings/ko.json.
std::vector<Text> korean_strings() {
    std::vector<Text> out;
    json table = read_json(i18n::assets_dir() + "/strings/ko.json");
    for (auto it = table.begin(); it != table.end(); ++it)
        out.push_back({"ko.json " + it.key(), it.key(), it.value().get<std::string>()});
    return out;
}

// Every "ko" text of every lesson file (titles, narratives, hints, quizzes, …): the schema's texts
// are {"en": …, "ko": …} objects wherever they appear, so a walk finds them all.
void collect_lesson_texts(const json& j, const std::string& file, const std::string& path, std::vector<Text>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == "ko" && it.value().is_string())
                out.push_back({file + " " + path, "", it.value().get<std::string>()});
            else
                collect_lesson_texts(it.value(), file, path + "." + it.key(), out);
        }
    } else if (j.is_array()) {
        for (size_t i = 0; i < j.size(); ++i) collect_lesson_texts(j[i], file, path + "[" + std::to_string(i) + "]", out);
    }
}

std::vector<Text> lesson_texts() {
    std::vector<Text> out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(lesson::lessons_dir()))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) collect_lesson_texts(read_json(f.string()), f.filename().string(), "", out);
    return out;
}

// Keys a learner reads in the window, the lesson player or `isolab race`. doctor.*, cli.*, build.*,
// filters.*, prune.* and engine.* are error and diagnostic messages, which may stay in 합니다체, and
// quote Docker's own English where Docker does.
bool learner_facing(std::string_view key) {
    for (std::string_view p : {"gui.", "lesson.", "race."})
        if (key.substr(0, p.size()) == p) return true;
    return false;
}

// ---- UTF-8 ----------------------------------------------------------------------------------

// The code point that starts at byte I of S (I moves past it); 0xFFFD for a broken sequence.
char32_t next_code_point(std::string_view s, size_t& i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    if (i + len > s.size()) {
        i = s.size();
        return 0xFFFD;
    }
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    return cp;
}

bool hangul_syllable(char32_t cp) { return cp >= 0xAC00 && cp <= 0xD7A3; }

// The code point that ends just before byte END of S (0 at the start).
char32_t code_point_before(std::string_view s, size_t end) {
    if (end == 0) return 0;
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    return next_code_point(s, start);
}

// ---- (a) one term per concept -----------------------------------------------------------------

struct Term {
    std::string en, ko;
    std::vector<std::string> forbidden;
    std::vector<std::string> keys;  // string-table keys whose text must hold the term
};

std::vector<Term> load_terms() {
    json j = read_json(i18n::assets_dir() + "/strings/terms.json");
    std::vector<Term> terms;
    for (const auto& t : j.at("terms")) {
        Term term{t.at("en").get<std::string>(), t.at("ko").get<std::string>(),
                  t.at("forbidden").get<std::vector<std::string>>(),
                  t.value("keys", std::vector<std::string>{})};
        terms.push_back(std::move(term));
    }
    return terms;
}

// "다시 시작 → 재시작 (restart)" for each forbidden variant TEXT holds.
std::vector<std::string> wrong_terms(std::string_view text, const std::vector<Term>& terms) {
    std::vector<std::string> found;
    for (const auto& t : terms)
        for (const auto& bad : t.forbidden)
            if (text.find(bad) != std::string_view::npos) found.push_back(bad + " → " + t.ko + " (" + t.en + ")");
    return found;
}

// ---- (b) 해요체 --------------------------------------------------------------------------------

// The first 합니다체 ending in TEXT ("합니다", "있습니까", "보십시오"), or "". A syllable whose final
// consonant is ㅂ followed by 니다 or 니까 is the formal ending (합니다, 됩니다, 입니다, 습니다);
// 니까 after anything else is the connective "because" (있으니까, 하니까), which is fine. Any
// position counts, not only the end of a sentence: "합니다만" is as formal as "합니다."
std::string formal_ending(std::string_view text) {
    for (std::string_view tail : {"니다", "니까"}) {
        for (size_t at = text.find(tail); at != std::string_view::npos; at = text.find(tail, at + 1)) {
            char32_t before = code_point_before(text, at);
            if (hangul_syllable(before) && (before - 0xAC00) % 28 == 17) {  // 17: the final ㅂ
                size_t start = at;
                while (start > 0 && (static_cast<unsigned char>(text[start - 1]) & 0xC0) == 0x80) --start;
                if (start > 0) --start;  // the lead byte of the syllable before
                return std::string(text.substr(start, at + tail.size() - start));
            }
        }
    }
    if (text.find("십시오") != std::string_view::npos) return "십시오";
    return "";
}

// Learner-facing keys allowed to stay in 합니다체, each with its reason. Empty today: every window
// and lesson string speaks 해요체. Add a key here only for a text that quotes formal Korean (a
// Korean program's output, a law), never to silence a string that should be converted.
const std::vector<std::string> kFormalAllowed = {};

// ---- (c) no English outside commands ---------------------------------------------------------

// Words a Korean sentence may hold as they are: names (products, programs, kernel objects) with no
// Korean word of their own, and the kernel's and OCI's identifiers a learner will type or read in
// `inspect`. Commands, flags, paths and Docker's messages go in backticks instead, which the check
// skips; a Korean term may add its English word in parentheses right after it, which it skips too.
const std::vector<std::string> kEnglishAllowed = {
    // products and projects
    "Docker", "Dockerfile", "BuildKit", "IsoLab", "QEMU", "Linux", "VirtualBox", "busybox", "httpd", "dockerd",
    "containerd", "runc", "docker-proxy", "slirp", "virtio",
    // kernel objects and the names Linux gives them (namespace kinds, file systems, calls)
    "cgroup", "freezer", "tmpfs", "overlay", "overlayfs", "devpts", "veth", "seccomp", "setsid", "setuid", "rslave",
    "ifindex", "clone", "exec", "init", "root", "user",
    // OCI hook names, as config.json spells them
    "createContainer", "startContainer",
    // a command named in a headline or a table cell, where backticks would be drawn as they are
    "uname",
    // keys on the keyboard
    "Enter", "Ctrl", "Ctrl-C", "Ctrl-D", "PageUp", "PageDown", "Space",
};

// Keys whose text is a picture of commands rather than a sentence: the lifecycle diagram draws
// "run = create + start" in a box, where backticks would be drawn too.
const std::vector<std::string> kEnglishAllowedKeys = {"gui.lifecycle.run_composite"};

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-' ||
           c == '+';
}

// English words of four or more letters in TEXT outside `backticks`, {N} placeholders and flags,
// that are not identifiers (a path, a file name, a version, anything with / . _ : + or a digit),
// acronyms (all capitals: HTTP, SIGINT, VOLUME), allowed names, or a gloss in parentheses right
// after a Korean word ("쓰기 레이어(writable layer)").
std::vector<std::string> english_words(std::string_view text) {
    std::string s(text);
    // Blank out what is exempt, keeping byte positions.
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '`') {
            size_t j = s.find('`', i + 1);
            if (j == std::string::npos) break;
            std::fill(s.begin() + static_cast<long>(i), s.begin() + static_cast<long>(j) + 1, ' ');
            i = j;
        } else if (s[i] == '{') {
            size_t j = i + 1;
            while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
            if (j > i + 1 && j < s.size() && s[j] == '}') std::fill(s.begin() + static_cast<long>(i), s.begin() + static_cast<long>(j) + 1, ' ');
        }
    }
    std::vector<std::string> found;
    for (size_t i = 0; i < s.size();) {
        if (!word_char(s[i]) || (static_cast<unsigned char>(s[i]) & 0x80)) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && word_char(s[j])) ++j;
        std::string token = s.substr(i, j - i);
        size_t start = i;
        i = j;
        if (token[0] == '-') continue;  // a flag: -p, --network
        while (!token.empty() && (token.back() == '.' || token.back() == ':' || token.back() == '-')) token.pop_back();
        if (token.find_first_of("/._:+0123456789") != std::string::npos) continue;
        size_t letters = static_cast<size_t>(std::count_if(token.begin(), token.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }));
        if (letters < 4) continue;
        if (std::all_of(token.begin(), token.end(), [](char c) { return !std::islower(static_cast<unsigned char>(c)); })) continue;
        if (std::find(kEnglishAllowed.begin(), kEnglishAllowed.end(), token) != kEnglishAllowed.end()) continue;
        // A gloss: inside parentheses that open right after a Hangul syllable.
        size_t open = s.rfind('(', start), close = s.rfind(')', start);
        if (open != std::string::npos && (close == std::string::npos || close < open) && hangul_syllable(code_point_before(s, open)))
            continue;
        found.push_back(token);
    }
    return found;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

}  // namespace

// ---- the checkers can fail ----------------------------------------------------------------------

TEST_CASE("Korean style checkers: each one catches a made-up bad sentence") {
    std::vector<Term> terms = {{"unpause", "일시정지 해제", {"다시 시작", "재개"}, {}},
                               {"bind mount", "바인드 마운트", {"바인드마운트"}, {}}};
    // (a) a wrong variant, and the right term passing.
    CHECK(wrong_terms("일시정지한 컨테이너를 다시 시작해요", terms) ==
          std::vector<std::string>{"다시 시작 → 일시정지 해제 (unpause)"});
    CHECK(wrong_terms("바인드마운트로 재개해요", terms).size() == 2);
    CHECK(wrong_terms("일시정지 해제를 누르세요. 바인드 마운트는 호스트 폴더예요.", terms).empty());

    // (b) 합니다체 endings, anywhere, and the 해요체 and connectives that are not.
    CHECK(formal_ending("컨테이너를 시작합니다.") == "합니다");
    CHECK(formal_ending("이미지가 없습니다") == "습니다");
    CHECK(formal_ending("실행 중입니까?") == "입니까");
    CHECK(formal_ending("다시 해 보십시오") == "십시오");
    CHECK(formal_ending("됩니다만 느려요") == "됩니다");
    CHECK(formal_ending("컨테이너를 시작해요. 실행 중이에요.") == "");
    CHECK(formal_ending("프로세스가 끝없이 늘어나니까요. 있으니까 돼요.") == "");
    CHECK(formal_ending("해 보세요") == "");

    // (c) English words, and what is exempt.
    CHECK(english_words("published port: 유저랜드 프록시") == std::vector<std::string>{"published", "port"});
    CHECK(english_words("메모리 256 MiB reserved") == std::vector<std::string>{"reserved"});
    CHECK(english_words("Docker와 QEMU, `docker run --rm busybox`로 실행해요").empty());
    CHECK(english_words("쓰기 레이어(writable layer)에 써요").empty());
    CHECK(english_words("{0} 컨테이너가 --read-only로 /proc/self/ns를 읽어요 (HTTP, SIGINT)").empty());
    CHECK(english_words("레이어 (writable layer)") == std::vector<std::string>{"writable", "layer"});  // a gloss sits on its word
    CHECK(english_words("the `ps` output") == std::vector<std::string>{"output"});
}

// ---- the real texts -------------------------------------------------------------------------------

TEST_CASE("terms.json: each term has a Korean word, forbidden variants, and its keys use it") {
    auto terms = load_terms();
    REQUIRE(terms.size() >= 30);
    json ko = read_json(i18n::assets_dir() + "/strings/ko.json");
    for (const auto& t : terms) {
        CHECK_MESSAGE(!t.ko.empty(), t.en);
        CHECK_MESSAGE(!t.forbidden.empty(), t.en << ": give the variants a Korean text must not use");
        for (const auto& bad : t.forbidden) CHECK_MESSAGE(t.ko.find(bad) == std::string::npos, t.en << ": " << bad);
        for (const auto& key : t.keys) {
            REQUIRE_MESSAGE(ko.contains(key), t.en << ": ko.json lacks " << key);
            CHECK_MESSAGE(ko[key].get<std::string>().find(t.ko) != std::string::npos,
                          key << " should say " << t.ko << " for " << t.en);
        }
    }
}

TEST_CASE("Korean strings and lessons use terms.json's term, never a listed variant") {
    auto terms = load_terms();
    auto texts = korean_strings();
    auto lessons = lesson_texts();
    REQUIRE(lessons.size() > 100);  // the walk found the lessons' texts
    texts.insert(texts.end(), lessons.begin(), lessons.end());
    for (const auto& t : texts) {
        auto wrong = wrong_terms(t.text, terms);
        CHECK_MESSAGE(wrong.empty(), t.where << ": " << joined(wrong));
    }
}

TEST_CASE("learner-facing Korean is 해요체: no 합니다/습니까/십시오 in the window, the player or a lesson") {
    for (const auto& key : kFormalAllowed) CHECK_MESSAGE(learner_facing(key), key << " is not learner-facing: drop it");
    size_t checked = 0;
    for (const auto& t : korean_strings()) {
        if (!learner_facing(t.key)) continue;
        ++checked;
        if (std::find(kFormalAllowed.begin(), kFormalAllowed.end(), t.key) != kFormalAllowed.end()) continue;
        std::string e = formal_ending(t.text);
        CHECK_MESSAGE(e.empty(), t.where << ": \"" << e << "\" in " << t.text);
    }
    CHECK(checked > 500);
    for (const auto& t : lesson_texts()) {
        std::string e = formal_ending(t.text);
        CHECK_MESSAGE(e.empty(), t.where << ": \"" << e << "\" in " << t.text);
    }
}

TEST_CASE("learner-facing Korean strings hold no English words outside commands, flags and names") {
    for (const auto& t : korean_strings()) {
        if (!learner_facing(t.key)) continue;
        if (std::find(kEnglishAllowedKeys.begin(), kEnglishAllowedKeys.end(), t.key) != kEnglishAllowedKeys.end()) continue;
        auto words = english_words(t.text);
        CHECK_MESSAGE(words.empty(), t.where << ": " << joined(words) << " in " << t.text);
    }
}
