// The Resources tab: live memory and CPU per container and per VM, their totals side by side, and
// a bar chart that makes "lightweight" a number (a VM reserves its RAM whole and runs a whole
// kernel; a container is just its processes). The "density" experiment starts N idle containers
// at once and shows what they cost together and each.
//
// The figures come from the snapshot (cgroup memory and CPU of each container, QEMU's RSS and CPU
// of each VM); sim/view/resources_model turns successive snapshots into rows with history, CPU %
// and totals. This view only samples (about once a second) and draws.
//
// Demo hook for screenshots: ISOLAB_GUI_DENSITY=5 presses the density button (with N = 5) on the
// first frame.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "app/gui/views/views.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/view/resources_model.hpp"

namespace isolab::gui {

namespace {

using i18n::trf;

constexpr ImU32 kContainerColor = IM_COL32(0, 128, 128, 255);  // the stacks' engine color
constexpr ImU32 kVmColor = IM_COL32(120, 60, 140, 255);         // the stacks' hypervisor color
constexpr ImU32 kVmUsedColor = IM_COL32(175, 120, 200, 255);
constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);
constexpr double kSampleEveryMs = 1000;

std::string percent(double p) {
    char b[32];
    std::snprintf(b, sizeof b, p >= 10 ? "%.0f%%" : "%.1f%%", p);
    return b;
}

ImU32 track_color(const App& app) {
    return app.presenter() ? IM_COL32(225, 225, 225, 255) : IM_COL32(40, 44, 52, 255);
}

// A sparkline of V (oldest first) in a W×H box at the cursor, newest sample at the right edge.
// The vertical range is [lo, hi] of the values, at least MIN_SPAN wide, so noise stays flat.
void sparkline(const App& app, const std::vector<double>& v, size_t capacity, float w, float h, ImU32 color,
               double min_span, bool from_zero) {
    ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(w, h));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), track_color(app), 2);
    if (v.size() < 2) return;
    double lo = from_zero ? 0 : *std::min_element(v.begin(), v.end());
    double hi = *std::max_element(v.begin(), v.end());
    if (hi - lo < min_span) {
        if (from_zero) hi = lo + min_span;
        else {
            double mid = (hi + lo) / 2;
            lo = mid - min_span / 2;
            hi = mid + min_span / 2;
        }
    }
    float step = w / static_cast<float>(std::max<size_t>(capacity, 2) - 1);
    float pad = std::max(1.0f, h * 0.1f);
    std::vector<ImVec2> pts;
    pts.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        float x = p.x + w - static_cast<float>(v.size() - 1 - i) * step;
        float f = static_cast<float>((v[i] - lo) / (hi - lo));
        pts.emplace_back(std::max(x, p.x), p.y + h - pad - f * (h - 2 * pad));
    }
    dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), color, 0, std::max(1.0f, app.ui_scale() * 1.5f));
}

// One horizontal bar of the comparison: FRACTION of the width filled, LABEL after the bar when it
// does not fit inside. INNER (0..1 of the bar) is a lighter part: what QEMU really holds.
void compare_bar(const App& app, const char* id, const std::string& label, double fraction, ImU32 fill, float h,
                 double inner = -1, bool dashed = false) {
    ImGui::PushID(id);
    float w = ImGui::GetContentRegionAvail().x;
    ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(w, h));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float bw = std::max(2.0f * app.ui_scale(), static_cast<float>(fraction) * w);
    ImVec2 end(p.x + bw, p.y + h);
    if (dashed) {
        dl->AddRect(p, end, fill, 3, 0, std::max(1.0f, app.ui_scale() * 1.5f));
    } else {
        dl->AddRectFilled(p, end, fill, 3);
        if (inner > 0)
            dl->AddRectFilled(p, ImVec2(p.x + bw * static_cast<float>(std::min(inner, 1.0)), p.y + h), kVmUsedColor, 3);
    }
    ImVec2 ts = ImGui::CalcTextSize(label.c_str());
    float ty = p.y + (h - ts.y) * 0.5f;
    float pad = ImGui::GetStyle().ItemInnerSpacing.x;
    if (ts.x + 2 * pad < bw && !dashed) dl->AddText(ImVec2(p.x + pad, ty), kWhite, label.c_str());
    else dl->AddText(ImVec2(end.x + pad, ty), ImGui::GetColorU32(ImGuiCol_Text), label.c_str());
    ImGui::PopID();
}

class ResourcesView final : public View {
public:
    const char* id() const override { return "resources"; }
    const char* title_key() const override { return "gui.tab.resources"; }
    double refresh_seconds() const override { return 1.0; }

