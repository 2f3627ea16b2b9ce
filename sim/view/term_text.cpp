#include "sim/view/term_text.hpp"

#include <algorithm>

#include "sim/core/strings.hpp"

namespace isolab::view {

namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the UTF-8 character that starts with LEAD (1 for a stray continuation byte, so a
// broken text still advances).
size_t utf8_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 1;
}

// The first number of a CSI parameter list ("12;3" → 12), DEFAULT when there is none.
int csi_count(const std::string& params, int fallback) {
    int n = 0;
    bool any = false;
    for (char c : params) {
        if (c < '0' || c > '9') break;
        n = n * 10 + (c - '0');
        any = true;
        if (n > 10000) break;
    }
    return any ? n : fallback;
}

}  // namespace

TermText::TermText(size_t max_bytes) : max_bytes_(std::max<size_t>(max_bytes, 64)) {}

void TermText::clear() {
    done_.clear();
    line_.clear();
    col_ = 0;
    esc_ = Esc::None;
    csi_.clear();
    utf8_.clear();
    trimmed_ = false;
}

void TermText::newline() {
    done_ += line_;
    done_ += '\n';
    line_.clear();
    col_ = 0;
    // Trim in chunks (a quarter of the bound at a time) so that a flood of lines does not move
    // the whole buffer for every line.
    if (done_.size() > max_bytes_ + max_bytes_ / 4) {
        size_t cut = done_.size() - max_bytes_;
        size_t nl = done_.find('\n', cut);
        done_.erase(0, nl == std::string::npos ? cut : nl + 1);
        trimmed_ = true;
    }
}

void TermText::put(std::string_view glyph) {
    if (col_ >= line_.size()) {
        line_ += glyph;
    } else {
        size_t old = std::min(utf8_length(static_cast<unsigned char>(line_[col_])), line_.size() - col_);
        line_.replace(col_, old, glyph);
    }
    col_ += glyph.size();
}

void TermText::feed(std::string_view bytes) {
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        switch (esc_) {
        case Esc::Escape:
            if (c == '[') {
                esc_ = Esc::Csi;
                csi_.clear();
            } else if (c == ']') {
                esc_ = Esc::Osc;
            } else if (c == '(' || c == ')' || c == '*' || c == '+' || c == '#' || c == '%') {
                esc_ = Esc::OneMore;  // character set designations: ESC ( B
            } else {
                esc_ = Esc::None;  // a two-byte sequence (ESC 7, ESC =, ...)
            }
            continue;
        case Esc::Csi:
            if (c >= 0x20 && c <= 0x3f) {
                if (csi_.size() < 64) csi_ += static_cast<char>(c);
                continue;
            }
            esc_ = Esc::None;
            if (c == 'K') {  // erase in line: 0 = to the end, 1 = to the cursor, 2 = all
                int mode = csi_count(csi_, 0);
                if (mode == 0) line_.resize(col_);
                else if (mode == 1) line_.replace(0, col_, std::string(col_, ' '));
                else line_.assign(col_, ' ');
            } else if (c == 'D') {  // cursor back N characters
                for (int n = csi_count(csi_, 1); n > 0 && col_ > 0; --n) {
                    --col_;
                    while (col_ > 0 && is_continuation(static_cast<unsigned char>(line_[col_]))) --col_;
                }
            } else if (c == 'C') {  // cursor forward N characters
                for (int n = csi_count(csi_, 1); n > 0; --n) {
                    if (col_ >= line_.size()) line_ += ' ';
                    col_ += utf8_length(static_cast<unsigned char>(line_[col_]));
                    col_ = std::min(col_, line_.size());
                }
            }
            continue;  // every other CSI (colors, cursor moves, modes) is dropped
        case Esc::Osc:
            if (c == 0x07) esc_ = Esc::None;
            else if (c == 0x1b) esc_ = Esc::OscEscape;
            continue;
        case Esc::OscEscape:
            esc_ = Esc::None;  // ESC \ ends the OSC; anything else ends it too
            continue;
        case Esc::OneMore:
            esc_ = Esc::None;
            continue;
        case Esc::None:
            break;
        }
        if (!utf8_.empty()) {
            if (is_continuation(c)) {
                utf8_ += static_cast<char>(c);
                if (utf8_.size() == utf8_length(static_cast<unsigned char>(utf8_[0]))) {
                    put(utf8_);
                    utf8_.clear();
                }
                continue;
            }
            utf8_.clear();  // a broken character: drop it, read C afresh
        }
        if (c == 0x1b) {
            esc_ = Esc::Escape;
        } else if (c == '\n') {
            newline();
        } else if (c == '\r') {
            col_ = 0;
        } else if (c == '\b') {
            if (col_ > 0) {
                --col_;
                while (col_ > 0 && is_continuation(static_cast<unsigned char>(line_[col_]))) --col_;
            }
        } else if (c == '\t') {
            size_t chars = 0;
            for (size_t i = 0; i < col_; ++i)
                if (!is_continuation(static_cast<unsigned char>(line_[i]))) ++chars;
            do put(" ");
            while (++chars % 8 != 0);
        } else if (c < 0x20 || c == 0x7f) {
            // BEL and other controls: nothing to show
        } else if (c < 0x80) {
            char one = static_cast<char>(c);
            put(std::string_view(&one, 1));
        } else if (utf8_length(c) > 1) {
            utf8_ = static_cast<char>(c);
        }
        // a stray continuation byte is dropped
    }
}

