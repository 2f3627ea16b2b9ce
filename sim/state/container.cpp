#include "sim/state/container.hpp"

#include <algorithm>

#include <stdexcept>

namespace isolab {

using nlohmann::json;

static std::string_view restart_name(RestartPolicyKind k) {
    switch (k) {
        case RestartPolicyKind::No: return "no";
        case RestartPolicyKind::OnFailure: return "on-failure";
        case RestartPolicyKind::Always: return "always";
        case RestartPolicyKind::UnlessStopped: return "unless-stopped";
    }
    return "no";
}

static RestartPolicyKind restart_kind(const std::string& s) {
    if (s == "on-failure") return RestartPolicyKind::OnFailure;
    if (s == "always") return RestartPolicyKind::Always;
    if (s == "unless-stopped") return RestartPolicyKind::UnlessStopped;
    return RestartPolicyKind::No;
}

json ports_to_json(const std::vector<PortMapping>& list) {
    json ports = json::array();
    for (const auto& p : list)
        ports.push_back({{"host_ip", p.host_ip}, {"host_port", p.host_port},
                         {"container_port", p.container_port}, {"proto", p.proto}});
    return ports;
}

std::vector<PortMapping> ports_from_json(const json& j) {
    std::vector<PortMapping> out;
    if (!j.is_array()) return out;
    for (const auto& p : j)
        out.push_back({p.value("host_ip", ""), p.value("host_port", 0), p.value("container_port", 0),
                       p.value("proto", "tcp")});
    return out;
}

json to_json(const ContainerSpec& s) {
    json ports = ports_to_json(s.ports);
    json j = {{"name", s.name},
              {"image", s.image},
              {"cmd", s.cmd},
              {"env", s.env},
              {"hostname", s.hostname},
              {"workdir", s.workdir},
              {"user", s.user},
              {"tty", s.tty},
              {"interactive", s.interactive},
              {"auto_remove", s.auto_remove},
              {"memory", s.memory_bytes},
              {"pids_limit", s.pids_limit},
              {"nano_cpus", s.nano_cpus},
              {"memory_swap", s.memory_swap},
              {"restart", {{"name", restart_name(s.restart.kind)},
                           {"max_retries", s.restart.max_retries}}},
              {"network", s.network},
              {"ports", ports},
              {"publish_all", s.publish_all},
              {"labels", s.labels},
              {"stop_timeout", s.stop_timeout},
              {"stop_signal", s.stop_signal},
              {"runtime", s.runtime},
              {"log_config", {{"type", "json-file"},
                              {"max_size", s.log.max_size},
                              {"max_size_text", s.log.max_size_text},
                              {"max_file", s.log.max_file}}}};
    if (s.entrypoint) j["entrypoint"] = *s.entrypoint;
    if (!s.cap_add.empty()) j["cap_add"] = s.cap_add;
    if (!s.cap_drop.empty()) j["cap_drop"] = s.cap_drop;
    if (s.privileged) j["privileged"] = true;
    if (s.init) j["init"] = true;
    if (s.no_new_privileges) j["no_new_privileges"] = *s.no_new_privileges;
    if (!s.seccomp.empty()) j["seccomp"] = s.seccomp;
    if (s.unmask_system_paths) j["unmask_system_paths"] = true;
    if (!s.pid_mode.empty()) j["pid_mode"] = s.pid_mode;
    if (!s.ipc_mode.empty()) j["ipc_mode"] = s.ipc_mode;
    if (!s.uts_mode.empty()) j["uts_mode"] = s.uts_mode;
    if (!s.mounts.empty()) {
        j["mounts"] = json::array();
        for (const auto& m : s.mounts) j["mounts"].push_back(to_json(m));
    }
    if (s.read_only) j["read_only"] = true;
    if (!s.volumes_from.empty()) j["volumes_from"] = s.volumes_from;
    if (s.healthcheck) j["healthcheck"] = to_docker_json(*s.healthcheck);
    return j;
}

ContainerSpec spec_from_json(const json& j) {
    ContainerSpec s;
    s.name = j.value("name", "");
    s.image = j.value("image", "busybox");
    s.cmd = j.value("cmd", std::vector<std::string>{});
    if (j.contains("entrypoint")) s.entrypoint = j["entrypoint"].get<std::vector<std::string>>();
    s.env = j.value("env", std::vector<std::string>{});
    s.hostname = j.value("hostname", "");
    s.workdir = j.value("workdir", "");
    s.user = j.value("user", "");
    s.tty = j.value("tty", false);
    s.interactive = j.value("interactive", false);
    s.auto_remove = j.value("auto_remove", false);
    s.memory_bytes = j.value("memory", int64_t{0});
    s.pids_limit = j.value("pids_limit", int64_t{0});
    s.nano_cpus = j.value("nano_cpus", int64_t{0});
    s.memory_swap = j.value("memory_swap", int64_t{0});
    if (j.contains("restart")) {
        s.restart.kind = restart_kind(j["restart"].value("name", "no"));
        s.restart.max_retries = j["restart"].value("max_retries", 0);
    }
    s.network = j.value("network", "default");
    s.ports = ports_from_json(j.value("ports", json::array()));
    s.publish_all = j.value("publish_all", false);
    s.labels = j.value("labels", std::map<std::string, std::string>{});
    s.stop_timeout = j.value("stop_timeout", -1);
    s.stop_signal = j.value("stop_signal", "");
    s.runtime = j.value("runtime", "");
    s.cap_add = j.value("cap_add", std::vector<std::string>{});
    s.cap_drop = j.value("cap_drop", std::vector<std::string>{});
    s.privileged = j.value("privileged", false);
    s.init = j.value("init", false);
    if (j.contains("no_new_privileges")) s.no_new_privileges = j["no_new_privileges"].get<bool>();
    s.seccomp = j.value("seccomp", "");
    s.unmask_system_paths = j.value("unmask_system_paths", false);
    s.pid_mode = j.value("pid_mode", "");
    s.ipc_mode = j.value("ipc_mode", "");
    s.uts_mode = j.value("uts_mode", "");
    if (const auto it = j.find("mounts"); it != j.end() && it->is_array())
        for (const auto& m : *it) s.mounts.push_back(mount_from_json(m));
    s.read_only = j.value("read_only", false);
    s.volumes_from = j.value("volumes_from", std::vector<std::string>{});
    if (const auto it = j.find("healthcheck"); it != j.end() && it->is_object())
        s.healthcheck = health_config_from_docker_json(*it);
    // Records written before logs were capped have no log_config: they get the defaults.
    if (const auto it = j.find("log_config"); it != j.end() && it->is_object()) {
        const LogConfig d;
        s.log.max_size = it->value("max_size", d.max_size);
        s.log.max_size_text = it->value("max_size_text", d.max_size_text);
        s.log.max_file = it->value("max_file", d.max_file);
        if (s.log.max_size <= 0 || s.log.max_file < 1) s.log = d;
    }
    return s;
}

// Docker's inspect Mounts: every mount but --tmpfs's (HostConfig.Tmpfs), by destination.
json mounts_json(const ContainerSpec& s) {
    std::vector<const MountSpec*> ms;
    for (const auto& m : s.mounts)
        if (m.origin != MountOrigin::TmpfsFlag) ms.push_back(&m);
    std::sort(ms.begin(), ms.end(), [](const MountSpec* a, const MountSpec* b) { return a->target < b->target; });
    json out = json::array();
    for (const MountSpec* m : ms) {
        json j = {{"Type", mount_type_name(m->type)}};
        if (m->type == MountType::Volume) j["Name"] = m->source;
        j["Source"] = m->host_path;
        j["Destination"] = m->target;
        if (m->type == MountType::Volume) j["Driver"] = "local";
        // A volume's Mode is "z" unless -v gave one; a bind's is -v's third field.
        j["Mode"] = m->type == MountType::Volume && m->mode.empty() && m->origin != MountOrigin::Image ? "z" : m->mode;
        j["RW"] = !m->readonly;
        j["Propagation"] = m->type == MountType::Bind ? m->propagation : "";
        out.push_back(j);
    }
    return out;
}

// Config.Volumes: the anonymous volumes' targets (-v /path, the image's VOLUME); null for none.
json config_volumes(const ContainerSpec& s) {
    json out = json::object();
    for (const auto& m : s.mounts)
        if (m.type == MountType::Volume && (m.origin == MountOrigin::Image || (m.origin == MountOrigin::VolumeFlag && m.anonymous)))
            out[m.target] = json::object();
    return out.empty() ? json(nullptr) : out;
}

// HostConfig.Binds: the -v values with a source, as typed; HostConfig.Mounts: --mount's;
// HostConfig.Tmpfs: --tmpfs's target → options.
json host_binds(const ContainerSpec& s) {
    json out = json::array();
    for (const auto& m : s.mounts)
        if (m.origin == MountOrigin::VolumeFlag && !m.anonymous) out.push_back(m.as_typed);
    return out.empty() ? json(nullptr) : out;
}

json host_mounts(const ContainerSpec& s) {
    json out = json::array();
    for (const auto& m : s.mounts) {
        if (m.origin != MountOrigin::MountFlag) continue;
        json j = {{"Type", mount_type_name(m.type)}, {"Target", m.target}};
        if (!m.anonymous && m.type != MountType::Tmpfs) j["Source"] = m.source;
        if (m.readonly) j["ReadOnly"] = true;
        if (m.type == MountType::Volume && m.no_copy) j["VolumeOptions"] = {{"NoCopy", true}};
        if (m.type == MountType::Bind && m.propagation != "rprivate") j["BindOptions"] = {{"Propagation", m.propagation}};
        if (m.type == MountType::Tmpfs && (m.tmpfs_size || m.tmpfs_mode)) {
            j["TmpfsOptions"] = json::object();
            if (m.tmpfs_size) j["TmpfsOptions"]["SizeBytes"] = m.tmpfs_size;
            if (m.tmpfs_mode) j["TmpfsOptions"]["Mode"] = m.tmpfs_mode;
        }
        out.push_back(j);
    }
    return out.empty() ? json(nullptr) : out;
}

json host_tmpfs(const ContainerSpec& s) {
    json out = json::object();
    for (const auto& m : s.mounts)
        if (m.origin == MountOrigin::TmpfsFlag) out[m.target] = m.tmpfs_options;
    return out.empty() ? json(nullptr) : out;
}

// HostConfig.SecurityOpt as Docker keeps it: the options given, a seccomp profile as its JSON.
json security_opts(const ContainerSpec& s) {
    json out = json::array();
    if (s.no_new_privileges) out.push_back(std::string("no-new-privileges=") + (*s.no_new_privileges ? "true" : "false"));
    if (!s.seccomp.empty()) out.push_back("seccomp=" + s.seccomp);
    if (s.unmask_system_paths) out.push_back("systempaths=unconfined");
    return out.empty() ? json(nullptr) : out;
}

json to_json(const ContainerRecord& r) {
    json endpoints = json::array();
    for (const auto& e : r.endpoints) endpoints.push_back(net::to_json(e));
    json steps = json::array();
    for (const auto& st : r.steps) steps.push_back({{"name", st.name}, {"ms", st.ms}, {"detail", st.detail}});
    json plan = json::array();
    for (const auto& st : r.plan) plan.push_back({{"name", st.name}, {"detail", st.detail}});
    json j = {{"id", r.id},
            {"name", r.name},
            {"created", r.created},
            {"spec", to_json(r.spec)},
            {"image_id", r.image_id},
            {"layers", r.layers},
            {"path_args", r.path_args},
            {"env", r.env},
            {"hostname", r.hostname},
            {"workdir", r.workdir},
            {"backend", backend_name(r.backend)},
            {"rootfs_mode", rootfs_mode_name(r.rootfs_mode)},
            {"state", to_string(r.state)},
            {"pid", r.pid},
            {"monitor_pid", r.monitor_pid},
            {"monitor_start_time", r.monitor_start_time},
            {"pid_start_time", r.pid_start_time},
            {"exit_code", r.exit_code},
            {"oom_killed", r.oom_killed},
            {"error", r.error},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"restart_count", r.restart_count},
            {"stopped_by_user", r.stopped_by_user},
            {"cgroup_name", r.cgroup_name},
            {"cgroup_paths", r.cgroup_paths},
            {"cgroup_note", r.cgroup_note},
            {"plan", plan},
            {"steps", steps},
            {"warnings", r.warnings},
            {"endpoints", endpoints},
            {"exposed_ports", r.exposed_ports},
            {"published", ports_to_json(r.published)}};
    if (r.healthcheck) j["healthcheck"] = to_docker_json(*r.healthcheck);
    if (!r.shell.empty()) j["shell"] = r.shell;
    if (r.health) j["health"] = to_json(*r.health);
    return j;
}

