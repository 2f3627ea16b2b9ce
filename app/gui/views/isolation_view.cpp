// The Isolation tab: what a running container shares with the host and what it has of its own,
// one row per namespace, read from the real /proc (namespace ids, processes, hostname, mounts,
// interfaces, user ids, cgroup; in the mount row, the container's own volumes, bind mounts and
// tmpfs, each checked against its mountinfo) — and the kernel, which has no namespace: `uname -r` answers the
// same for both, the punch line. A VM column beside it: every row "its own".
//
// /proc is read on a worker thread about once a second (view::read_isolation walks every
// process); the frame only draws the newest result.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "app/gui/view.hpp"
#include "app/gui/views/views.hpp"
#include "sim/core/i18n.hpp"
#include "sim/view/isolation.hpp"

namespace isolab::gui {

namespace {

constexpr ImU32 kIsolated = IM_COL32(46, 160, 67, 255);
constexpr ImU32 kShared = IM_COL32(204, 102, 0, 255);
constexpr ImU32 kVm = IM_COL32(150, 80, 170, 255);
// The mount kinds in the Images tab's colours (data_picture.cpp).
constexpr ImU32 kVolume = IM_COL32(46, 160, 67, 255);
constexpr ImU32 kBind = IM_COL32(133, 94, 56, 255);
constexpr ImU32 kTmpfs = IM_COL32(168, 62, 130, 255);

void small_badge(const char* text, ImU32 color) {
    ImVec4 c = ImGui::ColorConvertU32ToFloat4(color);
    ImGui::PushStyleColor(ImGuiCol_Button, c);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, c);
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, c);
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
    ImGui::SmallButton(text);
    ImGui::PopStyleColor(4);
}

void wrapped(const std::string& text) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
}

void ns_id_line(App& app, const std::string& id) {
    if (id.empty()) return;
    if (app.mono_font()) ImGui::PushFont(app.mono_font());
    ImGui::TextDisabled("%s", id.c_str());
    if (app.mono_font()) ImGui::PopFont();
}

class IsolationView final : public View {
public:
    const char* id() const override { return "isolation"; }
    const char* title_key() const override { return "gui.tab.isolation"; }

    ~IsolationView() override {
        if (worker_.joinable()) worker_.join();
    }

    void draw(App& app) override {
        auto w = app.world();
        if (!w) {
            ImGui::TextDisabled("%s", T("gui.loading"));
            return;
        }
        const view::ContainerView* sel = w->container(app.selected_container);
        draw_header(app, *w, sel);
        // Paused counts: its frozen processes still hold the namespaces.
        const bool running = sel && container_has_process(sel->rec.state) && sel->rec.pid > 0;
        if (!running) {
            ImGui::Spacing();
            ImGui::PushTextWrapPos(0);
            if (!sel) ImGui::TextColored(ImVec4(1, 0.78f, 0, 1), "%s", T("gui.isolation.select_hint"));
            else if (sel->rec.backend == Backend::Simulated) ImGui::TextUnformatted(T("gui.isolation.simulated"));
            else ImGui::TextUnformatted(i18n::trf("gui.isolation.not_running", {sel->rec.name, std::string(T(("gui.state." + std::string(to_string(sel->rec.state))).c_str()))}).c_str());
            ImGui::PopTextWrapPos();
            return;
        }
        refresh(app, sel->rec.pid);
        std::optional<view::IsolationFacts> facts;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (facts_ && facts_->pid == sel->rec.pid) facts = facts_;
        }
        if (!facts) {
            ImGui::TextDisabled("%s", T("gui.isolation.reading"));
            return;
        }
        // The VM column: the selected VM when it runs, else the first running one.
        const view::VmView* vm = w->vm(app.selected_vm);
        if (!vm || vm->rec.state != vm::VmState::Running) {
            vm = nullptr;
            for (const auto& v : w->vms)
                if (v.rec.state == vm::VmState::Running) {
                    vm = &v;
                    break;
                }
        }
        if (!facts->error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", facts->error.c_str());
        auto rows = view::build_isolation_rows(*facts, vm ? &vm->rec : nullptr, &sel->rec.spec.mounts);
        draw_punch_line(app, rows.back(), vm);
        draw_table(app, *sel, vm, rows);
        ImGui::TextDisabled("%s", i18n::trf("gui.isolation.footer", {std::to_string(static_cast<int>(facts->read_ms + 0.5))}).c_str());
    }

private:
    void draw_header(App& app, const view::WorldSnapshot& w, const view::ContainerView* sel) {
        ImGui::TextUnformatted(T("gui.isolation.title"));
        ImGui::SameLine();
        help_marker(T("gui.isolation.help"));
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
        std::string preview = sel ? sel->rec.name : std::string(T("gui.isolation.pick"));
        if (ImGui::BeginCombo("##isopick", preview.c_str())) {
            bool any = false;
            for (const auto& c : w.containers) {
                if (!container_has_process(c.rec.state)) continue;
                any = true;
                ImGui::PushID(c.rec.id.c_str());
                if (ImGui::Selectable(c.rec.name.c_str(), sel && sel->rec.id == c.rec.id)) app.selected_container = c.rec.name;
                ImGui::PopID();
            }
            if (!any) ImGui::TextDisabled("%s", T("gui.isolation.no_running"));
            ImGui::EndCombo();
        }
        if (sel) {
            ImGui::SameLine();
            state_badge(std::string(to_string(sel->rec.state)));
            if (sel->rec.pid > 0) {
                ImGui::SameLine();
                ImGui::TextDisabled("%s", i18n::trf("gui.isolation.pid_on_host", {std::to_string(sel->rec.pid), backend_name(sel->rec.backend)}).c_str());
            }
        }
    }

