#include "sim/view/volumes_model.hpp"

#include <algorithm>

#include "sim/view/layers_model.hpp"

namespace isolab::view {

std::string short_volume_name(const std::string& name) { return name.substr(0, 12); }

namespace {

bool mounts_something(const ContainerRecord& r) {
    return std::any_of(r.spec.mounts.begin(), r.spec.mounts.end(), [](const MountSpec& m) {
        return m.type == MountType::Tmpfs || !m.source.empty();
    });
}

bool is_selected(const ContainerRecord& r, const std::string& selected) {
    return !selected.empty() && (r.name == selected || r.id == selected ||
                                 (selected.size() >= 4 && r.id.compare(0, selected.size(), selected) == 0));
}

}  // namespace

DataPicture build_data_picture(const std::vector<ContainerRecord>& containers, const std::vector<Volume>& volumes,
                               const std::map<std::string, int64_t>& sizes, const std::string& selected,
                               size_t max_columns) {
    DataPicture out;

    // Which containers get a column: those that mount something, and the selected one. When there
    // are too many, the selected one keeps its place and the last others go.
    std::vector<const ContainerRecord*> wanted;
    const ContainerRecord* sel = nullptr;
    for (const auto& r : containers) {
        bool s = is_selected(r, selected) && !sel;
        if (s) sel = &r;
        if (s || mounts_something(r)) wanted.push_back(&r);
    }
    std::vector<const ContainerRecord*> shown, hidden;
    size_t others_allowed = max_columns - (sel && max_columns > 0 ? 1 : 0);
    for (const ContainerRecord* r : wanted) {
        if (r == sel && max_columns > 0) shown.push_back(r);
        else if (r != sel && others_allowed > 0) {
            shown.push_back(r);
            --others_allowed;
        } else {
            hidden.push_back(r);
        }
    }
    out.hidden_columns = static_cast<int>(hidden.size());

    std::map<std::string, size_t> index;  // "v:NAME" | "b:PATH" → box
    auto box_for = [&](const MountSpec& m) -> size_t {
        std::string key = (m.type == MountType::Bind ? "b:" : "v:") + m.source;
        auto it = index.find(key);
        if (it != index.end()) return it->second;
        DataBox b;
        b.kind = m.type == MountType::Bind ? DataKind::Bind : DataKind::Volume;
        b.source = m.source;
        if (b.kind == DataKind::Bind) {
            b.label = b.path = m.source;
        } else {
            auto v = std::find_if(volumes.begin(), volumes.end(), [&](const Volume& x) { return x.name == m.source; });
            b.anonymous = m.anonymous || (v != volumes.end() && v->anonymous);
            b.missing = v == volumes.end();
            if (v != volumes.end()) {
                b.path = v->mountpoint;
                b.created = v->created;
            }
            if (auto s = sizes.find(m.source); s != sizes.end()) b.size = s->second;
            b.label = b.anonymous ? short_volume_name(m.source) : m.source;
        }
        out.boxes.push_back(std::move(b));
        index.emplace(key, out.boxes.size() - 1);
        return out.boxes.size() - 1;
    };

    auto walk = [&](const ContainerRecord& r, ContainerColumn* col) {
        const bool simulated = r.backend == Backend::Simulated;
        for (const auto& m : r.spec.mounts) {
            if (m.type == MountType::Tmpfs) {
                if (col) col->tmpfs.push_back({m.target, m.tmpfs_size, m.readonly});
                ++out.tmpfs_count;
                continue;
            }
            // A volume without a name is one the engine has not made yet (a spec, not a record of
            // a created container): there is nothing on the host to draw.
            if (m.source.empty()) continue;
            size_t b = box_for(m);
            out.boxes[b].users.push_back({r.name, r.id, m.target, m.readonly, simulated});
            if (col) col->edges.push_back({b, m.target, m.readonly});
        }
    };

    for (const ContainerRecord* r : shown) {
        ContainerColumn c;
        c.name = r->name;
        c.id = r->id;
        c.state = r->state;
        c.simulated = r->backend == Backend::Simulated;
        c.selected = r == sel;
        c.image_id = r->image_id;
        c.image_title = short_id(r->image_id);
        c.image_layers = static_cast<int>(r->layers.size());
        walk(*r, &c);
        out.columns.push_back(std::move(c));
    }
    // Hidden containers draw no line, but they are users: their volumes are not dangling.
    for (const ContainerRecord* r : hidden) walk(*r, nullptr);

    // Every volume of the store that no container mounts: still there after every `rm`.
    for (const auto& v : volumes) {
        if (index.count("v:" + v.name)) continue;
        DataBox b;
        b.kind = DataKind::Volume;
        b.source = v.name;
        b.anonymous = v.anonymous;
        b.label = v.anonymous ? short_volume_name(v.name) : v.name;
        b.dangling = true;
        b.path = v.mountpoint;
        b.created = v.created;
        if (auto s = sizes.find(v.name); s != sizes.end()) b.size = s->second;
        out.boxes.push_back(std::move(b));
        index.emplace("v:" + v.name, out.boxes.size() - 1);
    }
    for (const auto& b : out.boxes) {
        if (b.kind == DataKind::Bind) ++out.bind_count;
        else ++out.volume_count;
        if (b.dangling) ++out.dangling_count;
    }
    return out;
}

DataPicture build_data_picture(const WorldSnapshot& w, const std::map<std::string, int64_t>& sizes,
                               const std::string& selected, size_t max_columns) {
    std::vector<ContainerRecord> records;
    records.reserve(w.containers.size());
    for (const auto& c : w.containers) records.push_back(c.rec);
    DataPicture p = build_data_picture(records, w.volumes, sizes, selected, max_columns);
    for (auto& col : p.columns)
        if (const ContainerView* c = w.container(col.id); c && !c->image_tags.empty()) col.image_title = c->image_tags.front();
    return p;
}

}  // namespace isolab::view
