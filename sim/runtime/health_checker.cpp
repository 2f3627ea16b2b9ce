#include "sim/runtime/health_checker.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "sim/core/clock.hpp"
#include "sim/core/process.hpp"
#include "sim/runtime/exec_spawn.hpp"

namespace isolab {

namespace {

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int ms_until(double deadline, double now) {
    double left = deadline - now;
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : static_cast<int>(left) + 1;  // never wake a hair early
}

}  // namespace

HealthChecker::HealthChecker(const Store& store, std::string id)
    : store_(store), id_(std::move(id)), helper_(monitor_binary()) {}

HealthChecker::~HealthChecker() {
    abandon_probe();
    reap_abandoned();
}

void HealthChecker::begin(const ContainerRecord& rec, double started_ms) {
    end();
    if (!runs_probe(rec.healthcheck)) return;
    rec_ = rec;
    name_ = rec.name;
    started_ms_ = started_ms;
    suspended_ = false;
    // Pauses and stops reach the monitor as saves of the record (container.json renamed into
    // place, write_file_atomic); a watch on the container's folder sees each at once.
    if (!watch_.valid()) {
        watch_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
        if (watch_.valid() && ::inotify_add_watch(watch_.get(), store_.container_dir(id_).c_str(), IN_MOVED_TO) < 0)
            watch_.reset();
    }
    active_ = true;
    last_status_ = HealthStatus::Starting;
    schedule_next(started_ms, HealthStatus::Starting);
}

void HealthChecker::end() {
    abandon_probe();
    active_ = false;
    suspended_ = false;
}

void HealthChecker::schedule_next(double now_ms, HealthStatus status) {
    const int64_t since_started_ns = static_cast<int64_t>((now_ms - started_ms_) * 1e6);
    next_probe_ms_ = now_ms + static_cast<double>(next_probe_delay_ns(*rec_.healthcheck, since_started_ns, status)) / 1e6;
}

void HealthChecker::record_changed() {
    auto r = store_.load(id_);
    if (!r) return;
    name_ = r->name;
    const bool hold = r->state == ContainerState::Paused || r->stopped_by_user;
    if (active_ && hold) {
        // Docker stops the probes while paused and on stop, and leaves the status unhealthy.
        abandon_probe();
        active_ = false;
        suspended_ = r->state == ContainerState::Paused && !r->stopped_by_user;
        auto lock = store_.lock_container(id_);
        if (!lock) return;
        auto cur = store_.load(id_);
        if (cur && cur->health && cur->health->status != HealthStatus::Unhealthy) {
            cur->health = health_on_stop(*cur->health);
            (void)store_.save(*cur);
        }
    } else if (!active_ && suspended_ && r->state == ContainerState::Running && !r->stopped_by_user) {
        // Unpaused: the probes resume, the first one an interval later (a new monitor goroutine).
        active_ = true;
        suspended_ = false;
        schedule_next(monotonic_ms(), r->health ? r->health->status : HealthStatus::Starting);
    } else if (r->stopped_by_user) {
        suspended_ = false;  // a stop while paused: nothing resumes
    }
}

void HealthChecker::add_poll_fds(std::vector<struct pollfd>& fds) const {
    fds.push_back({output_.valid() ? output_.get() : -1, POLLIN, 0});
    fds.push_back({pidfd_.valid() ? pidfd_.get() : -1, POLLIN, 0});
    fds.push_back({watch_.valid() ? watch_.get() : -1, POLLIN, 0});
}

int HealthChecker::poll_timeout_ms(double now_ms) const {
    if (pid_ > 0) return timed_out_ ? -1 : ms_until(deadline_ms_, now_ms);
    if (active_) return ms_until(next_probe_ms_, now_ms);
    return -1;
}

void HealthChecker::on_poll(const struct pollfd* slots, double now_ms) {
    if (slots[2].revents & POLLIN) {
        alignas(struct inotify_event) char buf[4096];
        bool record_saved = false;
        ssize_t n;
        while ((n = ::read(watch_.get(), buf, sizeof buf)) > 0)
            for (char* p = buf; p < buf + n;) {
                auto* ev = reinterpret_cast<struct inotify_event*>(p);
                if (ev->len > 0 && std::strcmp(ev->name, "container.json") == 0) record_saved = true;
                p += sizeof(struct inotify_event) + ev->len;
            }
        if (record_saved) record_changed();
    }
    if (pid_ > 0) {
        if (slots[0].revents & (POLLIN | POLLHUP | POLLERR)) drain_output();
        // Without a pidfd (an old kernel) the exit is seen when SIGCHLD brings the loop here.
        if (!pidfd_.valid() || (slots[1].revents & POLLIN)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                finish(status, now_ms);
                return;
            }
        }
        if (!timed_out_ && now_ms >= deadline_ms_) {
            // Docker cancels the exec past its timeout; the probe's whole process group goes (a
            // shell's children too), and its exit is waited for, so probes never pile up.
            timed_out_ = true;
            ::kill(-pid_, SIGKILL);
        }
        return;
    }
    if (active_ && now_ms >= next_probe_ms_) launch(now_ms);
}

