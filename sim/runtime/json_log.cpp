#include "sim/runtime/json_log.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

namespace isolab {

namespace {

// The writer's longest line: 32 KiB of output (the monitor splits at 16 KiB, plus what was
// pending) escaped as \u00XX at worst, and the fields. A "line" longer than this was not written
// by the writer (a damaged file): the reader drops it rather than grow without bound.
constexpr size_t kMaxLine = 1 << 20;
constexpr size_t kChunk = 64 * 1024;
// A snapshot found mid-rotation is taken again; a rotation is a few renames, so this is only
// ever exceeded by a writer that rotates without pause (max-size of a few bytes).
constexpr int kSnapshotAttempts = 1000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Status write_all(int fd, std::string_view data, const std::string& path) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("write `" + path + "`", errno);
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

// A Go duration (time.ParseDuration): [-+]?([0-9]*(\.[0-9]*)?unit)+ with units ns us µs ms s m h.
bool parse_go_duration(std::string_view s, int64_t* ns) {
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return false;
    long double total = 0;
    while (!s.empty()) {
        size_t i = 0;
        long double value = 0;
        bool digits = false;
        while (i < s.size() && is_digit(s[i])) value = value * 10 + (s[i++] - '0'), digits = true;
        if (i < s.size() && s[i] == '.') {
            ++i;
            long double scale = 0.1L;
            while (i < s.size() && is_digit(s[i])) value += (s[i++] - '0') * scale, scale /= 10, digits = true;
        }
        if (!digits) return false;
        size_t u = i;
        while (i < s.size() && !is_digit(s[i]) && s[i] != '.') ++i;
        std::string_view unit = s.substr(u, i - u);
        long double mult;
        if (unit == "ns") mult = 1;
        else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3L;
        else if (unit == "ms") mult = 1e6L;
        else if (unit == "s") mult = 1e9L;
        else if (unit == "m") mult = 60e9L;
        else if (unit == "h") mult = 3600e9L;
        else return false;  // no unit, or an unknown one ("0" alone is handled by the caller)
        total += value * mult;
        s.remove_prefix(i);
    }
    if (total > static_cast<long double>(INT64_MAX)) return false;
    *ns = static_cast<int64_t>(negative ? -total : total);
    return true;
}

// N decimal digits at S[*I], advancing *I.
bool take_digits(std::string_view s, size_t* i, int n, int* out) {
    int v = 0;
    for (int k = 0; k < n; ++k, ++*i) {
        if (*i >= s.size() || !is_digit(s[*i])) return false;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return true;
}

// YYYY-MM-DD[THH[:MM[:SS[.frac]]]][Z|±HH:MM]; no zone = local time.
bool parse_rfc3339ish(std::string_view s, int64_t* unix_ns) {
    size_t i = 0;
    struct tm tm = {};
    int year, mon, day, hour = 0, min = 0, sec = 0;
    if (!take_digits(s, &i, 4, &year) || i >= s.size() || s[i++] != '-' || !take_digits(s, &i, 2, &mon) ||
        i >= s.size() || s[i++] != '-' || !take_digits(s, &i, 2, &day))
        return false;
    int64_t frac_ns = 0;
    if (i < s.size() && s[i] == 'T') {
        ++i;
        if (!take_digits(s, &i, 2, &hour)) return false;
        if (i < s.size() && s[i] == ':') {
            ++i;
            if (!take_digits(s, &i, 2, &min)) return false;
            if (i < s.size() && s[i] == ':') {
                ++i;
                if (!take_digits(s, &i, 2, &sec)) return false;
                if (i < s.size() && s[i] == '.') {
                    ++i;
                    int64_t scale = 100000000;
                    size_t start = i;
                    for (; i < s.size() && is_digit(s[i]); ++i, scale /= 10)
                        if (scale > 0) frac_ns += (s[i] - '0') * scale;
                    if (i == start) return false;
                }
            }
        }
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return false;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    int64_t secs;
    if (i == s.size()) {
        tm.tm_isdst = -1;
        time_t t = ::mktime(&tm);
        if (t == static_cast<time_t>(-1)) return false;
        secs = t;
    } else if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
        secs = ::timegm(&tm);
    } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i++] == '-' ? -1 : 1, zh, zm;
        if (!take_digits(s, &i, 2, &zh) || i >= s.size() || s[i++] != ':' || !take_digits(s, &i, 2, &zm) ||
            i != s.size())
            return false;
        secs = ::timegm(&tm) - sign * (zh * 3600 + zm * 60);
    } else {
        return false;
    }
    *unix_ns = secs * 1000000000LL + frac_ns;
    return true;
}

struct Snapshot {
    std::vector<UniqueFd> fds;  // oldest first
    std::vector<struct stat> st;
};

// Opens PATH, PATH.1, PATH.2 … (newest first) and checks by inode that they are still the files
// those names held once all were open: a rotation in between shows as a name that moved (or as
// one inode under two names while the writer links the current file to PATH.1). Then the open
// descriptors are one consistent moment of the log, whatever the writer does next.
Result<Snapshot> take_snapshot(const std::string& path) {
    for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
        Snapshot snap;
        bool unstable = false;
        for (int i = 0;; ++i) {
            std::string name = rotated_log_path(path, i);
            UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
            if (!fd.valid()) {
                int err = errno;
                if (err != ENOENT) return errno_error("open log `" + name + "`", err);
                // A hole below an existing file: the writer is shifting the rotated files.
                if (i > 0 && path_exists(rotated_log_path(path, i + 1))) unstable = true;
                break;
            }
            struct stat st;
            if (::fstat(fd.get(), &st) != 0) return errno_error("stat log `" + name + "`", errno);
            snap.fds.push_back(std::move(fd));
            snap.st.push_back(st);
        }
        for (size_t i = 0; i < snap.st.size() && !unstable; ++i) {
            struct stat now;
            if (::stat(rotated_log_path(path, static_cast<int>(i)).c_str(), &now) != 0 ||
                now.st_ino != snap.st[i].st_ino || now.st_dev != snap.st[i].st_dev)
                unstable = true;
            for (size_t j = 0; j < i && !unstable; ++j)
                if (snap.st[j].st_ino == snap.st[i].st_ino && snap.st[j].st_dev == snap.st[i].st_dev) unstable = true;
        }
        if (!unstable) {
            std::reverse(snap.fds.begin(), snap.fds.end());
            std::reverse(snap.st.begin(), snap.st.end());
            return snap;
        }
        ::sched_yield();
    }
    return make_error("read log `" + path + "`: it is rotated faster than it can be opened; try again");
}

}  // namespace

