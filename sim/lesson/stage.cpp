#include "sim/lesson/stage.hpp"

#include <filesystem>

#include "sim/engine/engine.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::lesson {

Baseline take_baseline(Engine& engine, vm::VmManager& vms) {
    Baseline b;
    for (auto& c : engine.list(true)) b.containers.insert(c.name);
    for (auto& v : vms.list()) b.vms.insert(v.name);
    for (auto& n : engine.networks().list()) b.networks.insert(n.name);
    return b;
}

std::vector<std::string> stage_commands(const Lesson& lesson, Engine& engine, vm::VmManager& vms, const Baseline* since) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto add = [&](const std::string& line) {
        if (seen.insert(line).second) out.push_back(line);
    };
    std::vector<std::string> containers;
    for (auto& c : engine.list(true)) containers.push_back(c.name);
    for (auto& name : lesson.stage.containers)
        if (std::find(containers.begin(), containers.end(), name) != containers.end()) add("isolab rm -f " + name);
    if (since)
        for (auto& name : containers)
            if (!since->containers.count(name)) add("isolab rm -f " + name);
    std::vector<std::string> vm_names;
    for (auto& v : vms.list())
        if (!v.ephemeral) vm_names.push_back(v.name);
    for (auto& name : lesson.stage.vms)
        if (std::find(vm_names.begin(), vm_names.end(), name) != vm_names.end()) add("isolab vm rm -f " + name);
    if (since)
        for (auto& name : vm_names)
            if (!since->vms.count(name)) add("isolab vm rm -f " + name);
    std::vector<std::string> nets;
    for (auto& n : engine.networks().list())
        if (n.name != "bridge" && n.name != "host" && n.name != "none") nets.push_back(n.name);
    for (auto& name : lesson.stage.networks)
        if (std::find(nets.begin(), nets.end(), name) != nets.end()) add("isolab network rm " + name);
    if (since)
        for (auto& name : nets)
            if (!since->networks.count(name)) add("isolab network rm " + name);
    for (auto& name : lesson.stage.images)
        if (engine.images().resolve(name)) add("isolab rmi -f " + name);
    return out;
}

std::vector<std::string> needs_commands(const Lesson& lesson, Engine& engine) {
    std::vector<std::string> out;
    for (auto& name : lesson.needs) {
        if (engine.images().resolve(name)) continue;
        std::string dir = name.substr(name.find('/') + 1);
        out.push_back("isolab build -q -t " + name + " assets/images/" + dir);
    }
    return out;
}

std::string tree_dir() { return std::filesystem::path(lessons_dir()).parent_path().string(); }

}  // namespace isolab::lesson
