// The simulated backend: the same interface as the namespace runtime, but no process is created.
// It exists for machines where namespaces are not available (the GUI still teaches the lifecycle,
// labeled "simulated") and for unit tests of the engine's logic. A modeled PID 1 "runs" until it
// is signalled; setup steps carry modeled timings in the same shape the real runtime measures.
#include <csignal>

#include "sim/core/clock.hpp"
#include "sim/runtime/runtime.hpp"

namespace isolab {

namespace {

class SimulatedRuntime final : public Runtime {
public:
    explicit SimulatedRuntime(std::string root) : store_(std::move(root)) {}
    std::string name() const override { return "simulated"; }

    Status prepare(const Store& store, ContainerRecord& rec) override {
        return make_dirs(store.container_dir(rec.id) + "/upper");
    }

    Status start(const Store&, ContainerRecord& rec, bool) override {
        if (rec.path_args.empty()) return make_error("no command specified", 125);
        // Modeled, not measured: magnitudes of the real runtime on a desktop machine.
        rec.steps = {{"clone", 0.9, "simulated"},      {"uts+cgroupns", 0.1, "simulated"},
                     {"overlay", 0.6, "simulated"},    {"mounts", 1.2, "simulated"},
                     {"pivot_root", 0.3, "simulated"}, {"masked-paths", 0.4, "simulated"},
                     {"network", 0.1, "simulated"},    {"caps+seccomp", 0.5, "simulated"},
                     {"exec", 0.4, "simulated"}};
        rec.pid = 40000 + static_cast<pid_t>(std::stoul(rec.id.substr(0, 3), nullptr, 16));
        rec.monitor_pid = 0;
        return {};
    }

    Status signal(const ContainerRecord& rec, int sig) override {
        // The modeled process dies from any signal but SIGCONT/SIGWINCH/SIGCHLD.
        if (sig == SIGCONT || sig == SIGWINCH || sig == SIGCHLD || sig == 0) return {};
        auto lock = store_.lock_container(rec.id);
        if (!lock) return lock.error();
        auto r = store_.load(rec.id);
        if (!r) return r.error();
        auto t = container_transition(r->state, ContainerAction::ProcessExited, {r->name, r->id});
        if (t) r->state = t->to;
        r->exit_code = 128 + sig;
        r->pid = 0;
        r->finished_at = now_rfc3339();
        return store_.save(*r);
    }

    Status freeze(const ContainerRecord&) override { return {}; }
    Status thaw(const ContainerRecord&) override { return {}; }
    bool alive(const ContainerRecord& rec) override { return container_has_process(rec.state); }
    void reap_orphan(const Store&, ContainerRecord&) override {}
    Status destroy(const Store& store, const ContainerRecord& rec) override {
        return store.remove_container_dir(rec.id);
    }
    Result<int> exec(const Store&, const ContainerRecord&, const ExecRequest&) override {
        return make_error("exec is not available on the simulated backend: no process runs "
                          "(run `isolab doctor` to see why namespaces are unavailable)", 126);
    }
    Result<std::vector<ProcessRow>> top(const ContainerRecord& rec) override {
        return std::vector<ProcessRow>{{"root", rec.pid, 0, "00:00", "?", "00:00:00",
                                        command_line(rec.path_args) + " (simulated)"}};
    }

private:
    Store store_;
};

}  // namespace

std::unique_ptr<Runtime> make_simulated_runtime(const std::string& state_root) {
    return std::make_unique<SimulatedRuntime>(state_root);
}

}  // namespace isolab