Result<int64_t> parse_log_max_size(std::string_view text) {
    const std::string quoted = "'" + std::string(text) + "'";
    // go-units parseSize: the number ends at the last digit, '.' or space.
    size_t sep = text.find_last_of("0123456789. ");
    if (sep == std::string_view::npos) return make_error("invalid size: " + quoted);
    std::string_view num = text.substr(0, sep + 1), sfx = text.substr(sep + 1);
    if (text[sep] == ' ') num = text.substr(0, sep);
    // strconv.ParseFloat: an optional sign, digits with at most one '.'; go-units then refuses
    // a negative size.
    if (!num.empty() && (num[0] == '-' || num[0] == '+')) {
        bool negative = num[0] == '-';
        num.remove_prefix(1);
        if (negative && !num.empty() && std::all_of(num.begin(), num.end(), [](char c) { return is_digit(c) || c == '.'; }))
            return make_error("invalid size: " + quoted);
    }
    if (num.empty() || std::count(num.begin(), num.end(), '.') > 1 ||
        std::none_of(num.begin(), num.end(), is_digit) ||
        std::any_of(num.begin(), num.end(), [](char c) { return !is_digit(c) && c != '.'; }))
        return make_error("strconv.ParseFloat: parsing \"" + std::string(num) + "\": invalid syntax");
    long double size = std::strtold(std::string(num).c_str(), nullptr);
    long double mult = 1;
    if (!sfx.empty()) {
        std::string s;
        for (char c : sfx) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto bad = [&] { return make_error("invalid suffix: '" + s + "'"); };
        if (s.size() > 3) return bad();
        if (s[0] == 'b') {
            if (s.size() > 1) return bad();
        } else {
            const std::string units = "kmgtp";
            size_t u = units.find(s[0]);
            if (u == std::string::npos) return bad();
            mult = std::pow(1000.0L, static_cast<long double>(u + 1));  // decimalMap: SI units
            if ((s.size() == 2 && s[1] != 'b') || (s.size() == 3 && s.substr(1) != "ib")) return bad();
        }
    }
    long double bytes = size * mult;
    if (bytes >= static_cast<long double>(INT64_MAX)) return make_error("invalid size: " + quoted);
    auto value = static_cast<int64_t>(bytes);
    if (value <= 0) return make_error("max-size must be a positive number");
    return value;
}

