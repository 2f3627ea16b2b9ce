#include "sim/lesson/lesson.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iterator>
#include <regex>
#include <set>

#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::lesson {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string one_line(const std::string& file, int line, const std::string& message) {
    std::string s = line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
    // One line, whatever a key or a value in the file held.
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return s;
}

}  // namespace

std::string LessonError::format() const { return one_line(file, line, message); }

std::string LessonError::format_for_learner() const {
    return one_line(file, line, refusal ? refusal->translated() : message);
}

const std::vector<std::string>& known_events() {
    static const std::vector<std::string> v = {
        "create", "start", "stop", "kill", "pause", "unpause", "restart", "die", "destroy", "exec_create", "exec_start",
        "exec_die", "health_status", "commit", "build", "network_create", "network_destroy", "network_connect",
        "network_disconnect", "archive-path", "extract-to-dir", "race", "vm_create", "vm_start", "vm_stop", "vm_destroy", "vm_exec", "reset"};
    return v;
}
const std::vector<std::string>& known_views() {
    static const std::vector<std::string> v = {"race",    "lifecycle", "isolation", "images",
                                               "network", "terminal",  "resources"};
    return v;
}
const std::vector<std::string>& known_targets() {
    static const std::vector<std::string> v = {"hosted-stack", "container-stack", "host-kernel", "guest-kernel",
                                               "hypervisor",   "engine",          "ns-pid",      "ns-mnt",
                                               "ns-uts",       "ns-net",          "ns-ipc",      "ns-user",
                                               "ns-cgroup",    "kernel",          "volumes"};
    return v;
}
const std::vector<std::string>& known_images() {
    static const std::vector<std::string> v = {"isolab/web", "isolab/hello", "isolab/layers"};
    return v;
}

namespace {

// ---- line numbers: a SAX pass over the same bytes through an iterator that records how far
// the parser has read, so every JSON pointer gets the line its key (or array element) is on.

struct CountingIterator {
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;
    const char* p = nullptr;
    size_t* read = nullptr;  // offset of the last character the parser took
    const char* base = nullptr;
    reference operator*() const {
        *read = static_cast<size_t>(p - base);
        return *p;
    }
    CountingIterator& operator++() {
        ++p;
        return *this;
    }
    CountingIterator operator++(int) {
        auto t = *this;
        ++p;
        return t;
    }
    bool operator==(const CountingIterator& o) const { return p == o.p; }
    bool operator!=(const CountingIterator& o) const { return p != o.p; }
};

std::string escape_token(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

class LineMapper : public nlohmann::json_sax<json> {
public:
    LineMapper(const std::string& text, size_t* read) : text_(text), read_(read) {}
    std::map<std::string, int> lines;

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override {
        open_value();
        stack_.push_back({false, 0, ""});
        return true;
    }
    bool key(string_t& k) override {
        stack_.back().key = k;
        lines[path_with(escape_token(k))] = line_now();
        return true;
    }
    bool end_object() override {
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        open_value();
        stack_.push_back({true, 0, ""});
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    struct Level {
        bool array;
        int index;
        std::string key;
    };
    int line_now() const {
        size_t end = std::min(*read_, text_.size());
        return 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + static_cast<long>(end), '\n'));
    }
    std::string path_with(const std::string& last) const {
        std::string p;
        for (size_t i = 0; i + 1 < stack_.size(); ++i) {
            const auto& l = stack_[i];
            p += "/" + (l.array ? std::to_string(l.index - 1) : escape_token(l.key));
        }
        return p + "/" + last;
    }
    // An element of an array begins: its line is where its first character is.
    void open_value() {
        if (!stack_.empty() && stack_.back().array) {
            lines[path_with(std::to_string(stack_.back().index))] = line_now();
            ++stack_.back().index;
        }
    }
    bool value() {
        open_value();
        return true;
    }
    const std::string& text_;
    size_t* read_;
    std::vector<Level> stack_;
};

// Container, VM and network names as Docker allows them ([a-zA-Z0-9][a-zA-Z0-9_.-]*); image
// references may also hold `/` and `:` (`isolab/web`, `myweb:v2`), never a `..` part.
bool valid_stage_name(const std::string& s, bool image) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (s.empty() || !alnum(s[0])) return false;
    for (char c : s)
        if (!alnum(c) && c != '_' && c != '.' && c != '-' && !(image && (c == '/' || c == ':'))) return false;
    return ("/" + s + "/").find("/../") == std::string::npos;
}

