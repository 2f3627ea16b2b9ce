#include "sim/core/i18n.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace isolab::i18n {

namespace {

using Table = std::map<std::string, std::string, std::less<>>;

struct Tables {
    Table en, ko;
};

std::atomic<Lang> g_lang{Lang::En};

// g_current is read without the lock on the hot path (the GUI calls tr() every frame); it only
// ever moves from one complete, immutable Tables to another. Every Tables ever published stays in
// g_all so that references handed out by tr() never dangle.
std::atomic<const Tables*> g_current{nullptr};
std::mutex g_mutex;                                  // guards everything below
std::list<std::unique_ptr<Tables>> g_all;
bool g_lazy_load_tried = false;                      // the lazy load is attempted once only
std::string g_lazy_load_error;
std::set<std::string, std::less<>> g_unknown_keys;   // storage for "the key itself" fallbacks

Result<std::string> read_whole_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("read `" + path + "`", errno);
    std::string data;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return errno_error("read `" + path + "`", err);
        }
        if (n == 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return data;
}

Result<Table> parse_table(const std::string& path) {
    auto text = read_whole_file(path);
    if (!text) return text.error();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::parse_error& e) {
        return make_error("parse `" + path + "`: " + e.what());
    }
    if (!j.is_object()) return make_error("`" + path + "` must hold one JSON object of strings");
    Table table;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.value().is_string())
            return make_error("`" + path + "`: the value of `" + it.key() + "` must be a string");
        table.emplace(it.key(), it.value().get<std::string>());
    }
    return table;
}

// Precondition: g_mutex is held.
Status load_locked(const std::string& dir) {
    auto en = parse_table(dir + "/en.json");
    if (!en) return en.error();
    auto ko = parse_table(dir + "/ko.json");
    if (!ko) return ko.error();
    auto tables = std::make_unique<Tables>();
    tables->en = std::move(*en);
    tables->ko = std::move(*ko);
    g_current.store(tables.get(), std::memory_order_release);
    g_all.push_back(std::move(tables));
    return {};
}

// The current tables, loading them from assets_dir() on first use. Null when that load failed.
const Tables* tables() {
    if (const Tables* t = g_current.load(std::memory_order_acquire)) return t;
    std::lock_guard lock(g_mutex);
    if (!g_lazy_load_tried && !g_current.load(std::memory_order_acquire)) {
        g_lazy_load_tried = true;
        std::string dir = assets_dir() + "/strings";
        if (auto st = load_locked(dir); !st) g_lazy_load_error = st.error().message;
    }
    return g_current.load(std::memory_order_acquire);
}

const std::string* find_text(const Table& table, std::string_view key) {
    auto it = table.find(key);
    if (it == table.end() || it->second.empty()) return nullptr;
    return &it->second;
}

// Reads "ko", "ko_KR.UTF-8", "en", "en-US" … into OUT; false (OUT untouched) for anything else.
bool parse_lang(const char* value, Lang& out) {
    if (!value || !*value) return false;
    std::string_view v(value);
    if (v.substr(0, 2) == "ko") {
        out = Lang::Ko;
        return true;
    }
    if (v.substr(0, 2) == "en") {
        out = Lang::En;
        return true;
    }
    return false;
}

std::set<std::string> placeholders(const std::string& text) {
    std::set<std::string> found;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '{') continue;
        size_t j = i + 1;
        while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
        if (j > i + 1 && j < text.size() && text[j] == '}') found.insert(text.substr(i, j - i + 1));
    }
    return found;
}

std::string join(const std::set<std::string>& items) {
    if (items.empty()) return "none";
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : " ") + i;
    return s;
}

}  // namespace

void set_language(Lang lang) { g_lang.store(lang, std::memory_order_relaxed); }

Lang language() { return g_lang.load(std::memory_order_relaxed); }

const char* language_code(Lang lang) {
    switch (lang) {
        case Lang::En: return "en";
        case Lang::Ko: return "ko";
    }
    return "en";
}