Result<int> parse_log_max_file(std::string_view text) {
    std::string_view digits = text;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
        negative = digits[0] == '-';
        digits.remove_prefix(1);
    }
    const std::string quoted = "\"" + std::string(text) + "\"";
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit))
        return make_error("strconv.Atoi: parsing " + quoted + ": invalid syntax");
    if (digits.size() > 9) {
        if (negative) return make_error("max-file cannot be less than 1");
        return make_error("strconv.Atoi: parsing " + quoted + ": value out of range");
    }
    int n = std::stoi(std::string(digits));
    if (negative) n = -n;
    if (n < 1) return make_error("max-file cannot be less than 1");
    return n;
}

Result<int64_t> parse_log_time(std::string_view text, int64_t now_ns) {
    // Docker: a value that parses as a duration is one, except "0" (which is Unix time 0).
    int64_t d = 0;
    if (text != "0" && parse_go_duration(text, &d)) return now_ns - d;
    int64_t ns = 0;
    if (parse_rfc3339ish(text, &ns)) return ns;
    const Error bad = make_error("failed to parse value as time or duration: \"" + std::string(text) + "\"");
    if (text.find('-') != std::string_view::npos) return bad;
    // Unix seconds, optionally with a fraction: "1700000000.5".
    size_t dot = text.find('.');
    std::string_view secs = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (secs.empty() || secs.size() > 12 || !std::all_of(secs.begin(), secs.end(), is_digit)) return bad;
    if (dot != std::string_view::npos &&
        (frac.empty() || frac.size() > 9 || !std::all_of(frac.begin(), frac.end(), is_digit)))
        return bad;
    int64_t result = std::stoll(std::string(secs)) * 1000000000LL;
    int64_t scale = 100000000;
    for (char c : frac) result += (c - '0') * scale, scale /= 10;
    return result;
}

std::string rotated_log_path(const std::string& path, int index) {
    return index == 0 ? path : path + "." + std::to_string(index);
}

// ---------------------------------------------------------------------------------------------
// Writer

