// The monitor's half of Docker's health checks (moby daemon/health.go's monitor goroutine): while
// the container's PID 1 runs and the container is not paused, run its HEALTHCHECK inside it, one
// probe at a time, and record each result in the container's record.
//
// Each probe goes the way `isolab exec` goes (exec_spawn.hpp: the exec helper joins PID 1's
// namespaces, cgroup and confinement), as Docker's probe is an exec: CMD-SHELL under the image's
// SHELL (else /bin/sh -c), CMD as its words, as the container's user in its working directory
// with its environment. Its stdout and stderr go to one buffer, of which 4096 bytes are kept. A
// probe past its timeout is killed (its whole process group) and recorded as exit code -1 with
// "Health check exceeded timeout (30s)". Each probe logs Docker's events (exec_create,
// exec_start, exec_die) and a change of status `health_status: STATUS`.
//
// Ownership and lifetime: the helper is this monitor's child, tied to it by PR_SET_PDEATHSIG, in
// a process group of its own; a monitor killed mid-probe takes the probe along (the helper is
// killed, and its command with it), and a probe the checker gives up on (pause, stop, timeout)
// is killed as a group. The state (health.hpp) is written into the record under the container's
// lock, so every other process (CLI, GUI) reads it from disk.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/state/container.hpp"
#include "sim/state/store.hpp"

namespace isolab {

class HealthChecker {
public:
    // Constructed before the monitor leaves its first mount namespace (see spawn_exec_helper).
    HealthChecker(const Store& store, std::string id);
    ~HealthChecker();  // kills a running probe
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;

    // PID 1 started at monotonic time STARTED_MS. REC is the container as this monitor started it,
    // with PID 1's pid and start time, the monitor's pid and the cgroup paths filled in (the
    // record on disk may not say so yet). Schedules the first probe when the record's check runs
    // one; does nothing otherwise.
    void begin(const ContainerRecord& rec, double started_ms);
    // No more probes (PID 1 ended, or the container is paused or being stopped): a running probe
    // is killed and its result dropped, as Docker's stop channel drops it.
    void end();
    bool scheduled() const { return active_; }

    // The event loop's part. Appends exactly kPollSlots entries (unused ones have fd -1): the
    // probe's output, its exit (a pidfd) and a watch on the container's folder ...
    static constexpr size_t kPollSlots = 3;
    void add_poll_fds(std::vector<struct pollfd>& fds) const;
    // ... waits at most this long (-1: no deadline) ...
    int poll_timeout_ms(double now_ms) const;
    // ... and hands back those entries after poll (also called when nothing was ready, to see
    // whether a deadline has passed) and on SIGCHLD.
    void on_poll(const struct pollfd* slots, double now_ms);
    void reap_abandoned();

private:
    // The record on disk changed (another process saved it): a pause or a stop ends the probes
    // and marks the status unhealthy (Docker's CloseMonitorChannel); an unpause resumes them one
    // interval later. Takes the container's lock only to write.
    void record_changed();
    void launch(double now_ms);
    void drain_output();
    void finish(int wait_status, double now_ms);
    // Kills the probe's process group; keeps its pid to be reaped once it dies.
    void abandon_probe();
    void record(const HealthResult& result, double probe_start_ms, double now_ms);
    void schedule_next(double now_ms, HealthStatus status);

    const Store& store_;
    std::string id_;
    std::string helper_;   // the isolab-monitor binary, found at construction
    ContainerRecord rec_;  // as begin() got it: the check, shell, env, user, PID 1
    std::string name_;     // for events; refreshed from the record
    bool active_ = false;     // probes are scheduled
    bool suspended_ = false;  // paused: an unpause resumes them
    HealthStatus last_status_ = HealthStatus::Starting;
    UniqueFd watch_;          // inotify on the container's folder
    double started_ms_ = 0;
    double next_probe_ms_ = 0;
    // The probe in flight (pid_ > 0).
    pid_t pid_ = 0;
    UniqueFd pidfd_, output_, report_;
    std::string kept_;
    bool truncated_ = false;
    bool timed_out_ = false;
    double probe_start_ms_ = 0, deadline_ms_ = 0;
    std::string probe_started_at_;  // RFC 3339
    std::string exec_id_;
    std::vector<pid_t> abandoned_;
};

}  // namespace isolab
