// The "Images & layers" tab: an image is a template of read-only layers; a container is that
// template running, with one thin writable layer of its own on top. From top to bottom:
//   - the images (click one; by default the selected container's image, else the first);
//   - the chosen image as a stack of slabs, lowest layer at the bottom, each with the history
//     step that made it; settings-only steps as thin lines; the selected container's writable
//     layer on top, next to what it changed (`isolab diff`, refreshed every 2 s);
//   - the data that outlives a container: every container that mounts something as its writable
//     layer over its image, and its volumes, host folders and tmpfs outside that stack
//     (data_picture.cpp): `rm` deletes the writable layer, a volume stays;
//   - `isolab history` of the image;
//   - the OCI config.json Docker's engine would hand its runtime for the selected container.
// Everything that reads the disk (layer sizes, volume sizes, diff, history, the OCI config) runs on a worker
// thread; the frame only draws the last results (STYLE §6: the view keeps only view state).
#include <imgui.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "app/gui/refresher.hpp"
#include "app/gui/views/data_picture.hpp"
#include "app/gui/views/views.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/clock.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/state/volumes.hpp"
#include "sim/view/layers_model.hpp"
#include "sim/view/volumes_model.hpp"

namespace isolab::gui {

namespace {

constexpr ImU32 kLayer = IM_COL32(52, 101, 164, 255);
constexpr ImU32 kLayerAlt = IM_COL32(44, 88, 145, 255);
constexpr ImU32 kWritable = IM_COL32(214, 122, 20, 255);
constexpr ImU32 kMissing = IM_COL32(110, 118, 129, 255);
constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);

std::string size_text(int64_t bytes) { return bytes < 0 ? "..." : view::human_bytes(bytes); }

// What the worker found; read by the frame under the view's mutex.
struct Findings {
    std::map<std::string, int64_t> sizes;  // layer dir → bytes; layers never change (content-named)
    std::map<std::string, int64_t> volume_sizes;  // volume name → bytes under _data (measured each time)
    std::string history_image;
    std::vector<ImageStore::HistoryRow> history;
    std::string history_error;
    std::string container_id;               // whose diff / config these are
    bool container_done = false;
    std::vector<Engine::Change> diff;
    std::string diff_error;
    int64_t upper_size = -1;
    std::string oci_text, oci_error;
};

class ImagesView final : public View {
public:
    const char* id() const override { return "images"; }
    const char* title_key() const override { return "gui.tab.images"; }
    bool animating() const override { return first_load_pending_ && refresher_.busy(); }

    void draw(App& app) override {
        app_mono_ = app.mono_font();
        auto w = app.world();
        if (!w) {
            ImGui::TextDisabled("%s", T("gui.loading"));
            return;
        }
        std::string image_id = view::pick_image(*w, chosen_image_, app.selected_container);
        const view::ContainerView* sel = w->container(app.selected_container);
        refresh(app, *w, image_id, sel);

        Findings f;
        {
            std::lock_guard<std::mutex> l(mu_);
            f = found_;
        }
        draw_image_list(*w, f, image_id);
        if (image_id.empty()) return;
        const Image* img = nullptr;
        for (const auto& i : w->images)
            if (i.id == image_id) img = &i;
        if (!img) return;

        ImGui::Spacing();
        bool same_image = sel && sel->rec.image_id == img->id;
        view::WritableLayer wl;
        bool have_writable = same_image && f.container_id == sel->rec.id && f.container_done;
        if (same_image) {
            wl.container = sel->rec.name;
            wl.copied_root = sel->rec.rootfs_mode == RootfsMode::Copy;
            wl.size = have_writable ? f.upper_size : -1;
            wl.changes = have_writable && f.diff_error.empty() ? static_cast<int>(f.diff.size()) : -1;
            wl.dir = writable_dir(app, sel->rec);
        }
        view::LayerStack stack = view::build_layer_stack(*img, f.sizes, same_image ? &wl : nullptr);

        float avail = ImGui::GetContentRegionAvail().x;
        float gap = ImGui::GetStyle().ItemSpacing.x * 2;
        float stack_w = std::floor((avail - gap) * 0.58f);
        ImGui::BeginGroup();
        draw_stack(stack, stack_w);
        ImGui::EndGroup();
        const float stack_bottom = ImGui::GetItemRectMax().y;
        ImGui::SameLine(0, gap);
        ImGui::BeginGroup();
        draw_diff(app.presenter(), sel, f, avail - stack_w - gap, stack_bottom, same_image, *img);
        ImGui::EndGroup();

        ImGui::Spacing();
        ImGui::Separator();
        draw_data_picture(app, view::build_data_picture(*w, f.volume_sizes, app.selected_container), avail);

        ImGui::Spacing();
        ImGui::Separator();
        draw_history(stack, f);
        ImGui::Spacing();
        ImGui::Separator();
        draw_oci(app, sel, f);
    }

private:
    static std::string writable_dir(App& app, const ContainerRecord& rec) {
        return app.state_root() + "/containers/" + rec.id + (rec.rootfs_mode == RootfsMode::Copy ? "/rootfs" : "/upper");
    }

