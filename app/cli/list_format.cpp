#include "app/cli/list_format.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "app/cli/commands.hpp"
#include "app/cli/go_template.hpp"
#include "sim/core/clock.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/images.hpp"

namespace isolab::cli {

std::string go_time_text(int64_t unix_ns, bool with_fraction) {
    std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000LL);
    int64_t nanos = unix_ns % 1000000000LL;
    if (nanos < 0) {
        nanos += 1000000000LL;
        secs -= 1;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::string out = buf;
    if (with_fraction && nanos != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
        std::string f = frac;
        while (f.back() == '0') f.pop_back();
        out += f;
    }
    return out + " +0000 UTC";
}

std::string go_time_text(const std::string& rfc3339, bool with_fraction) {
    int64_t ns = rfc3339_to_unix_ns(rfc3339);
    return ns == 0 ? "" : go_time_text(ns, with_fraction);
}

std::string go_human_size(int64_t bytes, int precision) {
    static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    double size = static_cast<double>(bytes);
    size_t i = 0;
    while (size >= 1000.0 && i + 1 < std::size(kUnits)) {
        size /= 1000.0;
        ++i;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g%s", precision, size, kUnits[i]);
    return buf;
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
    std::string out;
    for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
}

int local_volume_count(const ContainerRecord& r) {
    int n = 0;
    for (const auto& m : r.spec.mounts) n += m.type == MountType::Volume;
    return n;
}

std::string mounts_text(const ContainerRecord& r, bool no_trunc) {
    std::string out;
    for (const auto& m : r.spec.mounts) {
        if (m.origin == MountOrigin::TmpfsFlag) continue;
        std::string name = no_trunc ? m.source : docker_ellipsis(m.source, 15);
        out += (out.empty() ? "" : ",") + name;
    }
    return out;
}

bool format_reads_field(const std::string& format, const std::vector<std::string>& fields, const std::string& field,
                        const std::string& struct_type) {
    auto tmpl = GoTemplate::parse(format);
    if (!tmpl) return false;
    // A value no real field holds: when it comes out, the template read FIELD.
    const std::string probe = "isolab-probe-" + field;
    nlohmann::json dot = nlohmann::json::object();
    for (const auto& f : fields) dot[f] = "";
    dot[field] = probe;
    auto text = tmpl->execute({dot, struct_type});
    return text && text->find(probe) != std::string::npos;
}

std::vector<ImageFacts> image_facts(const std::vector<Image>& images) {
    std::vector<ImageFacts> out;
    for (const auto& img : images) {
        ImageFacts f;
        f.id = img.id;
        f.repo_tags = img.repo_tags;
        f.created = img.config.value("created", "");
        if (auto rootfs = img.config.find("rootfs"); rootfs != img.config.end() && rootfs->is_object())
            for (const auto& d : rootfs->value("diff_ids", nlohmann::json::array()))
                if (d.is_string()) f.diff_ids.push_back(d.get<std::string>());
        if (auto cfg = img.config.find("config"); cfg != img.config.end() && cfg->is_object())
            if (auto labels = cfg->find("Labels"); labels != cfg->end() && labels->is_object())
                for (const auto& [k, v] : labels->items())
                    if (v.is_string()) f.labels[k] = v.get<std::string>();
        out.push_back(std::move(f));
    }
    return out;
}

ContainerSize container_size(Engine& e, const ContainerRecord& r) {
    ContainerSize s;
    const std::string dir = e.store().container_dir(r.id);
    switch (r.rootfs_mode) {
        case RootfsMode::Overlay: s.rw = ImageStore::layer_size(dir + "/upper"); break;
        case RootfsMode::Copy:
            if (auto changes = e.diff(r.id))
                for (const auto& ch : *changes) {
                    struct stat st{};
                    if (ch.kind != 'D' && ::lstat((dir + "/rootfs" + ch.path).c_str(), &st) == 0 && S_ISREG(st.st_mode))
                        s.rw += st.st_size;
                }
            break;
        case RootfsMode::None: break;
    }
    s.root_fs = s.rw;
    for (const auto& layer : r.layers) s.root_fs += ImageStore::layer_size(layer);
    return s;
}

std::string size_text(const ContainerSize& s) {
    std::string text = go_human_size(s.rw, 3);
    if (s.root_fs > 0) text += " (virtual " + go_human_size(s.root_fs, 3) + ")";
    return text;
}

}  // namespace isolab::cli
