// The Resources tab's numbers: the sample ring, CPU % from two samples, per-row history, totals
// of both sides, and the density experiment's commands and status.
#include <doctest/doctest.h>

#include <string>

#include "sim/view/resources_model.hpp"

using namespace isolab;
using namespace isolab::view;

namespace {

ContainerView container(const std::string& id, const std::string& name, ContainerState state, int64_t mem, double cpu,
                        int procs = 1) {
    ContainerView c;
    c.rec.id = id;
    c.rec.name = name;
    c.rec.state = state;
    c.mem_current = mem;
    c.cpu_seconds = cpu;
    c.processes = procs;
    return c;
}

VmView vm_view(const std::string& name, vm::VmState state, int mib, int64_t rss, double cpu) {
    VmView v;
    v.rec.name = name;
    v.rec.state = state;
    v.rec.memory_mib = mib;
    v.rss_bytes = rss;
    v.cpu_seconds = cpu;
    return v;
}

constexpr int64_t MiB = 1024 * 1024;

}  // namespace

TEST_CASE("view: sample ring keeps the newest samples in order") {
    SampleRing r(3);
    CHECK(r.empty());
    CHECK(r.last() == 0);
    CHECK(r.max() == 0);
    r.push(1);
    r.push(5);
    CHECK(r.values() == std::vector<double>{1, 5});
    r.push(2);
    r.push(4);  // drops 1
    CHECK(r.size() == 3);
    CHECK(r.values() == std::vector<double>{5, 2, 4});
    CHECK(r.at(0) == 5);
    CHECK(r.last() == 4);
    CHECK(r.max() == 5);
    CHECK(r.at(7) == 0);
}

TEST_CASE("view: cpu percent is cpu time over wall time, of one core") {
    CHECK(cpu_percent({1.0, 1000}, {1.5, 2000}) == doctest::Approx(50));
    CHECK(cpu_percent({1.0, 1000}, {3.0, 2000}) == doctest::Approx(200));  // two busy cores
    CHECK(cpu_percent({1.0, 1000}, {1.0, 2000}) == 0);
    CHECK(cpu_percent({5.0, 1000}, {0.1, 2000}) == 0);  // restarted: the counter went back
    CHECK(cpu_percent({1.0, 1000}, {2.0, 1000}) == 0);  // no time passed
}

TEST_CASE("view: tracker follows containers and VMs across snapshots") {
    ResourceTracker tr(10);
    WorldSnapshot w;
    w.vms.push_back(vm_view("vm1", vm::VmState::Running, 256, 300 * MiB, 10.0));
    w.containers.push_back(container("aaa", "web", ContainerState::Running, 2 * MiB, 1.0, 3));
    w.containers.push_back(container("bbb", "old", ContainerState::Exited, -1, 0.5));
    tr.sample(w, 1000);
    REQUIRE(tr.rows().size() == 3);
    CHECK(tr.rows()[0].vm);
    CHECK(tr.rows()[0].key == "vm/vm1");
    CHECK(tr.rows()[0].mem_reserved == 256 * MiB);
    CHECK(tr.rows()[1].key == "c/aaa");
    CHECK(tr.rows()[1].cpu_pct < 0);  // one sample says nothing about CPU yet
    CHECK(tr.rows()[1].mem_history.size() == 1);
    CHECK(!tr.rows()[2].live);
    CHECK(tr.rows()[2].mem_used == -1);
    CHECK(tr.rows()[2].mem_history.empty());

    w.vms[0].cpu_seconds = 11.0;        // 1 s of CPU in 2 s
    w.containers[0].cpu_seconds = 1.2;  // 0.2 s in 2 s
    w.containers[0].mem_current = 3 * MiB;
    tr.sample(w, 3000);
    CHECK(tr.rows()[0].cpu_pct == doctest::Approx(50));
    CHECK(tr.rows()[1].cpu_pct == doctest::Approx(10));
    CHECK(tr.rows()[1].mem_history == std::vector<double>{2.0 * MiB, 3.0 * MiB});
    CHECK(tr.rows()[1].cpu_history.size() == 1);

    // The container goes away: its row and its history go too.
    w.containers.erase(w.containers.begin());
    tr.sample(w, 4000);
    REQUIRE(tr.rows().size() == 2);
    CHECK(tr.rows()[1].name == "old");
    w.containers.insert(w.containers.begin(), container("aaa", "web", ContainerState::Running, 2 * MiB, 0.0));
    tr.sample(w, 5000);
    CHECK(tr.rows()[1].mem_history.size() == 1);
    CHECK(tr.rows()[1].cpu_pct < 0);
}