    void draw(App& app) override {
        auto w = app.world();
        if (!demo_done_) {
            demo_done_ = true;
            if (const char* d = std::getenv("ISOLAB_GUI_DENSITY"); d && *d) {
                density_n_ = view::clamp_density(std::atoi(d));
                start_density(app);
            }
        }
        if (!w) {
            ImGui::TextDisabled("%s", T("gui.loading"));
            return;
        }
        // Sample about once a second, on a new snapshot: CPU % needs two samples apart in time.
        double now = monotonic_ms();
        if (w != last_snapshot_ && (tracker_.samples() == 0 || now - last_sample_ms_ >= kSampleEveryMs * 0.9)) {
            tracker_.sample(*w, now);
            last_snapshot_ = w;
            last_sample_ms_ = now;
        }
        const auto& rows = tracker_.rows();
        const view::ResourceTotals totals = view::resource_totals(rows);

        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", T("gui.resources.intro"));
        ImGui::PopTextWrapPos();
        draw_totals(totals);
        ImGui::Spacing();
        draw_density(app, *w);
        ImGui::Separator();
        draw_comparison(app, rows, totals);
        ImGui::Separator();
        draw_table(app, rows);
    }

private:
    void draw_totals(const view::ResourceTotals& t) {
        float line = ImGui::GetTextLineHeight();
        ImDrawList* dl = ImGui::GetWindowDrawList();
        auto swatch = [&](ImU32 c) {
            ImVec2 p = ImGui::GetCursorScreenPos();
            float s = line * 0.7f;
            dl->AddRectFilled(ImVec2(p.x, p.y + (line - s) * 0.5f), ImVec2(p.x + s, p.y + (line + s) * 0.5f), c, 2);
            ImGui::Dummy(ImVec2(s, line));
            ImGui::SameLine();
        };
        swatch(kContainerColor);
        ImGui::TextWrapped("%s", i18n::trn("gui.resources.containers_total", t.processes,
                                           {std::to_string(t.containers_live), view::human_bytes(t.containers_mem),
                                            percent(t.containers_cpu_pct), std::to_string(t.processes)})
                                     .c_str());
        swatch(kVmColor);
        ImGui::TextWrapped("%s", i18n::trn("gui.resources.vms_total", t.vms_live,
                                     {std::to_string(t.vms_live), view::human_bytes(t.vms_reserved),
                                      view::human_bytes(t.vms_rss), percent(t.vms_cpu_pct)})
                                     .c_str());
    }

    // ---- memory per running container vs per VM, on one scale ----
    void draw_comparison(const App& app, const std::vector<view::ResourceRow>& rows, const view::ResourceTotals& t) {
        ImGui::TextUnformatted(T("gui.resources.compare_title"));
        ImGui::SameLine();
        help_marker(T("gui.resources.compare_tip"));
        std::vector<const view::ResourceRow*> vms, containers;
        for (const auto& r : rows) {
            if (!r.live) continue;
            if (r.vm) vms.push_back(&r);
            else if (r.mem_used >= 0) containers.push_back(&r);
        }
        std::stable_sort(containers.begin(), containers.end(),
                         [](const auto* a, const auto* b) { return a->mem_used > b->mem_used; });
        const int64_t hypothetical = view::default_vm_reservation();
        double scale = static_cast<double>(vms.empty() ? hypothetical : 1);
        for (const auto* v : vms) scale = std::max(scale, static_cast<double>(std::max(v->mem_reserved, v->mem_used)));
        for (const auto* c : containers) scale = std::max(scale, static_cast<double>(c->mem_used));

        const float bar_h = ImGui::GetTextLineHeight() * 1.15f;
        const float step = bar_h + ImGui::GetStyle().ItemSpacing.y;
        // The chart takes at most about a third of what is left; the rest is for the table.
        size_t fit = static_cast<size_t>(std::max(3.0f, ImGui::GetContentRegionAvail().y * 0.34f / step));
        size_t vm_bars = std::min(vms.size(), std::max<size_t>(1, fit / 2));
        if (vms.empty()) {
            compare_bar(app, "vm?", trf("gui.resources.vm_hypothetical", {view::human_bytes(hypothetical)}), 1.0, kVmColor,
                        bar_h, -1, true);
        }
        for (size_t i = 0; i < vm_bars; ++i) {
            const auto* v = vms[i];
            std::string label = v->mem_used > 0 ? trf("gui.resources.vm_bar_rss", {v->name, view::human_bytes(v->mem_reserved),
                                                                                   view::human_bytes(v->mem_used)})
                                                : trf("gui.resources.vm_bar", {v->name, view::human_bytes(v->mem_reserved)});
            double inner = v->mem_reserved > 0 ? static_cast<double>(std::max<int64_t>(v->mem_used, 0)) / v->mem_reserved : -1;
            compare_bar(app, v->key.c_str(), label, static_cast<double>(std::max(v->mem_reserved, v->mem_used)) / scale, kVmColor,
                        bar_h, inner);
        }
        size_t room = fit > vm_bars + 1 ? fit - vm_bars - 1 : 1;
        size_t shown = std::min(containers.size(), room);
        if (containers.size() > shown && shown > 0) --shown;  // leave a line for "and N more"
        for (size_t i = 0; i < shown; ++i) {
            const auto* c = containers[i];
            compare_bar(app, c->key.c_str(), trf("gui.resources.container_bar", {c->name, view::human_bytes(c->mem_used)}),
                        static_cast<double>(c->mem_used) / scale, kContainerColor, bar_h);
        }
        if (containers.size() > shown) {
            int64_t rest = 0;
            for (size_t i = shown; i < containers.size(); ++i) rest += containers[i]->mem_used;
            ImGui::TextDisabled("%s", trf("gui.resources.more_containers",
                                          {std::to_string(containers.size() - shown),
                                           view::human_bytes(rest / static_cast<int64_t>(containers.size() - shown))})
                                          .c_str());
        }
        if (containers.empty()) ImGui::TextDisabled("%s", T("gui.resources.no_containers"));
        // The punch line, as a number.
        int64_t vm_each = t.vms_live > 0 ? t.avg_vm_reserved : hypothetical;
        double ratio = view::lightweight_ratio(vm_each, t.avg_container_mem);
        if (ratio > 0) {
            char times[32];
            std::snprintf(times, sizeof times, ratio >= 10 ? "%.0f" : "%.1f", ratio);
            if (app.big_font()) ImGui::PushFont(app.big_font());
            ImGui::PushTextWrapPos(0);
            std::string punch = trf("gui.resources.ratio", {view::human_bytes(vm_each), view::human_bytes(t.avg_container_mem), times});
            ImGui::TextUnformatted(punch.c_str());
            ImGui::PopTextWrapPos();
            if (app.big_font()) ImGui::PopFont();
        }
    }

