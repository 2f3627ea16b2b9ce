#include "sim/view/layers_model.hpp"

#include <algorithm>

#include "sim/core/strings.hpp"

namespace isolab::view {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string base_name(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// CONFIG[KEY] when CONFIG is an object and the member has FALLBACK's type, else FALLBACK (an image read
// from a damaged config must not take the window down: json::value() throws on null).
const nlohmann::json& member(const nlohmann::json& config, const char* key, const nlohmann::json& fallback) {
    if (!config.is_object()) return fallback;
    auto it = config.find(key);
    return it != config.end() && it->type() == fallback.type() ? *it : fallback;
}

std::string text_of(const nlohmann::json& o, const char* key) {
    static const nlohmann::json empty = "";
    return member(o, key, empty).get<std::string>();
}

// The diff_id of layer I: rootfs.diff_ids[I] when the config has it, else the directory's name
// (layer directories are named by their diff_id's hex).
std::string diff_id_of(const Image& image, size_t i) {
    static const nlohmann::json no_object = nlohmann::json::object(), no_array = nlohmann::json::array();
    const auto& ids = member(member(image.config, "rootfs", no_object), "diff_ids", no_array);
    if (i < ids.size() && ids[i].is_string()) return ids[i].get<std::string>();
    if (i < image.layer_dirs.size()) return "sha256:" + base_name(image.layer_dirs[i]);
    return "";
}

}  // namespace

std::string short_id(const std::string& id) {
    std::string hex = starts_with(id, "sha256:") ? id.substr(7) : id;
    return hex.substr(0, 12);
}

std::string step_text(const std::string& created_by) {
    std::string s = created_by;
    if (starts_with(s, "/bin/sh -c #(nop)")) return trim_left(s.substr(17));
    if (starts_with(s, "/bin/sh -c ")) return "RUN " + trim_left(s.substr(11));
    if (starts_with(s, "isolab: ")) return s.substr(8);
    return s;
}

std::string short_time(const std::string& t) {
    // YYYY-MM-DDTHH:MM...
    if (t.size() >= 16 && t[4] == '-' && t[7] == '-' && (t[10] == 'T' || t[10] == ' ') && t[13] == ':')
        return t.substr(0, 10) + " " + t.substr(11, 5);
    return t;
}

LayerStack build_layer_stack(const Image& image, const std::map<std::string, int64_t>& sizes,
                             const WritableLayer* writable) {
    LayerStack out;
    out.image_id = image.id;
    out.short_id = short_id(image.id);
    out.title = image.repo_tags.empty() ? out.short_id : image.repo_tags.front();

    auto layer_slab = [&](size_t i) {
        Slab s;
        s.kind = SlabKind::Layer;
        s.diff_id = diff_id_of(image, i);
        s.short_id = short_id(s.diff_id);
        if (i < image.layer_dirs.size()) {
            s.dir = image.layer_dirs[i];
            auto it = sizes.find(s.dir);
            if (it != sizes.end()) s.size = it->second;
        }
        return s;
    };

    // History is oldest first; each entry that is not empty_layer made the next layer.
    size_t next_layer = 0;
    static const nlohmann::json no_history = nlohmann::json::array(), no = false;
    for (const auto& h : member(image.config, "history", no_history)) {
        if (!h.is_object()) continue;
        bool empty = member(h, "empty_layer", no).get<bool>();
        Slab s;
        if (empty) {
            s.kind = SlabKind::Settings;
            s.size = 0;
        } else if (next_layer < image.layer_dirs.size()) {
            s = layer_slab(next_layer++);
        } else {
            s.kind = SlabKind::Layer;
            s.missing_layer = true;
        }
        s.step = step_text(text_of(h, "created_by"));
        s.created = text_of(h, "created");
        s.comment = text_of(h, "comment");
        out.slabs.push_back(std::move(s));
    }
    // Layers no history entry names (a config without history, or a short one).
    for (; next_layer < image.layer_dirs.size(); ++next_layer) {
        Slab s = layer_slab(next_layer);
        s.no_history = true;
        out.slabs.push_back(std::move(s));
    }
    for (const auto& s : out.slabs) {
        if (s.kind == SlabKind::Settings) {
            ++out.settings_count;
        } else if (!s.missing_layer) {
            ++out.layer_count;
            if (s.size > 0) out.image_size += s.size;
        }
    }
    if (writable) {
        Slab s;
        s.kind = SlabKind::Writable;
        s.dir = writable->dir;
        s.size = writable->size;
        s.changes = writable->changes;
        s.step = writable->container;
        out.slabs.push_back(std::move(s));
        out.has_writable = true;
    }
    return out;
}

std::vector<ImageRow> image_rows(const WorldSnapshot& w, const std::map<std::string, int64_t>& sizes) {
    std::vector<ImageRow> rows;
    for (const auto& img : w.images) {
        ImageRow r;
        r.id = img.id;
        r.short_id = short_id(img.id);
        for (const auto& t : img.repo_tags) r.tags += (r.tags.empty() ? "" : ", ") + t;
        if (r.tags.empty()) r.tags = "<none>";
        r.created = short_time(text_of(img.config, "created"));
        r.layers = static_cast<int>(img.layer_dirs.size());
        int64_t total = 0;
        bool known = true;
        for (const auto& d : img.layer_dirs) {
            auto it = sizes.find(d);
            if (it == sizes.end() || it->second < 0) known = false;
            else total += it->second;
        }
        r.size = known ? total : -1;
        for (const auto& c : w.containers)
            if (c.rec.image_id == img.id) ++r.containers;
        rows.push_back(std::move(r));
    }
    return rows;
}

std::string pick_image(const WorldSnapshot& w, const std::string& chosen, const std::string& selected_container) {
    if (w.images.empty()) return "";
    auto exists = [&](const std::string& id) {
        return std::any_of(w.images.begin(), w.images.end(), [&](const Image& i) { return i.id == id; });
    };
    if (!chosen.empty() && exists(chosen)) return chosen;
    if (const ContainerView* c = w.container(selected_container); c && exists(c->rec.image_id)) return c->rec.image_id;
    return w.images.front().id;
}

}  // namespace isolab::view
