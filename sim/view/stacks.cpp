#include "sim/view/stacks.hpp"

#include <cstdio>

#include "sim/core/i18n.hpp"

namespace isolab::view {

using i18n::tr;
using i18n::trf;

namespace {

std::string basename_of(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string mib(int64_t bytes) { return human_bytes(bytes); }

}  // namespace

StackModel build_stacks(const WorldSnapshot& w) {
    StackModel m;
    m.hardware = trf("gui.stack.hardware", {std::to_string(w.host.cpus), mib(w.host.mem_total)});
    m.host_os = trf("gui.stack.host_os", {w.host.distro.empty() ? "Linux" : w.host.distro, w.host.kernel});
    switch (w.host.hypervisor) {
        case vm::VmBackendKind::QemuKvm: m.hypervisor = trf("gui.stack.hypervisor", {"QEMU + KVM"}); break;
        case vm::VmBackendKind::QemuTcg: m.hypervisor = trf("gui.stack.hypervisor", {"QEMU (TCG)"}); break;
        case vm::VmBackendKind::Model: m.hypervisor = tr("gui.stack.hypervisor_model"); break;
    }
    m.engine = trf("gui.stack.engine", {w.host.backend});
    int live = 0;
    int64_t container_mem = 0, vm_mem = 0;
    for (const auto& c : w.containers) {
        ContainerBox b;
        b.id = c.rec.id;
        b.name = c.rec.name;
        b.state = std::string(to_string(c.rec.state));
        if (c.rec.health && c.rec.state == ContainerState::Running) b.health = health_status_name(c.rec.health->status);
        b.app = c.rec.path_args.empty() ? "?" : basename_of(c.rec.path_args[0]);
        b.app_tip = command_line(c.rec.path_args);
        std::string image = c.image_tags.empty() ? c.rec.spec.image : c.image_tags.front();
        b.libs = trf("gui.stack.libs", {image, std::to_string(c.layer_ids.size())});
        b.libs_tip = tr("gui.stack.libs_tip");
        for (const auto& l : c.layer_ids) b.libs_tip += "\n" + l.substr(0, 19);
        const bool running = container_has_process(c.rec.state);
        if (running) ++live;
        if (running && c.rec.backend == Backend::Simulated) {
            b.pids = tr("gui.stack.simulated_pid");
        } else if (running && c.rec.pid > 0) {
            b.pids = trf("gui.stack.pids", {std::to_string(c.rec.pid)});
            if (c.mem_current >= 0) {
                b.pids += "\n" + mib(c.mem_current) + (c.mem_limit > 0 ? " / " + mib(c.mem_limit) : "");
                container_mem += c.mem_current;
                m.ram_segments.push_back({c.rec.name, static_cast<double>(c.mem_current) / static_cast<double>(std::max<int64_t>(w.host.mem_total, 1)), false});
            }
        } else {
            b.pids = tr("gui.stack.no_process");
        }
        m.containers.push_back(b);
    }
    int vms_up = 0;
    for (const auto& v : w.vms) {
        VmBox b;
        b.name = v.rec.name;
        b.state = std::string(vm::to_string(v.rec.state));
        b.app = tr("gui.stack.vm_app");
        b.guest_os = tr("gui.stack.guest_os");
        std::string k = v.rec.kernel_release.empty() ? tr("gui.stack.kernel_unknown") : v.rec.kernel_release;
        b.kernel = trf("gui.stack.own_kernel", {k});
        if (vm::is_modeled(v.rec.backend)) b.kernel += " (" + tr("gui.modeled_badge") + ")";
        bool up = v.rec.state == vm::VmState::Running || v.rec.state == vm::VmState::Paused ||
                  v.rec.state == vm::VmState::Starting;
        if (up) {
            ++vms_up;
            int64_t reserved = static_cast<int64_t>(v.rec.memory_mib) * 1024 * 1024;
            vm_mem += reserved;
            m.ram_segments.push_back({v.rec.name, static_cast<double>(reserved) / static_cast<double>(std::max<int64_t>(w.host.mem_total, 1)), true});
        }
        m.vms.push_back(b);
    }
    m.shared_kernel = trf("gui.stack.shared_kernel", {w.host.kernel, std::to_string(live)});
    m.ram_tooltip = trf("gui.stack.ram_tip", {mib(w.host.mem_total), mib(vm_mem), mib(container_mem)});
    // Two sentences, each with its own wording for none and for one.
    m.lesson_line = i18n::trn("gui.stack.lesson_containers", live, {std::to_string(live), w.host.kernel, mib(container_mem)}) +
                    " " + i18n::trn("gui.stack.lesson_vms", vms_up, {std::to_string(vms_up), mib(vm_mem)});
    return m;
}

std::string next_vm_name(const WorldSnapshot& w) {
    for (int i = 1;; ++i) {
        std::string n = "vm" + std::to_string(i);
        if (!w.vm(n)) return n;
    }
}

std::string run_web_command(const WorldSnapshot& w) {
    for (const auto& img : w.images)
        for (const auto& t : img.repo_tags)
            if (t == "isolab/web:latest") return "run -d -P isolab/web";
    return "run -d busybox httpd -f -p 80 -h /var/www";
}

}  // namespace isolab::view
