#include "sim/vm/vm_model.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/vm/vm_record.hpp"

namespace isolab::vm {

namespace {

// ordered_json: profiles are listed in the file's order, which is the order a GUI shows them.
using Json = nlohmann::ordered_json;

// Builds the errors of one file: "`PATH`: KEY: WHAT".
struct Checker {
    const std::string& path;

    Error at(const std::string& key, const std::string& what) const {
        return make_error("`" + path + "`: " + key + ": " + what);
    }

    Result<std::string> string(const Json& obj, const std::string& key, const std::string& where,
                               bool required) const {
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) return at(where + key, "missing (a string is required)");
            return std::string();
        }
        if (!it->is_string()) return at(where + key, "must be a string");
        std::string value = it->get<std::string>();
        if (required && value.empty()) return at(where + key, "must not be empty");
        return value;
    }

    Result<double> number(const Json& obj, const std::string& key, const std::string& where, bool required,
                          bool positive) const {
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) return at(where + key, "missing (a number is required)");
            return 0.0;
        }
        if (!it->is_number()) return at(where + key, "must be a number");
        double value = it->get<double>();
        if (!std::isfinite(value) || value < 0 || (positive && value == 0))
            return at(where + key, positive ? "must be a number > 0" : "must be a number >= 0");
        return value;
    }
};

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<VmProfile> parse_profile(const Checker& c, const std::string& name, const Json& j) {
    const std::string where = "profiles." + name + ".";
    if (!j.is_object()) return c.at("profiles." + name, "must be an object");
    VmProfile p;
    p.name = name;

    auto label = j.find("label");
    if (label == j.end()) return c.at(where + "label", "missing (an object {\"en\": ..., \"ko\": ...} is required)");
    if (!label->is_object()) return c.at(where + "label", "must be an object {\"en\": ..., \"ko\": ...}");
    auto en = c.string(*label, "en", where + "label.", true);
    if (!en) return en.error();
    auto ko = c.string(*label, "ko", where + "label.", true);
    if (!ko) return ko.error();
    // The model's numbers must never pass for measurements: the labels say so in both languages.
    if (en->find("modeled") == std::string::npos)
        return c.at(where + "label.en", "must contain the word \"modeled\"");
    if (ko->find("모델") == std::string::npos) return c.at(where + "label.ko", "must contain the word \"모델\"");
    p.label_en = *en;
    p.label_ko = *ko;

    auto source = c.string(j, "source", where, true);
    if (!source) return source.error();
    p.source = *source;
    auto release = c.string(j, "kernel_release", where, false);
    if (!release) return release.error();
    p.kernel_release = *release;

    auto stages = j.find("stages");
    if (stages == j.end()) return c.at(where + "stages", "missing (a list of the boot stages is required)");
    if (!stages->is_array()) return c.at(where + "stages", "must be a list");
    for (size_t i = 0; i < stages->size() && i < kBootStageCount; ++i) {
        const Json& s = (*stages)[i];
        const std::string at = where + "stages[" + std::to_string(i) + "]";
        if (!s.is_object()) return c.at(at, "must be an object {\"name\": ..., \"ms\": ...}");
        auto stage_name = c.string(s, "name", at + ".", true);
        if (!stage_name) return stage_name.error();
        if (*stage_name != kBootStageNames[i])
            return c.at(at + ".name", "expected " + in_quotes(kBootStageNames[i]) + ", found " + in_quotes(*stage_name) +
                                          " (stages are firmware, kernel, init, network, app, in this order)");
        auto ms = c.number(s, "ms", at + ".", true, false);
        if (!ms) return ms.error();
        auto note = c.string(s, "note", at + ".", false);
        if (!note) return note.error();
        p.stages.push_back(ModeledStage{*stage_name, *ms, *note});
    }
    if (stages->size() != kBootStageCount) {
        std::string what = "has " + std::to_string(stages->size()) + " stages, expected " +
                           std::to_string(kBootStageCount) + " (firmware, kernel, init, network, app)";
        if (stages->size() < kBootStageCount) what += ": " + in_quotes(kBootStageNames[stages->size()]) + " is missing";
        return c.at(where + "stages", what);
    }

    auto memory = c.number(j, "memory_mib", where, true, true);
    if (!memory) return memory.error();
    p.memory_mib = *memory;
    auto ram = c.number(j, "guest_ram_mib", where, false, true);
    if (!ram) return ram.error();
    p.guest_ram_mib = *ram;
    return p;
}

}  // namespace

const std::string& VmProfile::label(i18n::Lang lang) const {
    switch (lang) {
        case i18n::Lang::En: return label_en;
        case i18n::Lang::Ko: return label_ko;
    }
    return label_en;
}

double VmProfile::answered_ms() const {
    double total = 0;
    for (const auto& s : stages) total += s.ms;
    return total;
}

std::vector<BootStage> VmProfile::boot_stages() const {
    std::vector<BootStage> out;
    double at = 0;
    for (const auto& s : stages) {
        BootStage b;
        b.name = s.name;
        b.start_ms = at;
        at += s.ms;
        b.end_ms = at;
        b.done = true;
        b.observed = true;
        out.push_back(std::move(b));
    }
    return out;
}

const VmProfile* VmModel::find(std::string_view name) const {
    for (const auto& p : profiles)
        if (p.name == name) return &p;
    return nullptr;
}

std::string default_vm_model_path() { return i18n::assets_dir() + "/vm-model.json"; }

Result<VmModel> parse_vm_model(const std::string& text, const std::string& path) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const Json::parse_error& e) {
        return make_error("parse `" + path + "`: " + e.what());
    }
    Checker c{path};
    if (!j.is_object()) return make_error("`" + path + "` must hold one JSON object with a key \"profiles\"");
    auto profiles = j.find("profiles");
    if (profiles == j.end()) return c.at("profiles", "missing (an object of profiles is required)");
    if (!profiles->is_object()) return c.at("profiles", "must be an object {\"<name>\": {...}}");
    if (profiles->empty()) return c.at("profiles", "must hold at least one profile");
    VmModel model;
    model.path = path;
    for (auto it = profiles->begin(); it != profiles->end(); ++it) {
        auto p = parse_profile(c, it.key(), it.value());
        if (!p) return p.error();
        model.profiles.push_back(std::move(*p));
    }
    return model;
}

Result<VmModel> load_vm_model(const std::string& path) {
    auto text = read_file(path);
    if (!text) return text.error();
    return parse_vm_model(*text, path);
}

Result<VmRecord> ModelBackend::boot(VmRecord r, const VmContext&, const BootOptions& o) {
    auto model = load_vm_model(path_);
    if (!model) return model.error();
    const auto* profile = model->find(r.machine == "microvm" ? "microvm-kvm" : "desktop-virtualbox");
    if (!profile) return make_error("`" + path_ + "` has no profile for machine " + r.machine);
    r.stages.clear();
    double total = 0;
    for (const auto& st : profile->stages) {
        total += st.ms;
        r.stages.push_back({st.name, st.ms});
        if (o.on_stage) o.on_stage(st.name, total);
    }
    r.answered_ms = total;
    r.kernel_release = (profile->kernel_release.empty() ? "6.1.0-cloud-amd64" : profile->kernel_release) + " (modeled)";
    return r;
}

Result<std::string> ModelBackend::console_run(const VmRecord& r, const VmContext&, const std::string& command, int) {
    return std::string("(modeled: no guest runs here) ") + (command == "uname -r" ? r.kernel_release + "\n" : "");
}

}  // namespace isolab::vm