// ---- the validator: walks the document, collects every error with its line.

class Validator {
public:
    Validator(std::string file, std::map<std::string, int> lines)
        : file_(std::move(file)), lines_(std::move(lines)), place_(place_of(file_)) {}
    std::vector<LessonError> errors;

    void error(const std::string& ptr, const std::string& msg) {
        errors.push_back({file_, line_of(ptr), msg});
    }
    int line_of(std::string ptr) const {
        while (true) {
            auto it = lines_.find(ptr);
            if (it != lines_.end()) return it->second;
            if (ptr.empty()) return 1;
            ptr = ptr.substr(0, ptr.rfind('/'));
        }
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
    }
    static std::string where(const std::string& ptr) { return ptr.empty() ? "the top level" : "`" + ptr + "`"; }

    // Checks that OBJ is an object with only ALLOWED keys and every REQUIRED one.
    bool keys(const json& obj, const std::string& ptr, const std::vector<std::string>& allowed,
              const std::vector<std::string>& required, const char* what) {
        if (!obj.is_object()) {
            error(ptr, std::string(what) + " at " + where(ptr) + " must be an object {...}");
            return false;
        }
        for (auto& [k, v] : obj.items())
            if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
                error(ptr + "/" + escape_token(k), "unknown key `" + k + "` in " + what + " — the keys of " + what +
                                                       " are: " + join(allowed));
        for (auto& k : required)
            if (!obj.contains(k)) error(ptr, std::string(what) + " at " + where(ptr) + " lacks the required key `" + k + "`");
        return true;
    }