    // ---- every row with its history ----
    void draw_table(App& app, const std::vector<view::ResourceRow>& rows) {
        if (rows.empty()) {
            ImGui::TextDisabled("%s", T("gui.resources.empty"));
            return;
        }
        const float line = ImGui::GetTextLineHeight();
        const float spark_w = line * 2.0f;  // the least a sparkline gets
        const float spark_h = line * 0.95f;
        ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_PadOuterX;
        ImVec2 outer(0, std::max(ImGui::GetContentRegionAvail().y, line * 6));
        if (!ImGui::BeginTable("rows", 6, flags, outer)) return;
        ImGui::TableSetupScrollFreeze(0, 1);
        // Names and figures keep their width; the two sparklines share what is left.
        ImGui::TableSetupColumn(T("gui.resources.col_name"));
        ImGui::TableSetupColumn(T("gui.resources.col_state"));
        ImGui::TableSetupColumn(T("gui.resources.col_memory"));
        ImGui::TableSetupColumn("##memhist", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupColumn(T("gui.resources.col_cpu"));
        ImGui::TableSetupColumn("##cpuhist", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableHeadersRow();
        for (const auto& r : rows) {
            ImGui::PushID(r.key.c_str());
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            // The kind as a colored mark, the name selectable like everywhere else.
            ImDrawList* dl = ImGui::GetWindowDrawList();
            ImVec2 p = ImGui::GetCursorScreenPos();
            float s = line * 0.6f;
            dl->AddRectFilled(ImVec2(p.x, p.y + (line - s) * 0.5f), ImVec2(p.x + s, p.y + (line + s) * 0.5f),
                              r.vm ? kVmColor : kContainerColor, 2);
            ImGui::Dummy(ImVec2(s, line));
            ImGui::SameLine();
            bool selected = r.vm ? app.selected_vm == r.name : app.selected_container == r.name;
            if (ImGui::Selectable(r.name.c_str(), selected)) (r.vm ? app.selected_vm : app.selected_container) = r.name;
            if (ImGui::IsItemHovered()) {
                std::string tip = T(r.vm ? "gui.resources.kind_vm" : "gui.resources.kind_container");
                if (!r.vm && r.live) tip += " · " + trf("gui.resources.procs", {std::to_string(r.processes)});
                ImGui::SetTooltip("%s", tip.c_str());
            }
            ImGui::TableNextColumn();
            state_badge(r.state);
            ImGui::TableNextColumn();
            if (r.vm) {
                ImGui::TextUnformatted(view::human_bytes(r.mem_reserved).c_str());
                if (r.live && r.mem_used > 0) {
                    ImGui::SameLine();
                    ImGui::TextDisabled("(%s)", view::human_bytes(r.mem_used).c_str());
                }
                if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", T("gui.resources.mem_tip_vm"));
            } else {
                ImGui::TextUnformatted(r.mem_used >= 0 ? view::human_bytes(r.mem_used).c_str() : "-");
                if (r.mem_limit > 0) {
                    ImGui::SameLine();
                    ImGui::TextDisabled("/ %s", view::human_bytes(r.mem_limit).c_str());
                }
                if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", T("gui.resources.mem_tip_container"));
            }
            ImGui::TableNextColumn();
            const ImU32 ink = r.vm ? kVmUsedColor : kContainerColor;
            // Memory: its own range (a quarter MiB at least); CPU: from zero (5 % at least).
            sparkline(app, r.mem_history, history_, std::max(ImGui::GetContentRegionAvail().x, spark_w), spark_h, ink,
                      256.0 * 1024, false);
            ImGui::TableNextColumn();
            if (!r.live) ImGui::TextDisabled("-");
            else if (r.cpu_pct < 0) ImGui::TextDisabled("...");
            else ImGui::TextUnformatted(percent(r.cpu_pct).c_str());
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", T("gui.resources.cpu_tip"));
            ImGui::TableNextColumn();
            sparkline(app, r.cpu_history, history_, std::max(ImGui::GetContentRegionAvail().x, spark_w), spark_h, ink, 5.0,
                      true);
            ImGui::PopID();
        }
        ImGui::EndTable();
    }

    // ---- the density experiment ----
    void start_density(App& app) {
        density_launched_ = density_n_;
        density_started_ms_ = monotonic_ms();
        density_all_up_ms_ = 0;
        // One command per container: they run concurrently, as N terminals would.
        for (int k = 1; k <= density_n_; ++k) app.command(view::density_run_command(k));
        app.animate_for(3000);
    }

    void draw_density(App& app, const view::WorldSnapshot& w) {
        ImGui::TextUnformatted(T("gui.resources.density_title"));
        ImGui::SameLine();
        help_marker(T("gui.resources.density_intro"));
        const view::DensityStatus st = view::density_status(w, density_launched_ > 0 ? density_launched_ : density_n_);
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(T("gui.resources.density_count"));
        ImGui::SameLine();
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
        if (ImGui::InputInt("##n", &density_n_, 1, 10)) density_n_ = view::clamp_density(density_n_);
        ImGui::SameLine();
        if (ImGui::Button(trf("gui.resources.density_start", {std::to_string(density_n_)}).c_str())) start_density(app);
        ImGui::SameLine();
        ImGui::BeginDisabled(st.present.empty());
        if (ImGui::Button(T("gui.resources.density_remove"))) {
            app.command(view::density_remove_command(st.present));
            density_launched_ = 0;
            density_all_up_ms_ = 0;
        }
        ImGui::EndDisabled();

        ImGui::PushTextWrapPos(0);
        if (density_launched_ > 0) {
            if (st.all_running && density_all_up_ms_ == 0) density_all_up_ms_ = monotonic_ms();
            if (!st.all_running) {
                ImGui::TextUnformatted(trf("gui.resources.density_progress",
                                           {std::to_string(st.running), std::to_string(st.wanted)})
                                           .c_str());
            } else {
                char secs[32];
                std::snprintf(secs, sizeof secs, "%.1f", (density_all_up_ms_ - density_started_ms_) / 1000.0);
                ImGui::TextUnformatted(trf("gui.resources.density_done",
                                           {std::to_string(st.running), std::to_string(st.wanted), secs,
                                            view::human_bytes(st.total_mem), view::human_bytes(st.avg_mem)})
                                           .c_str());
                const int64_t vm_each = view::default_vm_reservation();
                ImGui::TextDisabled("%s", trf("gui.resources.density_as_vms",
                                              {std::to_string(st.wanted), view::human_bytes(vm_each * st.wanted),
                                               view::human_bytes(vm_each)})
                                              .c_str());
            }
        } else if (!st.present.empty()) {
            ImGui::TextDisabled("%s", trf("gui.resources.density_leftover", {std::to_string(st.present.size())}).c_str());
        }
        ImGui::PopTextWrapPos();
    }

    size_t history_ = 60;
    view::ResourceTracker tracker_{history_};
    std::shared_ptr<const view::WorldSnapshot> last_snapshot_;  // the one last sampled
    double last_sample_ms_ = 0;
    bool demo_done_ = false;
    int density_n_ = view::kDensityDefault;
    int density_launched_ = 0;      // N of the last start (0: none since the last removal)
    double density_started_ms_ = 0, density_all_up_ms_ = 0;
};

}  // namespace

std::unique_ptr<View> make_resources_view() { return std::make_unique<ResourcesView>(); }

}  // namespace isolab::gui