std::string TermText::text() const { return done_ + line_; }

std::string plain_terminal_text(std::string_view bytes) {
    TermText t(bytes.size() + 1024);
    t.feed(bytes);
    return t.text();
}

std::string_view tail_for_display(std::string_view text, size_t max_bytes, bool* cut) {
    if (cut) *cut = text.size() > max_bytes;
    if (text.size() <= max_bytes) return text;
    size_t start = text.size() - max_bytes;
    // Prefer to begin with a whole line, when a line starts within the first quarter.
    size_t nl = text.find('\n', start);
    if (nl != std::string_view::npos && nl - start <= max_bytes / 4) start = nl + 1;
    while (start < text.size() && is_continuation(static_cast<unsigned char>(text[start]))) ++start;
    return text.substr(start);
}

CommandHistory::CommandHistory(size_t max_entries) : max_(std::max<size_t>(max_entries, 1)) {}

void CommandHistory::add(const std::string& line) {
    at_.reset();
    draft_.clear();
    if (trim_view(line).empty()) return;
    if (!entries_.empty() && entries_.back() == line) return;
    entries_.push_back(line);
    if (entries_.size() > max_) entries_.erase(entries_.begin());
}

std::optional<std::string> CommandHistory::older(const std::string& current) {
    if (entries_.empty()) return std::nullopt;
    if (!at_) {
        draft_ = current;
        at_ = entries_.size() - 1;
        return entries_[*at_];
    }
    if (*at_ == 0) return std::nullopt;
    --*at_;
    return entries_[*at_];
}

std::optional<std::string> CommandHistory::newer() {
    if (!at_) return std::nullopt;
    if (*at_ + 1 < entries_.size()) {
        ++*at_;
        return entries_[*at_];
    }
    at_.reset();
    return draft_;
}

TerminalLine classify_terminal_line(std::string_view line) {
    std::string_view t = trim_view(line);
    if (t.empty()) return TerminalLine::Empty;
    if (t == "clear") return TerminalLine::Clear;
    return TerminalLine::Command;
}

const std::vector<std::string>& terminal_examples() {
    static const std::vector<std::string> examples = {"ps -a",       "images",   "run -d --name web busybox httpd -f",
                                                      "top web",     "exec web ps", "logs web",
                                                      "stats --no-stream"};
    return examples;
}

std::vector<std::string> split_demo_lines(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        size_t semi = text.find(';');
        std::string_view part = trim_view(text.substr(0, semi));
        if (!part.empty()) out.emplace_back(part);
        if (semi == std::string_view::npos) break;
        text.remove_prefix(semi + 1);
    }
    return out;
}

}  // namespace isolab::view