void HealthChecker::launch(double now_ms) {
    probe_start_ms_ = now_ms;
    probe_started_at_ = now_rfc3339();
    kept_.clear();
    truncated_ = false;
    timed_out_ = false;
    const HealthConfig& check = *rec_.healthcheck;
    auto failed = [&](const std::string& why) {
        // Docker: a probe that could not be run is a failed result with the error as its output.
        record({probe_started_at_, now_rfc3339(), -1, why}, probe_start_ms_, monotonic_ms());
    };
    ExecRequest req;
    req.cmd = probe_argv(check, rec_.shell);
    req.user = rec_.spec.user;  // Docker's probe runs as Config.User, in Config.WorkingDir
    auto plan = make_exec_plan(rec_, req, rec_.backend == Backend::Rootless);
    if (!plan) return failed(plan.error().message);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return failed(std::string("health check: pipe: ") + std::strerror(errno));
    UniqueFd out_r(p[0]), out_w(p[1]);
    set_nonblocking(out_r.get());
    exec_id_ = random_hex(32);
    // Docker's words: the probe is an exec, created and started.
    store_.append_event("exec_create", {{"id", id_}, {"name", name_}, {"cmd", req.cmd}, {"execID", exec_id_}});
    store_.append_event("exec_start", {{"id", id_}, {"name", name_}, {"cmd", req.cmd}, {"execID", exec_id_}});
    auto spawned = spawn_exec_helper(*plan, {-1, out_w.get(), out_w.get(), -1}, true, helper_);
    out_w.reset();
    if (!spawned) return failed(spawned.error().message);
    pid_ = spawned->pid;
    report_ = std::move(spawned->report);
    set_nonblocking(report_.get());
    output_ = std::move(out_r);
    pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    deadline_ms_ = now_ms + static_cast<double>(probe_timeout_ns(check)) / 1e6;
}

void HealthChecker::drain_output() {
    if (!output_.valid()) return;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(output_.get(), buf, sizeof buf);
        if (n > 0) {
            // Docker's limitedBuffer: keep the first 4096 bytes, note that more came.
            size_t room = kMaxProbeOutput - std::min(kMaxProbeOutput, kept_.size());
            size_t keep = std::min(room, static_cast<size_t>(n));
            kept_.append(buf, keep);
            if (keep < static_cast<size_t>(n)) truncated_ = true;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) output_.reset();  // every writer is gone
        return;
    }
}

void HealthChecker::finish(int wait_status, double now_ms) {
    pid_ = 0;
    pidfd_.reset();
    drain_output();
    output_.reset();  // a background child of the probe that keeps the pipe open is not waited for
    std::string report;
    if (report_.valid()) {
        char buf[1024];
        ssize_t n;
        while ((n = ::read(report_.get(), buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
        report_.reset();
    }
    HealthResult result{probe_started_at_, now_rfc3339(), -1, ""};
    if (!report.empty()) {
        // The command could not be run (not found, not executable, a setup error): Docker's exec
        // start error is the result's output, with exit code -1; no exec_die follows.
        result.output = exec_report_error(report).message;
    } else {
        const int code = exit_code_of(wait_status);
        store_.append_event("exec_die", {{"id", id_}, {"name", name_}, {"execID", exec_id_}, {"exitCode", code}});
        const std::string out = probe_output(kept_, truncated_);
        if (timed_out_) {
            result.output = "Health check exceeded timeout (" + go_duration_string(probe_timeout_ns(*rec_.healthcheck)) + ")";
            if (!out.empty()) result.output += ": " + out;
        } else {
            result.exit_code = code;
            result.output = out;
        }
    }
    timed_out_ = false;
    record(result, probe_start_ms_, now_ms);
}

void HealthChecker::record(const HealthResult& result, double probe_start_ms, double now_ms) {
    HealthStatus status = last_status_;
    bool changed = false;
    if (auto lock = store_.lock_container(id_); !lock) {
        std::fprintf(stderr, "isolab-monitor: health check result not recorded: %s\n", lock.error().message.c_str());
    } else if (auto r = store_.load(id_); r && r->state == ContainerState::Running && !r->stopped_by_user) {
        // (Paused or being stopped since the probe began: the result is dropped, as Docker's
        // handleProbeResult drops it once its stop channel is closed.)
        name_ = r->name;
        HealthState before = r->health ? *r->health : health_on_start(std::nullopt);
        const int64_t since_started_ns = static_cast<int64_t>((probe_start_ms - started_ms_) * 1e6);
        r->health = apply_probe_result(before, result, *rec_.healthcheck, since_started_ns);
        status = r->health->status;
        changed = status != before.status;
        if (auto saved = store_.save(*r); !saved)
            std::fprintf(stderr, "isolab-monitor: health check result not recorded: %s\n", saved.error().message.c_str());
    }
    last_status_ = status;
    if (changed)
        store_.append_event("health_status", {{"id", id_}, {"name", name_}, {"status", health_status_name(status)}});
    if (active_) schedule_next(now_ms, status);
}

void HealthChecker::abandon_probe() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    // A probe in a frozen container dies only when it is thawed: reaped then, not waited for.
    abandoned_.push_back(pid_);
    pid_ = 0;
    pidfd_.reset();
    output_.reset();
    report_.reset();
    timed_out_ = false;
    reap_abandoned();
}

void HealthChecker::reap_abandoned() {
    std::erase_if(abandoned_, [](pid_t p) { return ::waitpid(p, nullptr, WNOHANG) != 0; });
}

}  // namespace isolab
