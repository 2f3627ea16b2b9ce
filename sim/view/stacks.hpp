// The two stacks of the main window as text and numbers (GUI-free): what each box says, in the
// current language, from a WorldSnapshot. The window only draws what this returns.
#pragma once

#include <string>
#include <vector>

#include "sim/view/snapshot.hpp"

namespace isolab::view {

struct VmBox {
    std::string name, state;            // state: poweroff | starting | running | paused | stopping | aborted
    std::string app;                    // "httpd (busybox)"
    std::string guest_os;               // "guest OS: busybox init"
    std::string kernel;                 // "own kernel: Linux 6.1.0-56-cloud-amd64"
};

struct ContainerBox {
    std::string id, name, state;        // state: Docker's (created | running | paused | exited ...)
    std::string health;                 // "" | starting | healthy | unhealthy: only while running, as ps
    std::string app, app_tip;           // "httpd" / the full command
    std::string libs, libs_tip;         // "busybox · 1 layer" / the layers
    std::string pids;                   // "PID 1 inside · 4242 on the host" + memory
};

struct RamSegment {
    std::string label;
    double fraction = 0;                // of the host's RAM
    bool vm = false;                    // a VM's reservation (whole) vs a container's use
};

struct StackModel {
    std::string hardware, host_os, hypervisor, engine, shared_kernel;
    std::vector<VmBox> vms;
    std::vector<ContainerBox> containers;  // newest first
    std::vector<RamSegment> ram_segments;
    std::string ram_tooltip;
    std::string lesson_line;            // the picture in one sentence, with live numbers
};

StackModel build_stacks(const WorldSnapshot& w);
// "vm1", "vm2", ...: the first name no VM has.
std::string next_vm_name(const WorldSnapshot& w);
// The command the "run a container" button runs: the teaching web image when it is built.
std::string run_web_command(const WorldSnapshot& w);

}  // namespace isolab::view
