#include "sim/vm/vm_record.hpp"

namespace isolab::vm {

using nlohmann::json;

json to_json(const VmRecord& r) {
    json stages = json::array();
    for (const auto& s : r.stages) stages.push_back({{"name", s.name}, {"ms", s.ms}});
    return {{"name", r.name},         {"created", r.created},
            {"memory_mib", r.memory_mib}, {"vcpus", r.vcpus},
            {"machine", r.machine},   {"backend", to_string(r.backend)},
            {"state", to_string(r.state)}, {"qemu_pid", r.qemu_pid},
            {"qemu_start_time", r.qemu_start_time}, {"owner_pid", r.owner_pid},
            {"owner_start_time", r.owner_start_time}, {"host_port", r.host_port},
            {"started_at", r.started_at}, {"kernel_release", r.kernel_release},
            {"answered_ms", r.answered_ms}, {"stages", stages},
            {"command_line", r.command_line}, {"error", r.error},
            {"ephemeral", r.ephemeral}};
}

Result<VmRecord> vm_record_from_json(const json& j) {
    VmRecord r;
    r.name = j.value("name", "");
    r.created = j.value("created", "");
    r.memory_mib = j.value("memory_mib", 256);
    r.vcpus = j.value("vcpus", 1);
    r.machine = j.value("machine", "pc");
    std::string backend = j.value("backend", "");
    if (!parse_vm_backend(backend, &r.backend))
        return make_error("unknown backend \"" + backend + "\" (expected qemu-kvm, qemu-tcg or model)", 1);
    std::string st = j.value("state", "poweroff");
    for (VmState s : kAllVmStates)
        if (to_string(s) == st) r.state = s;
    r.qemu_pid = j.value("qemu_pid", 0);
    r.qemu_start_time = j.value("qemu_start_time", uint64_t{0});
    r.owner_pid = j.value("owner_pid", 0);
    r.owner_start_time = j.value("owner_start_time", uint64_t{0});
    r.host_port = j.value("host_port", 0);
    r.started_at = j.value("started_at", "");
    r.kernel_release = j.value("kernel_release", "");
    r.answered_ms = j.value("answered_ms", 0.0);
    for (const auto& s : j.value("stages", json::array())) r.stages.push_back({s.value("name", ""), s.value("ms", 0.0)});
    r.command_line = j.value("command_line", "");
    r.error = j.value("error", "");
    r.ephemeral = j.value("ephemeral", false);
    return r;
}

}  // namespace isolab::vm
