#include "sim/engine/export_import.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/engine/build.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/image_archive.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/runtime/oci_spec.hpp"

namespace isolab {

using nlohmann::json;

Status export_container(Engine& engine, const std::string& ref, const std::string& out_path) {
    auto rec = engine.store().resolve(ref);
    if (!rec) return rec.error();
    auto root = oci::open_merged_root(engine.store(), *rec);
    if (!root) return root.error().wrap("export " + rec->name);
    const std::string tree = safe::fd_path(root->get());
    const std::string what = "container " + rec->name;
    if (out_path == "-") {
        UniqueFd out(::fcntl(1, F_DUPFD_CLOEXEC, 3));
        if (!out.valid()) return errno_error("export " + rec->name + ": stdout", errno);
        auto tar = write_layer_tar_to_fd(tree, out.get(), what);
        if (!tar) return tar.error();
    } else {
        const std::string ctx = "export " + rec->name + " to `" + out_path + "`";
        const std::string tmp = out_path + ".tmp." + std::to_string(::getpid());
        UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!out.valid()) return errno_error(ctx + ": create `" + tmp + "`", errno);
        auto fail = [&](const Error& e) {
            ::unlink(tmp.c_str());
            return e.wrap(ctx);
        };
        auto tar = write_layer_tar_to_fd(tree, out.get(), what);
        if (!tar) return fail(tar.error());
        if (::fsync(out.get()) != 0) return fail(errno_error("sync `" + tmp + "`", errno));
        out.reset();
        if (::rename(tmp.c_str(), out_path.c_str()) != 0) return fail(errno_error("rename `" + tmp + "`", errno));
    }
    engine.store().append_event("export", {{"id", rec->id}, {"name", rec->name}});
    return {};
}

Result<std::string> import_image(Engine& engine, const ImportOptions& o) {
    ImageStore& images = engine.images();
    if (!o.tag.empty() && !ImageStore::valid_reference(o.tag))
        return make_error("invalid reference format: repository name (" + o.tag + ") must be lowercase", 125);
    json settings = json::object();
    ISOLAB_TRY(apply_changes(settings, o.changes));

    const std::string staging = images.dir() + "/layers/" + owned_scratch_name(".import");
    struct RemoveStaging {
        std::string path;
        ~RemoveStaging() { (void)remove_tree(path); }
    } remove_staging{staging};
    ISOLAB_TRY(make_dirs(staging, 0700));
    const std::string layer = staging + "/layer", plain = staging + "/layer.tar";
    // stdin through its /proc name: the same extraction (and the same refusals) as a file.
    const std::string input = o.source == "-" ? "/dev/stdin" : o.source;
    auto extracted = extract_layer_tar(input, layer, plain);
    if (!extracted) return extracted.error().wrap("import");
    auto diff_id = images.add_layer(layer, true, plain);
    if (!diff_id) return diff_id.error().wrap("import");

    const std::string now = now_rfc3339();
    const std::string comment = o.message.empty() ? "Imported from -" : o.message;
    json config = {
        {"architecture", host_oci_architecture()},
        {"os", "linux"},
        {"created", now},
        {"comment", comment},
        {"config", settings},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {*diff_id}}}},
        {"history", {{{"created", now}, {"comment", comment}}}},
    };
    std::vector<std::string> tags;
    if (!o.tag.empty()) tags.push_back(o.tag);
    auto id = images.store_config(config.dump(2) + "\n", tags);
    if (!id) {
        images.remove_unused_layers({*diff_id});
        return id.error().wrap("import");
    }
    engine.store().append_event("import", {{"image", *id}, {"tags", tags}});
    return id;
}

}  // namespace isolab
