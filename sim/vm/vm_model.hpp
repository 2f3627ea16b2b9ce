// The VM model backend: modeled boot-stage timings for machines without QEMU (or without the
// guest artifacts), read from a documented data file, assets/vm-model.json, and ModelBackend, the
// VmBackend (sim/vm/vm_backend.hpp) that "boots" a VM from them without running anything.
//
// File format (one JSON object; profiles keep the file's order):
//   {"about": "...",                                   optional, for people reading the file
//    "profiles": {
//      "<name>": {"label": {"en": "modeled: ...", "ko": "모델값: ..."},
//                 "source": "where the numbers come from",
//                 "kernel_release": "6.1.0-56-cloud-amd64",  optional; what `uname -r` shows
//                 "stages": [{"name": "firmware", "ms": 700, "note": "..."}, ...],
//                 "memory_mib": 226,                 host memory the running VM uses
//                 "guest_ram_mib": 256}}}            optional; the RAM the guest was given
//
// Rules the loader enforces, each failure naming the file and the key:
//   - `stages` lists exactly the tracker's stages (kBootStageNames: firmware, kernel, init,
//     network, app), once each, in that order, with a finite "ms" >= 0 — so a modeled boot and a
//     measured one have the same shape, and a stage cannot be forgotten;
//   - both labels are non-empty, the English one contains "modeled" and the Korean one "모델":
//     every number the model produces is shown to a learner under that label, never as a
//     measurement (BRIEF §6);
//   - `source` is non-empty; `memory_mib` is a number > 0.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/core/i18n.hpp"
#include "sim/core/result.hpp"
#include "sim/vm/boot_stages.hpp"
#include "sim/vm/vm_backend.hpp"

namespace isolab::vm {

struct ModeledStage {
    std::string name;  // one of kBootStageNames
    double ms = 0;     // duration of the stage
    std::string note;  // what the stage stands for in this profile ("" when the file has none)
};

struct VmProfile {
    std::string name;            // the key under "profiles"
    std::string label_en, label_ko;
    std::string source;
    std::string kernel_release;  // "" when the file has none
    std::vector<ModeledStage> stages;
    double memory_mib = 0;
    double guest_ram_mib = 0;    // 0 when the file has none

    // The label in LANG ("modeled: ..." / "모델값: ...").
    const std::string& label(i18n::Lang lang) const;
    // QEMU start → page answers: the sum of the stages.
    double answered_ms() const;
    // The stages as a BootStageTracker reports a finished boot: cumulative start/end, all done
    // and observed. Lets one code path render modeled and measured boots alike.
    std::vector<BootStage> boot_stages() const;
};

struct VmModel {
    std::string path;  // the file it was loaded from
    std::vector<VmProfile> profiles;

    // The profile called NAME, or nullptr.
    const VmProfile* find(std::string_view name) const;
};

// i18n::assets_dir() + "/vm-model.json".
std::string default_vm_model_path();

// Reads and checks PATH. Errors (exit code 125) name the file: "read `PATH`: No such file or
// directory", "parse `PATH`: <parser message>", "`PATH`: profiles.qemu-tcg.stages[2].name: expected
// \"init\", found \"network\"".
Result<VmModel> load_vm_model(const std::string& path = default_vm_model_path());
// The same checks on TEXT; PATH is used only in messages.
Result<VmModel> parse_vm_model(const std::string& text, const std::string& path);

// The stand-in hypervisor: a boot takes no time and runs nothing; the record gets the profile's
// stages (desktop-virtualbox for `pc`, microvm-kvm for `microvm`) and a kernel release marked
// "(modeled)", so every number it yields stays labeled as modeled. Pause and stop have nothing to
// freeze or end; the console answers that no guest runs.
class ModelBackend final : public VmBackend {
public:
    explicit ModelBackend(std::string model_path = default_vm_model_path()) : path_(std::move(model_path)) {}

    Result<VmRecord> boot(VmRecord r, const VmContext& ctx, const BootOptions& o) override;
    Status pause(const VmRecord&, const VmContext&) override { return {}; }
    Status resume(const VmRecord&, const VmContext&) override { return {}; }
    void power_off(const VmRecord&, const VmContext&, bool, int) override {}
    Result<std::string> console_run(const VmRecord& r, const VmContext& ctx, const std::string& command,
                                    int timeout_ms) override;
    bool has_process() const override { return false; }
    bool process_alive(const VmRecord&) const override { return false; }

private:
    std::string path_;
};

}  // namespace isolab::vm