Lang detect_language(const char* flag) {
    Lang lang = Lang::En;
    if (parse_lang(flag, lang)) return lang;
    if (parse_lang(std::getenv("ISOLAB_LANG"), lang)) return lang;
    // POSIX precedence: LC_ALL overrides LC_MESSAGES overrides LANG, so the first non-empty one
    // decides even when it says "C".
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* v = std::getenv(name);
        if (v && *v) return std::string_view(v).substr(0, 2) == "ko" ? Lang::Ko : Lang::En;
    }
    return Lang::En;
}

namespace {

// The text of KEY in LANG → English → KEY itself.
const std::string& text_in(Lang lang, std::string_view key) {
    if (const Tables* t = tables()) {
        if (lang == Lang::Ko) {
            if (const std::string* s = find_text(t->ko, key)) return *s;
        }
        if (const std::string* s = find_text(t->en, key)) return *s;
    }
    std::lock_guard lock(g_mutex);
    auto it = g_unknown_keys.find(key);
    if (it == g_unknown_keys.end()) it = g_unknown_keys.emplace(key).first;
    return *it;
}

constexpr std::string_view kMarkers[] = {"이(가)", "은(는)", "을(를)", "과(와)", "와(과)", "아(야)", "(이)", "(으)로"};

// The marker that starts TEXT at I, or "".
std::string_view marker_at(const std::string& text, size_t i) {
    for (std::string_view m : kMarkers)
        if (text.compare(i, m.size(), m) == 0) return m;
    return {};
}

// Closing marks that may stand between a placeholder and its particle: `{0}`을(를), '{0}'이(가).
bool closing_mark(char c) { return c == '`' || c == '\'' || c == '"' || c == ')' || c == ']'; }

// TEXT with {0}, {1}, … replaced by the ARGC strings at ARGV, and a particle marker after a
// placeholder replaced by the form its word takes.
std::string fill(const std::string& text, const std::string* argv, size_t argc) {
    std::string out;
    out.reserve(text.size() + 16 * argc);
    for (size_t i = 0; i < text.size();) {
        if (text[i] == '{') {
            size_t j = i + 1;
            size_t index = 0;
            while (j < text.size() && text[j] >= '0' && text[j] <= '9' && j - i <= 3) {
                index = index * 10 + static_cast<size_t>(text[j] - '0');
                ++j;
            }
            if (j > i + 1 && j < text.size() && text[j] == '}' && index < argc) {
                out += argv[index];
                i = j + 1;
                size_t k = i;
                while (k < text.size() && closing_mark(text[k])) ++k;
                if (std::string_view m = marker_at(text, k); !m.empty()) {
                    out.append(text, i, k - i);
                    out += particle(argv[index], m);
                    i = k + m.size();
                }
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

// How WORD ends when read aloud in Korean: 0 = a vowel, 1 = a consonant other than ㄹ, 2 = ㄹ.
int final_sound(std::string_view word) {
    // The last code point that is not a closing mark or a space.
    size_t end = word.size();
    while (end > 0 && (closing_mark(word[end - 1]) || word[end - 1] == ' ' || word[end - 1] == '.')) --end;
    if (end == 0) return 0;
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(word[start]) & 0xC0) == 0x80) --start;
    const auto* b = reinterpret_cast<const unsigned char*>(word.data() + start);
    uint32_t cp = 0;
    if (end - start == 3 && (b[0] & 0xF0) == 0xE0) cp = ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
    if (cp >= 0xAC00 && cp <= 0xD7A3) {  // a Hangul syllable: its 받침 (jongseong) index
        uint32_t jong = (cp - 0xAC00) % 28;
        return jong == 0 ? 0 : jong == 8 ? 2 : 1;
    }
    if (end - start != 1) return 0;
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(word[end - 1])));
    if (c >= '0' && c <= '9') {
        static constexpr int kDigit[10] = {1, 2, 0, 1, 0, 0, 1, 2, 2, 0};  // 영 일 이 삼 사 오 육 칠 팔 구
        return kDigit[c - '0'];
    }
    if (c < 'a' || c > 'z') return 0;
    // A Latin letter alone (or after a non-letter, "v2-l"): its name. Elsewhere: the word's end.
    const bool alone = end < 2 || !std::isalpha(static_cast<unsigned char>(word[end - 2]));
    if (alone) return c == 'l' || c == 'r' ? 2 : (c == 'm' || c == 'n') ? 1 : 0;
    if (c == 'l') return 2;
    if (c == 'm' || c == 'n' || c == 'b' || c == 'd' || c == 'g' || c == 'k' || c == 'p' || c == 't') return 1;
    return 0;
}

}  // namespace