const char* backend_name(Backend b) {
    switch (b) {
        case Backend::Namespaces: return "namespaces";
        case Backend::Rootless: return "rootless";
        case Backend::Simulated: return "simulated";
    }
    return "?";
}

std::optional<Backend> backend_from_name(const std::string& word) {
    for (Backend b : {Backend::Namespaces, Backend::Rootless, Backend::Simulated})
        if (word == backend_name(b)) return b;
    return std::nullopt;
}

const char* rootfs_mode_name(RootfsMode m) {
    switch (m) {
        case RootfsMode::Overlay: return "overlay";
        case RootfsMode::Copy: return "copy";
        case RootfsMode::None: return "none";
    }
    return "?";
}

std::optional<RootfsMode> rootfs_mode_from_name(const std::string& word) {
    for (RootfsMode m : {RootfsMode::Overlay, RootfsMode::Copy, RootfsMode::None})
        if (word == rootfs_mode_name(m)) return m;
    return std::nullopt;
}

ContainerRecord record_from_json(const json& j) {
    ContainerRecord r;
    r.id = j.value("id", "");
    r.name = j.value("name", "");
    r.created = j.value("created", "");
    if (j.contains("spec")) r.spec = spec_from_json(j["spec"]);
    r.image_id = j.value("image_id", "");
    r.layers = j.value("layers", std::vector<std::string>{});
    r.path_args = j.value("path_args", std::vector<std::string>{});
    r.env = j.value("env", std::vector<std::string>{});
    r.hostname = j.value("hostname", "");
    r.workdir = j.value("workdir", "/");
    {
        auto b = backend_from_name(j.value("backend", ""));
        auto m = rootfs_mode_from_name(j.value("rootfs_mode", ""));
        if (!b) throw std::invalid_argument("backend \"" + j.value("backend", "") + "\" is not namespaces, rootless or simulated");
        if (!m) throw std::invalid_argument("rootfs_mode \"" + j.value("rootfs_mode", "") + "\" is not overlay, copy or none");
        r.backend = *b;
        r.rootfs_mode = *m;
    }
    parse_container_state(j.value("state", "created"), &r.state);
    r.pid = j.value("pid", 0);
    r.monitor_pid = j.value("monitor_pid", 0);
    r.monitor_start_time = j.value("monitor_start_time", uint64_t{0});
    r.pid_start_time = j.value("pid_start_time", uint64_t{0});
    r.exit_code = j.value("exit_code", 0);
    r.oom_killed = j.value("oom_killed", false);
    r.error = j.value("error", "");
    r.started_at = j.value("started_at", "0001-01-01T00:00:00Z");
    r.finished_at = j.value("finished_at", "0001-01-01T00:00:00Z");
    r.restart_count = j.value("restart_count", 0);
    r.stopped_by_user = j.value("stopped_by_user", false);
    r.cgroup_name = j.value("cgroup_name", "");
    r.cgroup_paths = j.value("cgroup_paths", std::vector<std::string>{});
    r.cgroup_note = j.value("cgroup_note", "");
    for (const auto& st : j.value("steps", json::array()))
        r.steps.push_back({st.value("name", ""), st.value("ms", 0.0), st.value("detail", "")});
    for (const auto& st : j.value("plan", json::array())) r.plan.push_back({st.value("name", ""), 0.0, st.value("detail", "")});
    r.warnings = j.value("warnings", std::vector<std::string>{});
    for (const auto& e : j.value("endpoints", json::array())) r.endpoints.push_back(net::endpoint_from_json(e));
    r.exposed_ports = j.value("exposed_ports", std::vector<std::string>{});
    r.published = ports_from_json(j.value("published", json::array()));
    if (const auto it = j.find("healthcheck"); it != j.end() && it->is_object())
        r.healthcheck = health_config_from_docker_json(*it);
    r.shell = j.value("shell", std::vector<std::string>{});
    if (const auto it = j.find("health"); it != j.end()) r.health = health_state_from_json(*it);
    return r;
}

