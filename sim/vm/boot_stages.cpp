#include "sim/vm/boot_stages.hpp"

#include <cmath>

namespace isolab::vm {

namespace {

bool in_range(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// Removes one leading bracket group whose inside, blanks aside, is accepted by IS_BODY.
template <class Pred>
bool strip_bracket(std::string_view* s, Pred is_body) {
    if (s->empty() || s->front() != '[') return false;
    size_t close = s->find(']');
    if (close == std::string_view::npos || close > 24) return false;
    std::string_view body = trim_blanks(s->substr(1, close - 1));
    if (body.empty() || !is_body(body)) return false;
    *s = trim_blanks(s->substr(close + 1));
    return true;
}

// "0.123456" or "12345.000001": digits, one dot, digits.
bool is_kernel_time(std::string_view b) {
    size_t dot = b.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == b.size()) return false;
    for (size_t i = 0; i < b.size(); ++i)
        if (i != dot && !in_range(static_cast<unsigned char>(b[i]), '0', '9')) return false;
    return true;
}

// printk's caller id with CONFIG_PRINTK_CALLER: "T123" (task) or "C1" (CPU).
bool is_printk_caller(std::string_view b) {
    if (b.size() < 2 || (b[0] != 'T' && b[0] != 'C')) return false;
    for (size_t i = 1; i < b.size(); ++i)
        if (!in_range(static_cast<unsigned char>(b[i]), '0', '9')) return false;
    return true;
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

}  // namespace

std::string clean_console_line(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    const size_t n = raw.size();
    size_t i = 0;
    while (i < n) {
        const auto c = static_cast<unsigned char>(raw[i]);
        if (c == 0x1b) {  // ESC: skip the whole sequence (ECMA-48)
            ++i;
            if (i >= n) break;
            const auto k = static_cast<unsigned char>(raw[i]);
            if (k == '[') {  // CSI: parameters, intermediates, one final byte
                ++i;
                while (i < n && in_range(static_cast<unsigned char>(raw[i]), 0x30, 0x3f)) ++i;
                while (i < n && in_range(static_cast<unsigned char>(raw[i]), 0x20, 0x2f)) ++i;
                if (i < n && in_range(static_cast<unsigned char>(raw[i]), 0x40, 0x7e)) ++i;
            } else if (k == ']' || k == 'P' || k == 'X' || k == '^' || k == '_') {
                // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (ESC \), or by the line's end.
                ++i;
                while (i < n) {
                    if (raw[i] == '\a') {
                        ++i;
                        break;
                    }
                    if (raw[i] == 0x1b && i + 1 < n && raw[i + 1] == '\\') {
                        i += 2;
                        break;
                    }
                    ++i;
                }
            } else {  // ESC c, ESC 7, ESC ( B, ...: intermediates, then one final byte
                while (i < n && in_range(static_cast<unsigned char>(raw[i]), 0x20, 0x2f)) ++i;
                if (i < n && in_range(static_cast<unsigned char>(raw[i]), 0x30, 0x7e)) ++i;
            }
            continue;
        }
        if (c == '\t') {
            out += ' ';
        } else if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        }  // other C0 controls (CR, NUL, BEL, backspace) and DEL are dropped
        ++i;
    }
    std::string_view s = trim_blanks(out);
    if (strip_bracket(&s, is_kernel_time)) strip_bracket(&s, is_printk_caller);
    return std::string(s);
}

BootStageTracker::BootStageTracker() {
    for (std::string_view name : kBootStageNames) stages_.push_back(BootStage{std::string(name)});
}

std::string BootStageTracker::current_stage() const { return complete() ? "" : stages_[next_].name; }

double BootStageTracker::clamp_time(double ms) {
    if (!std::isfinite(ms) || ms < last_ms_) return last_ms_;
    last_ms_ = ms;
    return ms;
}

bool BootStageTracker::close_through(size_t end_stage, double ms) {
    if (end_stage < next_ || end_stage >= kBootStageCount) return false;
    const double run_start = stages_[next_].start_ms;
    for (size_t i = next_; i < end_stage; ++i) {
        BootStage& skipped = stages_[i];
        skipped.start_ms = skipped.end_ms = run_start;
        skipped.done = true;
        skipped.observed = false;
    }
    BootStage& seen = stages_[end_stage];
    seen.start_ms = run_start;
    seen.end_ms = ms;
    seen.done = true;
    seen.observed = true;
    next_ = end_stage + 1;
    if (next_ < kBootStageCount) stages_[next_].start_ms = ms;
    return true;
}

bool BootStageTracker::feed(double ms, std::string_view line) {
    const double t = clamp_time(ms);
    const std::string text = clean_console_line(line);
    if (text.empty()) return false;
    bool ended = false;

    // "Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 ..." is the
    // first line the kernel prints; the release is the word after "Linux version".
    constexpr std::string_view kBanner = "Linux version ";
    if (size_t at = text.find(kBanner); at != std::string::npos) {
        std::string_view rest = std::string_view(text).substr(at + kBanner.size());
        std::string_view release = rest.substr(0, rest.find(' '));
        if (!release.empty()) {
            if (kernel_release_.empty()) kernel_release_ = std::string(release);
            ended |= close_through(0, t);
        }
    }
    // "Run /init as init process" (initramfs), or "Run /sbin/init ..." for a disk root: the
    // kernel's last line before it executes PID 1.
    if (size_t as = text.find(" as init process"); as != std::string::npos && as > 0) {
        size_t run = text.rfind("Run ", as);
        if (run != std::string::npos && run + 4 < as) ended |= close_through(1, t);
    }
    if (contains(text, "isolab-guest: init started")) ended |= close_through(2, t);
    if (contains(text, "isolab-guest: network up")) ended |= close_through(3, t);
    if (contains(text, "isolab-guest: httpd listening") && listening_ms_ < 0 && !complete()) listening_ms_ = t;
    if (failure_.empty() && (contains(text, "isolab-guest: error") || contains(text, "Kernel panic - not syncing")))
        failure_ = text;
    return ended;
}

bool BootStageTracker::mark_http_answered(double ms) {
    const double t = clamp_time(ms);
    if (answered_ms_ >= 0) return false;
    answered_ms_ = t;
    close_through(kBootStageCount - 1, t);
    return true;
}

}  // namespace isolab::vm
