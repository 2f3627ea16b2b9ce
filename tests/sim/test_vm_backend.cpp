// The VM backend: the kind's words (the on-disk format), the choice from what the machine offers,
// and the manager handing each VM to the implementation of its record's kind. No QEMU is run.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <set>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/vm/vm_manager.hpp"
#include "tests/sim/lesson_test_util.hpp"

using namespace isolab;
using namespace isolab::vm;
using isolab::test::EnvVar;
using isolab::test::TempDir;

namespace {

// Facts of a machine that has everything; each case takes one thing away.
struct Facts {
    int probes = 0;
    bool kvm = true;
    VmHostFacts make() {
        VmHostFacts f;
        f.qemu_found = true;
        f.guest_found = true;
        f.kvm_works = [this] {
            ++probes;
            return kvm;
        };
        return f;
    }
};

}  // namespace

TEST_CASE("vm backend: kinds have the record's words, and other words are refused") {
    std::set<std::string> words;
    for (VmBackendKind k : kAllVmBackendKinds) {
        std::string w(to_string(k));
        words.insert(w);
        VmBackendKind back = k == VmBackendKind::Model ? VmBackendKind::QemuKvm : VmBackendKind::Model;
        REQUIRE(parse_vm_backend(w, &back));
        CHECK(back == k);
    }
    CHECK(words == std::set<std::string>{"qemu-kvm", "qemu-tcg", "model"});
    for (const char* bad : {"", "qemu", "Model", "simulated", "kvm", "model "}) {
        VmBackendKind untouched = VmBackendKind::QemuTcg;
        CHECK_FALSE(parse_vm_backend(bad, &untouched));
        CHECK(untouched == VmBackendKind::QemuTcg);
    }
    CHECK(is_modeled(VmBackendKind::Model));
    CHECK_FALSE(is_modeled(VmBackendKind::QemuKvm));
    CHECK_FALSE(is_modeled(VmBackendKind::QemuTcg));
    CHECK(names_modeled_vm("model"));
    for (const char* other : {"qemu-kvm", "qemu-tcg", "simulated", "namespaces", ""}) CHECK_FALSE(names_modeled_vm(other));
}

TEST_CASE("vm backend: the choice follows what the machine offers, probing KVM only when it decides") {
    SUBCASE("everything there, KVM works: KVM") {
        Facts f;
        auto k = choose_vm_backend(f.make());
        REQUIRE(k.ok());
        CHECK(*k == VmBackendKind::QemuKvm);
        CHECK(f.probes == 1);
    }
    SUBCASE("KVM probe says no: TCG") {
        Facts f;
        f.kvm = false;
        auto k = choose_vm_backend(f.make());
        REQUIRE(k.ok());
        CHECK(*k == VmBackendKind::QemuTcg);
        CHECK(f.probes == 1);
    }
    SUBCASE("KVM already failed a boot here: TCG without probing") {
        Facts f;
        auto facts = f.make();
        facts.kvm_known_broken = true;
        auto k = choose_vm_backend(facts);
        REQUIRE(k.ok());
        CHECK(*k == VmBackendKind::QemuTcg);
        CHECK(f.probes == 0);
    }
    SUBCASE("no QEMU, or no guest kernel: the model, without probing") {
        for (int missing = 0; missing < 2; ++missing) {
            Facts f;
            auto facts = f.make();
            (missing == 0 ? facts.qemu_found : facts.guest_found) = false;
            auto k = choose_vm_backend(facts);
            REQUIRE(k.ok());
            CHECK(*k == VmBackendKind::Model);
            CHECK(f.probes == 0);
        }
    }
    SUBCASE("a requested backend wins, whatever the machine offers") {
        for (VmBackendKind want : kAllVmBackendKinds) {
            Facts f;
            auto facts = f.make();
            facts.qemu_found = want != VmBackendKind::QemuKvm;  // also against the facts
            facts.requested = std::string(to_string(want));
            auto k = choose_vm_backend(facts);
            REQUIRE(k.ok());
            CHECK(*k == want);
            CHECK(f.probes == 0);
        }
    }
    SUBCASE("an unknown requested backend is refused, naming the three") {
        Facts f;
        auto facts = f.make();
        facts.requested = "qemu";
        auto k = choose_vm_backend(facts);
        REQUIRE_FALSE(k.ok());
        CHECK(k.error().exit_code == 125);
        for (const char* w : {"ISOLAB_VM_BACKEND=qemu", "qemu-kvm", "qemu-tcg", "model"})
            CHECK(k.error().message.find(w) != std::string::npos);
    }
}

