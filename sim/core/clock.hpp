// Time and identity helpers shared by the engine and the monitor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace isolab {

std::string now_rfc3339();                  // "2026-11-29T06:47:18.123456789Z"
int64_t rfc3339_to_unix_ns(const std::string& s);  // 0 when unparsable or Docker's zero time
double monotonic_ms();
std::string random_hex(size_t bytes);       // getrandom(2)
// Field 22 of /proc/PID/stat (start time in clock ticks since boot); 0 if the process is gone.
uint64_t process_start_time(pid_t pid);
// The process exists and is the one we recorded (not a recycled pid).
bool process_matches(pid_t pid, uint64_t start_time);
// Field 4 of /proc/PID/stat (the parent's pid); 0 if the process is gone.
pid_t process_parent(pid_t pid);
// "PREFIX-PID-START-RAND" (PREFIX like ".add"): a scratch folder's name that says which process
// owns it, so the garbage collector can remove it once that process is gone (a kill -9).
std::string owned_scratch_name(const std::string& prefix);
// NAME is such a name, and its owner no longer runs.
bool owned_scratch_abandoned(const std::string& name);
// "3 seconds", "About a minute", "2 hours" as Docker's units.HumanDuration.
std::string human_duration(int64_t seconds);
void sleep_ms(int ms);

}  // namespace isolab
