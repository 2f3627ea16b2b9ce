// The simulated backend: the same interface as the namespace runtime, but no process is created.
// It exists for machines where namespaces are not available (the GUI still teaches the lifecycle,
// labeled "simulated") and for unit tests of the engine's logic. A modeled PID 1 "runs" until it
// is signalled; setup steps carry modeled timings in the same shape the real runtime measures.
#include <csignal>

#include "sim/core/clock.hpp"
#include "sim/runtime/runtime.hpp"
#include "sim/runtime/setup_plan.hpp"

namespace isolab {

namespace {

double modeled_ms(const std::string& step) {
    if (step == "clone") return 0.9;
    if (step == "rootfs") return 0.6;
    if (step == "mount") return 0.15;
    if (step == "pivot_root") return 0.3;
    if (step == "masked-paths" || step == "readonly-paths") return 0.2;
    if (step == "seccomp" || step == "user+caps") return 0.3;
    if (step == "network") return 1.5;
    if (step == "exec") return 0.4;
    return 0.05;
}

class SimulatedRuntime final : public Runtime {
public:
    explicit SimulatedRuntime(std::string root) : store_(std::move(root)) {}
    Backend backend() const override { return Backend::Simulated; }

    Status prepare(const Store& store, ContainerRecord& rec) override {
        ISOLAB_TRY(make_dirs(store.container_dir(rec.id) + "/upper"));
        // The same planner as the real runtime: the plan a learner sees is the one that would run.
        auto plan = engine_plan(rec, store.container_dir(rec.id), false);
        if (!plan) return plan.error();
        rec.plan = std::move(*plan);
        return {};
    }

    Status start(const Store& store, ContainerRecord& rec, bool) override {
        if (rec.path_args.empty()) return make_error("no command specified", 125);
        // Modeled, not measured: magnitudes of the real runtime on a desktop machine, per step of
        // the plan; every detail says "simulated".
        if (rec.plan.empty())  // a record made before plans were kept
            if (auto plan = engine_plan(rec, store.container_dir(rec.id), false)) rec.plan = std::move(*plan);
        rec.steps.clear();
        for (const auto& p : rec.plan) rec.steps.push_back({p.name, modeled_ms(p.name), "simulated: " + p.detail});
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