std::string command_line(const std::vector<std::string>& args) {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
        if (i) out += ' ';
        out += args[i];
    }
    return out;
}

static std::string ns_path(pid_t pid, const char* ns) {
    return "/proc/" + std::to_string(pid) + "/ns/" + ns;
}

json inspect_json(const ContainerRecord& r) {
    const bool live = container_has_process(r.state);
    json ns = json::object();
    for (const char* n : {"pid", "mnt", "uts", "ipc", "net", "cgroup", "user"})
        ns[n] = live && r.pid > 0 ? json(ns_path(r.pid, n)) : json(nullptr);
    // Docker: every exposed or published port is a key; bindings only while running.
    json ports = json::object();
    for (const auto& e : r.exposed_ports) ports[e] = nullptr;
    for (const auto& p : r.spec.ports) ports[std::to_string(p.container_port) + "/" + p.proto] = nullptr;
    for (const auto& p : r.published) {
        std::string key = std::to_string(p.container_port) + "/" + p.proto;
        if (!ports[key].is_array()) ports[key] = json::array();
        ports[key].push_back({{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                              {"HostPort", std::to_string(p.host_port)}});
    }
    json networks = json::object();
    for (const auto& e : r.endpoints)
        networks[e.network] = {{"NetworkID", e.network_id},
                               {"IPAddress", e.ip},
                               {"IPPrefixLen", e.prefix},
                               {"Gateway", e.gateway},
                               {"MacAddress", e.mac},
                               {"Aliases", e.network == "bridge" ? json(nullptr) : json::array({r.name, r.id.substr(0, 12)})},
                               {"IsoLab", {{"HostVeth", e.host_veth}, {"Bridge", e.bridge}, {"Interface", e.ifname}}}};
    const net::Endpoint* first = r.endpoints.empty() ? nullptr : &r.endpoints.front();
    json cmd = r.spec.cmd.empty() ? json(nullptr) : json(r.spec.cmd);
    std::string path = r.path_args.empty() ? "" : r.path_args[0];
    std::vector<std::string> args(r.path_args.empty() ? r.path_args.begin() : r.path_args.begin() + 1,
                                  r.path_args.end());
    json out = {
        {"Id", r.id},
        {"Created", r.created},
        {"Path", path},
        {"Args", args},
        {"State",
         {{"Status", to_string(r.state)},
          {"Running", r.state == ContainerState::Running || r.state == ContainerState::Paused},
          {"Paused", r.state == ContainerState::Paused},
          {"Restarting", r.state == ContainerState::Restarting},
          {"OOMKilled", r.oom_killed},
          {"Dead", r.state == ContainerState::Dead},
          {"Pid", live ? r.pid : 0},
          {"ExitCode", r.exit_code},
          {"Error", r.error},
          {"StartedAt", r.started_at},
          {"FinishedAt", r.finished_at}}},
        {"Image", r.image_id},
        {"Name", "/" + r.name},
        {"RestartCount", r.restart_count},
        {"Driver", r.rootfs_mode == RootfsMode::Copy ? "vfs" : "overlay2"},
        {"Mounts", mounts_json(r.spec)},
        {"Config",
         {{"Hostname", r.hostname},
          {"Image", r.spec.image},
          {"Cmd", cmd},
          {"Entrypoint", r.spec.entrypoint ? json(*r.spec.entrypoint) : json(nullptr)},
          {"Env", r.env},
          {"WorkingDir", r.workdir},
          {"User", r.spec.user},
          {"Tty", r.spec.tty},
          {"OpenStdin", r.spec.interactive},
          {"Labels", r.spec.labels},
          {"Volumes", config_volumes(r.spec)}}},
        {"HostConfig",
         {{"Memory", r.spec.memory_bytes},
          // Docker's daemon stores its default, twice the memory limit, when none was given.
          {"MemorySwap", r.spec.memory_swap != 0 ? r.spec.memory_swap : 2 * r.spec.memory_bytes},
          {"PidsLimit", r.spec.pids_limit > 0 ? json(r.spec.pids_limit) : json(nullptr)},
          {"NanoCpus", r.spec.nano_cpus},
          {"AutoRemove", r.spec.auto_remove},
          {"Runtime", r.spec.runtime.empty() ? "isolab" : r.spec.runtime},
          {"NetworkMode", r.spec.network == "default" ? "bridge" : r.spec.network},
          {"PidMode", r.spec.pid_mode},
          {"IpcMode", r.spec.ipc_mode.empty() ? "private" : r.spec.ipc_mode},
          {"UTSMode", r.spec.uts_mode},
          {"RestartPolicy", {{"Name", restart_name(r.spec.restart.kind)},
                             {"MaximumRetryCount", r.spec.restart.max_retries}}},
          {"LogConfig", {{"Type", "json-file"},
                         {"Config", {{"max-size", r.spec.log.max_size_text},
                                     {"max-file", std::to_string(r.spec.log.max_file)}}}}},
          // Docker's null for a list nobody gave, and for Init without --init.
          {"CapAdd", r.spec.cap_add.empty() ? json(nullptr) : json(r.spec.cap_add)},
          {"CapDrop", r.spec.cap_drop.empty() ? json(nullptr) : json(r.spec.cap_drop)},
          {"Privileged", r.spec.privileged},
          {"Init", r.spec.init ? json(true) : json(nullptr)},
          {"SecurityOpt", security_opts(r.spec)},
          {"Binds", host_binds(r.spec)},
          {"Mounts", host_mounts(r.spec)},
          {"Tmpfs", host_tmpfs(r.spec)},
          {"VolumesFrom", r.spec.volumes_from.empty() ? json(nullptr) : json(r.spec.volumes_from)},
          {"ReadonlyRootfs", r.spec.read_only}}},
        {"NetworkSettings", {{"Ports", ports},
                             {"SandboxKey", live && r.pid > 0 ? ns_path(r.pid, "net") : ""},
                             {"IPAddress", first ? first->ip : ""},
                             {"IPPrefixLen", first ? first->prefix : 0},
                             {"Gateway", first ? first->gateway : ""},
                             {"MacAddress", first ? first->mac : ""},
                             {"Networks", networks}}},
        {"IsoLab",
         {{"Backend", backend_name(r.backend)},
          {"RootfsMode", rootfs_mode_name(r.rootfs_mode)},
          {"Layers", r.layers},
          {"MonitorPid", r.monitor_pid},
          {"Namespaces", ns},
          {"CgroupPaths", r.cgroup_paths},
          {"CgroupNote", r.cgroup_note},
          {"SetupPlan", to_json(r).at("plan")},
          {"SetupSteps", to_json(r).at("steps")},
          {"Warnings", r.warnings}}},
    };
    // Docker leaves these out when unset (omitempty; State.Health is nil until a checked start).
    if (r.health) out["State"]["Health"] = to_json(*r.health);
    if (r.healthcheck) out["Config"]["Healthcheck"] = to_docker_json(*r.healthcheck);
    if (!r.shell.empty()) out["Config"]["Shell"] = r.shell;
    return out;
}

}  // namespace isolab
