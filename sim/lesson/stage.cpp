#include "sim/lesson/stage.hpp"

#include <algorithm>
#include <filesystem>

#include "sim/engine/engine.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::lesson {

Baseline take_baseline(Engine& engine, vm::VmManager& vms) {
    Baseline b;
    for (auto& c : engine.list(true)) b.containers.insert(c.name);
    for (auto& v : vms.list()) b.vms.insert(v.name);
    for (auto& n : engine.networks().list()) b.networks.insert(n.name);
    for (auto& v : engine.volumes().list()) b.volumes.insert(v.name);
    return b;
}

std::vector<std::string> stage_commands(const Lesson& lesson, Engine& engine, vm::VmManager& vms, const Baseline* since) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    // For one kind of object: remove the lesson's staged names that exist, and (for a reset) every
    // one made since the lesson opened. EXISTING and NAMED are names; COMMAND is "isolab rm -f ".
    auto remove = [&](const std::vector<std::string>& existing, const std::vector<std::string>& named,
                      const std::set<std::string>* before, const std::string& command) {
        for (const auto& name : existing) {
            bool staged = std::find(named.begin(), named.end(), name) != named.end();
            bool made_since = before && !before->count(name);
            if ((staged || made_since) && seen.insert(command + name).second) out.push_back(command + name);
        }
    };
    std::vector<std::string> containers, vm_names, nets;
    for (auto& c : engine.list(true)) containers.push_back(c.name);
    for (auto& v : vms.list())
        if (!v.ephemeral) vm_names.push_back(v.name);
    for (auto& n : engine.networks().list())
        if (n.name != "bridge" && n.name != "host" && n.name != "none") nets.push_back(n.name);
    // Containers first, then VMs, then networks (a network in use cannot go), then images.
    remove(containers, lesson.stage.containers, since ? &since->containers : nullptr, "isolab rm -f ");
    remove(vm_names, lesson.stage.vms, since ? &since->vms : nullptr, "isolab vm rm -f ");
    remove(nets, lesson.stage.networks, since ? &since->networks : nullptr, "isolab network rm ");
    // Volumes after the containers that used them (a volume in use cannot go).
    std::vector<std::string> vols;
    for (auto& v : engine.volumes().list()) vols.push_back(v.name);
    remove(vols, lesson.stage.volumes, since ? &since->volumes : nullptr, "isolab volume rm -f ");
    for (auto& name : lesson.stage.images)
        if (engine.images().resolve(name)) out.push_back("isolab rmi -f " + name);
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