    std::string str(const json& obj, const std::string& ptr, const std::string& key, bool required = true) {
        if (!obj.contains(key)) return "";
        const auto& v = obj.at(key);
        if (!v.is_string() || (required && v.get<std::string>().empty())) {
            error(ptr + "/" + key, "`" + key + "` must be a non-empty string");
            return "";
        }
        return v.get<std::string>();
    }
    std::optional<int> integer(const json& obj, const std::string& ptr, const std::string& key, int lo, int hi) {
        if (!obj.contains(key)) return std::nullopt;
        const auto& v = obj.at(key);
        if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) {
            error(ptr + "/" + key, "`" + key + "` must be a whole number from " + std::to_string(lo) + " to " +
                                       std::to_string(hi));
            return std::nullopt;
        }
        return v.get<int>();
    }
    std::optional<bool> boolean(const json& obj, const std::string& ptr, const std::string& key) {
        if (!obj.contains(key)) return std::nullopt;
        if (!obj.at(key).is_boolean()) {
            error(ptr + "/" + key, "`" + key + "` must be true or false");
            return std::nullopt;
        }
        return obj.at(key).get<bool>();
    }
    Text text(const json& v, const std::string& ptr) {
        Text t;
        if (!v.is_object()) {
            error(ptr, "a text at `" + ptr + "` must be {\"en\": \"...\", \"ko\": \"...\"}");
            return t;
        }
        keys(v, ptr, {"en", "ko"}, {}, "a text");
        for (const char* lang : {"en", "ko"}) {
            if (!v.contains(lang)) {
                error(ptr, std::string("the text at `") + ptr + "` lacks its " +
                               (std::string(lang) == "en" ? "English" : "Korean") + " translation — add \"" + lang +
                               "\": \"...\"");
                continue;
            }
            const auto& s = v.at(lang);
            if (!s.is_string() || s.get<std::string>().find_first_not_of(" \t\n") == std::string::npos) {
                error(ptr + "/" + lang, std::string("the ") + lang + " text at `" + ptr + "` is empty — write it");
                continue;
            }
            (std::string(lang) == "en" ? t.en : t.ko) = s.get<std::string>();
        }
        return t;
    }
    Text text_key(const json& obj, const std::string& ptr, const std::string& key) {
        if (!obj.contains(key)) return {};
        return text(obj.at(key), ptr + "/" + key);
    }
    std::vector<std::string> strings(const json& obj, const std::string& ptr, const std::string& key) {
        std::vector<std::string> out;
        if (!obj.contains(key)) return out;
        const auto& v = obj.at(key);
        if (!v.is_array()) {
            error(ptr + "/" + key, "`" + key + "` must be an array of strings");
            return out;
        }
        for (size_t i = 0; i < v.size(); ++i) {
            if (!v[i].is_string() || v[i].get<std::string>().empty())
                error(ptr + "/" + key + "/" + std::to_string(i), "`" + key + "` must hold non-empty strings");
            else out.push_back(v[i].get<std::string>());
        }
        return out;
    }
    void one_of(const std::string& value, const std::vector<std::string>& allowed, const std::string& ptr,
                const std::string& what) {
        if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
            error(ptr, "unknown " + what + " `" + value + "` — use one of: " + join(allowed));
    }
    static bool valid_id(const std::string& s) {
        static const std::regex re("[a-z0-9][a-z0-9-]*");
        return std::regex_match(s, re);
    }

    void check(const json& c, const std::string& ptr, int depth = 0) {
        if (!c.is_object() || !c.contains("kind") || !c.at("kind").is_string()) {
            error(ptr, "a check must be an object with a `kind` (container, vm, image, network, event, http, pids, all, any)");
            return;
        }
        std::string kind = c.at("kind").get<std::string>();
        static const std::vector<std::string> container_states = {"created", "running", "paused",
                                                                  "restarting", "exited", "absent"};
        static const std::vector<std::string> vm_states = {"poweroff", "starting", "running", "paused", "absent"};
        if (kind == "container") {
            keys(c, ptr, {"kind", "name", "state", "exit_code", "oom_killed"}, {"name", "state"}, "a container check");
            str(c, ptr, "name");
            if (auto s = str(c, ptr, "state"); !s.empty()) one_of(s, container_states, ptr + "/state", "container state");
            integer(c, ptr, "exit_code", 0, 255);
            boolean(c, ptr, "oom_killed");
        } else if (kind == "vm") {
            keys(c, ptr, {"kind", "name", "state"}, {"name", "state"}, "a vm check");
            str(c, ptr, "name");
            if (auto s = str(c, ptr, "state"); !s.empty()) one_of(s, vm_states, ptr + "/state", "VM state");
        } else if (kind == "image" || kind == "network") {
            keys(c, ptr, {"kind", "name", "present"}, {"name"}, kind == "image" ? "an image check" : "a network check");
            str(c, ptr, "name");
            boolean(c, ptr, "present");
        } else if (kind == "event") {
            keys(c, ptr, {"kind", "type", "where"}, {"type"}, "an event check");
            if (auto t = str(c, ptr, "type"); !t.empty()) one_of(t, known_events(), ptr + "/type", "event type");
            if (c.contains("where")) {
                const auto& w = c.at("where");
                if (!w.is_object()) error(ptr + "/where", "`where` must be an object {\"field\": value}");
                else
                    for (auto& [k, v] : w.items())
                        if (!v.is_string() && !v.is_number() && !v.is_boolean())
                            error(ptr + "/where/" + escape_token(k), "`where` values must be strings, numbers or booleans");
            }
        } else if (kind == "http") {
            keys(c, ptr, {"kind", "url", "expect"}, {"url", "expect"}, "an http check");
            auto url = str(c, ptr, "url");
            static const std::regex re(R"(http://(127\.0\.0\.1|localhost):([0-9]{1,5})(/.*)?)");
            std::smatch m;
            if (!url.empty() && !std::regex_match(url, m, re))
                error(ptr + "/url", "the url `" + url + "` must be http://127.0.0.1:PORT/... (lessons only talk to this machine)");
            else if (!url.empty() && (std::stoi(m[2].str()) < 1 || std::stoi(m[2].str()) > 65535))
                error(ptr + "/url", "the port in `" + url + "` must be from 1 to 65535");
            if (auto e = str(c, ptr, "expect"); !e.empty()) one_of(e, {"answers", "refused"}, ptr + "/expect", "expectation");
        } else if (kind == "pids") {
            keys(c, ptr, {"kind", "container", "at_least"}, {"container", "at_least"}, "a pids check");
            str(c, ptr, "container");
            integer(c, ptr, "at_least", 1, 100000);
        } else if (kind == "all" || kind == "any") {
            keys(c, ptr, {"kind", "of"}, {"of"}, "an all/any check");
            if (depth > 8) {
                error(ptr, "checks are nested too deep (at most 8 levels)");
                return;
            }
            if (c.contains("of")) {
                const auto& of = c.at("of");
                if (!of.is_array() || of.empty()) error(ptr + "/of", "`of` must be a non-empty array of checks");
                else
                    for (size_t i = 0; i < of.size(); ++i) check(of[i], ptr + "/of/" + std::to_string(i), depth + 1);
            }
        } else {
            error(ptr + "/kind", "unknown check kind `" + kind +
                                     "` — use one of: container, vm, image, network, event, http, pids, all, any");
        }
    }

    Step step(const json& s, const std::string& ptr) {
        Step st;
        if (!keys(s, ptr, {"id", "title", "text", "highlight", "predict", "discuss", "action", "check", "hints", "explain",
                           "quiz", "timeout_s"},
                  {"id", "title", "text"}, "a step"))
            return st;
        st.id = str(s, ptr, "id");
        if (!st.id.empty() && !valid_id(st.id)) error(ptr + "/id", "the step id `" + st.id + "` may hold only a-z, 0-9 and -");
        st.title = text_key(s, ptr, "title");
        st.text = text_key(s, ptr, "text");
        st.discuss = text_key(s, ptr, "discuss");
        st.explain = text_key(s, ptr, "explain");
        if (auto t = integer(s, ptr, "timeout_s", 1, 600)) st.timeout_s = *t;
        if (s.contains("hints")) {
            const auto& h = s.at("hints");
            if (!h.is_array()) error(ptr + "/hints", "`hints` must be an array of texts");
            else
                for (size_t i = 0; i < h.size(); ++i) st.hints.push_back(text(h[i], ptr + "/hints/" + std::to_string(i)));
        }
        if (s.contains("highlight")) {
            const auto& h = s.at("highlight");
            std::string hp = ptr + "/highlight";
            if (keys(h, hp, {"view", "container", "vm", "target"}, {}, "a highlight")) {
                st.highlight.view = str(h, hp, "view");
                st.highlight.container = str(h, hp, "container");
                st.highlight.vm = str(h, hp, "vm");
                st.highlight.target = str(h, hp, "target");
                if (!st.highlight.view.empty()) one_of(st.highlight.view, known_views(), hp + "/view", "view");
                if (!st.highlight.target.empty()) one_of(st.highlight.target, known_targets(), hp + "/target", "target");
                if (st.highlight.empty()) error(hp, "an empty highlight: name a view, container, vm or target, or leave it out");
            }
        }
        if (s.contains("predict")) {
            const auto& p = s.at("predict");
            std::string pp = ptr + "/predict";
            if (keys(p, pp, {"question", "choices", "answer"}, {"question", "choices"}, "a prediction")) {
                Prediction pr;
                pr.question = text_key(p, pp, "question");
                if (p.contains("choices")) {
                    const auto& c = p.at("choices");
                    if (!c.is_array() || c.size() < 2 || c.size() > 5)
                        error(pp + "/choices", "a prediction needs 2 to 5 choices");
                    else
                        for (size_t i = 0; i < c.size(); ++i) pr.choices.push_back(text(c[i], pp + "/choices/" + std::to_string(i)));
                }
                if (auto a = integer(p, pp, "answer", 0, 4)) {
                    if (*a >= static_cast<int>(pr.choices.size()))
                        error(pp + "/answer", "`answer` " + std::to_string(*a) + " is out of range: there are " +
                                                  std::to_string(pr.choices.size()) + " choices (0-based)");
                    else pr.answer = *a;
                }
                st.predict = pr;
            }
        }
        if (s.contains("action")) {
            const auto& a = s.at("action");
            std::string ap = ptr + "/action";
            if (keys(a, ap, {"run", "race", "expect_exit"}, {}, "an action")) {
                if (a.contains("run")) {
                    const auto& r = a.at("run");
                    if (r.is_string() && !r.get<std::string>().empty()) st.action.run.push_back(r.get<std::string>());
                    else if (r.is_array() && !r.empty()) st.action.run = strings(a, ap, "run");
                    else error(ap + "/run", "`run` must be a command line or an array of them");
                    // Every line against the allow-list (allowlist.hpp): a lesson is data from
                    // anyone, and its commands run with the learner's privileges.
                    for (size_t i = 0; i < st.action.run.size(); ++i) {
                        auto vetted = vet_command(st.action.run[i], place_);
                        if (vetted.ok()) continue;
                        std::string at = r.is_array() ? ap + "/run/" + std::to_string(i) : ap + "/run";
                        errors.push_back({file_, line_of(at), vetted.refusal->english(), vetted.refusal});
                    }
                }
                if (auto r = boolean(a, ap, "race")) st.action.race = *r;
                if (auto e = integer(a, ap, "expect_exit", 0, 255)) st.action.expect_exit = *e;
                if (st.action.race && !st.action.run.empty())
                    error(ap, "an action is either `run` or `race`, not both");
                if (st.action.empty() && !a.contains("run"))
                    error(ap, "an action needs `run` (a command line) or `\"race\": true`");
            }
        }
        if (s.contains("check")) {
            check(s.at("check"), ptr + "/check");
            st.check.spec = s.at("check");
        }
        if (s.contains("quiz")) {
            const auto& q = s.at("quiz");
            std::string qp = ptr + "/quiz";
            if (keys(q, qp, {"question", "multiple", "choices"}, {"question", "choices"}, "a quiz")) {
                st.quiz.question = text_key(q, qp, "question");
                st.quiz.multiple = boolean(q, qp, "multiple").value_or(false);
                const json empty = json::array();
                const auto& c = q.contains("choices") ? q.at("choices") : empty;
                if (!c.is_array() || c.size() < 2 || c.size() > 6) {
                    error(qp + "/choices", "a quiz needs 2 to 6 choices");
                } else {
                    int correct = 0;
                    for (size_t i = 0; i < c.size(); ++i) {
                        std::string cp = qp + "/choices/" + std::to_string(i);
                        QuizChoice ch;
                        if (keys(c[i], cp, {"text", "correct", "why"}, {"text", "why"}, "a quiz choice")) {
                            ch.text = text_key(c[i], cp, "text");
                            ch.correct = boolean(c[i], cp, "correct").value_or(false);
                            ch.why = text_key(c[i], cp, "why");
                        }
                        correct += ch.correct;
                        st.quiz.choices.push_back(ch);
                    }
                    if (correct == 0) error(qp, "the quiz has no correct choice — mark one with \"correct\": true");
                    if (correct > 1 && !st.quiz.multiple)
                        error(qp, "the quiz has " + std::to_string(correct) +
                                      " correct choices — set \"multiple\": true or keep one");
                }
            }
        }
        return st;
    }

    std::optional<Lesson> lesson(const json& doc) {
        Lesson l;
        if (!keys(doc, "", {"id", "order", "title", "summary", "minutes", "prerequisites", "stage", "needs", "learned", "steps"},
                  {"id", "order", "title", "summary", "minutes", "learned", "steps"}, "a lesson"))
            return std::nullopt;
        l.id = str(doc, "", "id");
        if (!l.id.empty() && !valid_id(l.id)) error("/id", "the lesson id `" + l.id + "` may hold only a-z, 0-9 and -");
        l.order = integer(doc, "", "order", 1, 999).value_or(0);
        l.title = text_key(doc, "", "title");
        l.summary = text_key(doc, "", "summary");
        l.minutes = integer(doc, "", "minutes", 1, 120).value_or(0);
        l.prerequisites = strings(doc, "", "prerequisites");
        l.needs = strings(doc, "", "needs");
        for (size_t i = 0; i < l.needs.size(); ++i) one_of(l.needs[i], known_images(), "/needs/" + std::to_string(i), "teaching image");
        if (doc.contains("stage")) {
            const auto& s = doc.at("stage");
            if (keys(s, "/stage", {"containers", "vms", "networks", "images", "volumes"}, {}, "the stage")) {
                l.stage.containers = strings(s, "/stage", "containers");
                l.stage.vms = strings(s, "/stage", "vms");
                l.stage.networks = strings(s, "/stage", "networks");
                l.stage.images = strings(s, "/stage", "images");
                l.stage.volumes = strings(s, "/stage", "volumes");
                // The player turns these into command lines (`isolab rm -f NAME`, stage.hpp):
                // a name must be one word that no command reads as a flag or a path.
                auto names = [&](const std::vector<std::string>& v, const char* key, const char* what, bool image) {
                    for (size_t i = 0; i < v.size(); ++i)
                        if (!valid_stage_name(v[i], image))
                            error(std::string("/stage/") + key + "/" + std::to_string(i),
                                  "`" + v[i] + "` in `stage` is not " + what + " — use [a-zA-Z0-9][a-zA-Z0-9_.-]*" +
                                      (image ? ", with / and : (`isolab/web`, `myweb:v2`)" : ""));
                        // The stage removes these without asking: a name a learner could give
                        // their own container (`web`) would remove the learner's work.
                        else if (v[i].rfind("lesson-", 0) != 0)
                            error(std::string("/stage/") + key + "/" + std::to_string(i),
                                  "`" + v[i] + "` in `stage` must start with `lesson-` (`lesson-" + v[i] +
                                      "`): the stage removes it without asking, so it must not be a name a "
                                      "learner gives their own objects");
                };
                names(l.stage.containers, "containers", "a container name", false);
                names(l.stage.vms, "vms", "a VM name", false);
                names(l.stage.networks, "networks", "a network name", false);
                names(l.stage.images, "images", "an image name", true);
                names(l.stage.volumes, "volumes", "a volume name", false);
            }
        }
        if (doc.contains("learned")) {
            const auto& v = doc.at("learned");
            if (!v.is_array() || v.empty()) error("/learned", "`learned` must be a non-empty array of texts");
            else
                for (size_t i = 0; i < v.size(); ++i) l.learned.push_back(text(v[i], "/learned/" + std::to_string(i)));
        }
        if (doc.contains("steps")) {
            const auto& v = doc.at("steps");
            if (!v.is_array() || v.empty()) {
                error("/steps", "`steps` must be a non-empty array of steps");
            } else {
                std::set<std::string> ids;
                for (size_t i = 0; i < v.size(); ++i) {
                    std::string sp = "/steps/" + std::to_string(i);
                    l.steps.push_back(step(v[i], sp));
                    const auto& id = l.steps.back().id;
                    if (!id.empty() && !ids.insert(id).second) error(sp + "/id", "the step id `" + id + "` is used twice");
                }
            }
        }
        return l;
    }