    // Starts the worker every 2 s, or at once when what is shown changed.
    void refresh(App& app, const view::WorldSnapshot& w, const std::string& image_id, const view::ContainerView* sel) {
        std::string key = image_id + "|" + (sel ? sel->rec.id + std::string(to_string(sel->rec.state)) : "");
        std::vector<std::string> volumes;
        for (const auto& v : w.volumes) volumes.push_back(v.name);
        bool changed = key != last_key_ || w.images.size() != last_image_count_ || volumes != last_volumes_;
        last_key_ = key;
        last_image_count_ = w.images.size();
        last_volumes_ = volumes;
        std::vector<std::string> dirs;
        for (const auto& i : w.images) dirs.insert(dirs.end(), i.layer_dirs.begin(), i.layer_dirs.end());
        std::optional<ContainerRecord> rec;
        if (sel) rec = sel->rec;
        std::string root = app.state_root();
        App* a = &app;
        refresher_.start_if_due(2000, changed, [this, a, root, image_id, dirs, rec, volumes] {
            work(*a, root, image_id, dirs, rec, volumes);
        });
    }

    // Runs on the worker thread (one job at a time), on the window's engine.
    void work(App& app, const std::string& root, const std::string& image_id, const std::vector<std::string>& dirs,
              const std::optional<ContainerRecord>& rec, const std::vector<std::string>& volumes) {
        std::map<std::string, int64_t> known;
        {
            std::lock_guard<std::mutex> l(mu_);
            known = found_.sizes;
        }
        std::map<std::string, int64_t> sizes;
        for (const auto& d : dirs) {
            auto it = known.find(d);
            sizes[d] = it != known.end() ? it->second : ImageStore::layer_size(d);
        }
        Findings f;
        f.sizes = std::move(sizes);
        // Volumes change while containers write to them: measured again on every refresh.
        VolumeStore store(root);
        for (const auto& v : volumes) f.volume_sizes[v] = store.size_bytes(v);
        std::shared_ptr<Engine> engine = app.engine();  // the window's one engine
        if (!engine) f.history_error = f.diff_error = f.oci_error = app.engine_error();
        if (engine && !image_id.empty()) {
            f.history_image = image_id;
            if (auto h = engine->images().history(image_id)) f.history = std::move(*h);
            else f.history_error = h.error().message;
        }
        if (engine && rec) {
            f.container_id = rec->id;
            if (auto d = engine->diff(rec->id)) f.diff = std::move(*d);
            else f.diff_error = d.error().message;
            std::string wdir = root + "/containers/" + rec->id + (rec->rootfs_mode == RootfsMode::Copy ? "/rootfs" : "/upper");
            f.upper_size = ImageStore::layer_size(wdir);
            auto cfg = oci::make_oci_config(*rec, false, engine->store().container_dir(rec->id));
            if (cfg) f.oci_text = cfg->dump(2);
            else f.oci_error = cfg.error().message;
            f.container_done = true;
        }
        {
            std::lock_guard<std::mutex> l(mu_);
            found_ = std::move(f);
        }
        first_load_pending_ = false;
        app.wake();
    }

