#include "sim/core/clock.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "sim/core/files.hpp"

namespace isolab {

std::string now_rfc3339() {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
    return buf;
}

int64_t rfc3339_to_unix_ns(const std::string& s) {
    struct tm tm = {};
    int year, mon, day, hh, mm, ss;
    if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &year, &mon, &day, &hh, &mm, &ss) != 6) return 0;
    if (year <= 1) return 0;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    int64_t ns = 0;
    size_t dot = s.find('.');
    if (dot != std::string::npos) {
        int64_t scale = 100000000;
        for (size_t i = dot + 1; i < s.size() && s[i] >= '0' && s[i] <= '9' && scale > 0; ++i) {
            ns += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    return static_cast<int64_t>(::timegm(&tm)) * 1000000000LL + ns;
}

double monotonic_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
        if (n > 0) got += static_cast<size_t>(n);
    }
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

uint64_t process_start_time(pid_t pid) {
    if (pid <= 0) return 0;
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return 0;
    // comm (field 2) may hold spaces and parentheses: parse after the last ')'.
    size_t close = stat->rfind(')');
    if (close == std::string::npos) return 0;
    const char* p = stat->c_str() + close + 2;
    // Fields from 3 on: state is field 3; start time is field 22.
    int field = 3;
    while (*p && field < 22) {
        if (*p == ' ') ++field;
        ++p;
    }
    return std::strtoull(p, nullptr, 10);
}

pid_t process_parent(pid_t pid) {
    if (pid <= 0) return 0;
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return 0;
    size_t close = stat->rfind(')');
    if (close == std::string::npos || close + 4 >= stat->size()) return 0;
    // ") S PPID ...": the state, then the parent.
    return static_cast<pid_t>(std::strtol(stat->c_str() + close + 4, nullptr, 10));
}

std::string owned_scratch_name(const std::string& prefix) {
    pid_t self = ::getpid();
    return prefix + "-" + std::to_string(self) + "-" + std::to_string(process_start_time(self)) + "-" + random_hex(4);
}

bool owned_scratch_abandoned(const std::string& name) {
    // PREFIX-PID-START-RAND: the last three dash-separated fields.
    size_t r = name.rfind('-');
    if (r == std::string::npos || r == 0) return false;
    size_t s = name.rfind('-', r - 1);
    if (s == std::string::npos || s == 0) return false;
    size_t p = name.rfind('-', s - 1);
    if (p == std::string::npos) return false;
    std::string pid = name.substr(p + 1, s - p - 1), start = name.substr(s + 1, r - s - 1);
    auto digits = [](const std::string& x) {
        return !x.empty() && x.size() < 20 && x.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!digits(pid) || !digits(start)) return false;
    return !process_matches(static_cast<pid_t>(std::strtol(pid.c_str(), nullptr, 10)),
                            std::strtoull(start.c_str(), nullptr, 10));
}

bool process_matches(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    uint64_t now = process_start_time(pid);
    if (now == 0) return false;
    // A zombie still has its stat; treat it as gone.
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat) {
        size_t close = stat->rfind(')');
        if (close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z')
            return false;
    }
    return start_time == 0 || now == start_time;
}

std::string human_duration(int64_t seconds) {
    if (seconds < 1) return "Less than a second";
    if (seconds == 1) return "1 second";
    if (seconds < 60) return std::to_string(seconds) + " seconds";
    int64_t minutes = seconds / 60;
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return std::to_string(minutes) + " minutes";
    int64_t hours = (seconds + 1800) / 3600;
    if (hours == 1) return "About an hour";
    if (hours < 48) return std::to_string(hours) + " hours";
    if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
    if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
    if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
    return std::to_string(hours / 24 / 365) + " years";
}

void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

}  // namespace isolab