TEST_CASE("view: a stopped and restarted container gives no CPU delta across the restart") {
    ResourceTracker tr;
    WorldSnapshot w;
    w.containers.push_back(container("aaa", "web", ContainerState::Running, MiB, 5.0));
    tr.sample(w, 1000);
    w.containers[0].rec.state = ContainerState::Exited;
    tr.sample(w, 2000);
    w.containers[0].rec.state = ContainerState::Running;
    w.containers[0].cpu_seconds = 0.1;
    tr.sample(w, 3000);
    CHECK(tr.rows()[0].cpu_pct < 0);
    w.containers[0].cpu_seconds = 0.2;
    tr.sample(w, 4000);
    CHECK(tr.rows()[0].cpu_pct == doctest::Approx(10));
}

TEST_CASE("view: totals separate the two sides") {
    ResourceTracker tr;
    WorldSnapshot w;
    w.vms.push_back(vm_view("vm1", vm::VmState::Running, 256, 200 * MiB, 0));
    w.vms.push_back(vm_view("vm2", vm::VmState::Starting, 512, 100 * MiB, 0));
    w.vms.push_back(vm_view("vm3", vm::VmState::PoweredOff, 256, 0, 0));
    w.containers.push_back(container("a", "a", ContainerState::Running, 1 * MiB, 0, 2));
    w.containers.push_back(container("b", "b", ContainerState::Paused, 3 * MiB, 0, 1));
    w.containers.push_back(container("c", "c", ContainerState::Running, -1, 0, 1));  // no figure
    w.containers.push_back(container("d", "d", ContainerState::Exited, -1, 0));
    tr.sample(w, 0);
    ResourceTotals t = resource_totals(tr.rows());
    CHECK(t.vms == 3);
    CHECK(t.vms_live == 2);
    CHECK(t.vms_reserved == 768 * MiB);
    CHECK(t.vms_rss == 300 * MiB);
    CHECK(t.avg_vm_reserved == 384 * MiB);
    CHECK(t.containers == 4);
    CHECK(t.containers_live == 3);
    CHECK(t.containers_mem == 4 * MiB);
    CHECK(t.containers_mem_known == 2);
    CHECK(t.avg_container_mem == 2 * MiB);
    CHECK(t.processes == 4);
    CHECK(lightweight_ratio(t.avg_vm_reserved, t.avg_container_mem) == doctest::Approx(192));
    CHECK(lightweight_ratio(0, MiB) == 0);
    CHECK(lightweight_ratio(MiB, 0) == 0);
    CHECK(default_vm_reservation() == 256 * MiB);
    CHECK(resource_totals({}).avg_container_mem == 0);
}

TEST_CASE("view: density commands") {
    CHECK(clamp_density(0) == 1);
    CHECK(clamp_density(10) == 10);
    CHECK(clamp_density(500) == kDensityMax);
    CHECK(density_name(3) == "density-3");
    CHECK(density_run_command(7) == "run -d --name density-7 busybox sleep 3600");
    CHECK(density_remove_command({}).empty());
    CHECK(density_remove_command({"density-1", "density-2"}) == "rm -f density-1 density-2");
}

TEST_CASE("view: density status counts the running ones and their memory") {
    WorldSnapshot w;
    w.containers.push_back(container("1", "density-1", ContainerState::Running, 400 * 1024, 0));
    w.containers.push_back(container("2", "density-2", ContainerState::Running, 600 * 1024, 0));
    w.containers.push_back(container("3", "density-3", ContainerState::Created, -1, 0));
    w.containers.push_back(container("4", "density-12", ContainerState::Running, MiB, 0));  // beyond N
    w.containers.push_back(container("5", "web", ContainerState::Running, MiB, 0));
    w.containers.push_back(container("6", "density-x", ContainerState::Running, MiB, 0));
    w.containers.push_back(container("7", "density-03", ContainerState::Running, MiB, 0));
    DensityStatus s = density_status(w, 3);
    CHECK(s.exist == 3);
    CHECK(s.running == 2);
    CHECK(!s.all_running);
    CHECK(s.total_mem == 1000 * 1024);
    CHECK(s.avg_mem == 500 * 1024);
    CHECK(s.present == std::vector<std::string>{"density-1", "density-2", "density-3", "density-12"});
    w.containers[2].rec.state = ContainerState::Running;
    w.containers[2].mem_current = 500 * 1024;
    s = density_status(w, 3);
    CHECK(s.all_running);
    CHECK(s.avg_mem == 500 * 1024);
    CHECK(density_status(WorldSnapshot{}, 5).present.empty());
}
