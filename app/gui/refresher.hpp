// Background refresh for views (STYLE §6: engine calls never block the frame): one job at a time
// on its own thread, started at most every PERIOD milliseconds while the tab is drawn (or at once
// when forced). The destructor waits for a running job.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "sim/core/clock.hpp"

namespace isolab::gui {

class Refresher {
public:
    ~Refresher() {
        if (thread_.joinable()) thread_.join();
    }
    bool busy() const { return busy_; }
    void start_if_due(double period_ms, bool force, std::function<void()> job) {
        double now = monotonic_ms();
        if (busy_ || (!force && now - last_ < period_ms)) return;
        if (thread_.joinable()) thread_.join();
        busy_ = true;
        last_ = now;
        thread_ = std::thread([this, job = std::move(job)] {
            job();
            busy_ = false;
        });
    }
    void start_if_due(double period_ms, std::function<void()> job) { start_if_due(period_ms, false, std::move(job)); }

private:
    std::thread thread_;
    std::atomic<bool> busy_{false};
    double last_ = -1e12;
};

}  // namespace isolab::gui
