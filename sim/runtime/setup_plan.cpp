#include "sim/runtime/setup_plan.hpp"

#include <algorithm>

namespace isolab {

const char* step_name(StepKind k) {
    switch (k) {
        case StepKind::Clone: return "clone";
        case StepKind::HostNetwork: return "veth";
        case StepKind::CgroupJoin: return "cgroup-join";
        case StepKind::UserNsRoot: return "userns-root";
        case StepKind::CgroupNs: return "cgroupns";
        case StepKind::OomScore: return "oom-score";
        case StepKind::Loopback: return "loopback";
        case StepKind::Propagation: return "propagation";
        case StepKind::Rootfs: return "rootfs";
        case StepKind::Mount: return "mount";
        case StepKind::Devices: return "devices";
        case StepKind::RuntimeHooks: return "runtime-hooks";
        case StepKind::CreateContainerHooks: return "create-container-hooks";
        case StepKind::Pivot: return "pivot_root";
        case StepKind::RootPropagation: return "root-propagation";
        case StepKind::Terminal: return "terminal";
        case StepKind::Stdio: return "stdio";
        case StepKind::ReadonlyRoot: return "readonly-root";
        case StepKind::Hostname: return "hostname";
        case StepKind::Sysctl: return "sysctl";
        case StepKind::ReadonlyPaths: return "readonly-paths";
        case StepKind::MaskedPaths: return "masked-paths";
        case StepKind::Rlimits: return "rlimits";
        case StepKind::Umask: return "umask";
        case StepKind::SeccompEarly: return "seccomp";
        case StepKind::Workdir: return "workdir";
        case StepKind::User: return "user+caps";
        case StepKind::NoNewPrivs: return "no_new_privs";
        case StepKind::Ready: return "ready";
        case StepKind::SeccompLate: return "seccomp";
        case StepKind::StartContainerHooks: return "start-container-hooks";
        case StepKind::Exec: return "exec";
    }
    return "?";
}

namespace {

std::string namespace_list(const oci::OciSpec& spec) {
    std::string out;
    for (const auto& ns : spec.namespaces) {
        out += (out.empty() ? "" : " ") + ns.type;
        if (!ns.path.empty()) out += "=" + ns.path;
    }
    return out;
}

std::string joined(const std::vector<std::string>& v, size_t max = 4) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < max; ++i) out += (i ? " " : "") + v[i];
    if (v.size() > max) out += " (+" + std::to_string(v.size() - max) + ")";
    return out;
}

size_t seccomp_rules(const oci::OciSpec& spec) {
    size_t n = 0;
    if (spec.seccomp.is_object() && spec.seccomp.contains("syscalls"))
        for (const auto& r : spec.seccomp["syscalls"])
            if (r.contains("names")) n += r["names"].size();
    return n;
}

}  // namespace