    void draw_image_list(const view::WorldSnapshot& w, const Findings& f, const std::string& shown) {
        ImGui::TextUnformatted(T("gui.images.list_title"));
        ImGui::SameLine();
        help_marker(T("gui.images.list_help"));
        if (w.images.empty()) {
            ImGui::TextWrapped("%s", T("gui.images.none"));
            return;
        }
        auto rows = view::image_rows(w, f.sizes);
        float line = ImGui::GetTextLineHeightWithSpacing();
        float h = line * (static_cast<float>(std::min<size_t>(rows.size(), 5)) + 1.4f);
        ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                             ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersOuter;
        if (!ImGui::BeginTable("images", 5, tf, ImVec2(0, h))) return;
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn(T("gui.images.col_tag"), ImGuiTableColumnFlags_WidthStretch, 3.0f);
        ImGui::TableSetupColumn(T("gui.images.col_id"), ImGuiTableColumnFlags_WidthStretch, 1.6f);
        ImGui::TableSetupColumn(T("gui.images.col_size"), ImGuiTableColumnFlags_WidthStretch, 1.1f);
        ImGui::TableSetupColumn(T("gui.images.col_created"), ImGuiTableColumnFlags_WidthStretch, 2.0f);
        ImGui::TableSetupColumn(T("gui.images.col_used"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableHeadersRow();
        for (const auto& r : rows) {
            ImGui::PushID(r.id.c_str());
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            if (ImGui::Selectable(r.tags.c_str(), r.id == shown, ImGuiSelectableFlags_SpanAllColumns))
                chosen_image_ = r.id;
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("%s", i18n::trf("gui.images.row_tip", {r.id, std::to_string(r.layers)}).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r.short_id.c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(size_text(r.size).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r.created.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%d", r.containers);
            ImGui::PopID();
        }
        ImGui::EndTable();
    }

    // The slabs, lowest at the bottom, and a bracket that says which part is whose.
    void draw_stack(const view::LayerStack& s, float width) {
        ImGui::TextUnformatted(i18n::trf("gui.images.layers_title", {s.title}).c_str());
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
        ImGui::TextDisabled("%s", T("gui.images.layers_hint"));
        ImGui::PopTextWrapPos();
        float line = ImGui::GetTextLineHeight();
        float pad = ImGui::GetStyle().FramePadding.x;
        std::string ro = T("gui.images.read_only"), rw = T("gui.images.read_write");
        float bracket_w = std::max(ImGui::CalcTextSize(ro.c_str()).x, ImGui::CalcTextSize(rw.c_str()).x) + line * 1.2f;
        bracket_w = std::min(bracket_w, width * 0.32f);
        float slab_w = width - bracket_w;
        float depth = line * 0.35f;  // the slab's visible top face
        float inner_w = slab_w - depth - pad * 4;
        auto height_of = [&](const view::Slab& sl) {
            switch (sl.kind) {
            case view::SlabKind::Settings: return line * 1.15f;
            case view::SlabKind::Writable: {
                // Its title wraps: the lesson is in the words, they must be read whole.
                std::string t = i18n::trf("gui.images.writable", {sl.step});
                float th = ImGui::CalcTextSize(t.c_str(), nullptr, false, inner_w).y;
                return th + line * 1.0f + depth + line * 0.5f;
            }
            case view::SlabKind::Layer: break;
            }
            // Bigger layers are a little thicker (log scale: 1 KiB and 2 MiB both stay readable).
            float extra = sl.size > 0 ? std::min(1.6f, static_cast<float>(std::log10(1.0 + sl.size / 1024.0)) / 2.5f) : 0.0f;
            return line * (2.2f + extra);
        };
        float gap = std::max(1.0f, line * 0.12f);
        float total = 0;
        for (const auto& sl : s.slabs) total += height_of(sl) + gap;
        if (s.slabs.empty()) total = line * 2;
        ImVec2 origin = ImGui::GetCursorScreenPos();
        ImGui::Dummy(ImVec2(width, total));
        ImDrawList* dl = ImGui::GetWindowDrawList();
        ImU32 dim = ImGui::GetColorU32(ImGuiCol_TextDisabled);
        ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
        if (s.slabs.empty()) {
            dl->AddText(ImVec2(origin.x, origin.y), dim, T("gui.images.empty_image"));
            return;
        }
        float y = origin.y + total;  // bottom
        float ro_top = y, ro_bottom = y, rw_top = 0, rw_bottom = 0;
        int n_layer = 0;
        for (size_t i = 0; i < s.slabs.size(); ++i) {
            const view::Slab& sl = s.slabs[i];
            float h = height_of(sl);
            ImVec2 a(origin.x, y - h), b(origin.x + slab_w - depth, y);
            y -= h + gap;
            ImGui::PushID(static_cast<int>(i));
            bool hovered = ImGui::IsMouseHoveringRect(a, ImVec2(b.x + depth, b.y)) && ImGui::IsWindowHovered();
            std::string tip;
            if (sl.kind == view::SlabKind::Settings) {
                // A thin line: this step made no layer, only changed the config.
                float mid = (a.y + b.y) * 0.5f;
                dl->AddLine(ImVec2(a.x + line * 0.5f, mid), ImVec2(a.x + line * 1.4f, mid), dim, 2.0f);
                std::string t = std::string(T("gui.images.settings_only")) + ": " + sl.step;
                dl->AddText(ImVec2(a.x + line * 1.8f, mid - line * 0.5f), dim, fit_text(t, slab_w - line * 2.2f).c_str());
                tip = i18n::trf("gui.images.settings_tip", {sl.step});
            } else {
                ImU32 fill = sl.kind == view::SlabKind::Writable ? kWritable
                             : sl.missing_layer                 ? kMissing
                             : (n_layer++ % 2)                  ? kLayerAlt
                                                                : kLayer;
                // A slab: a front face and a lighter top face drawn as a parallelogram.
                ImVec4 c = ImGui::ColorConvertU32ToFloat4(fill);
                ImU32 top = ImGui::ColorConvertFloat4ToU32(ImVec4(std::min(1.0f, c.x * 1.3f + 0.08f), std::min(1.0f, c.y * 1.3f + 0.08f),
                                                                  std::min(1.0f, c.z * 1.3f + 0.08f), 1));
                ImU32 side = ImGui::ColorConvertFloat4ToU32(ImVec4(c.x * 0.7f, c.y * 0.7f, c.z * 0.7f, 1));
                ImVec2 fa(a.x, a.y + depth);
                dl->AddQuadFilled(ImVec2(a.x, fa.y), ImVec2(a.x + depth, a.y), ImVec2(b.x + depth, a.y), ImVec2(b.x, fa.y), top);
                dl->AddQuadFilled(ImVec2(b.x, fa.y), ImVec2(b.x + depth, a.y), ImVec2(b.x + depth, b.y - depth), ImVec2(b.x, b.y), side);
                dl->AddRectFilled(fa, b, fill);
                if (hovered) dl->AddRect(fa, b, IM_COL32(255, 220, 0, 255), 0, 0, 2.0f);
                float tx = fa.x + pad * 2, inner = b.x - tx - pad * 2;
                float ty = fa.y + (b.y - fa.y - line * 2) * 0.5f;
                bool wrap_first = false;
                std::string first, second;
                if (sl.kind == view::SlabKind::Writable) {
                    first = i18n::trf("gui.images.writable", {sl.step});
                    wrap_first = true;
                    second = size_text(sl.size);
                    if (sl.changes >= 0) second += " · " + i18n::trf("gui.images.changes", {std::to_string(sl.changes)});
                    tip = i18n::trf("gui.images.writable_tip", {sl.step, sl.dir});
                } else {
                    first = sl.missing_layer ? std::string(T("gui.images.missing_layer"))
                            : sl.no_history  ? std::string(T("gui.images.no_history"))
                                             : sl.step;
                    second = sl.missing_layer ? "" : sl.short_id + " · " + size_text(sl.size);
                    tip = i18n::trf("gui.images.layer_tip", {sl.step.empty() ? "-" : sl.step, sl.diff_id,
                                                             size_text(sl.size), sl.dir});
                    if (!sl.comment.empty()) tip += "\n" + sl.comment;
                }
                if (wrap_first) {
                    float th = ImGui::CalcTextSize(first.c_str(), nullptr, false, inner).y;
                    ty = fa.y + (b.y - fa.y - th - line) * 0.5f;
                    dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(tx, ty), kWhite, first.c_str(), nullptr, inner);
                    ty += th - line;
                } else {
                    dl->AddText(ImVec2(tx, ty), kWhite, fit_text(first, inner).c_str());
                }
                dl->AddText(ImVec2(tx, ty + line), IM_COL32(250, 240, 225, 255), fit_text(second, inner).c_str());
            }
            if (sl.kind == view::SlabKind::Writable) {
                rw_top = a.y;
                rw_bottom = b.y;
            } else {
                ro_top = a.y;
            }
            if (hovered && !tip.empty()) {
                ImGui::BeginTooltip();
                ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
                ImGui::TextUnformatted(tip.c_str());
                ImGui::PopTextWrapPos();
                ImGui::EndTooltip();
            }
            ImGui::PopID();
        }
        // Brackets: the image part is read-only, the container's part read-write.
        float bx = origin.x + slab_w + line * 0.3f;
        auto bracket = [&](float top, float bottom, ImU32 col, const std::string& label) {
            dl->AddLine(ImVec2(bx, top), ImVec2(bx + line * 0.3f, top), col, 2);
            dl->AddLine(ImVec2(bx + line * 0.3f, top), ImVec2(bx + line * 0.3f, bottom), col, 2);
            dl->AddLine(ImVec2(bx, bottom), ImVec2(bx + line * 0.3f, bottom), col, 2);
            float lw = bracket_w - line * 0.8f;
            ImVec2 ts = ImGui::CalcTextSize(label.c_str(), nullptr, false, lw);
            dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(bx + line * 0.6f, (top + bottom - ts.y) * 0.5f), col,
                        label.c_str(), nullptr, lw);
        };
        bracket(ro_top, ro_bottom, text, ro);
        if (s.has_writable) bracket(rw_top, rw_bottom, kWritable, rw);
        ImGui::TextDisabled("%s", i18n::trf("gui.images.total", {std::to_string(s.layer_count), size_text(s.image_size),
                                                                 std::to_string(s.settings_count)}).c_str());
    }

    // The list ends level with the stack's bottom (BOTTOM, a screen y), so that what comes below
    // the two starts as high as it can; at least 7 lines.
    void draw_diff(bool light, const view::ContainerView* sel, const Findings& f, float width, float bottom,
                   bool same_image, const Image& img) {
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
        if (!sel) {
            ImGui::TextUnformatted(T("gui.images.diff_heading"));
            ImGui::TextDisabled("%s", T("gui.images.diff_select"));
            ImGui::PopTextWrapPos();
            return;
        }
        ImGui::TextUnformatted(i18n::trf("gui.images.diff_title", {sel->rec.name}).c_str());
        ImGui::TextDisabled("%s", T("gui.images.diff_legend"));
        if (!same_image) {
            std::string other = sel->image_tags.empty() ? view::short_id(sel->rec.image_id) : sel->image_tags.front();
            std::string here = img.repo_tags.empty() ? view::short_id(img.id) : img.repo_tags.front();
            ImGui::TextColored(ImVec4(0.9f, 0.6f, 0.2f, 1), "%s", i18n::trf("gui.images.other_image", {sel->rec.name, other, here}).c_str());
        }
        ImGui::PopTextWrapPos();
        float line = ImGui::GetTextLineHeightWithSpacing();
        float h = std::max(line * 7, bottom - ImGui::GetCursorScreenPos().y);
        ImGui::BeginChild("diff", ImVec2(width, h), true, ImGuiWindowFlags_HorizontalScrollbar);
        if (f.container_id != sel->rec.id || !f.container_done) {
            ImGui::TextDisabled("%s", T("gui.images.loading"));
        } else if (!f.diff_error.empty()) {
            ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", f.diff_error.c_str());
        } else if (f.diff.empty()) {
            ImGui::PushTextWrapPos(0);
            ImGui::TextDisabled("%s", T("gui.images.diff_empty"));
            ImGui::PopTextWrapPos();
        } else {
            if (app_mono_) ImGui::PushFont(app_mono_);
            ImGuiListClipper clip;
            clip.Begin(static_cast<int>(f.diff.size()));
            while (clip.Step())
                for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
                    const auto& c = f.diff[static_cast<size_t>(i)];
                    // Darker on the presenter's light theme.
                    ImVec4 col = c.kind == 'A' ? (light ? ImVec4(0.08f, 0.50f, 0.15f, 1) : ImVec4(0.30f, 0.75f, 0.35f, 1))
                                 : c.kind == 'D' ? (light ? ImVec4(0.75f, 0.10f, 0.10f, 1) : ImVec4(0.92f, 0.33f, 0.30f, 1))
                                                 : (light ? ImVec4(0.62f, 0.40f, 0.00f, 1) : ImVec4(0.90f, 0.68f, 0.15f, 1));
                    ImGui::TextColored(col, "%c %s", c.kind, c.path.c_str());
                }
            if (app_mono_) ImGui::PopFont();
        }
        ImGui::EndChild();
    }

    void draw_history(const view::LayerStack& s, const Findings& f) {
        ImGui::TextUnformatted(i18n::trf("gui.images.history_title", {s.title}).c_str());
        if (f.history_image != s.image_id) {
            ImGui::TextDisabled("%s", T("gui.images.loading"));
            return;
        }
        if (!f.history_error.empty()) {
            ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", f.history_error.c_str());
            return;
        }
        ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuter |
                             ImGuiTableFlags_SizingStretchProp;
        if (!ImGui::BeginTable("history", 3, tf)) return;
        ImGui::TableSetupColumn(T("gui.images.col_created_by"), ImGuiTableColumnFlags_WidthStretch, 5.0f);
        ImGui::TableSetupColumn(T("gui.images.col_size"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableSetupColumn(T("gui.images.col_created"), ImGuiTableColumnFlags_WidthStretch, 1.8f);
        ImGui::TableHeadersRow();
        for (size_t i = 0; i < f.history.size(); ++i) {
            const auto& h = f.history[i];
            ImGui::PushID(static_cast<int>(i));
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            std::string step = view::step_text(h.created_by);
            if (h.empty_layer) ImGui::TextDisabled("%s", step.c_str());
            else ImGui::TextUnformatted(step.c_str());
            if (ImGui::IsItemHovered()) {
                std::string tip = h.created_by + (h.comment.empty() ? "" : "\n" + h.comment);
                ImGui::BeginTooltip();
                ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
                ImGui::TextUnformatted(tip.c_str());
                ImGui::PopTextWrapPos();
                ImGui::EndTooltip();
            }
            ImGui::TableNextColumn();
            if (h.empty_layer) ImGui::TextDisabled("0 B");
            else ImGui::TextUnformatted(view::human_bytes(h.size).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(view::short_time(h.created).c_str());
            ImGui::PopID();
        }
        ImGui::EndTable();
    }

    void draw_oci(App& app, const view::ContainerView* sel, const Findings& f) {
        ImGui::TextUnformatted(T("gui.images.oci_title"));
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", T("gui.images.oci_explain"));
        ImGui::PopTextWrapPos();
        if (!sel) {
            ImGui::TextDisabled("%s", T("gui.images.oci_select"));
            return;
        }
        bool ready = f.container_id == sel->rec.id && f.container_done;
        ImGui::TextUnformatted(i18n::trf("gui.images.oci_for", {sel->rec.name}).c_str());
        ImGui::SameLine();
        ImGui::BeginDisabled(!ready || f.oci_text.empty());
        if (ImGui::SmallButton(T("gui.images.copy"))) ImGui::SetClipboardText(f.oci_text.c_str());
        ImGui::EndDisabled();
        float line = ImGui::GetTextLineHeightWithSpacing();
        float h = std::max(line * 10, ImGui::GetContentRegionAvail().y);
        h = std::min(h, line * 24);
        ImGui::BeginChild("oci", ImVec2(0, h), true, ImGuiWindowFlags_HorizontalScrollbar);
        if (!ready) {
            ImGui::TextDisabled("%s", T("gui.images.loading"));
        } else if (!f.oci_error.empty()) {
            ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", f.oci_error.c_str());
        } else {
            if (app.mono_font()) ImGui::PushFont(app.mono_font());
            ImGui::TextUnformatted(f.oci_text.c_str(), f.oci_text.c_str() + f.oci_text.size());
            if (app.mono_font()) ImGui::PopFont();
        }
        ImGui::EndChild();
    }

    std::mutex mu_;
    Findings found_;
    std::atomic<bool> first_load_pending_{true};
    std::string chosen_image_;  // the image the learner clicked
    std::string last_key_;
    size_t last_image_count_ = 0;
    std::vector<std::string> last_volumes_;
    ImFont* app_mono_ = nullptr;
    // Last member: destroyed first, so a running job ends before the state it writes goes.
    Refresher refresher_;
};

}  // namespace

std::unique_ptr<View> make_images_view() { return std::make_unique<ImagesView>(); }

}  // namespace isolab::gui