std::string particle(std::string_view word, std::string_view pair) {
    const int sound = final_sound(word);
    if (pair == "(으)로") return sound == 1 ? "으로" : "로";
    if (pair == "(이)") return sound == 0 ? "" : "이";
    for (std::string_view m : kMarkers) {
        if (m != pair || m.front() == '(') continue;
        // "이(가)": FIRST(SECOND) with both halves one syllable (three bytes) each; the form for a
        // final consonant is the first, except in "와(과)".
        std::string_view after_consonant = m.substr(0, 3), after_vowel = m.substr(4, 3);
        if (m == "와(과)") std::swap(after_consonant, after_vowel);
        return std::string(sound == 0 ? after_vowel : after_consonant);
    }
    return std::string(pair);
}

const std::string& tr(std::string_view key) { return text_in(language(), key); }

std::string trf(std::string_view key, std::initializer_list<std::string> args) {
    return fill(tr(key), args.begin(), args.size());
}

std::string trn(std::string_view key, long long count, std::initializer_list<std::string> args) {
    if (count == 0 || count == 1) {
        const std::string variant = std::string(key) + (count == 0 ? ".zero" : ".one");
        if (const Tables* t = tables(); t && find_text(t->en, variant)) return fill(tr(variant), args.begin(), args.size());
    }
    return fill(tr(key), args.begin(), args.size());
}

std::string trf_in(Lang lang, std::string_view key, const std::vector<std::string>& args) {
    return fill(text_in(lang, key), args.data(), args.size());
}

Status load_strings(const std::string& dir) {
    std::lock_guard lock(g_mutex);
    g_lazy_load_tried = true;  // an explicit load replaces the lazy one
    return load_locked(dir);
}

std::string assets_dir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("ISOLAB_ASSETS"); env && *env) return env;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path installed = (exe.parent_path() / ".." / "share" / "isolab" / "assets").lexically_normal();
        if (fs::is_directory(installed, ec)) return installed.string();
    }
#ifdef ISOLAB_SOURCE_DIR
    return ISOLAB_SOURCE_DIR "/assets";
#else
    return "assets";  // relative to the working directory: a build without the definition
#endif
}

std::vector<std::string> missing_translations() {
    const Tables* t = tables();
    if (!t) {
        std::lock_guard lock(g_mutex);
        return {"cannot load the strings: " + g_lazy_load_error};
    }
    std::vector<std::string> problems;
    for (const auto& [key, en_text] : t->en) {
        auto ko = t->ko.find(key);
        if (ko == t->ko.end()) {
            problems.push_back("ko.json lacks `" + key + "`");
            continue;
        }
        if (en_text.empty()) problems.push_back("en.json: `" + key + "` is empty");
        if (ko->second.empty()) problems.push_back("ko.json: `" + key + "` is empty");
        auto pe = placeholders(en_text), pk = placeholders(ko->second);
        if (pe != pk)
            problems.push_back("ko.json: `" + key + "` uses placeholders " + join(pk) + " but en.json uses " +
                               join(pe));
    }
    for (const auto& [key, ko_text] : t->ko) {
        if (!t->en.count(key)) problems.push_back("en.json lacks `" + key + "`");
    }
    return problems;
}

}  // namespace isolab::i18n
