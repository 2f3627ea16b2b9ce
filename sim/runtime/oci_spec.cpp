#include "sim/runtime/oci_spec.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "sim/core/strings.hpp"
#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/state/store.hpp"
#include "sim/runtime/detached_tree.hpp"
#include "sim/runtime/runtime.hpp"
#include "sim/runtime/security.hpp"
#include "sim/runtime/setup_plan.hpp"

namespace isolab::oci {

using nlohmann::json;

const Namespace* OciSpec::find_namespace(const std::string& type) const {
    for (const auto& ns : namespaces)
        if (ns.type == type) return &ns;
    return nullptr;
}

namespace {

// The parser reports the first problem it finds. Inside this file a problem is thrown as
// SpecError and turned into an Error value at parse_oci_spec's boundary: the checks read as one
// line each instead of a Result unwrapped at every field.
struct SpecError {
    std::string message;
};

[[noreturn]] void fail(const std::string& field, const std::string& what) {
    throw SpecError{"config.json: " + field + " " + what};
}

[[noreturn]] void unsupported(const std::string& field, const std::string& why = "") {
    fail(field, "is not supported by IsoLab's runtime" + (why.empty() ? std::string() : " (" + why + ")") +
                    "; remove it from config.json");
}

const json* member(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string type_name(const json& j) { return j.type_name(); }

const json& need_object(const json& j, const std::string& field) {
    if (!j.is_object()) fail(field, "must be an object, not " + type_name(j));
    return j;
}

const json& need_array(const json& j, const std::string& field) {
    if (!j.is_array()) fail(field, "must be an array, not " + type_name(j));
    return j;
}

std::string need_string(const json& j, const std::string& field) {
    if (!j.is_string()) fail(field, "must be a string, not " + type_name(j));
    return j.get<std::string>();
}

bool need_bool(const json& j, const std::string& field) {
    if (!j.is_boolean()) fail(field, "must be true or false, not " + type_name(j));
    return j.get<bool>();
}

int64_t need_int(const json& j, const std::string& field) {
    if (!j.is_number_integer()) fail(field, "must be an integer, not " + type_name(j));
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        fail(field, "is out of range");
    return j.get<int64_t>();
}

uint64_t need_uint64(const json& j, const std::string& field) {
    if (!j.is_number_integer() || (!j.is_number_unsigned() && j.get<int64_t>() < 0))
        fail(field, "must be a non-negative integer");
    return j.get<uint64_t>();
}

uint32_t need_uint32(const json& j, const std::string& field) {
    uint64_t v = need_uint64(j, field);
    if (v > UINT32_MAX) fail(field, "must fit in 32 bits");
    return static_cast<uint32_t>(v);
}

std::vector<std::string> string_list(const json& j, const std::string& field) {
    need_array(j, field);
    std::vector<std::string> out;
    for (size_t i = 0; i < j.size(); ++i) out.push_back(need_string(j[i], field + "[" + std::to_string(i) + "]"));
    return out;
}

const json& required(const json& obj, const char* key, const std::string& field) {
    const json* m = member(obj, key);
    if (!m) fail(field, "is required");
    return *m;
}

bool is_absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

// A field that IsoLab does not implement is an error when it says anything.
void reject_if_set(const json& obj, const char* key, const std::string& field, const std::string& why = "") {
    const json* m = member(obj, key);
    if (!m) return;
    if (m->is_string() && m->get<std::string>().empty()) return;
    if ((m->is_array() || m->is_object()) && m->empty()) return;
    unsupported(field, why);
}

const std::set<std::string> kNamespaceTypes = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"};

void check_version(const std::string& v) {
    // 1.0.x and 1.1.x, with an optional pre-release suffix ("1.0.2-dev" is what runc spec writes).
    auto digits = [](const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; };
    bool ok = false;
    if (v.rfind("1.0.", 0) == 0 || v.rfind("1.1.", 0) == 0) {
        std::string patch = v.substr(4);
        if (size_t dash = patch.find_first_of("-+"); dash != std::string::npos) patch = patch.substr(0, dash);
        ok = digits(patch);
    }
    if (!ok) fail("ociVersion", "\"" + v + "\" is not supported (IsoLab implements runtime-spec 1.0.x and 1.1.x)");
}

void check_capabilities(const std::vector<std::string>& names, const std::string& field) {
    for (const auto& name : names) {
        cap_value_t cap = -1;
        bool shaped = name.rfind("CAP_", 0) == 0 && name.find(',') == std::string::npos;
        if (!shaped || cap_from_name(name.c_str(), &cap) != 0 || cap < 0)
            fail(field, "names an unknown capability \"" + name + "\"");
    }
}

const std::set<std::string> kSeccompActions = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                               "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                                               "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"};
const std::set<std::string> kSeccompOps = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
const std::set<std::string> kSeccompFlags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                             "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};

void check_seccomp_action(const std::string& action, const std::string& field) {
    if (action == "SCMP_ACT_NOTIFY") unsupported(field + " SCMP_ACT_NOTIFY", "no seccomp agent");
    if (!kSeccompActions.count(action)) fail(field, "\"" + action + "\" is not a seccomp action");
}

json parse_seccomp(const json& s) {
    const std::string f = "linux.seccomp";
    need_object(s, f);
    check_seccomp_action(need_string(required(s, "defaultAction", f + ".defaultAction"), f + ".defaultAction"),
                         f + ".defaultAction");
    if (const json* e = member(s, "defaultErrnoRet")) need_uint32(*e, f + ".defaultErrnoRet");
    reject_if_set(s, "listenerPath", f + ".listenerPath", "no seccomp agent");
    reject_if_set(s, "listenerMetadata", f + ".listenerMetadata", "no seccomp agent");
    if (const json* a = member(s, "architectures")) {
        for (const auto& arch : string_list(*a, f + ".architectures")) {
            std::string lower = arch.rfind("SCMP_ARCH_", 0) == 0 ? arch.substr(10) : "";
            for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (lower.empty() || seccomp_arch_resolve_name(lower.c_str()) == 0)
                fail(f + ".architectures", "\"" + arch + "\" is not a seccomp architecture");
        }
    }
    if (const json* fl = member(s, "flags"))
        for (const auto& flag : string_list(*fl, f + ".flags"))
            if (!kSeccompFlags.count(flag)) fail(f + ".flags", "\"" + flag + "\" is not supported");
    if (const json* sc = member(s, "syscalls")) {
        need_array(*sc, f + ".syscalls");
        for (size_t i = 0; i < sc->size(); ++i) {
            std::string fi = f + ".syscalls[" + std::to_string(i) + "]";
            const json& rule = need_object((*sc)[i], fi);
            auto names = string_list(required(rule, "names", fi + ".names"), fi + ".names");
            if (names.empty()) fail(fi + ".names", "must name at least one syscall");
            check_seccomp_action(need_string(required(rule, "action", fi + ".action"), fi + ".action"),
                                 fi + ".action");
            if (const json* e = member(rule, "errnoRet")) need_uint32(*e, fi + ".errnoRet");
            if (const json* args = member(rule, "args")) {
                need_array(*args, fi + ".args");
                for (size_t k = 0; k < args->size(); ++k) {
                    std::string fa = fi + ".args[" + std::to_string(k) + "]";
                    const json& arg = need_object((*args)[k], fa);
                    if (need_uint64(required(arg, "index", fa + ".index"), fa + ".index") > 5)
                        fail(fa + ".index", "must be between 0 and 5");
                    need_uint64(required(arg, "value", fa + ".value"), fa + ".value");
                    if (const json* v2 = member(arg, "valueTwo")) need_uint64(*v2, fa + ".valueTwo");
                    std::string op = need_string(required(arg, "op", fa + ".op"), fa + ".op");
                    if (!kSeccompOps.count(op)) fail(fa + ".op", "\"" + op + "\" is not a seccomp comparison");
                }
            }
        }
    }
    return s;
}

void parse_process(const json& p, const std::string& bundle, Process& out) {
    (void)bundle;
    need_object(p, "process");
    if (const json* t = member(p, "terminal")) out.terminal = need_bool(*t, "process.terminal");
    if (const json* cs = member(p, "consoleSize")) {
        need_object(*cs, "process.consoleSize");
        out.console_height = need_uint32(required(*cs, "height", "process.consoleSize.height"), "process.consoleSize.height");
        out.console_width = need_uint32(required(*cs, "width", "process.consoleSize.width"), "process.consoleSize.width");
    }
    const json& user = need_object(required(p, "user", "process.user"), "process.user");
    out.uid = need_uint32(required(user, "uid", "process.user.uid"), "process.user.uid");
    out.gid = need_uint32(required(user, "gid", "process.user.gid"), "process.user.gid");
    if (const json* u = member(user, "umask")) out.umask = need_uint32(*u, "process.user.umask");
    if (const json* g = member(user, "additionalGids")) {
        need_array(*g, "process.user.additionalGids");
        for (size_t i = 0; i < g->size(); ++i)
            out.additional_gids.push_back(need_uint32((*g)[i], "process.user.additionalGids[" + std::to_string(i) + "]"));
    }
    reject_if_set(user, "username", "process.user.username", "Windows only");
    reject_if_set(p, "commandLine", "process.commandLine", "Windows only");
    if (const json* a = member(p, "args")) out.args = string_list(*a, "process.args");
    if (out.args.empty()) fail("process.args", "must have at least one entry (the program to run)");
    if (const json* e = member(p, "env")) {
        out.env = string_list(*e, "process.env");
        for (size_t i = 0; i < out.env.size(); ++i)
            if (out.env[i].find('=') == std::string::npos || out.env[i][0] == '=')
                fail("process.env[" + std::to_string(i) + "]", "\"" + out.env[i] + "\" is not KEY=VALUE");
    }
    out.cwd = need_string(required(p, "cwd", "process.cwd"), "process.cwd");
    if (!is_absolute(out.cwd)) fail("process.cwd", "must be an absolute path");
    if (const json* c = member(p, "capabilities")) {
        need_object(*c, "process.capabilities");
        auto set = [&](const char* key, std::vector<std::string>& dst) {
            std::string f = std::string("process.capabilities.") + key;
            if (const json* s = member(*c, key)) {
                dst = string_list(*s, f);
                check_capabilities(dst, f);
            }
        };
        set("bounding", out.capabilities.bounding);
        set("effective", out.capabilities.effective);
        set("permitted", out.capabilities.permitted);
        set("inheritable", out.capabilities.inheritable);
        set("ambient", out.capabilities.ambient);
    }
    if (const json* r = member(p, "rlimits")) {
        need_array(*r, "process.rlimits");
        std::set<std::string> seen;
        for (size_t i = 0; i < r->size(); ++i) {
            std::string f = "process.rlimits[" + std::to_string(i) + "]";
            const json& rl = need_object((*r)[i], f);
            Rlimit lim;
            lim.type = need_string(required(rl, "type", f + ".type"), f + ".type");
            lim.resource = rlimit_from_name(lim.type);
            if (lim.resource < 0) fail(f + ".type", "\"" + lim.type + "\" is not an RLIMIT_* name");
            if (!seen.insert(lim.type).second) fail(f + ".type", "\"" + lim.type + "\" appears twice");
            lim.soft = need_uint64(required(rl, "soft", f + ".soft"), f + ".soft");
            lim.hard = need_uint64(required(rl, "hard", f + ".hard"), f + ".hard");
            if (lim.soft > lim.hard) fail(f, "soft limit exceeds the hard limit");
            out.rlimits.push_back(lim);
        }
    }
    if (const json* n = member(p, "noNewPrivileges")) out.no_new_privileges = need_bool(*n, "process.noNewPrivileges");
    if (const json* o = member(p, "oomScoreAdj")) {
        int64_t v = need_int(*o, "process.oomScoreAdj");
        if (v < -1000 || v > 1000) fail("process.oomScoreAdj", "must be between -1000 and 1000");
        out.oom_score_adj = static_cast<int>(v);
    }
    reject_if_set(p, "apparmorProfile", "process.apparmorProfile", "no AppArmor support");
    reject_if_set(p, "selinuxLabel", "process.selinuxLabel", "no SELinux support");
    reject_if_set(p, "ioPriority", "process.ioPriority");
    reject_if_set(p, "scheduler", "process.scheduler");
    reject_if_set(p, "execCPUAffinity", "process.execCPUAffinity");
}

void parse_resources(const json& r, Resources& out) {
    const std::string f = "linux.resources";
    need_object(r, f);
    if (const json* d = member(r, "devices")) {
        need_array(*d, f + ".devices");
        for (size_t i = 0; i < d->size(); ++i) {
            std::string fd = f + ".devices[" + std::to_string(i) + "]";
            const json& dev = need_object((*d)[i], fd);
            DeviceRule rule;
            rule.allow = need_bool(required(dev, "allow", fd + ".allow"), fd + ".allow");
            if (const json* t = member(dev, "type")) {
                std::string type = need_string(*t, fd + ".type");
                if (type != "a" && type != "c" && type != "b") fail(fd + ".type", "must be a, c or b");
                rule.type = type[0];
            }
            if (const json* m = member(dev, "major")) rule.major = need_int(*m, fd + ".major");
            if (const json* m = member(dev, "minor")) rule.minor = need_int(*m, fd + ".minor");
            if (const json* a = member(dev, "access")) {
                rule.access = need_string(*a, fd + ".access");
                if (rule.access.empty() || rule.access.find_first_not_of("rwm") != std::string::npos)
                    fail(fd + ".access", "must be made of r, w and m");
            }
            // The same checks the cgroup applies (a type-a rule with a major, numbers out of range),
            // so that a bundle is refused before anything is created.
            if (Status v = validate_device_rule(rule, "config.json: " + fd); !v) throw SpecError{v.error().message};
            out.devices.push_back(rule);
        }
    }
    if (const json* m = member(r, "memory")) {
        const std::string fm = f + ".memory";
        need_object(*m, fm);
        if (const json* l = member(*m, "limit")) out.memory_limit = need_int(*l, fm + ".limit");
        if (const json* v = member(*m, "reservation")) out.memory_reservation = need_int(*v, fm + ".reservation");
        if (const json* v = member(*m, "swap")) out.memory_swap = need_int(*v, fm + ".swap");
        if (const json* v = member(*m, "swappiness")) {
            out.memory_swappiness = need_uint64(*v, fm + ".swappiness");
            if (*out.memory_swappiness > 100) fail(fm + ".swappiness", "must be between 0 and 100");
        }
        if (const json* v = member(*m, "disableOOMKiller")) out.disable_oom_killer = need_bool(*v, fm + ".disableOOMKiller");
        for (const char* key : {"limit", "reservation", "swap"}) {
            const json* v = member(*m, key);
            if (v && v->get<int64_t>() < -1) fail(fm + "." + key, "must be -1 (unlimited) or a number of bytes");
        }
        // runc's checks, before anything is created: a swap total below the memory limit, or a
        // swap limit without a memory limit, is refused by the kernel anyway.
        if (out.memory_swap && *out.memory_swap > 0) {
            if (!out.memory_limit || *out.memory_limit <= 0)
                fail(fm + ".swap", "needs memory.limit (swap is the limit of memory + swap together)");
            if (*out.memory_swap < *out.memory_limit)
                fail(fm + ".swap", "must be at least memory.limit (it is the limit of memory + swap together)");
        }
        for (const char* key : {"kernel", "kernelTCP", "useHierarchy", "checkBeforeUpdate"})
            if (member(*m, key)) unsupported(fm + "." + key, "Linux 6.x has no kernel memory limits of their own");
    }
    if (const json* c = member(r, "cpu")) {
        const std::string fc = f + ".cpu";
        need_object(*c, fc);
        if (const json* v = member(*c, "shares")) out.cpu_shares = need_uint64(*v, fc + ".shares");
        if (const json* q = member(*c, "quota")) out.cpu_quota = need_int(*q, fc + ".quota");
        if (const json* p = member(*c, "period")) out.cpu_period = need_uint64(*p, fc + ".period");
        if (const json* v = member(*c, "cpus")) out.cpuset_cpus = need_string(*v, fc + ".cpus");
        if (const json* v = member(*c, "mems")) out.cpuset_mems = need_string(*v, fc + ".mems");
        for (const auto* list : {&out.cpuset_cpus, &out.cpuset_mems})
            if (list->find_first_not_of("0123456789,-") != std::string::npos)
                fail(fc + (list == &out.cpuset_cpus ? ".cpus" : ".mems"), "\"" + *list + "\" is not a list such as 0-3,6");
        for (const char* key : {"realtimeRuntime", "realtimePeriod", "idle", "burst"})
            if (const json* v = member(*c, key); v && !(v->is_string() && v->empty()))
                unsupported(fc + "." + key, "realtime, idle and burst CPU settings are not applied");
    }
    if (const json* p = member(r, "pids")) {
        need_object(*p, f + ".pids");
        out.pids_limit = need_int(required(*p, "limit", f + ".pids.limit"), f + ".pids.limit");
    }
    if (const json* h = member(r, "hugepageLimits")) {
        need_array(*h, f + ".hugepageLimits");
        for (size_t i = 0; i < h->size(); ++i) {
            std::string fh = f + ".hugepageLimits[" + std::to_string(i) + "]";
            const json& e = need_object((*h)[i], fh);
            HugepageLimit lim;
            lim.page_size = need_string(required(e, "pageSize", fh + ".pageSize"), fh + ".pageSize");
            // "2MB", "1GB", "64KB": a number and a unit, as the kernel names its hugetlb files.
            size_t digits = lim.page_size.find_first_not_of("0123456789");
            std::string unit = digits == std::string::npos ? "" : lim.page_size.substr(digits);
            if (digits == 0 || (unit != "KB" && unit != "MB" && unit != "GB"))
                fail(fh + ".pageSize", "\"" + lim.page_size + "\" is not a page size such as 2MB or 1GB");
            lim.limit = need_uint64(required(e, "limit", fh + ".limit"), fh + ".limit");
            out.hugepage_limits.push_back(lim);
        }
    }
    if (const json* b = member(r, "blockIO")) {
        const std::string fb = f + ".blockIO";
        need_object(*b, fb);
        if (const json* w = member(*b, "weight")) {
            uint64_t v = need_uint64(*w, fb + ".weight");
            if (v != 0 && (v < 10 || v > 1000)) fail(fb + ".weight", "must be between 10 and 1000");
            if (v != 0) out.blkio_weight = static_cast<uint16_t>(v);
        }
        for (const char* key : {"leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                                "throttleReadIOPSDevice", "throttleWriteIOPSDevice"})
            reject_if_set(*b, key, fb + "." + key, "only blockIO.weight is applied");
    }
    for (const char* key : {"network", "rdma", "unified"})
        reject_if_set(r, key, f + "." + key);
}

// Namespaces whose sysctls a container may set (runc's validator: each needs its namespace).
void check_sysctl(const std::string& key, const std::vector<Namespace>& nss) {
    auto has = [&](const char* t) {
        for (const auto& n : nss)
            if (n.type == t) return true;
        return false;
    };
    std::string f = "linux.sysctl \"" + key + "\"";
    static const std::set<std::string> ipc_keys = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                                   "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                                   "kernel.shm_rmid_forced"};
    if (ipc_keys.count(key) || key.rfind("fs.mqueue.", 0) == 0) {
        if (!has("ipc")) fail(f, "needs an IPC namespace (linux.namespaces type ipc)");
    } else if (key.rfind("net.", 0) == 0) {
        if (!has("network")) fail(f, "needs a network namespace (linux.namespaces type network)");
    } else if (key == "kernel.hostname" || key == "kernel.domainname") {
        if (!has("uts")) fail(f, "needs a UTS namespace (linux.namespaces type uts)");
    } else {
        fail(f, "is not namespaced: a container may not set it");
    }
}

void parse_linux(const json& l, OciSpec& out) {
    need_object(l, "linux");
    if (const json* n = member(l, "namespaces")) {
        need_array(*n, "linux.namespaces");
        for (size_t i = 0; i < n->size(); ++i) {
            std::string f = "linux.namespaces[" + std::to_string(i) + "]";
            const json& ns = need_object((*n)[i], f);
            Namespace x;
            x.type = need_string(required(ns, "type", f + ".type"), f + ".type");
            if (x.type == "time") unsupported(f + " of type time");
            if (!kNamespaceTypes.count(x.type)) fail(f + ".type", "\"" + x.type + "\" is not a namespace type");
            if (const json* p = member(ns, "path")) {
                x.path = need_string(*p, f + ".path");
                if (!x.path.empty() && !is_absolute(x.path)) fail(f + ".path", "must be an absolute path");
            }
            for (const auto& prev : out.namespaces)
                if (prev.type == x.type) fail("linux.namespaces", "has type \"" + x.type + "\" twice");
            out.namespaces.push_back(x);
        }
    }
    auto mappings = [&](const char* key, std::vector<IdMapping>& dst) {
        if (const json* m = member(l, key)) {
            need_array(*m, std::string("linux.") + key);
            for (size_t i = 0; i < m->size(); ++i) {
                std::string f = std::string("linux.") + key + "[" + std::to_string(i) + "]";
                const json& e = need_object((*m)[i], f);
                IdMapping id;
                id.container_id = need_uint32(required(e, "containerID", f + ".containerID"), f + ".containerID");
                id.host_id = need_uint32(required(e, "hostID", f + ".hostID"), f + ".hostID");
                id.size = need_uint32(required(e, "size", f + ".size"), f + ".size");
                if (id.size == 0) fail(f + ".size", "must be at least 1");
                dst.push_back(id);
            }
        }
    };
    mappings("uidMappings", out.uid_mappings);
    mappings("gidMappings", out.gid_mappings);
    if (const json* d = member(l, "devices")) {
        need_array(*d, "linux.devices");
        for (size_t i = 0; i < d->size(); ++i) {
            std::string f = "linux.devices[" + std::to_string(i) + "]";
            const json& dev = need_object((*d)[i], f);
            Device x;
            x.path = need_string(required(dev, "path", f + ".path"), f + ".path");
            if (!is_absolute(x.path)) fail(f + ".path", "must be an absolute path");
            std::string t = need_string(required(dev, "type", f + ".type"), f + ".type");
            if (t != "c" && t != "b" && t != "u" && t != "p") fail(f + ".type", "must be c, b, u or p");
            x.type = t[0];
            if (x.type != 'p') {
                x.major = need_int(required(dev, "major", f + ".major"), f + ".major");
                x.minor = need_int(required(dev, "minor", f + ".minor"), f + ".minor");
            }
            if (const json* m = member(dev, "fileMode")) x.file_mode = need_uint32(*m, f + ".fileMode");
            if (const json* u = member(dev, "uid")) x.uid = need_uint32(*u, f + ".uid");
            if (const json* g = member(dev, "gid")) x.gid = need_uint32(*g, f + ".gid");
            out.devices.push_back(x);
        }
    }
    if (const json* c = member(l, "cgroupsPath")) out.cgroups_path = need_string(*c, "linux.cgroupsPath");
    if (const json* r = member(l, "resources")) parse_resources(*r, out.resources);
    if (const json* m = member(l, "maskedPaths")) {
        out.masked_paths = string_list(*m, "linux.maskedPaths");
        for (const auto& p : out.masked_paths)
            if (!is_absolute(p)) fail("linux.maskedPaths", "entry \"" + p + "\" must be an absolute path");
    }
    if (const json* r = member(l, "readonlyPaths")) {
        out.readonly_paths = string_list(*r, "linux.readonlyPaths");
        for (const auto& p : out.readonly_paths)
            if (!is_absolute(p)) fail("linux.readonlyPaths", "entry \"" + p + "\" must be an absolute path");
    }
    if (const json* s = member(l, "seccomp")) out.seccomp = parse_seccomp(*s);
    if (const json* s = member(l, "sysctl")) {
        need_object(*s, "linux.sysctl");
        for (const auto& [k, v] : s->items()) {
            out.sysctl[k] = need_string(v, "linux.sysctl \"" + k + "\"");
            check_sysctl(k, out.namespaces);
        }
    }
    if (const json* p = member(l, "rootfsPropagation")) {
        out.rootfs_propagation = need_string(*p, "linux.rootfsPropagation");
        static const std::set<std::string> ok = {"",      "private", "rprivate", "slave",     "rslave",
                                                 "shared", "rshared", "unbindable", "runbindable"};
        if (!ok.count(out.rootfs_propagation))
            fail("linux.rootfsPropagation", "\"" + out.rootfs_propagation + "\" is not a propagation mode");
    }
    reject_if_set(l, "intelRdt", "linux.intelRdt", "no resctrl support");
    reject_if_set(l, "personality", "linux.personality");
    reject_if_set(l, "mountLabel", "linux.mountLabel", "no SELinux support");
    reject_if_set(l, "timeOffsets", "linux.timeOffsets", "no time namespace support");
    reject_if_set(l, "memoryPolicy", "linux.memoryPolicy");
    reject_if_set(l, "netDevices", "linux.netDevices");

    // Cross-field rules (runc's config validator says the same).
    const Namespace* user = out.find_namespace("user");
    if (user && user->path.empty() && (out.uid_mappings.empty() || out.gid_mappings.empty()))
        fail("linux.namespaces", "has a new user namespace but linux.uidMappings or linux.gidMappings is empty");
    if (!user && (!out.uid_mappings.empty() || !out.gid_mappings.empty()))
        fail("linux.uidMappings", "needs a user namespace (linux.namespaces type user)");
}

OciSpec parse_json_or_throw(const json& j, const std::string& bundle_dir);

// hooks.* (config.md "POSIX-platform Hooks"). Keys the spec does not define are ignored, as
// config.md's extensibility rule requires.
Hooks parse_hooks_or_throw(const json& h) {
    need_object(h, "hooks");
    Hooks out;
    const std::pair<const char*, std::vector<Hook>*> lists[] = {
        {"prestart", &out.prestart},          {"createRuntime", &out.create_runtime},
        {"createContainer", &out.create_container}, {"startContainer", &out.start_container},
        {"poststart", &out.poststart},        {"poststop", &out.poststop},
    };
    for (const auto& [key, dst] : lists) {
        const json* list = member(h, key);
        if (!list) continue;
        const std::string f = std::string("hooks.") + key;
        need_array(*list, f);
        for (size_t i = 0; i < list->size(); ++i) {
            const std::string fi = f + "[" + std::to_string(i) + "]";
            const json& e = need_object((*list)[i], fi);
            Hook hook;
            hook.path = need_string(required(e, "path", fi + ".path"), fi + ".path");
            if (!is_absolute(hook.path)) fail(fi + ".path", "must be an absolute path");
            if (const json* a = member(e, "args")) hook.args = string_list(*a, fi + ".args");
            if (const json* v = member(e, "env")) hook.env = string_list(*v, fi + ".env");
            if (const json* t = member(e, "timeout")) {
                int64_t secs = need_int(*t, fi + ".timeout");
                if (secs <= 0) fail(fi + ".timeout", "must be greater than zero (seconds)");
                if (secs > INT32_MAX) fail(fi + ".timeout", "is out of range");
                hook.timeout = static_cast<int>(secs);
            }
            dst->push_back(std::move(hook));
        }
    }
    return out;
}

OciSpec parse_or_throw(const std::string& text, const std::string& bundle_dir) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw SpecError{std::string("config.json: not valid JSON: ") + e.what()};
    }
    return parse_json_or_throw(j, bundle_dir);
}

OciSpec parse_json_or_throw(const json& j, const std::string& bundle_dir) {
    if (!j.is_object()) throw SpecError{"config.json: the top level must be an object"};
    OciSpec spec;
    spec.bundle = bundle_dir;
    spec.oci_version = need_string(required(j, "ociVersion", "ociVersion"), "ociVersion");
    check_version(spec.oci_version);

    const json& root = need_object(required(j, "root", "root"), "root");
    std::string root_path = need_string(required(root, "path", "root.path"), "root.path");
    if (root_path.empty()) fail("root.path", "must not be empty");
    spec.root_path = is_absolute(root_path) ? root_path
                     : (bundle_dir.empty() || bundle_dir.back() == '/' ? bundle_dir : bundle_dir + "/") + root_path;
    if (const json* ro = member(root, "readonly")) spec.root_readonly = need_bool(*ro, "root.readonly");

    if (const json* p = member(j, "process")) {
        spec.has_process = true;
        parse_process(*p, bundle_dir, spec.process);
    }
    if (const json* h = member(j, "hostname")) spec.hostname = need_string(*h, "hostname");
    if (const json* d = member(j, "domainname")) spec.domainname = need_string(*d, "domainname");

    if (const json* m = member(j, "mounts")) {
        need_array(*m, "mounts");
        for (size_t i = 0; i < m->size(); ++i) {
            std::string f = "mounts[" + std::to_string(i) + "]";
            const json& mj = need_object((*m)[i], f);
            Mount mt;
            mt.destination = need_string(required(mj, "destination", f + ".destination"), f + ".destination");
            if (!is_absolute(mt.destination)) fail(f + ".destination", "must be an absolute path");
            if (const json* t = member(mj, "type")) mt.type = need_string(*t, f + ".type");
            if (const json* s = member(mj, "source")) mt.source = need_string(*s, f + ".source");
            if (const json* o = member(mj, "options")) mt.options = string_list(*o, f + ".options");
            reject_if_set(mj, "uidMappings", f + ".uidMappings", "no id-mapped mounts");
            reject_if_set(mj, "gidMappings", f + ".gidMappings", "no id-mapped mounts");
            MountFlags mf = parse_mount_options(mt.options);
            if (mf.bind || mt.type == "bind") {
                if (mt.source.empty()) fail(f + ".source", "is required for a bind mount");
                if (!is_absolute(mt.source)) mt.source = bundle_dir + "/" + mt.source;
            }
            spec.mounts.push_back(mt);
        }
    }
    if (const json* h = member(j, "hooks")) {
        spec.hooks = parse_hooks_or_throw(*h);
        spec.hooks_json = *h;
    }
    if (const json* a = member(j, "annotations")) {
        need_object(*a, "annotations");
        for (const auto& [k, v] : a->items()) {
            if (k.empty()) fail("annotations", "keys must not be empty");
            spec.annotations[k] = need_string(v, "annotations \"" + k + "\"");
        }
    }
    for (const char* platform : {"solaris", "windows", "vm", "zos"})
        if (member(j, platform)) unsupported(platform, "IsoLab runs Linux containers");
    if (const json* l = member(j, "linux")) parse_linux(*l, spec);
    if (!spec.hostname.empty() && !spec.has_namespace("uts"))
        fail("hostname", "needs a private UTS namespace (linux.namespaces type uts)");
    if (!spec.domainname.empty() && !spec.has_namespace("uts"))
        fail("domainname", "needs a private UTS namespace (linux.namespaces type uts)");
    return spec;
}

// ---- make_oci_config ----------------------------------------------------------------------

struct PasswdEntry {
    std::string name;
    uint32_t id = 0, gid = 0;
};

// Entries of a passwd- or group-shaped file (name:x:id:gid-or-members).
std::vector<PasswdEntry> read_id_file(const std::string& path) {
    std::vector<PasswdEntry> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string part;
        while (std::getline(ss, part, ':')) f.push_back(part);
        if (f.size() < 3 || f[0].empty()) continue;
        PasswdEntry e;
        e.name = f[0];
        try {
            e.id = static_cast<uint32_t>(std::stoul(f[2]));
            if (f.size() > 3 && !f[3].empty() && std::isdigit(static_cast<unsigned char>(f[3][0])))
                e.gid = static_cast<uint32_t>(std::stoul(f[3]));
        } catch (...) {
            continue;
        }
        out.push_back(e);
    }
    return out;
}

// The container's /etc/FILE: in ROOTFS when given, else the first layer (top down) that has it.
std::string find_etc_file(const ContainerRecord& rec, const std::string& container_dir, const std::string& rootfs,
                          const char* file) {
    if (!rootfs.empty()) return rootfs + "/etc/" + file;
    std::vector<std::string> dirs = {container_dir + "/upper", container_dir + "/rootfs"};
    for (auto it = rec.layers.rbegin(); it != rec.layers.rend(); ++it) dirs.push_back(*it);
    for (const auto& d : dirs)
        if (path_exists(d + "/etc/" + file)) return d + "/etc/" + file;
    return "";
}

Result<std::pair<uint32_t, uint32_t>> resolve_user(const ContainerRecord& rec, const std::string& container_dir,
                                                    const std::string& rootfs) {
    std::string user = rec.spec.user, group;
    if (user.empty()) return std::pair<uint32_t, uint32_t>{0, 0};
    if (size_t c = user.find(':'); c != std::string::npos) {
        group = user.substr(c + 1);
        user = user.substr(0, c);
    }
    auto passwd = read_id_file(find_etc_file(rec, container_dir, rootfs, "passwd"));
    uint32_t uid = 0, gid = 0;
    bool found = false;
    for (const auto& e : passwd)
        if ((all_digits(user) && e.id == std::stoul(user)) || e.name == user) {
            uid = e.id;
            gid = e.gid;
            found = true;
            break;
        }
    if (!found) {
        if (!all_digits(user))
            return make_error("unable to find user " + user + ": no matching entries in passwd file");
        uid = static_cast<uint32_t>(std::stoul(user));
    }
    if (!group.empty()) {
        if (all_digits(group)) {
            gid = static_cast<uint32_t>(std::stoul(group));
        } else {
            bool gfound = false;
            for (const auto& e : read_id_file(find_etc_file(rec, container_dir, rootfs, "group")))
                if (e.name == group) {
                    gid = e.id;
                    gfound = true;
                    break;
                }
            if (!gfound) return make_error("unable to find group " + group + ": no matching entries in group file");
        }
    }
    return std::pair<uint32_t, uint32_t>{uid, gid};
}

json mount_entry(const std::string& dest, const std::string& type, const std::string& source,
                 std::vector<std::string> options) {
    return json{{"destination", dest}, {"type", type}, {"source", source}, {"options", std::move(options)}};
}

// Runs ARGV (argv[0] an absolute path) and waits; "" on exit 0, else what went wrong.
std::string run_and_wait(const std::vector<std::string>& argv) {
    Argv child(argv);
    pid_t pid = ::fork();
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid == 0) child.exec();
    int code = wait_exit_code(pid);
    if (code == 0) return "";
    return argv[0] + " exited with status " + std::to_string(code);
}

bool dir_is_empty(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return false;
    bool empty = true;
    while (const dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    ::closedir(d);
    return empty;
}

// Copies the container's merged view (layers, lowest first, with UPPER on top) into DEST. The
// read-only overlay is mounted in a child that has its own private mount namespace, so the mount
// disappears with the child whatever happens (nothing to unmount on an error path).
Status copy_merged(const ContainerRecord& rec, const std::string& upper, const std::string& dest) {
    std::string lower = upper;
    for (auto it = rec.layers.rbegin(); it != rec.layers.rend(); ++it) lower += ":" + *it;
    char tmpl[] = "/tmp/isolab-bundle-XXXXXX";
    if (!::mkdtemp(tmpl)) return errno_error("bundle: create a temporary mount point in /tmp", errno);
    std::string mnt = tmpl;
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::rmdir(mnt.c_str());
        return errno_error("bundle: pipe", errno);
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::rmdir(mnt.c_str());
        return errno_error("bundle: fork", e);
    }
    if (pid == 0) {
        ::close(err_pipe[0]);
        auto die = [&](const std::string& msg) {
            ssize_t n = ::write(err_pipe[1], msg.data(), msg.size());
            (void)n;
            ::_exit(1);
        };
        if (::unshare(CLONE_NEWNS) != 0) die(std::string("unshare mount namespace: ") + std::strerror(errno));
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            die(std::string("make / private: ") + std::strerror(errno));
        if (rec.layers.empty()) {
            // Scratch: the writable layer is the whole file system.
            if (::mount(upper.c_str(), mnt.c_str(), nullptr, MS_BIND, nullptr) != 0)
                die("bind `" + upper + "`: " + std::strerror(errno));
        } else {
            std::string opts = "lowerdir=" + lower;
            if (rec.backend == Backend::Rootless) opts += ",userxattr";
            if (::mount("overlay", mnt.c_str(), "overlay", MS_RDONLY, opts.c_str()) != 0)
                die("mount a read-only overlay of the container's layers on `" + mnt + "`: " + std::strerror(errno));
        }
        std::string r = run_and_wait({"/bin/cp", "-a", mnt + "/.", dest + "/"});
        if (!r.empty()) die("copy the container's file system to `" + dest + "`: " + r);
        ::_exit(0);
    }
    ::close(err_pipe[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(err_pipe[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
    ::close(err_pipe[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::rmdir(mnt.c_str());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return make_error("bundle: " + (msg.empty() ? std::string("the copy process failed") : msg));
    return {};
}

// One linux.resources.devices[] entry; type, major and minor are left out where they mean "any",
// as dockerd writes them.
json device_rule_json(const DeviceRule& r) {
    json j = {{"allow", r.allow}};
    if (r.type != 'a') j["type"] = std::string(1, r.type);
    if (r.major >= 0) j["major"] = r.major;
    if (r.minor >= 0) j["minor"] = r.minor;
    j["access"] = r.access;
    return j;
}

}  // namespace

int rlimit_from_name(const std::string& name) {
    static const std::map<std::string, int> names = {
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    auto it = names.find(name);
    return it == names.end() ? -1 : it->second;
}

MountFlags parse_mount_options(const std::vector<std::string>& options) {
    // runc's libcontainer/specconv: word → (clear?, flag).
    static const std::map<std::string, std::pair<bool, unsigned long>> flags = {
        {"async", {true, MS_SYNCHRONOUS}},   {"atime", {true, MS_NOATIME}},      {"bind", {false, MS_BIND}},
        {"defaults", {false, 0}},            {"dev", {true, MS_NODEV}},          {"diratime", {true, MS_NODIRATIME}},
        {"dirsync", {false, MS_DIRSYNC}},    {"exec", {true, MS_NOEXEC}},        {"mand", {false, MS_MANDLOCK}},
        {"noatime", {false, MS_NOATIME}},    {"nodev", {false, MS_NODEV}},       {"nodiratime", {false, MS_NODIRATIME}},
        {"noexec", {false, MS_NOEXEC}},      {"nomand", {true, MS_MANDLOCK}},    {"norelatime", {true, MS_RELATIME}},
        {"nostrictatime", {true, MS_STRICTATIME}}, {"nosuid", {false, MS_NOSUID}}, {"rbind", {false, MS_BIND | MS_REC}},
        {"relatime", {false, MS_RELATIME}},  {"remount", {false, MS_REMOUNT}},   {"ro", {false, MS_RDONLY}},
        {"rw", {true, MS_RDONLY}},           {"strictatime", {false, MS_STRICTATIME}}, {"suid", {true, MS_NOSUID}},
        {"sync", {false, MS_SYNCHRONOUS}},
    };
    static const std::map<std::string, unsigned long> propagation = {
        {"private", MS_PRIVATE},         {"shared", MS_SHARED},          {"slave", MS_SLAVE},
        {"unbindable", MS_UNBINDABLE},   {"rprivate", MS_PRIVATE | MS_REC}, {"rshared", MS_SHARED | MS_REC},
        {"rslave", MS_SLAVE | MS_REC},   {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    MountFlags out;
    for (const auto& word : options) {
        if (auto it = flags.find(word); it != flags.end()) {
            auto [clear, flag] = it->second;
            if (clear) {
                out.flags &= ~flag;
                out.clear |= flag;
            } else {
                out.flags |= flag;
                out.clear &= ~flag;
            }
            if (word == "bind" || word == "rbind") out.bind = true;
            if (word == "rbind") out.recursive = true;
        } else if (auto p = propagation.find(word); p != propagation.end()) {
            out.propagation.push_back(p->second);
        } else {
            out.data += (out.data.empty() ? "" : ",") + word;
        }
    }
    return out;
}

int namespace_flag(const std::string& type) {
    static const std::map<std::string, int> flags = {
        {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS}, {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP},
    };
    auto it = flags.find(type);
    return it == flags.end() ? 0 : it->second;
}

Result<Hooks> parse_hooks(const json& hooks) {
    if (hooks.is_null()) return Hooks{};
    try {
        return parse_hooks_or_throw(hooks);
    } catch (const SpecError& e) {
        return make_error(e.message, 1);
    } catch (const json::exception& e) {
        return make_error(std::string("config.json: ") + e.what(), 1);
    }
}

std::string hook_state_json(const std::string& oci_version, const std::string& id, const std::string& status,
                            pid_t pid, const std::string& bundle,
                            const std::map<std::string, std::string>& annotations) {
    // In the spec's (and runc's) order of fields: a hook may compare text.
    nlohmann::ordered_json j = {{"ociVersion", oci_version}, {"id", id}, {"status", status}};
    if (pid > 0) j["pid"] = pid;
    j["bundle"] = bundle;
    if (!annotations.empty()) j["annotations"] = annotations;
    return j.dump();
}

Result<OciSpec> parse_oci_spec(const std::string& json_text, const std::string& bundle_dir) {
    try {
        return parse_or_throw(json_text, bundle_dir);
    } catch (const SpecError& e) {
        return make_error(e.message, 1);
    } catch (const json::exception& e) {
        return make_error(std::string("config.json: ") + e.what(), 1);
    }
}

namespace {

// Every character and block device under /dev, as OCI linux.devices entries: runc's HostDevices
// walk (libcontainer/devices), which skips the per-container file systems (pts, shm, mqueue, fd)
// and /dev/console.
json host_device_nodes() {
    json out = json::array();
    std::error_code ec;
    namespace fs = std::filesystem;
    fs::recursive_directory_iterator it("/dev", fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        std::string name = p.filename().string();
        std::error_code tec;
        if (it->is_directory(tec) && !it->is_symlink(tec)) {
            if (name == "pts" || name == "shm" || name == "fd" || name == "mqueue" || name == ".lxc" ||
                name == ".lxd-mounts" || name == ".udev")
                it.disable_recursion_pending();
            continue;
        }
        if (name == "console") continue;
        struct stat st;
        if (::lstat(p.c_str(), &st) != 0) continue;
        char type = S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : 0;
        if (!type) continue;
        out.push_back({{"path", p.string()},
                       {"type", std::string(1, type)},
                       {"major", major(st.st_rdev)},
                       {"minor", minor(st.st_rdev)},
                       {"fileMode", st.st_mode & 07777},
                       {"uid", st.st_uid},
                       {"gid", st.st_gid}});
    }
    return out;
}

// USER_IN_INIT: the engine's own init resolves a user name inside the container (an annotation,
// setup_plan.hpp kUserAnnotation); a bundle for another runtime carries numbers.
// The container ID of a "container:ID" mode, or "".
std::string joined_container(const std::string& mode) {
    return mode.rfind("container:", 0) == 0 ? mode.substr(10) : std::string();
}

Result<json> oci_config(const ContainerRecord& rec, bool rootless, const std::string& container_dir,
                        const std::string& rootfs, bool user_in_init, const NamespaceJoins* joins) {
    uint32_t uid = 0, gid = 0;
    if (!user_in_init) {
        auto ids = resolve_user(rec, container_dir, rootfs);
        if (!ids) return ids.error();
        uid = ids->first;
        gid = ids->second;
    }
    const ContainerSpec& cs = rec.spec;
    auto security = container_security(cs);
    if (!security) return security.error();
    const std::vector<std::string>& caps = security->capabilities;
    const json& seccomp_json = security->seccomp;

    // Docker keeps its capabilities in the permitted and effective sets only for root; a
    // non-root user starts with them in the bounding set alone (what IsoLab's init does too:
    // the user switch empties the sets).
    json capabilities = {{"bounding", caps}};
    capabilities["effective"] = uid == 0 ? json(caps) : json::array();
    capabilities["permitted"] = uid == 0 ? json(caps) : json::array();

    // --init: IsoLab's minimal init (the monitor binary, static, as docker-init) is PID 1 and runs
    // the command as its child; it forwards signals and reaps orphans (mini_init.hpp).
    std::vector<std::string> args = rec.path_args;
    if (cs.init) args.insert(args.begin(), {kInitPath, "--"});

    std::vector<std::string> env = rec.env;
    json process = {{"terminal", cs.tty},
                    {"user", {{"uid", uid}, {"gid", gid}}},
                    {"args", args},
                    {"env", env},
                    {"cwd", rec.workdir.empty() ? "/" : rec.workdir},
                    {"capabilities", capabilities},
                    {"noNewPrivileges", security->no_new_privileges},
                    {"oomScoreAdj", 0}};

    // moby oci/defaults.go DefaultLinuxSpec, in its order; then the engine's three files.
    std::vector<std::string> devpts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    if (!rootless) devpts.push_back("gid=5");
    // --privileged: /sys and the cgroup hierarchies writable (moby WithMounts clears "ro").
    const char* sys_ro = cs.privileged ? "rw" : "ro";
    json mounts = json::array({
        mount_entry("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        mount_entry("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        mount_entry("/dev/pts", "devpts", "devpts", devpts),
        mount_entry("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_ro}),
        mount_entry("/sys/fs/cgroup", "cgroup", "cgroup", {sys_ro, "nosuid", "noexec", "nodev"}),
        mount_entry("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
    });
    // /dev/shm: none with --ipc none, the host's with --ipc host, else its own tmpfs. With --ipc
    // container:X the IPC namespace (System V IPC, POSIX message queues) is X's, but /dev/shm
    // stays the container's own: X's tmpfs lives in X's mount namespace, which a bind cannot
    // reach (Docker mounts a shareable container's /dev/shm on the host to share it).
    if (cs.ipc_mode == "host") {
        mounts.push_back(mount_entry("/dev/shm", "bind", "/dev/shm", {"rbind", "nosuid", "noexec", "nodev"}));
    } else if (cs.ipc_mode != "none") {
        mounts.push_back(mount_entry("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
    }
    for (const char* f : {"resolv.conf", "hostname", "hosts"})
        mounts.push_back(mount_entry(std::string("/etc/") + f, "bind", container_dir + "/" + f, {"rbind", "rprivate"}));
    if (cs.init) mounts.push_back(mount_entry(kInitPath, "bind", monitor_binary(), {"bind", "ro"}));
    // The user's mounts (-v, --mount, --tmpfs, the image's VOLUMEs), after the defaults and
    // shallowest target first, as moby sorts them (a parent is mounted before what lies in it).
    // One of the defaults or of the engine's name files on the same target gives way to the
    // user's (`-v ./hosts:/etc/hosts`, `--tmpfs /dev/shm`).
    std::vector<const MountSpec*> user;
    for (const auto& m : cs.mounts) user.push_back(&m);
    std::stable_sort(user.begin(), user.end(), [](const MountSpec* a, const MountSpec* b) {
        return std::count(a->target.begin(), a->target.end(), '/') < std::count(b->target.begin(), b->target.end(), '/');
    });
    for (const MountSpec* m : user) {
        for (auto it = mounts.begin(); it != mounts.end();)
            it = (*it)["destination"] == m->target ? mounts.erase(it) : it + 1;
        if (m->type == MountType::Tmpfs) {
            mounts.push_back(mount_entry(m->target, "tmpfs", "tmpfs", tmpfs_mount_options(*m)));
            continue;
        }
        std::vector<std::string> options = {"rbind", m->propagation.empty() ? "rprivate" : m->propagation};
        if (m->readonly) options.push_back("ro");
        mounts.push_back(mount_entry(m->target, "bind", m->host_path, options));
    }

    // Each namespace new, the host's (mode "host": left out) or another container's (a path).
    json namespaces = json::array();
    const std::pair<const char*, const std::string*> modes[] = {
        {"pid", &cs.pid_mode}, {"network", &cs.network}, {"ipc", &cs.ipc_mode}, {"uts", &cs.uts_mode}};
    for (const auto& [type, mode] : modes) {
        if (*mode == "host") continue;
        json ns = {{"type", type}};
        if (std::string other = joined_container(*mode); !other.empty()) {
            const char* link = std::strcmp(type, "network") == 0 ? "net" : type;
            if (!joins) ns["path"] = "/proc/PID-OF-" + other.substr(0, 12) + "/ns/" + link;
            else if (auto it = joins->find(type); it != joins->end()) ns["path"] = it->second;
            else return make_error(std::string("linux.namespaces: no path for the ") + type + " namespace of container " + other, 125);
        }
        namespaces.push_back(ns);
    }
    for (const char* t : {"mount", "cgroup"}) namespaces.push_back({{"type", t}});

    // Docker's device cgroup rules as dockerd writes them (deny everything, then the few nodes every
    // container opens); runc appends its own list (mknod of anything, /dev/full, ptys, /dev/net/tun),
    // and so does IsoLab's runtime: device_filter.hpp lists both.
    json devices = json::array();
    if (cs.privileged) devices.push_back({{"allow", true}, {"access", "rwm"}});  // every device
    else
        for (const auto& r : moby_default_device_rules()) devices.push_back(device_rule_json(r));

    json resources = {{"devices", devices}};
    if (rec.spec.memory_bytes > 0) resources["memory"] = {{"limit", rec.spec.memory_bytes}};
    // --memory-swap (memory + swap; -1 unlimited); unset, Docker's daemon writes twice the limit
    // into the spec (moby daemon_unix.go: MemorySwap = Memory * 2).
    if (rec.spec.memory_bytes > 0)
        resources["memory"]["swap"] = rec.spec.memory_swap != 0 ? rec.spec.memory_swap : 2 * rec.spec.memory_bytes;
    if (rec.spec.pids_limit > 0) resources["pids"] = {{"limit", rec.spec.pids_limit}};
    if (rec.spec.nano_cpus > 0) {
        const int64_t period = 100000;  // µs, Docker's --cpus period
        resources["cpu"] = {{"quota", rec.spec.nano_cpus * period / 1000000000}, {"period", period}};
    }

    json linux = {{"namespaces", namespaces}, {"resources", resources}};
    // --privileged and systempaths=unconfined leave /proc and /sys unmasked (moby: no masked or
    // read-only paths for a privileged container).
    if (!cs.privileged && !cs.unmask_system_paths) {
        linux["maskedPaths"] = security::docker_masked_paths();
        linux["readonlyPaths"] = security::docker_readonly_paths();
    }
    if (!seccomp_json.is_null()) linux["seccomp"] = seccomp_json;
    // --privileged: the host's device nodes in the container's /dev (moby WithDevices, runc's
    // HostDevices walk).
    if (cs.privileged) linux["devices"] = host_device_nodes();
    if (rootless) {
        linux["namespaces"].push_back({{"type", "user"}});
        linux["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}});
        linux["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}});
    }

    json annotations = {{"org.isolab.container.id", rec.id},
                        {"org.isolab.container.name", rec.name},
                        {"org.isolab.image", rec.image_id}};
    if (user_in_init && !rec.spec.user.empty()) annotations[kUserAnnotation] = rec.spec.user;
    json config = json{{"ociVersion", "1.0.2"},
                {"process", process},
                {"root", {{"path", "rootfs"}, {"readonly", cs.read_only}}},
                {"mounts", mounts},
                {"annotations", annotations},
                {"linux", linux}};
    // A hostname needs the container's own UTS namespace (--uts host keeps the host's name).
    if (cs.uts_mode != "host") config["hostname"] = rec.hostname;
    return config;
}

}  // namespace

Result<ContainerSecurity> container_security(const ContainerSpec& spec, bool exec_privileged) {
    ContainerSecurity out;
    // --cap-add, --cap-drop and --privileged with Docker's rules (moby oci/caps TweakCapabilities);
    // `exec --privileged` gives its process every capability, in the container's seccomp filter.
    auto held = security::tweak_capabilities(security::docker_default_capabilities(), spec.cap_add, spec.cap_drop,
                                             spec.privileged);
    if (!held) return held.error();
    out.capabilities = exec_privileged ? security::all_capabilities() : *held;
    // Docker's seccomp profile depends on the capabilities (a rule for CAP_SYS_ADMIN's calls applies
    // only with it); --privileged and seccomp=unconfined run without a filter, seccomp=PROFILE
    // with that Docker profile.
    if (!spec.privileged && spec.seccomp != "unconfined") {
        auto profile = spec.seccomp.empty() ? security::seccomp_oci_json(*held) : security::seccomp_profile_to_oci(spec.seccomp, *held);
        if (!profile) return profile.error();
        out.seccomp = std::move(*profile);
    }
    out.no_new_privileges = spec.no_new_privileges.value_or(!spec.privileged);
    return out;
}

Result<NamespaceJoins> namespace_joins(const Store& store, const ContainerRecord& rec) {
    NamespaceJoins out;
    const std::tuple<const char*, const char*, const std::string*> modes[] = {
        {"network", "network", &rec.spec.network}, {"pid", "PID", &rec.spec.pid_mode}, {"ipc", "IPC", &rec.spec.ipc_mode}};
    for (const auto& [type, what, mode] : modes) {
        std::string other = joined_container(*mode);
        if (other.empty()) continue;
        if (other == rec.id) return make_error(std::string("cannot join own ") + (std::strcmp(type, "network") == 0 ? "network" : what), 125);
        auto target = store.load(other);
        // Docker's words (moby daemon/container_operations.go, getIpcContainer, getPidContainer).
        if (!target) return make_error("No such container: " + other, 125);
        const bool running = target->state == ContainerState::Running && target->pid > 0 && ::kill(target->pid, 0) == 0;
        if (!running) {
            if (std::strcmp(type, "network") == 0) return make_error("cannot join network of a non running container: " + other, 125);
            if (std::strcmp(type, "pid") == 0) return make_error("container " + other + " is not running", 125);
            return make_error("cannot join IPC of a non running container: " + other, 125);
        }
        out[type] = "/proc/" + std::to_string(target->pid) + "/ns/" + (std::strcmp(type, "network") == 0 ? "net" : type);
    }
    return out;
}

Result<json> make_oci_config(const ContainerRecord& rec, bool rootless, const std::string& container_dir,
                             const std::string& rootfs, const NamespaceJoins* joins) {
    return oci_config(rec, rootless, container_dir, rootfs, false, joins);
}

Result<OciSpec> engine_spec(const ContainerRecord& rec, bool rootless, const std::string& container_dir,
                            const std::string& root_path, const NamespaceJoins* joins) {
    auto j = oci_config(rec, rootless, container_dir, "", true, joins);
    if (!j) return j.error();
    (*j)["root"]["path"] = root_path;
    try {
        return parse_json_or_throw(*j, container_dir);
    } catch (const SpecError& e) {
        return make_error(e.message);
    } catch (const json::exception& e) {
        return make_error(std::string("config.json: ") + e.what());
    }
}

Result<UniqueFd> open_merged_root(const Store& store, const ContainerRecord& rec) {
    const std::string what = "open the file system of " + rec.name;
    const std::string container_dir = store.container_dir(rec.id);
    if (rec.rootfs_mode == RootfsMode::Copy) {
        // A copied root is a plain directory: nothing to assemble.
        UniqueFd fd(::open((container_dir + "/rootfs").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd.valid()) return errno_error(what + ": `" + container_dir + "/rootfs`", errno);
        return fd;
    }
    if (rec.rootfs_mode != RootfsMode::Overlay)
        return make_error(what + ": the container has no file system on disk (backend " +
                              std::string(backend_name(rec.backend)) +
                              "); create it with the namespaces or rootless backend",
                          1);
    const std::string upper = container_dir + "/upper";
    if (!path_exists(upper)) return make_error(what + ": `" + upper + "` is missing", 1);
    // The writable layer on top, read-only like the rest; scratch's one empty layer below it, so
    // that overlayfs always has the two lower layers a mount without upperdir needs.
    std::string lower = upper;
    for (auto it = rec.layers.rbegin(); it != rec.layers.rend(); ++it) lower += ":" + *it;
    if (rec.layers.empty()) lower += ":" + container_dir + "/empty";
    std::string opts = "lowerdir=" + lower;
    if (rec.backend == Backend::Rootless) opts += ",userxattr";

    DetachedTree tree;
    tree.overlay_options = opts;
    tree.base_words = "a read-only overlay of " + rec.name + "'s layers";
    return open_detached_tree(what, tree);
}

Status write_bundle(const Store& store, const ContainerRecord& rec, const std::string& dir, bool rootless) {
    if (dir.empty()) return make_error("bundle: no directory given", 1);
    bool existed = path_exists(dir);
    if (existed && !dir_is_empty(dir))
        return make_error("bundle: `" + dir + "` is not an empty directory; choose a new one", 1);
    std::string container_dir = store.container_dir(rec.id);
    if (rec.rootfs_mode != RootfsMode::Overlay && rec.rootfs_mode != RootfsMode::Copy)
        return make_error("bundle " + rec.name + ": the container has no file system on disk (backend " + std::string(backend_name(rec.backend)) +
                              "); create it with the namespaces or rootless backend",
                          1);
    std::string upper = container_dir + "/upper";
    std::string copied = container_dir + "/rootfs";
    if (!path_exists(rec.rootfs_mode == RootfsMode::Copy ? copied : upper))
        return make_error("bundle " + rec.name + ": `" + (rec.rootfs_mode == RootfsMode::Copy ? copied : upper) +
                              "` is missing; start the container once so that its file system exists",
                          1);

    // Everything below is undone on failure: the bundle appears whole or not at all.
    auto cleanup = [&] {
        if (existed) {
            (void)remove_tree(dir + "/rootfs");
            ::unlink((dir + "/config.json").c_str());
        } else {
            (void)remove_tree(dir);
        }
    };
    auto attempt = [&]() -> Status {
        ISOLAB_TRY(make_dirs(dir + "/rootfs", 0755));
        if (rec.rootfs_mode == RootfsMode::Copy) {
            std::string r = run_and_wait({"/bin/cp", "-a", copied + "/.", dir + "/rootfs/"});
            if (!r.empty()) return make_error("bundle: copy `" + copied + "`: " + r);
        } else {
            ISOLAB_TRY(copy_merged(rec, upper, dir + "/rootfs"));
        }
        auto joins = namespace_joins(store, rec);
        if (!joins) return joins.error().wrap("bundle " + rec.name);
        auto config = make_oci_config(rec, rootless, container_dir, dir + "/rootfs", &*joins);
        if (!config) return config.error().wrap("bundle " + rec.name);
        return write_file_atomic(dir + "/config.json", config->dump(2) + "\n");
    };
    Status st = attempt();
    if (!st) cleanup();
    return st;
}

// linux.resources as the cgroup manager's limits, with runc's reading of each number: -1 and 0
// mean "no limit" for memory and pids; swap unset leaves memory + swap unlimited (runc writes no
// memsw then); cpu quota and period are passed as given.
CgroupLimits limits_of(const Resources& r) {
    CgroupLimits l;
    if (r.memory_limit && *r.memory_limit > 0) l.memory_bytes = *r.memory_limit;
    l.memory_swap = r.memory_swap.value_or(-1);
    if (*l.memory_swap == 0) l.memory_swap = -1;
    if (r.memory_reservation) l.memory_reservation = *r.memory_reservation;
    l.memory_swappiness = r.memory_swappiness;
    l.disable_oom_killer = r.disable_oom_killer;
    if (r.pids_limit && *r.pids_limit > 0) l.pids_limit = *r.pids_limit;
    l.cpu_shares = r.cpu_shares.value_or(0);
    l.cpu_quota_us = r.cpu_quota.value_or(0);
    l.cpu_period_us = r.cpu_period.value_or(0);
    l.cpuset_cpus = r.cpuset_cpus;
    l.cpuset_mems = r.cpuset_mems;
    for (const auto& h : r.hugepage_limits) l.hugepages.push_back({h.page_size, h.limit});
    l.blkio_weight = r.blkio_weight.value_or(0);
    // As runc: the bundle's device rules in order on top of "deny everything", then runc's
    // built-in list appended, which a bundle cannot turn off (runc's AllowedDevices).
    l.devices = r.devices;
    for (const auto& rule : runc_default_device_rules()) l.devices->push_back(rule);
    return l;
}

}  // namespace isolab::oci
