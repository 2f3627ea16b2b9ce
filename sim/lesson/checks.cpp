#include "sim/lesson/checks.hpp"

#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "sim/engine/engine.hpp"
#include "sim/state/lifecycle.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/vm/qemu.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::lesson {

using nlohmann::json;

uint64_t events_offset(const std::string& root) {
    struct stat st {};
    if (::stat((root + "/events.jsonl").c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.st_size);
}

namespace {

bool value_matches(const json& field, const json& want) {
    if (field.is_array()) {
        std::string joined;
        for (const auto& e : field) {
            if (e == want || (e.is_number() && want.is_number() && e.get<double>() == want.get<double>())) return true;
            if (e.is_string()) joined += (joined.empty() ? "" : " ") + e.get<std::string>();
        }
        return want.is_string() && joined == want.get<std::string>();
    }
    if (field.is_number() && want.is_number()) return field.get<double>() == want.get<double>();
    return field == want;
}

CheckResult container_check(const json& c, const CheckContext& ctx) {
    std::string name = c.value("name", ""), want = c.value("state", "");
    auto rec = ctx.engine->inspect(name);
    if (!rec) {
        if (want == "absent") return {true, name + " does not exist"};
        return {false, "there is no container " + name + " yet"};
    }
    std::string state(to_string(rec->state));
    if (want == "absent") return {false, name + " still exists (" + state + ")"};
    if (state != want) return {false, name + " is " + state + ", not " + want};
    if (c.contains("exit_code") && rec->exit_code != c.at("exit_code").get<int>())
        return {false, name + " exited with " + std::to_string(rec->exit_code) + ", not " +
                           std::to_string(c.at("exit_code").get<int>())};
    if (c.contains("oom_killed") && rec->oom_killed != c.at("oom_killed").get<bool>())
        return {false, name + (rec->oom_killed ? " was" : " was not") + " killed for memory"};
    return {true, name + " is " + state};
}

CheckResult vm_check(const json& c, const CheckContext& ctx) {
    std::string name = c.value("name", ""), want = c.value("state", "");
    if (!ctx.vms) return {false, "no VM manager"};
    auto rec = ctx.vms->get(name);
    if (!rec) return {want == "absent", want == "absent" ? "VM " + name + " does not exist" : "there is no VM " + name + " yet"};
    std::string state(vm::to_string(rec->state));
    if (want == "absent") return {false, "VM " + name + " still exists (" + state + ")"};
    return {state == want, "VM " + name + " is " + state};
}

CheckResult event_check(const json& c, const CheckContext& ctx) {
    std::string type = c.value("type", "");
    json where = c.value("where", json::object());
    std::ifstream in(ctx.root + "/events.jsonl", std::ios::binary);
    if (!in) return {false, "no events yet"};
    in.seekg(0, std::ios::end);
    auto size = static_cast<uint64_t>(in.tellg());
    // A reset log (smaller than where the step began) is read from its start.
    in.seekg(static_cast<std::streamoff>(ctx.events_from <= size ? ctx.events_from : 0));
    std::string line;
    while (std::getline(in, line)) {
        auto ev = json::parse(line, nullptr, false);
        if (!ev.is_discarded() && event_matches(ev, type, where)) return {true, "seen: " + line};
    }
    return {false, "no `" + type + "` event " + (where.empty() ? "" : "with " + where.dump() + " ") + "since the step began"};
}

CheckResult http_check(const json& c) {
    static const std::regex re(R"(http://(?:127\.0\.0\.1|localhost):([0-9]+).*)");
    std::smatch m;
    std::string url = c.value("url", ""), expect = c.value("expect", "answers");
    if (!std::regex_match(url, m, re)) return {false, "bad url " + url};
    std::string body;
    vm::http_get_ok(std::stoi(m[1]), "", 2000, &body);
    bool answered = body.rfind("HTTP/1.", 0) == 0;
    if (expect == "answers") return {answered, answered ? url + " answered" : url + " does not answer"};
    return {!answered, answered ? url + " answered" : url + " does not answer"};
}

CheckResult pids_check(const json& c, const CheckContext& ctx) {
    std::string name = c.value("container", "");
    int want = c.value("at_least", 1);
    auto rec = ctx.engine->inspect(name);
    if (!rec) return {false, "there is no container " + name + " yet"};
    if (!container_has_process(rec->state)) return {false, name + " is not running"};
    if (rec->cgroup_paths.empty()) return {false, name + " has no cgroup (limits are off on this machine)"};
    auto cg = Cgroup::open_paths(rec->cgroup_paths);
    if (!cg) return {false, "cannot open the cgroup of " + name};
    auto n = cg->pids_current();
    if (!n) return {false, "cannot read pids.current of " + name};
    return {static_cast<int>(*n) >= want, name + " holds " + std::to_string(*n) + " processes"};
}

}  // namespace

bool event_matches(const json& event, const std::string& type, const json& where) {
    if (!event.is_object() || event.value("type", "") != type) return false;
    if (!where.is_object()) return true;
    for (auto& [k, v] : where.items()) {
        if (!event.contains(k) || !value_matches(event.at(k), v)) return false;
    }
    return true;
}

CheckResult evaluate(const json& c, const CheckContext& ctx) {
    if (c.is_null()) return {true, ""};
    std::string kind = c.value("kind", "");
    if ((kind == "container" || kind == "image" || kind == "network" || kind == "pids") && !ctx.engine)
        return {false, "no engine"};
    if (kind == "container") return container_check(c, ctx);
    if (kind == "vm") return vm_check(c, ctx);
    if (kind == "image") {
        std::string name = c.value("name", "");
        bool want = c.value("present", true), have = static_cast<bool>(ctx.engine->images().resolve(name));
        return {want == have, "image " + name + (have ? " exists" : " does not exist")};
    }
    if (kind == "network") {
        std::string name = c.value("name", "");
        bool want = c.value("present", true), have = static_cast<bool>(ctx.engine->networks().get(name));
        return {want == have, "network " + name + (have ? " exists" : " does not exist")};
    }
    if (kind == "event") return event_check(c, ctx);
    if (kind == "http") return http_check(c);
    if (kind == "pids") return pids_check(c, ctx);
    if (kind == "all" || kind == "any") {
        bool all = kind == "all";
        CheckResult last{all, ""};
        const json of = c.contains("of") ? c.at("of") : json::array();
        for (const auto& sub : of) {
            auto r = evaluate(sub, ctx);
            if (all && !r.ok) return r;
            if (!all && r.ok) return r;
            last = r;
        }
        return last;
    }
    return {false, "unknown check kind " + kind};
}

}  // namespace isolab::lesson