private:
    std::string file_;
    std::map<std::string, int> lines_;
    LessonPlace place_;
};

int line_at(const std::string& text, size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

}  // namespace

namespace {
LessonFile parse_lesson_unchecked(const std::string& path, const std::string& text);
}  // namespace

LessonFile parse_lesson(const std::string& path, const std::string& text) {
    // Never throws: whatever nlohmann or the validator throws becomes the file's error.
    try {
        return parse_lesson_unchecked(path, text);
    } catch (const std::exception& e) {
        LessonFile f;
        f.path = path;
        f.id_hint = fs::path(path).stem().string();
        f.errors.push_back({path, 0, std::string("cannot read this lesson: ") + e.what()});
        return f;
    }
}

namespace {

LessonFile parse_lesson_unchecked(const std::string& path, const std::string& text) {
    LessonFile f;
    f.path = path;
    f.id_hint = fs::path(path).stem().string();
    json doc;
    try {
        doc = json::parse(text, nullptr, false);
    } catch (const json::exception&) {
        doc = json(json::value_t::discarded);
    }
    if (doc.is_discarded()) {
        // Parse again with exceptions for the position and nlohmann's own description.
        try {
            json again = json::parse(text);
            (void)again;
        } catch (const json::parse_error& e) {
            std::string what = e.what();
            auto cut = what.find("parse error");
            f.errors.push_back({path, line_at(text, e.byte > 0 ? e.byte - 1 : 0),
                                "invalid JSON: " + (cut == std::string::npos ? what : what.substr(cut)) +
                                    " — check the commas, quotes and brackets near this line"});
        } catch (const json::exception& e) {
            // A number too large for a double (406) and the like: nlohmann names the token, not
            // where it is; its first place in the file gives the line.
            std::string what = e.what();
            int line = 0;
            if (auto a = what.find('\''), b = what.rfind('\''); a != std::string::npos && b > a)
                if (auto at = text.find(what.substr(a + 1, b - a - 1)); at != std::string::npos) line = line_at(text, at);
            f.errors.push_back({path, line, "invalid JSON: " + what + " — write a smaller number"});
        }
        if (f.errors.empty()) f.errors.push_back({path, 0, "invalid JSON"});
        return f;
    }
    size_t read = 0;
    LineMapper mapper(text, &read);
    CountingIterator first{text.data(), &read, text.data()}, last{text.data() + text.size(), &read, text.data()};
    json::sax_parse(first, last, &mapper);
    Validator v(path, mapper.lines);
    auto lesson = v.lesson(doc);
    if (lesson && !lesson->id.empty()) f.id_hint = lesson->id;
    f.errors = std::move(v.errors);
    if (lesson && f.errors.empty()) {
        lesson->file = path;
        f.lesson = std::move(lesson);
    }
    return f;
}

}  // namespace