Result<JsonLogWriter> JsonLogWriter::open(std::string path, int64_t max_size, int max_file) {
    JsonLogWriter w;
    w.path_ = std::move(path);
    w.max_size_ = max_size > 0 ? max_size : 1;
    w.max_file_ = max_file >= 1 ? max_file : 1;
    w.fd_.reset(::open(w.path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!w.fd_.valid()) return errno_error("open log `" + w.path_ + "`", errno);
    struct stat st;
    if (::fstat(w.fd_.get(), &st) != 0) return errno_error("stat log `" + w.path_ + "`", errno);
    w.size_ = st.st_size;
    return w;
}

Status JsonLogWriter::write(std::string_view stream, std::string_view text, std::string_view time) {
    using nlohmann::json;
    json j = {{"log", text}, {"stream", stream}, {"time", time}};
    std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    if (size_ >= max_size_) ISOLAB_TRY(rotate());
    if (Status s = write_all(fd_.get(), line, path_); !s) {
        // Take back what part of the line reached the file, so that it still ends in '\n' and the
        // next entry does not glue onto a torn one.
        if (::ftruncate(fd_.get(), size_) != 0) {
            struct stat st;
            if (::fstat(fd_.get(), &st) == 0) size_ = st.st_size;
        }
        return s;
    }
    size_ += static_cast<int64_t>(line.size());
    return {};
}

// Docker's rotation (loggerutils.LogFile.rotate), done so that `container.log` never disappears:
// the oldest file goes, each PATH.i becomes PATH.i+1, the current file gains the name PATH.1 by a
// hard link, and a new empty file is renamed over PATH. A reader that holds the old current file
// open still reads all of it; the writer never writes to it again.
Status JsonLogWriter::rotate() {
    const std::string fresh = path_ + ".new";
    UniqueFd fd(::open(fresh.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return errno_error("rotate log: create `" + fresh + "`", errno);
    if (max_file_ >= 2) {
        int last = 0;  // the highest PATH.i that exists (they are contiguous from .1)
        while (last + 1 <= max_file_ - 1 && path_exists(rotated_log_path(path_, last + 1))) ++last;
        if (last == max_file_ - 1) {
            const std::string oldest = rotated_log_path(path_, last);
            if (::unlink(oldest.c_str()) != 0 && errno != ENOENT)
                return errno_error("rotate log: remove `" + oldest + "`", errno);
            --last;
        }
        for (int i = last; i >= 1; --i) {
            const std::string from = rotated_log_path(path_, i), to = rotated_log_path(path_, i + 1);
            if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
                return errno_error("rotate log: rename `" + from + "` to `" + to + "`", errno);
        }
        const std::string first = rotated_log_path(path_, 1);
        if (::link(path_.c_str(), first.c_str()) != 0) {
            int err = errno;
            if (err == EEXIST) {
                (void)::unlink(first.c_str());
                if (::link(path_.c_str(), first.c_str()) == 0) err = 0;
                else err = errno;
            }
            // No hard links on this file system: a rename, with a moment where PATH is missing
            // (readers then see an empty log for that moment and poll again).
            if (err != 0 && ::rename(path_.c_str(), first.c_str()) != 0)
                return errno_error("rotate log: rename `" + path_ + "` to `" + first + "`", errno);
        }
    }
    if (::rename(fresh.c_str(), path_.c_str()) != 0) {
        int err = errno;
        (void)::unlink(fresh.c_str());
        return errno_error("rotate log: rename `" + fresh + "` to `" + path_ + "`", err);
    }
    fd_ = std::move(fd);
    size_ = 0;
    return {};
}

// ---------------------------------------------------------------------------------------------
// Reader

Result<JsonLogReader> JsonLogReader::open(std::string path) {
    JsonLogReader r;
    r.path_ = std::move(path);
    ISOLAB_TRY(r.open_newer());
    return r;
}

Status JsonLogReader::open_newer() {
    auto snap = take_snapshot(path_);
    if (!snap) return snap.error();
    size_t from = 0;
    if (!files_.empty()) {
        const File& last = files_.back();
        // The files after the one we know last; all of them when it has been deleted since.
        for (size_t i = 0; i < snap->st.size(); ++i)
            if (snap->st[i].st_ino == last.ino && snap->st[i].st_dev == last.dev) from = i + 1;
    }
    for (size_t i = from; i < snap->fds.size(); ++i) {
        File f;
        f.fd = std::move(snap->fds[i]);
        f.dev = snap->st[i].st_dev;
        f.ino = snap->st[i].st_ino;
        f.size = snap->st[i].st_size;
        files_.push_back(std::move(f));
    }
    return {};
}

void JsonLogReader::next_file() {
    files_.pop_front();
    pos_ = 0;
    pending_.clear();  // a rotated file ends in '\n'; a torn end (a crash) is not a line
    skipping_ = false;
}

Status JsonLogReader::read_front(off_t limit, const LineFn& fn) {
    if (files_.empty()) return {};
    const File& f = files_.front();
    std::string buf(kChunk, '\0');
    for (;;) {
        size_t want = kChunk;
        if (limit >= 0) {
            if (pos_ >= limit) break;
            want = std::min<size_t>(want, static_cast<size_t>(limit - pos_));
        }
        ssize_t n = ::pread(f.fd.get(), buf.data(), want, pos_);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read log `" + path_ + "`", errno);
        }
        if (n == 0) break;
        pos_ += n;
        std::string_view data(buf.data(), static_cast<size_t>(n));
        for (;;) {
            size_t nl = data.find('\n');
            if (nl == std::string_view::npos) break;
            if (!skipping_) {
                if (pending_.empty()) {
                    fn(data.substr(0, nl));
                } else {
                    pending_.append(data.substr(0, nl));
                    fn(pending_);
                }
            }
            pending_.clear();
            skipping_ = false;
            data.remove_prefix(nl + 1);
        }
        if (!skipping_) {
            if (pending_.size() + data.size() > kMaxLine) {
                pending_.clear();
                skipping_ = true;
            } else {
                pending_.append(data);
            }
        }
    }
    return {};
}

Status JsonLogReader::seek_tail(size_t n) {
    // Walk backwards from the end of the snapshot counting '\n': the position sought is just after
    // the (n+1)-th one from the end, or the start of a file once n have been counted in the files
    // after it. Bytes after the newest file's last '\n' are no complete line and count for nothing.
    if (files_.empty()) return {};
    pending_.clear();
    skipping_ = false;
    std::string buf(kChunk, '\0');
    size_t counted = 0;
    for (size_t fi = files_.size(); fi-- > 0;) {
        const File& f = files_[fi];
        off_t end = f.size;
        while (end > 0) {
            size_t len = static_cast<size_t>(std::min<off_t>(end, static_cast<off_t>(kChunk)));
            off_t at = end - static_cast<off_t>(len);
            ssize_t got = ::pread(f.fd.get(), buf.data(), len, at);
            if (got < 0) {
                if (errno == EINTR) continue;
                return errno_error("read log `" + path_ + "`", errno);
            }
            if (static_cast<size_t>(got) != len) return make_error("read log `" + path_ + "`: it was truncated");
            for (size_t i = len; i-- > 0;) {
                if (buf[i] != '\n') continue;
                if (counted == n) {
                    files_.erase(files_.begin(), files_.begin() + static_cast<std::ptrdiff_t>(fi));
                    pos_ = at + static_cast<off_t>(i) + 1;
                    return {};
                }
                ++counted;
            }
            end = at;
        }
        if (counted == n) {
            files_.erase(files_.begin(), files_.begin() + static_cast<std::ptrdiff_t>(fi));
            pos_ = 0;
            return {};
        }
    }
    pos_ = 0;  // fewer than n lines: all of them
    return {};
}

Status JsonLogReader::read_snapshot(const LineFn& fn) {
    while (!files_.empty()) {
        ISOLAB_TRY(read_front(files_.front().size, fn));
        if (files_.size() == 1) break;
        next_file();
    }
    return {};
}

Status JsonLogReader::poll(const LineFn& fn) {
    for (;;) {
        if (files_.empty()) {
            ISOLAB_TRY(open_newer());
            if (files_.empty()) return {};  // not created yet
        }
        ISOLAB_TRY(read_front(-1, fn));
        if (files_.size() > 1) {
            next_file();
            continue;
        }
        struct stat st;
        if (::stat(path_.c_str(), &st) != 0) return {};  // mid-rotation (rename fallback) or removed
        if (st.st_ino == files_.back().ino && st.st_dev == files_.back().dev) return {};
        // Rotated: the file being read is final now. Read what reached it before the rename, then
        // move on to the files that came after it.
        ISOLAB_TRY(read_front(-1, fn));
        ISOLAB_TRY(open_newer());
        if (files_.size() == 1) return {};
        next_file();
    }
}

}  // namespace isolab