std::vector<SetupStep> plan_setup(const oci::OciSpec& spec, const InitOptions& opts) {
    std::vector<SetupStep> plan;
    auto add = [&](StepKind k, std::string detail, bool host = false) {
        plan.push_back({k, step_name(k), std::move(detail), 0, host});
    };
    const oci::Process& proc = spec.process;
    const oci::Namespace* user = spec.find_namespace("user");
    const oci::Namespace* net = spec.find_namespace("network");
    const oci::Namespace* cg = spec.find_namespace("cgroup");

    add(StepKind::Clone, namespace_list(spec), true);
    if (opts.host_plugs_network && net && net->path.empty()) add(StepKind::HostNetwork, "veth pair, eth0 + default route", true);
    // Before anything else: the init joins its cgroup while it is one thread doing nothing.
    if (!opts.cgroup_self_join.empty())
        add(StepKind::CgroupJoin, std::to_string(opts.cgroup_self_join.size()) + " v1 hierarchies");
    // In a joined user namespace too: setns keeps our host uid, which that namespace need not map
    // (files would be made as the overflow uid); runc's nsexec becomes root there as well.
    if (user) add(StepKind::UserNsRoot, user->path.empty() ? "uid 0 in the new user namespace" : "uid 0 in the joined user namespace");
    // After the join, so that the container sees its own cgroup as "/".
    if (cg && cg->path.empty()) add(StepKind::CgroupNs, "its cgroup becomes /");
    if (proc.oom_score_adj) add(StepKind::OomScore, std::to_string(*proc.oom_score_adj));
    if (net && net->path.empty()) add(StepKind::Loopback, "lo up");

    // The file system: nothing mounted from here on may propagate back to the host.
    add(StepKind::Propagation, spec.rootfs_propagation.empty() ? "rslave" : spec.rootfs_propagation);
    switch (opts.rootfs.kind) {
        case RootfsSource::Kind::Overlay:
            add(StepKind::Rootfs, "overlay: " + std::to_string(opts.rootfs.layers.size()) + " lower layer(s) + upper");
            break;
        case RootfsSource::Kind::Copy: add(StepKind::Rootfs, "copied root (overlayfs not allowed here)"); break;
        case RootfsSource::Kind::BundleDir: add(StepKind::Rootfs, "bind " + spec.root_path); break;
    }
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const auto& m = spec.mounts[i];
        std::string type = m.type.empty() ? "bind" : m.type;
        plan.push_back({StepKind::Mount, step_name(StepKind::Mount), m.destination + " (" + type + ")", i, false});
    }
    {
        bool host_dev = std::any_of(spec.mounts.begin(), spec.mounts.end(), [](const oci::Mount& m) {
            return m.destination == "/dev" && (m.type == "bind" || oci::parse_mount_options(m.options).bind);
        });
        if (!host_dev || !spec.devices.empty())
            add(StepKind::Devices, std::string(host_dev ? "" : "null zero full random urandom tty, ptmx") +
                                       (spec.devices.empty() ? "" : " + " + std::to_string(spec.devices.size()) + " from linux.devices"));
    }
    // runc's position (libcontainer/rootfs_linux.go prepareRootfs): the mounts and devices are
    // there, the old root is still reachable for hooks that manipulate mounts, and pivot_root
    // comes after. The host runs prestart and createRuntime while the init waits; then
    // createContainer runs in the container's namespaces.
    const oci::Hooks& hooks = spec.hooks;
    if (!hooks.prestart.empty() || !hooks.create_runtime.empty())
        add(StepKind::RuntimeHooks,
            std::to_string(hooks.prestart.size() + hooks.create_runtime.size()) + " prestart/createRuntime hook(s)", true);
    if (!hooks.create_container.empty())
        add(StepKind::CreateContainerHooks, std::to_string(hooks.create_container.size()) + " createContainer hook(s)");
    add(StepKind::Pivot, "old root detached");
    if (!spec.rootfs_propagation.empty()) add(StepKind::RootPropagation, spec.rootfs_propagation);
    // The terminal is made from the container's own /dev/ptmx, so after /dev/pts exists.
    if (proc.terminal) add(StepKind::Terminal, "pty from the container's devpts, setsid");
    else if (opts.own_stdio) add(StepKind::Stdio, "pipes to the monitor");
    if (spec.root_readonly) add(StepKind::ReadonlyRoot, "/ read-only");
    if (!spec.hostname.empty() || !spec.domainname.empty())
        add(StepKind::Hostname, spec.hostname + (spec.domainname.empty() ? "" : " / " + spec.domainname));
    if (!spec.sysctl.empty()) add(StepKind::Sysctl, std::to_string(spec.sysctl.size()) + " key(s)");
    // Both need mount(2), which a seccomp filter may forbid: before it.
    if (!spec.readonly_paths.empty()) add(StepKind::ReadonlyPaths, joined(spec.readonly_paths));
    if (!spec.masked_paths.empty()) add(StepKind::MaskedPaths, joined(spec.masked_paths));
    if (!proc.rlimits.empty()) add(StepKind::Rlimits, std::to_string(proc.rlimits.size()) + " limit(s)");
    add(StepKind::Umask, proc.umask ? std::to_string(*proc.umask) : "022");
    // Without no_new_privs the kernel loads a filter only while CAP_SYS_ADMIN is held.
    const bool seccomp = !spec.seccomp.is_null();
    if (seccomp && !proc.no_new_privileges) add(StepKind::SeccompEarly, std::to_string(seccomp_rules(spec)) + " syscall rules");
    add(StepKind::Workdir, proc.cwd);
    {
        std::string who = spec.annotations.count(kUserAnnotation) ? spec.annotations.at(kUserAnnotation)
                                                                  : std::to_string(proc.uid) + ":" + std::to_string(proc.gid);
        add(StepKind::User, "user " + who + ", " + std::to_string(proc.capabilities.bounding.size()) + " capabilities");
    }
    if (proc.no_new_privileges) add(StepKind::NoNewPrivs, "set");
    add(StepKind::Ready, proc.args.empty() ? "" : proc.args[0]);
    if (seccomp && proc.no_new_privileges) add(StepKind::SeccompLate, std::to_string(seccomp_rules(spec)) + " syscall rules");
    // runc's position (standard_init_linux.go): after the start gate and the late seccomp
    // filter, as the container's user, right before execve.
    if (!hooks.start_container.empty())
        add(StepKind::StartContainerHooks, std::to_string(hooks.start_container.size()) + " startContainer hook(s)");
    add(StepKind::Exec, proc.args.empty() ? "" : proc.args[0]);
    return plan;
}

InitOptions engine_init_options(const ContainerRecord& rec, const std::string& container_dir, bool rootless,
                                const std::vector<std::string>& cgroup_v1_paths) {
    InitOptions opts;
    opts.rootfs.kind = rec.rootfs_mode == RootfsMode::Copy ? RootfsSource::Kind::Copy : RootfsSource::Kind::Overlay;
    opts.rootfs.layers = rec.layers;
    opts.rootfs.container_dir = container_dir;
    opts.rootfs.userxattr = rootless;
    const std::string& n = rec.spec.network;
    opts.host_plugs_network = !rootless && n != "none" && n != "host" && n.rfind("container:", 0) != 0;
    opts.own_stdio = true;
    for (const auto& p : cgroup_v1_paths) opts.cgroup_self_join.push_back(p + "/tasks");
    return opts;
}

std::string engine_root_path(const ContainerRecord& rec, const std::string& container_dir) {
    return container_dir + (rec.rootfs_mode == RootfsMode::Copy ? "/rootfs" : "/merged");
}

Result<std::vector<RuntimeStep>> engine_plan(const ContainerRecord& rec, const std::string& container_dir,
                                             bool rootless) {
    auto spec = oci::engine_spec(rec, rootless, container_dir, engine_root_path(rec, container_dir));
    if (!spec) return spec.error();
    std::vector<RuntimeStep> out;
    for (const auto& s : plan_setup(*spec, engine_init_options(rec, container_dir, rootless)))
        if (s.kind != StepKind::Ready) out.push_back({s.name, 0, s.detail});
    return out;
}

}  // namespace isolab