LessonFile load_lesson(const std::string& path) {
    auto text = read_file(path);
    if (!text) {
        LessonFile f;
        f.path = path;
        f.id_hint = fs::path(path).stem().string();
        f.errors.push_back({path, 0, "cannot read the file: " + text.error().message});
        return f;
    }
    return parse_lesson(path, *text);
}

const Lesson* Catalog::find(const std::string& id) const {
    for (auto& f : files)
        if (f.lesson && f.lesson->id == id) return &*f.lesson;
    return nullptr;
}

std::vector<const Lesson*> Catalog::lessons() const {
    std::vector<const Lesson*> out;
    for (auto& f : files)
        if (f.lesson) out.push_back(&*f.lesson);
    return out;
}

Catalog load_catalog(const std::string& dir) {
    Catalog c;
    std::error_code ec;
    std::vector<std::string> paths;
    for (auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".json") paths.push_back(e.path().string());
    if (ec) c.errors.push_back({dir, 0, "cannot read the lessons folder: " + ec.message() + " — set ISOLAB_LESSONS"});
    std::sort(paths.begin(), paths.end());
    for (auto& p : paths) c.files.push_back(load_lesson(p));

    // Across files: unique ids and orders, prerequisites that exist, no cycles.
    std::map<std::string, LessonFile*> by_id;
    std::map<int, LessonFile*> by_order;
    for (auto& f : c.files) {
        if (!f.lesson) continue;
        auto& l = *f.lesson;
        if (auto [it, fresh] = by_id.emplace(l.id, &f); !fresh) {
            f.errors.push_back({f.path, 1, "the lesson id `" + l.id + "` is also used by " + it->second->path + " — rename one"});
        }
        if (auto [it, fresh] = by_order.emplace(l.order, &f); !fresh) {
            f.errors.push_back({f.path, 1, "the order " + std::to_string(l.order) + " is also used by " + it->second->path +
                                               " — give each lesson its own number"});
        }
    }
    std::set<std::string> broken;  // a broken lesson is its own error, not its dependents'
    for (auto& f : c.files)
        if (!f.lesson) broken.insert(f.id_hint);
    for (auto& f : c.files) {
        if (!f.lesson) continue;
        for (auto& p : f.lesson->prerequisites)
            if (!by_id.count(p) && !broken.count(p))
                f.errors.push_back({f.path, 1, "the prerequisite `" + p + "` is not a lesson here — use one of the ids `isolab lesson list` shows"});
    }
    // Cycles: depth-first search over prerequisites.
    std::map<std::string, int> mark;  // 1 = on the path, 2 = done
    std::function<bool(const std::string&)> cyclic = [&](const std::string& id) {
        if (mark[id] == 1) return true;
        if (mark[id] == 2 || !by_id.count(id)) return false;
        mark[id] = 1;
        for (auto& p : by_id[id]->lesson->prerequisites)
            if (cyclic(p)) return true;
        mark[id] = 2;
        return false;
    };
    for (auto& [id, f] : by_id) {
        mark.clear();
        if (cyclic(id)) f->errors.push_back({f->path, 1, "the prerequisites of `" + id + "` go round in a circle — remove one"});
    }
    for (auto& f : c.files) {
        if (!f.errors.empty()) f.lesson.reset();
        c.errors.insert(c.errors.end(), f.errors.begin(), f.errors.end());
    }
    std::stable_sort(c.files.begin(), c.files.end(), [](const LessonFile& a, const LessonFile& b) {
        int oa = a.lesson ? a.lesson->order : 100000, ob = b.lesson ? b.lesson->order : 100000;
        return oa != ob ? oa < ob : a.path < b.path;
    });
    return c;
}

std::string lessons_dir() {
    if (const char* e = std::getenv("ISOLAB_LESSONS"); e && *e) return e;
    fs::path assets = fs::path(i18n::assets_dir()).lexically_normal();
    if (!assets.has_filename()) assets = assets.parent_path();
    return (assets.parent_path() / "lessons").lexically_normal().string();
}

}  // namespace isolab::lesson