    // Starts a read when the last one is older than a second (or was for another container).
    void refresh(App& app, pid_t pid) {
        double now = ImGui::GetTime();
        if (busy_) return;
        if (pid == last_pid_ && now - last_start_ < 1.0) return;
        if (worker_.joinable()) worker_.join();
        busy_ = true;
        last_pid_ = pid;
        last_start_ = now;
        worker_ = std::thread([this, &app, pid] {
            view::IsolationFacts f = view::read_isolation(pid, 0, true);
            {
                std::lock_guard<std::mutex> lock(mu_);
                facts_ = std::move(f);
            }
            busy_ = false;
            app.wake();
        });
    }

    // The kernel, above the table: the one thing a container cannot have its own of.
    void draw_punch_line(App& app, const view::IsolationRow& k, const view::VmView* vm) {
        ImVec2 p = ImGui::GetCursorScreenPos();
        float w = ImGui::GetContentRegionAvail().x;
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->ChannelsSplit(2);
        dl->ChannelsSetCurrent(1);
        ImGui::Indent(ImGui::GetFontSize() * 0.5f);
        ImGui::Dummy(ImVec2(0, ImGui::GetStyle().ItemSpacing.y));
        if (app.big_font()) ImGui::PushFont(app.big_font());
        const bool same = k.sharing == view::Sharing::Shared;
        std::string line = same ? i18n::trf("gui.isolation.punch_same", {k.host_sees})
                                : i18n::trf("gui.isolation.punch_differs", {k.host_sees, k.container_sees});
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + w - ImGui::GetFontSize());
        ImGui::TextUnformatted(line.c_str());
        ImGui::PopTextWrapPos();
        if (app.big_font()) ImGui::PopFont();
        std::string vm_line = vm ? i18n::trf("gui.isolation.punch_vm", {vm->rec.name, vm->rec.kernel_release.empty() ? "?" : vm->rec.kernel_release})
                                 : std::string(T("gui.isolation.punch_no_vm"));
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + w - ImGui::GetFontSize());
        ImGui::TextUnformatted(vm_line.c_str());
        ImGui::PopTextWrapPos();
        ImGui::PopStyleColor();
        ImGui::Dummy(ImVec2(0, ImGui::GetStyle().ItemSpacing.y * 0.5f));
        ImGui::Unindent(ImGui::GetFontSize() * 0.5f);
        dl->ChannelsSetCurrent(0);
        ImVec2 q = ImGui::GetItemRectMax();
        dl->AddRectFilled(p, ImVec2(p.x + w, q.y), same ? kShared : IM_COL32(110, 118, 129, 255), ImGui::GetFontSize() * 0.3f);
        dl->ChannelsMerge();
        ImGui::Spacing();
    }

    void draw_table(App& app, const view::ContainerView& sel, const view::VmView* vm,
                    const std::vector<view::IsolationRow>& rows) {
        ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_BordersOuter |
                                ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY | ImGuiTableFlags_NoClip |
                                ImGuiTableFlags_SizingStretchProp;
        float footer = ImGui::GetTextLineHeightWithSpacing() * 1.3f;
        ImVec2 size(0, std::max(ImGui::GetContentRegionAvail().y - footer, ImGui::GetTextLineHeight() * 8));
        if (!ImGui::BeginTable("iso", 4, flags, size)) return;
        std::string vm_head = vm ? i18n::trf("gui.isolation.col_vm", {vm->rec.name}) : std::string(T("gui.isolation.col_vm_none"));
        std::string c_head = i18n::trf("gui.isolation.col_container", {sel.rec.name});
        // No frozen header row: with NoClip (the lesson lines span the row), a frozen row makes
        // the other columns vanish once the table is scrolled (Dear ImGui 1.86).
        ImGui::TableSetupColumn(T("gui.isolation.col_what"), ImGuiTableColumnFlags_WidthStretch, 0.8f);
        ImGui::TableSetupColumn(T("gui.isolation.col_host"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableSetupColumn(c_head.c_str(), ImGuiTableColumnFlags_WidthStretch, 1.15f);
        ImGui::TableSetupColumn(vm_head.c_str(), ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableHeadersRow();
        const float table_right = ImGui::GetWindowContentRegionMax().x;
        float scroll_to = -1;  // the outlined row's y, scrolled to once the table is drawn
        for (size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            ImGui::PushID(static_cast<int>(i));
            ImGui::TableNextRow();
            if (r.punch_line) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, (kShared & 0x00FFFFFF) | 0x50000000);
            // A lesson's step points at this row ("ns-pid", "kernel").
            std::string target = r.punch_line ? "kernel" : "ns-" + r.kind;
            if (app.highlighted(target.c_str())) {
                float pulse = 0.55f + 0.45f * std::sin(static_cast<float>(ImGui::GetTime()) * 4.0f);
                ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(230, 40, 200, static_cast<int>(80 * pulse)));
                app.animate_for(100);
                if (app.take_scroll_to(target.c_str())) scroll_to = ImGui::GetCursorPosY();
            }
            // What: the namespace and its verdict.
            ImGui::TableSetColumnIndex(0);
            std::string title_key = "gui.isolation.kind." + r.kind;
            wrapped(T(title_key.c_str()));
            if (r.sharing == view::Sharing::Shared)
                small_badge(T(r.punch_line ? "gui.isolation.same_kernel" : "gui.isolation.shared"), kShared);
            else if (r.sharing == view::Sharing::Isolated)
                small_badge(T("gui.isolation.isolated"), kIsolated);
            else
                ImGui::TextDisabled("?");
            if (ImGui::IsItemHovered()) {
                ImGui::BeginTooltip();
                ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
                ImGui::TextUnformatted(T(r.sharing == view::Sharing::Shared ? "gui.isolation.shared_tip" : "gui.isolation.isolated_tip"));
                ImGui::PopTextWrapPos();
                ImGui::EndTooltip();
            }
            // Host.
            ImGui::TableSetColumnIndex(1);
            ns_id_line(app, r.host_ns);
            if (r.punch_line && app.big_font()) ImGui::PushFont(app.big_font());
            wrapped(r.host_sees);
            if (r.punch_line && app.big_font()) ImGui::PopFont();
            // Container.
            ImGui::TableSetColumnIndex(2);
            ns_id_line(app, r.container_ns);
            if (r.punch_line && app.big_font()) ImGui::PushFont(app.big_font());
            if (r.punch_line) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(kShared));
            wrapped(r.container_sees);
            if (r.punch_line) ImGui::PopStyleColor();
            if (r.kind == "mnt") draw_own_mounts(r.mounts);
            if (r.punch_line && app.big_font()) ImGui::PopFont();
            // VM: its own.
            ImGui::TableSetColumnIndex(3);
            if (vm) {
                ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(kVm));
                ImGui::TextUnformatted(T("gui.isolation.its_own"));
                ImGui::PopStyleColor();
            }
            if (r.punch_line && vm && app.big_font()) ImGui::PushFont(app.big_font());
            if (vm) wrapped(r.vm_has);
            else ImGui::TextDisabled("%s", r.vm_has.c_str());
            if (r.punch_line && vm && app.big_font()) ImGui::PopFont();
            // The lesson, across the whole row (NoClip lets it run over the empty cells).
            ImGui::TableNextRow();
            ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImGuiCol_TableHeaderBg, 0.35f));
            ImGui::TableSetColumnIndex(0);
            ImGui::Bullet();
            ImGui::SameLine();
            ImGui::PushTextWrapPos(table_right);
            ImGui::TextUnformatted(r.lesson.c_str());
            ImGui::PopTextWrapPos();
            ImGui::PopID();
        }
        if (scroll_to >= 0) ImGui::SetScrollY(std::max(0.0f, scroll_to - ImGui::GetWindowHeight() * 0.25f));
        ImGui::EndTable();
    }

    // The mount row's list: TARGET ← SOURCE · ro|rw for each -v, --mount and --tmpfs, a colour
    // chip per kind (the Images tab's: volume green, host folder brown, tmpfs magenta).
    static void draw_own_mounts(const std::vector<view::MountLine>& lines) {
        if (lines.empty()) {
            ImGui::PushTextWrapPos(0);
            ImGui::TextDisabled("%s", T("gui.isolation.mnt.no_own"));
            ImGui::PopTextWrapPos();
            return;
        }
        ImGui::TextDisabled("%s", T("gui.isolation.mnt.own"));
        float line = ImGui::GetTextLineHeight();
        for (size_t i = 0; i < lines.size(); ++i) {
            const auto& l = lines[i];
            ImGui::PushID(static_cast<int>(i));
            ImU32 col = l.type == MountType::Tmpfs ? kTmpfs : l.type == MountType::Bind ? kBind : kVolume;
            ImVec2 p = ImGui::GetCursorScreenPos();
            float sq = line * 0.7f;
            ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + (line - sq) * 0.5f),
                                                      ImVec2(p.x + sq, p.y + (line + sq) * 0.5f), col, sq * 0.2f);
            ImGui::Dummy(ImVec2(sq, line));
            ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
            if (l.seen == view::MountLine::Seen::NotMounted) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.9f, 0.45f, 0.2f, 1));
            ImGui::PushTextWrapPos(0);
            ImGui::TextUnformatted(l.text.c_str());
            ImGui::PopTextWrapPos();
            if (l.seen == view::MountLine::Seen::NotMounted) ImGui::PopStyleColor();
            if (ImGui::IsItemHovered()) {
                ImGui::BeginTooltip();
                ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
                ImGui::TextUnformatted(T(l.type == MountType::Tmpfs  ? "gui.isolation.mnt.tmpfs_tip"
                                         : l.type == MountType::Bind ? "gui.isolation.mnt.bind_tip"
                                                                     : "gui.isolation.mnt.volume_tip"));
                ImGui::PopTextWrapPos();
                ImGui::EndTooltip();
            }
            ImGui::PopID();
        }
    }

    std::mutex mu_;
    std::optional<view::IsolationFacts> facts_;
    std::thread worker_;
    std::atomic<bool> busy_{false};
    pid_t last_pid_ = 0;
    double last_start_ = -10;
};

}  // namespace

std::unique_ptr<View> make_isolation_view() { return std::make_unique<IsolationView>(); }

}  // namespace isolab::gui