TEST_CASE("vm backend: the manager dispatches by kind, both QEMU kinds to one QEMU backend") {
    TempDir root("isolab-vm-backend");
    VmManager vms(root.path);
    VmBackend& kvm = vms.backend(VmBackendKind::QemuKvm);
    VmBackend& tcg = vms.backend(VmBackendKind::QemuTcg);
    VmBackend& model = vms.backend(VmBackendKind::Model);
    CHECK(&kvm == &tcg);
    CHECK(&kvm != &model);
    CHECK(dynamic_cast<QemuBackend*>(&kvm) != nullptr);
    CHECK(dynamic_cast<ModelBackend*>(&model) != nullptr);
    CHECK(kvm.has_process());
    CHECK_FALSE(model.has_process());
    VmRecord r;
    r.qemu_pid = ::getpid();  // a live process, but the model never owns one
    r.qemu_start_time = process_start_time(r.qemu_pid);
    CHECK_FALSE(model.process_alive(r));
    CHECK(kvm.process_alive(r));
}

TEST_CASE("vm backend: the manager chooses once, from the guest directory and $ISOLAB_VM_BACKEND") {
    TempDir root("isolab-vm-backend"), empty_guest("isolab-vm-guest");
    EnvVar guest("ISOLAB_GUEST_DIR"), requested("ISOLAB_VM_BACKEND");
    guest.set(empty_guest.path);  // no vmlinuz here: the model, with or without QEMU on PATH
    requested.unset();
    VmManager vms(root.path);
    auto first = vms.pick_backend();
    REQUIRE(first.ok());
    CHECK(*first == VmBackendKind::Model);
    requested.set("qemu-tcg");
    auto again = vms.pick_backend();
    REQUIRE(again.ok());
    CHECK(*again == VmBackendKind::Model);  // chosen once for this manager
    auto made = vms.create("later", 256, 1, "pc");
    REQUIRE(made.ok());
    CHECK(made->backend == VmBackendKind::Model);
    VmManager fresh(root.path);
    auto other = fresh.pick_backend();
    REQUIRE(other.ok());
    CHECK(*other == VmBackendKind::QemuTcg);

    requested.set("kvm");
    VmManager wrong(root.path);
    auto refused = wrong.create("nope", 256, 1, "pc");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().exit_code == 125);
    CHECK(refused.error().message.find("ISOLAB_VM_BACKEND=kvm") != std::string::npos);
    CHECK_FALSE(path_exists(wrong.dir_of("nope")));  // nothing half-made
}

TEST_CASE("vm backend: vm.json keeps the backend's word, and an unknown word is an error naming the file") {
    TempDir root("isolab-vm-backend");
    EnvVar requested("ISOLAB_VM_BACKEND");
    for (VmBackendKind k : kAllVmBackendKinds) {
        requested.set(std::string(to_string(k)));
        VmManager vms(root.path);
        std::string name = "v-" + std::string(to_string(k));
        auto made = vms.create(name, 256, 1, "pc");
        REQUIRE(made.ok());
        auto text = read_file(vms.dir_of(name) + "/vm.json");
        REQUIRE(text.ok());
        auto j = nlohmann::json::parse(*text);
        CHECK(j["backend"] == std::string(to_string(k)));
        CHECK(to_json(*made) == j);
        auto back = vms.get(name);
        REQUIRE(back.ok());
        CHECK(back->backend == k);
    }
    VmManager vms(root.path);
    auto text = read_file(vms.dir_of("v-model") + "/vm.json");
    REQUIRE(text.ok());
    auto j = nlohmann::json::parse(*text);
    j["backend"] = "qemu";
    REQUIRE(write_file_atomic(vms.dir_of("v-model") + "/vm.json", j.dump()).ok());
    auto bad = vms.get("v-model");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("VM v-model: `vm.json`") != std::string::npos);
    CHECK(bad.error().message.find("\"qemu\"") != std::string::npos);
}
