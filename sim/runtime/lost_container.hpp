// A container whose record is lost (moved aside as container.json.bad, sim/state/store.hpp):
// its monitor pid and PID 1 are not known any more, so they are found and stopped from what the
// kernel still says. Runtime work (processes, cgroups), so it lives here, not in the state layer.
#pragma once

#include <string>

#include "sim/core/result.hpp"
#include "sim/state/store.hpp"

namespace isolab {

// For `rm` of a lost container (the engine calls it before removing the directory). Finds the
// monitor by ROOT/containers/ID/monitor.pid and by the peer of its attach.sock, each accepted only
// when /proc/PID/cmdline names this root and this id; SIGKILLs it first (so that it can neither
// restart PID 1 nor record anything), then its children (PID 1 among them), then every process
// whose /proc/PID/cgroup names CGROUP_NAME (the engine's container_cgroup_name), and removes that
// cgroup where cgroup_probe() places it. Best effort: an error says what is left.
Status stop_lost_container(const Store& store, const std::string& id, const std::string& cgroup_name);

}  // namespace isolab
