// The OCI config.json parser and generator (sim/runtime/oci_spec): runc's own default config
// parses; each REQUIRED field, missing or wrong, gives its own one-line error; every unsupported
// field is refused by name; and the config IsoLab generates for a container parses back.
#include <doctest/doctest.h>

#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "sim/core/files.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/security.hpp"

using namespace isolab;
using nlohmann::json;

namespace {

// `runc spec` output of runc 1.1.5 (Debian 12), verbatim.
const char* kRuncSpec = R"RUNC(
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
})RUNC";

json runc_spec() { return json::parse(kRuncSpec); }

// Parses SPEC (as JSON text) and returns the error message, or "" when it parses.
std::string error_of(const json& spec) {
    auto r = oci::parse_oci_spec(spec.dump(), "/bundle");
    return r.ok() ? "" : r.error().message;
}

}  // namespace

TEST_CASE("oci spec: runc spec's default config parses into the typed struct") {
    auto r = oci::parse_oci_spec(kRuncSpec, "/b");
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    const oci::OciSpec& s = *r;
    CHECK(s.oci_version == "1.0.2-dev");
    CHECK(s.root_path == "/b/rootfs");
    CHECK(s.root_readonly);
    CHECK(s.has_process);
    CHECK(s.process.terminal);
    CHECK(s.process.args == std::vector<std::string>{"sh"});
    CHECK(s.process.cwd == "/");
    CHECK(s.process.uid == 0);
    CHECK(s.process.no_new_privileges);
    CHECK(s.process.capabilities.bounding ==
          std::vector<std::string>{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
    CHECK(s.process.capabilities.ambient.size() == 3);
    CHECK(s.process.capabilities.inheritable.empty());
    REQUIRE(s.process.rlimits.size() == 1);
    CHECK(s.process.rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(s.process.rlimits[0].soft == 1024);
    CHECK(s.hostname == "runc");
    REQUIRE(s.mounts.size() == 7);
    CHECK(s.mounts[0].destination == "/proc");
    CHECK(s.mounts[6].type == "cgroup");
    CHECK(s.namespaces.size() == 5);
    CHECK(s.has_namespace("mount"));
    CHECK_FALSE(s.has_namespace("user"));
    CHECK(s.masked_paths.size() == 10);
    CHECK(s.readonly_paths.size() == 5);
    REQUIRE(s.resources.devices.size() == 1);
    CHECK_FALSE(s.resources.devices[0].allow);
    CHECK(s.resources.devices[0].access == "rwm");
    CHECK(s.seccomp.is_null());
}

TEST_CASE("oci spec: each REQUIRED field, missing or wrong, gives its own error") {
    struct Case {
        const char* what;
        std::function<void(json&)> edit;
        const char* error;
    };
    const Case cases[] = {
        {"no ociVersion", [](json& j) { j.erase("ociVersion"); }, "config.json: ociVersion is required"},
        {"ociVersion 2.0", [](json& j) { j["ociVersion"] = "2.0.0"; }, "config.json: ociVersion \"2.0.0\" is not supported"},
        {"no root", [](json& j) { j.erase("root"); }, "config.json: root is required"},
        {"no root.path", [](json& j) { j["root"].erase("path"); }, "config.json: root.path is required"},
        {"root.readonly a string", [](json& j) { j["root"]["readonly"] = "yes"; }, "config.json: root.readonly must be true or false"},
        {"no process.cwd", [](json& j) { j["process"].erase("cwd"); }, "config.json: process.cwd is required"},
        {"relative cwd", [](json& j) { j["process"]["cwd"] = "tmp"; }, "config.json: process.cwd must be an absolute path"},
        {"no process.user", [](json& j) { j["process"].erase("user"); }, "config.json: process.user is required"},
        {"no uid", [](json& j) { j["process"]["user"].erase("uid"); }, "config.json: process.user.uid is required"},
        {"no gid", [](json& j) { j["process"]["user"].erase("gid"); }, "config.json: process.user.gid is required"},
        {"negative uid", [](json& j) { j["process"]["user"]["uid"] = -1; }, "config.json: process.user.uid must be a non-negative integer"},
        {"empty args", [](json& j) { j["process"]["args"] = json::array(); }, "config.json: process.args must have at least one entry"},
        {"env without =", [](json& j) { j["process"]["env"] = {"PATH=/bin", "JUNK"}; }, "config.json: process.env[1] \"JUNK\" is not KEY=VALUE"},
        {"unknown capability", [](json& j) { j["process"]["capabilities"]["bounding"] = {"CAP_FLY"}; },
         "config.json: process.capabilities.bounding names an unknown capability \"CAP_FLY\""},
        {"rlimit without type", [](json& j) { j["process"]["rlimits"][0].erase("type"); }, "config.json: process.rlimits[0].type is required"},
        {"rlimit unknown", [](json& j) { j["process"]["rlimits"][0]["type"] = "RLIMIT_FUN"; }, "is not an RLIMIT_* name"},
        {"rlimit soft > hard", [](json& j) { j["process"]["rlimits"][0]["soft"] = 4096; }, "soft limit exceeds the hard limit"},
        {"no rlimit hard", [](json& j) { j["process"]["rlimits"][0].erase("hard"); }, "config.json: process.rlimits[0].hard is required"},
        {"mount without destination", [](json& j) { j["mounts"][1].erase("destination"); }, "config.json: mounts[1].destination is required"},
        {"relative mount destination", [](json& j) { j["mounts"][0]["destination"] = "proc"; }, "config.json: mounts[0].destination must be an absolute path"},
        {"bind without source", [](json& j) { j["mounts"].push_back({{"destination", "/x"}, {"type", "bind"}, {"options", {"rbind"}}}); },
         "config.json: mounts[7].source is required for a bind mount"},
        {"namespace without type", [](json& j) { j["linux"]["namespaces"][0].erase("type"); }, "config.json: linux.namespaces[0].type is required"},
        {"namespace type unknown", [](json& j) { j["linux"]["namespaces"][0]["type"] = "fs"; }, "\"fs\" is not a namespace type"},
        {"namespace twice", [](json& j) { j["linux"]["namespaces"].push_back({{"type", "pid"}}); }, "config.json: linux.namespaces has type \"pid\" twice"},
        {"relative namespace path", [](json& j) { j["linux"]["namespaces"][0]["path"] = "proc/1/ns/pid"; }, "linux.namespaces[0].path must be an absolute path"},
        {"user ns without mappings", [](json& j) { j["linux"]["namespaces"].push_back({{"type", "user"}}); }, "linux.uidMappings or linux.gidMappings is empty"},
        {"mapping without size", [](json& j) {
             j["linux"]["namespaces"].push_back({{"type", "user"}});
             j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}}};
             j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
         }, "config.json: linux.uidMappings[0].size is required"},
        {"mappings without user ns", [](json& j) { j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}; },
         "config.json: linux.uidMappings needs a user namespace"},
        {"device rule without allow", [](json& j) { j["linux"]["resources"]["devices"][0].erase("allow"); },
         "config.json: linux.resources.devices[0].allow is required"},
        {"device rule with empty access", [](json& j) { j["linux"]["resources"]["devices"][0]["access"] = ""; },
         "config.json: linux.resources.devices[0].access must be made of r, w and m"},
        {"device rule of type a with a major", [](json& j) { j["linux"]["resources"]["devices"][0]["major"] = 1; },
         "config.json: linux.resources.devices[0]: type a stands for every device and takes no major or minor"},
        {"device rule with a major out of range", [](json& j) {
             j["linux"]["resources"]["devices"].push_back({{"allow", true}, {"type", "c"}, {"major", 5000}, {"access", "r"}});
         }, "config.json: linux.resources.devices[1]: major 5000 is out of range"},
        {"pids without limit", [](json& j) { j["linux"]["resources"]["pids"] = json::object(); }, "config.json: linux.resources.pids.limit is required"},
        {"device without path", [](json& j) { j["linux"]["devices"] = {{{"type", "c"}, {"major", 1}, {"minor", 3}}}; }, "config.json: linux.devices[0].path is required"},
        {"seccomp without defaultAction", [](json& j) { j["linux"]["seccomp"] = json::object(); }, "config.json: linux.seccomp.defaultAction is required"},
        {"seccomp bad action", [](json& j) { j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_MAYBE"}}; }, "\"SCMP_ACT_MAYBE\" is not a seccomp action"},
        {"seccomp rule without names", [](json& j) {
             j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"action", "SCMP_ACT_ERRNO"}}}}};
         }, "config.json: linux.seccomp.syscalls[0].names is required"},
        {"seccomp bad op", [](json& j) {
             j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                      {"syscalls", {{{"names", {"personality"}}, {"action", "SCMP_ACT_ERRNO"},
                                                     {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_ABOUT"}}}}}}}};
         }, "linux.seccomp.syscalls[0].args[0].op \"SCMP_CMP_ABOUT\" is not a seccomp comparison"},
        {"seccomp bad arch", [](json& j) { j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_Z80"}}}; },
         "\"SCMP_ARCH_Z80\" is not a seccomp architecture"},
        {"hostname without uts", [](json& j) { j["linux"]["namespaces"].erase(3); }, "config.json: hostname needs a private UTS namespace"},
        {"net sysctl without netns", [](json& j) {
             j["linux"]["namespaces"].erase(1);
             j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
         }, "linux.sysctl \"net.ipv4.ip_forward\" needs a network namespace"},
        {"host sysctl", [](json& j) { j["linux"]["sysctl"] = {{"vm.swappiness", "1"}}; }, "is not namespaced"},
        {"bad propagation", [](json& j) { j["linux"]["rootfsPropagation"] = "sideways"; }, "\"sideways\" is not a propagation mode"},
        {"annotation not a string", [](json& j) { j["annotations"] = {{"a", 1}}; }, "config.json: annotations \"a\" must be a string"},
        {"not JSON", [](json& j) { j = "x"; }, "config.json: the top level must be an object"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        json j = runc_spec();
        c.edit(j);
        std::string err = error_of(j);
        CHECK_MESSAGE(err.find(c.error) != std::string::npos, "got: " << err);
        CHECK(err.find('\n') == std::string::npos);
    }
    auto r = oci::parse_oci_spec("{", "/b");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("config.json: not valid JSON", 0) == 0);
    CHECK(r.error().exit_code == 1);
}

TEST_CASE("oci spec: unsupported fields are refused by name, never ignored") {
    struct Case {
        std::function<void(json&)> edit;
        const char* field;
    };
    const Case cases[] = {
        {[](json& j) { j["linux"]["intelRdt"] = {{"closID", "x"}}; }, "linux.intelRdt"},
        {[](json& j) { j["process"]["apparmorProfile"] = "docker-default"; }, "process.apparmorProfile"},
        {[](json& j) { j["process"]["selinuxLabel"] = "system_u:system_r:svirt_lxc_net_t:s0"; }, "process.selinuxLabel"},
        {[](json& j) { j["linux"]["namespaces"].push_back({{"type", "time"}}); }, "linux.namespaces[5] of type time"},
        {[](json& j) { j["linux"]["personality"] = {{"domain", "LINUX32"}}; }, "linux.personality"},
        {[](json& j) { j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerPath", "/run/agent.sock"}}; },
         "linux.seccomp.listenerPath"},
        {[](json& j) { j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NOTIFY"}}; }, "linux.seccomp.defaultAction SCMP_ACT_NOTIFY"},
        {[](json& j) { j["linux"]["resources"]["memory"] = {{"limit", 1 << 30}, {"kernel", 1 << 20}}; }, "linux.resources.memory.kernel"},
        {[](json& j) { j["linux"]["resources"]["cpu"] = {{"realtimeRuntime", 1000}}; }, "linux.resources.cpu.realtimeRuntime"},
        {[](json& j) { j["linux"]["resources"]["blockIO"] = {{"throttleReadBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 1}}}}}; },
         "linux.resources.blockIO.throttleReadBpsDevice"},
        {[](json& j) { j["linux"]["resources"]["rdma"] = {{"mlx5_1", {{"hcaHandles", 3}}}}; }, "linux.resources.rdma"},
        {[](json& j) { j["linux"]["mountLabel"] = "system_u:object_r:svirt_sandbox_file_t:s0"; }, "linux.mountLabel"},
        {[](json& j) { j["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}}; }, "process.scheduler"},
        {[](json& j) { j["mounts"][0]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1}, {"size", 1}}}; }, "mounts[0].uidMappings"},
        {[](json& j) { j["vm"] = {{"hypervisor", {{"path", "/usr/bin/qemu"}}}}; }, "vm"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.field);
        json j = runc_spec();
        c.edit(j);
        std::string err = error_of(j);
        CHECK_MESSAGE(err.rfind(std::string("config.json: ") + c.field + " ", 0) == 0, "got: " << err);
        CHECK(err.find("not supported") != std::string::npos);
    }
    // Empty values say nothing and are accepted; keys the spec does not define are allowed.
    json j = runc_spec();
    j["hooks"] = json::object();
    j["process"]["apparmorProfile"] = "";
    j["org.example.extension"] = {{"anything", true}};
    CHECK(error_of(j) == "");
}

TEST_CASE("oci spec: linux.resources and hooks parse into typed values") {
    json j = runc_spec();
    j["linux"]["resources"]["memory"] = {{"limit", 64 << 20}, {"reservation", 32 << 20}, {"swap", 96 << 20},
                                         {"swappiness", 17}, {"disableOOMKiller", true}};
    j["linux"]["resources"]["cpu"] = {{"shares", 512}, {"quota", 50000}, {"period", 200000}, {"cpus", "0-1,3"}, {"mems", "0"}};
    j["linux"]["resources"]["pids"] = {{"limit", 42}};
    j["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 4 << 20}}, {{"pageSize", "1GB"}, {"limit", 0}}};
    j["linux"]["resources"]["blockIO"] = {{"weight", 500}};
    j["hooks"] = {{"prestart", {{{"path", "/bin/a"}}}},
                  {"createRuntime", {{{"path", "/bin/b"}, {"args", {"b", "x"}}, {"env", {"K=V"}}, {"timeout", 5}}}},
                  {"createContainer", {{{"path", "/bin/c"}}, {{"path", "/bin/c2"}}}},
                  {"startContainer", {{{"path", "/bin/d"}}}},
                  {"poststart", {{{"path", "/bin/e"}}}},
                  {"poststop", {{{"path", "/bin/f"}}}},
                  {"org.example.future", {{{"path", "relative/is/fine/here"}}}}};
    auto r = oci::parse_oci_spec(j.dump(), "/b");
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    const oci::Resources& res = r->resources;
    CHECK(*res.memory_limit == 64 << 20);
    CHECK(*res.memory_reservation == 32 << 20);
    CHECK(*res.memory_swap == 96 << 20);
    CHECK(*res.memory_swappiness == 17);
    CHECK(res.disable_oom_killer);
    CHECK(*res.cpu_shares == 512);
    CHECK(*res.cpu_quota == 50000);
    CHECK(*res.cpu_period == 200000);
    CHECK(res.cpuset_cpus == "0-1,3");
    CHECK(res.cpuset_mems == "0");
    CHECK(*res.pids_limit == 42);
    REQUIRE(res.hugepage_limits.size() == 2);
    CHECK(res.hugepage_limits[0].page_size == "2MB");
    CHECK(res.hugepage_limits[0].limit == 4 << 20);
    CHECK(*res.blkio_weight == 500);
    const oci::Hooks& h = r->hooks;
    REQUIRE(h.prestart.size() == 1);
    CHECK(h.prestart[0].path == "/bin/a");
    CHECK(h.prestart[0].args.empty());
    CHECK_FALSE(h.prestart[0].env.has_value());  // the caller's environment, as runc
    CHECK_FALSE(h.prestart[0].timeout.has_value());
    REQUIRE(h.create_runtime.size() == 1);
    CHECK(h.create_runtime[0].args == std::vector<std::string>{"b", "x"});
    CHECK(*h.create_runtime[0].env == std::vector<std::string>{"K=V"});
    CHECK(*h.create_runtime[0].timeout == 5);
    CHECK(h.create_container.size() == 2);
    CHECK(h.start_container[0].path == "/bin/d");
    CHECK(h.poststart[0].path == "/bin/e");
    CHECK(h.poststop[0].path == "/bin/f");
    // The hooks as given are kept for the runtime's state (poststop runs after the bundle may be
    // gone) and read back the same.
    auto again = oci::parse_hooks(r->hooks_json);
    REQUIRE(again.ok());
    CHECK(again->poststop[0].path == "/bin/f");
    CHECK(again->create_container.size() == 2);

    // The state a hook reads, in the spec's order; pid and empty annotations left out as runc does.
    CHECK(oci::hook_state_json("1.0.2", "c1", "creating", 42, "/b", {}) ==
          R"({"ociVersion":"1.0.2","id":"c1","status":"creating","pid":42,"bundle":"/b"})");
    CHECK(oci::hook_state_json("1.0.2", "c1", "stopped", 0, "/b", {{"k", "v"}}) ==
          R"({"ociVersion":"1.0.2","id":"c1","status":"stopped","bundle":"/b","annotations":{"k":"v"}})");
}

TEST_CASE("oci spec: bad resources and hooks give their own errors") {
    struct Case {
        std::function<void(json&)> edit;
        const char* error;
    };
    const Case cases[] = {
        {[](json& j) { j["linux"]["resources"]["memory"] = {{"swappiness", 101}}; },
         "config.json: linux.resources.memory.swappiness must be between 0 and 100"},
        {[](json& j) { j["linux"]["resources"]["memory"] = {{"limit", 2 << 20}, {"swap", 1 << 20}}; },
         "config.json: linux.resources.memory.swap must be at least memory.limit"},
        {[](json& j) { j["linux"]["resources"]["memory"] = {{"swap", 1 << 20}}; },
         "config.json: linux.resources.memory.swap needs memory.limit"},
        {[](json& j) { j["linux"]["resources"]["memory"] = {{"limit", -2}}; },
         "config.json: linux.resources.memory.limit must be -1 (unlimited) or a number of bytes"},
        {[](json& j) { j["linux"]["resources"]["cpu"] = {{"cpus", "0;1"}}; },
         "config.json: linux.resources.cpu.cpus \"0;1\" is not a list such as 0-3,6"},
        {[](json& j) { j["linux"]["resources"]["cpu"] = {{"shares", -1}}; },
         "config.json: linux.resources.cpu.shares must be a non-negative integer"},
        {[](json& j) { j["linux"]["resources"]["blockIO"] = {{"weight", 5}}; },
         "config.json: linux.resources.blockIO.weight must be between 10 and 1000"},
        {[](json& j) { j["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2M"}, {"limit", 1}}}; },
         "config.json: linux.resources.hugepageLimits[0].pageSize \"2M\" is not a page size such as 2MB or 1GB"},
        {[](json& j) { j["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}}}; },
         "config.json: linux.resources.hugepageLimits[0].limit is required"},
        {[](json& j) { j["hooks"] = {{"prestart", {{{"path", "bin/true"}}}}}; },
         "config.json: hooks.prestart[0].path must be an absolute path"},
        {[](json& j) { j["hooks"] = {{"poststop", {{{"args", {"x"}}}}}}; }, "config.json: hooks.poststop[0].path is required"},
        {[](json& j) { j["hooks"] = {{"createRuntime", {{{"path", "/x"}, {"timeout", 0}}}}}; },
         "config.json: hooks.createRuntime[0].timeout must be greater than zero (seconds)"},
        {[](json& j) { j["hooks"] = {{"startContainer", {{{"path", "/x"}, {"env", "K=V"}}}}}; },
         "config.json: hooks.startContainer[0].env must be an array, not string"},
        {[](json& j) { j["hooks"]["poststart"] = json::array({"/x"}); },
         "config.json: hooks.poststart[0] must be an object, not string"},
    };
    for (const auto& c : cases) {
        json j = runc_spec();
        c.edit(j);
        std::string err = error_of(j);
        CHECK_MESSAGE(err.rfind(c.error, 0) == 0, "want: " << std::string(c.error) << "\ngot:  " << err);
    }
}

TEST_CASE("oci spec: mount option words become mount(2) flags, propagation and data") {
    auto m = oci::parse_mount_options({"nosuid", "noexec", "nodev", "relatime", "ro"});
    CHECK(m.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY));
    CHECK(m.data.empty());
    CHECK_FALSE(m.bind);
    auto d = oci::parse_mount_options({"nosuid", "strictatime", "mode=755", "size=65536k"});
    CHECK(d.flags == (MS_NOSUID | MS_STRICTATIME));
    CHECK(d.data == "mode=755,size=65536k");
    auto b = oci::parse_mount_options({"rbind", "rprivate", "ro", "rw"});
    CHECK(b.bind);
    CHECK(b.recursive);
    CHECK((b.flags & MS_RDONLY) == 0);  // a later "rw" wins
    CHECK((b.flags & MS_BIND) != 0);
    REQUIRE(b.propagation.size() == 1);
    CHECK(b.propagation[0] == (MS_PRIVATE | MS_REC));
    CHECK(oci::rlimit_from_name("RLIMIT_NPROC") == RLIMIT_NPROC);
    CHECK(oci::rlimit_from_name("NOFILE") == -1);
}

TEST_CASE("oci spec: make_oci_config is Docker's config for a container and parses back") {
    char tmpl[] = "/tmp/oci-spec-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string rootfs = std::string(tmpl) + "/rootfs";
    REQUIRE(make_dirs(rootfs + "/etc").ok());
    REQUIRE(write_file(rootfs + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n").ok());
    REQUIRE(write_file(rootfs + "/etc/group", "root:x:0:\nwww-data:x:33:\nstaff:x:50:\n").ok());

    ContainerRecord rec;
    rec.id = std::string(64, 'a');
    rec.name = "web";
    rec.hostname = "aaaaaaaaaaaa";
    rec.path_args = {"sh", "-c", "echo hi"};
    rec.env = {"PATH=/usr/bin:/bin", "A=b"};
    rec.workdir = "/srv";
    rec.spec.memory_bytes = 64 << 20;
    rec.spec.pids_limit = 32;
    rec.spec.nano_cpus = 1500000000;
    const std::string cdir = "/var/lib/isolab/containers/" + rec.id;

    auto cfg = oci::make_oci_config(rec, false, cdir, rootfs);
    REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    auto parsed = oci::parse_oci_spec(cfg->dump(), "/bundle");
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
    const oci::OciSpec& s = *parsed;

    std::vector<std::string> ns;
    for (const auto& n : s.namespaces) ns.push_back(n.type);
    CHECK(ns == std::vector<std::string>{"pid", "network", "ipc", "uts", "mount", "cgroup"});
    std::vector<std::string> dests;
    for (const auto& m : s.mounts) dests.push_back(m.destination);
    CHECK(dests == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                                            "/dev/shm", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"});
    CHECK(s.mounts[8].source == cdir + "/hostname");
    CHECK(s.mounts[8].type == "bind");
    CHECK(s.process.capabilities.bounding == security::docker_default_capabilities());
    CHECK(s.process.capabilities.effective == security::docker_default_capabilities());
    CHECK(s.process.capabilities.bounding.size() == 14);
    CHECK(s.masked_paths == security::docker_masked_paths());
    CHECK(s.readonly_paths == security::docker_readonly_paths());
    CHECK(s.seccomp["defaultAction"] == "SCMP_ACT_ALLOW");
    CHECK(s.seccomp["syscalls"].size() > 0);
    CHECK(s.process.args == rec.path_args);
    CHECK(s.process.env == rec.env);
    CHECK(s.process.cwd == "/srv");
    CHECK(s.process.no_new_privileges);
    CHECK(s.hostname == rec.hostname);
    CHECK(s.root_path == "/bundle/rootfs");
    CHECK(s.resources.memory_limit == int64_t{64 << 20});
    CHECK(s.resources.memory_swap == int64_t{128 << 20});  // no --memory-swap: Docker's twice -m
    CHECK(s.resources.pids_limit == int64_t{32});
    CHECK(s.resources.cpu_quota == int64_t{150000});
    CHECK(s.resources.cpu_period == uint64_t{100000});
    // dockerd's device rules, exactly; runc (and IsoLab's runtime) append their own list, and the
    // two together are what the monitor applies to a container it runs itself.
    CHECK(s.resources.devices == moby_default_device_rules());
    CHECK((*cfg)["linux"]["resources"]["devices"][0] == json({{"allow", false}, {"access", "rwm"}}));
    CHECK((*cfg)["linux"]["resources"]["devices"][1] ==
          json({{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 5}, {"access", "rwm"}}));
    std::vector<DeviceRule> runtime_rules = s.resources.devices;
    for (const auto& r : runc_default_device_rules()) runtime_rules.push_back(r);
    CHECK(runtime_rules == docker_default_device_rules());
    CHECK(s.uid_mappings.empty());

    // A user name is resolved from the container's own /etc/passwd; a non-root user keeps the
    // capabilities only in the bounding set, as Docker does.
    rec.spec.user = "www-data:staff";
    auto named = oci::make_oci_config(rec, false, cdir, rootfs);
    REQUIRE(named.ok());
    CHECK((*named)["process"]["user"]["uid"] == 33);
    CHECK((*named)["process"]["user"]["gid"] == 50);
    CHECK((*named)["process"]["capabilities"]["effective"].empty());
    rec.spec.user = "nobody-here";
    auto unknown = oci::make_oci_config(rec, false, cdir, rootfs);
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message.find("unable to find user nobody-here") != std::string::npos);

    // Rootless: a user namespace mapping root to the caller.
    rec.spec.user = "";
    auto rootless = oci::make_oci_config(rec, true, cdir, rootfs);
    REQUIRE(rootless.ok());
    auto rp = oci::parse_oci_spec(rootless->dump(), "/bundle");
    REQUIRE_MESSAGE(rp.ok(), (rp.ok() ? "" : rp.error().message));
    CHECK(rp->has_namespace("user"));
    REQUIRE(rp->uid_mappings.size() == 1);
    CHECK(rp->uid_mappings[0].host_id == ::geteuid());
    CHECK(rp->uid_mappings[0].container_id == 0);
    (void)remove_tree(tmpl);
}
