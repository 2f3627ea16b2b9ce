#include "sim/core/mountinfo.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace isolab {
namespace {

std::vector<std::string_view> split_view(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(sep, start);
        if (end == std::string_view::npos) end = s.size();
        out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string unescape_mountinfo(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) && is_octal(s[i + 3])) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
    std::vector<MountInfoEntry> out;
    for (std::string_view line : split_view(text, '\n')) {
        std::vector<std::string_view> f;
        for (auto w : split_view(line, ' '))
            if (!w.empty()) f.push_back(w);
        auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
        if (dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 3) continue;
        MountInfoEntry e;
        e.root = unescape_mountinfo(f[3]);
        e.mountpoint = unescape_mountinfo(f[4]);
        e.options = std::string(f[5]);
        for (auto it = f.begin() + 6; it != dash; ++it) e.optional_fields.emplace_back(*it);
        e.fstype = std::string(*(dash + 1));
        e.source = unescape_mountinfo(*(dash + 2));
        if (f.end() - dash >= 4) e.super_options = std::string(*(dash + 3));
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<MountInfoEntry> read_mountinfo(const std::string& path) { return parse_mountinfo(slurp(path)); }

const char* cgroup_layout_name(CgroupLayout layout) {
    switch (layout) {
        case CgroupLayout::None: return "none";
        case CgroupLayout::V1: return "v1";
        case CgroupLayout::V2: return "v2";
        case CgroupLayout::Hybrid: return "hybrid";
    }
    return "none";
}

bool is_v1_controller(std::string_view name) {
    // The kernel's cgroup_subsys names (include/linux/cgroup_subsys.h).
    static const char* const kNames[] = {"cpuset", "cpu",     "cpuacct",  "io",    "blkio", "memory",
                                         "devices", "freezer", "net_cls", "perf_event", "net_prio",
                                         "hugetlb", "pids",    "rdma",    "misc",  "debug"};
    return std::any_of(std::begin(kNames), std::end(kNames), [&](const char* n) { return name == n; });
}

bool CgroupMount::named() const {
    return std::any_of(controllers.begin(), controllers.end(),
                       [](const std::string& c) { return c.rfind("name=", 0) == 0; });
}

std::vector<CgroupMount> cgroup_mounts(const std::vector<MountInfoEntry>& entries) {
    std::vector<CgroupMount> out;
    for (const auto& e : entries) {
        if (e.fstype != "cgroup" && e.fstype != "cgroup2") continue;
        CgroupMount m;
        m.mountpoint = e.mountpoint;
        m.root = e.root;
        m.v2 = e.fstype == "cgroup2";
        if (!m.v2)
            for (auto opt : split_view(e.super_options, ','))
                if (is_v1_controller(opt) || opt.rfind("name=", 0) == 0) m.controllers.emplace_back(opt);
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text) {
    std::vector<CgroupMembership> out;
    for (std::string_view line : split_view(text, '\n')) {
        size_t a = line.find(':');
        size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
        if (b == std::string_view::npos) continue;
        CgroupMembership g;
        std::string_view ctrls = line.substr(a + 1, b - a - 1);
        if (!ctrls.empty())
            for (auto c : split_view(ctrls, ',')) g.controllers.emplace_back(c);
        g.path = std::string(line.substr(b + 1));
        out.push_back(std::move(g));
    }
    return out;
}

std::vector<CgroupMembership> read_proc_cgroup(const std::string& path) { return parse_proc_cgroup(slurp(path)); }

CgroupLayout cgroup_layout_of(const std::vector<CgroupMount>& mounts) {
    bool v1 = false, v2 = false;
    for (const auto& m : mounts) {
        if (m.v2) v2 = true;
        for (const auto& c : m.controllers)
            if (c.rfind("name=", 0) != 0) v1 = true;  // a name=systemd hierarchy alone is not v1
    }
    return v1 && v2 ? CgroupLayout::Hybrid : v1 ? CgroupLayout::V1 : v2 ? CgroupLayout::V2 : CgroupLayout::None;
}

const CgroupMembership* membership_in(const std::vector<CgroupMembership>& groups, const CgroupMount& m) {
    for (const auto& g : groups) {
        if (m.v2) {
            if (g.v2()) return &g;
            continue;
        }
        if (g.v2() || g.controllers.size() != m.controllers.size()) continue;
        if (std::is_permutation(g.controllers.begin(), g.controllers.end(), m.controllers.begin())) return &g;
    }
    return nullptr;
}

std::string cgroup_dir(const CgroupMount& m, const std::string& path) {
    std::string rel;
    if (m.root.empty() || m.root == "/") rel = path;
    else if (path == m.root || path.rfind(m.root + "/", 0) == 0) rel = path.substr(m.root.size());
    else rel = "/";
    if (rel.empty() || rel == "/") return m.mountpoint;
    if (m.mountpoint == "/") return rel;
    return m.mountpoint + (rel[0] == '/' ? "" : "/") + rel;
}

}  // namespace isolab
