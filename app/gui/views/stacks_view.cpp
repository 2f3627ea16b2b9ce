// The main area: hosted virtualization on the left (hardware → host OS → hypervisor → guest VMs,
// each with its OWN kernel), containers on the right (hardware → host OS with ONE kernel spanning
// every container → container engine → containers). The shared kernel box is the picture's
// punch line. Every box is live: states, PIDs, memory and kernel versions come from the snapshot.
#include <imgui.h>

#include <algorithm>
#include <vector>
#include <cstdio>

#include "app/gui/view.hpp"
#include "sim/core/i18n.hpp"
#include "sim/view/stacks.hpp"

namespace isolab::gui {

namespace {

constexpr ImU32 kHardware = IM_COL32(84, 92, 105, 255);
constexpr ImU32 kHostOs = IM_COL32(52, 101, 164, 255);
constexpr ImU32 kKernelShared = IM_COL32(204, 102, 0, 255);
constexpr ImU32 kKernelGuest = IM_COL32(150, 80, 170, 255);
constexpr ImU32 kHypervisor = IM_COL32(120, 60, 140, 255);
constexpr ImU32 kEngine = IM_COL32(0, 128, 128, 255);
constexpr ImU32 kApp = IM_COL32(45, 125, 70, 255);
constexpr ImU32 kLibs = IM_COL32(70, 110, 90, 255);
constexpr ImU32 kGuestOs = IM_COL32(95, 75, 140, 255);
constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);

// SameLine() when the next button (LABEL) still fits within the column starting at LEFT of
// WIDTH; otherwise the button goes to a new line (presenter mode makes buttons wide).
void flow(const char* label, float left, float width) {
    const ImGuiStyle& st = ImGui::GetStyle();
    float next = ImGui::CalcTextSize(label).x + st.FramePadding.x * 2;
    float x = ImGui::GetItemRectMax().x + st.ItemSpacing.x;
    if (x + next <= left + width) ImGui::SameLine();
}

// The height a box needs for TEXT wrapped to WIDTH, with padding; at least MIN_LINES lines.
float fit(const std::string& text, float width, float min_lines) {
    float line = ImGui::GetTextLineHeight();
    float h = ImGui::CalcTextSize(text.c_str(), nullptr, false, width - 8).y;
    return std::max(h, line * min_lines) + line * 0.6f;
}

// A full-width layer bar of the stack at the cursor; returns whether it was clicked.
bool bar(const char* id, const std::string& text, float w, float h, ImU32 fill, const std::string& tip = "") {
    bool c = box(id, text, w, h, fill, kWhite, false, tip);
    return c;
}

void draw_ram_bar(const view::StackModel& m, float w, float h) {
    // The host's RAM, with what each VM reserved: a VM takes its memory whole, containers do not.
    ImVec2 p = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), IM_COL32(40, 44, 52, 255), 4);
    float x = p.x;
    for (const auto& seg : m.ram_segments) {
        float sw = w * static_cast<float>(seg.fraction);
        if (sw < 1) continue;
        dl->AddRectFilled(ImVec2(x, p.y), ImVec2(x + sw, p.y + h), seg.vm ? kHypervisor : kEngine, 3);
        if (ImGui::CalcTextSize(seg.label.c_str()).x < sw - 4)
            dl->AddText(ImVec2(x + 3, p.y + (h - ImGui::GetFontSize()) * 0.5f), kWhite, seg.label.c_str());
        x += sw;
    }
    ImGui::Dummy(ImVec2(w, h));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", m.ram_tooltip.c_str());
}

void draw_vm_side(App& app, const view::WorldSnapshot& w, const view::StackModel& m, float width, float height) {
    ImGui::BeginGroup();
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
    ImGui::TextUnformatted(T("gui.stack.hosted"));
    ImGui::TextDisabled("%s", T("gui.stack.hosted_hint"));
    ImGui::PopTextWrapPos();
    float line = ImGui::GetTextLineHeightWithSpacing();
    float gap = ImGui::GetStyle().ItemSpacing.x;
    size_t n = std::max<size_t>(m.vms.size(), 1);
    float col = std::max((width - gap * static_cast<float>(n - 1)) / static_cast<float>(n), line * 4);
    // Heights: every bar as tall as its text needs; the guests take what is left of HEIGHT.
    float h_hyp = fit(m.hypervisor, width, 1.2f), h_os = fit(m.host_os, width, 1.2f), h_hw = fit(m.hardware, width, 1.1f);
    float h_app = line * 1.3f, h_gos = line * 1.3f, h_ker = line * 1.4f;
    for (const auto& v : m.vms) {
        h_app = std::max(h_app, fit(v.app, col, 1.0f));
        h_gos = std::max(h_gos, fit(v.guest_os, col, 1.0f));
        h_ker = std::max(h_ker, fit(v.kernel, col, 1.2f));
    }
    float used = ImGui::GetCursorPosY() + h_hyp + h_os + h_hw + line * 4.4f + gap * 8 + h_app + h_gos + h_ker + line;
    float slack = std::max(0.0f, height - used);
    h_app += slack * 0.3f;
    h_gos += slack * 0.3f;
    h_ker += slack * 0.4f;
    // Guests: app → guest OS → its own kernel, per VM.
    if (m.vms.empty()) {
        box("novm", T("gui.stack.no_vm"), width, h_app + h_gos + h_ker + line + gap * 3, IM_COL32(60, 60, 70, 255), kWhite);
    } else {
        for (size_t i = 0; i < m.vms.size(); ++i) {
            const auto& v = m.vms[i];
            if (i) ImGui::SameLine();
            ImGui::BeginGroup();
            ImGui::PushID(static_cast<int>(i));
            bool sel = app.selected_vm == v.name;
            if (box("app", v.app, col, h_app, kApp, kWhite, sel)) app.selected_vm = v.name;
            if (box("os", v.guest_os, col, h_gos, kGuestOs, kWhite, sel)) app.selected_vm = v.name;
            bool kernel_clicked = box("kernel", v.kernel, col, h_ker, kKernelGuest, kWhite, sel, T("gui.stack.own_kernel_tip"));
            app.outline_last_item("guest-kernel");
            if (kernel_clicked)
                app.selected_vm = v.name;
            std::string label = v.name + " · " + std::string(T(("gui.state." + v.state).c_str()));
            std::string shown_label = ImGui::CalcTextSize(label.c_str()).x < col - 8 ? label : v.name;
            if (box("name", shown_label, col, line * 1.1f, state_color(v.state), kWhite, sel, label)) app.selected_vm = v.name;
            ImGui::PopID();
            ImGui::EndGroup();
        }
    }
    bar("hyp", m.hypervisor, width, h_hyp, kHypervisor, T("gui.stack.hypervisor_tip"));
    app.outline_last_item("hypervisor");
    bar("hostos_l", m.host_os, width, h_os, kHostOs);
    bar("hw_l", m.hardware, width, h_hw, kHardware);
    draw_ram_bar(m, width, line * 0.9f);
    // Actions on VMs: each is the typed `isolab vm` action the log shows as a command line.
    if (ImGui::Button(T("gui.action.add_vm"))) app.act({"vm", "create", view::next_vm_name(w)});
    const view::VmView* sel = w.vm(app.selected_vm);
    float left = ImGui::GetItemRectMin().x;
    flow(T("gui.action.boot"), left, width);
    ImGui::BeginDisabled(!sel || sel->rec.state != vm::VmState::PoweredOff);
    if (ImGui::Button(T("gui.action.boot")) && sel) {
        app.act({"vm", "start", "-d", sel->rec.name});
        app.animate_for(20000);
    }
    ImGui::EndDisabled();
    flow(T("gui.action.stop_vm"), left, width);
    ImGui::BeginDisabled(!sel || sel->rec.state != vm::VmState::Running);
    if (ImGui::Button(T("gui.action.stop_vm")) && sel) app.act({"vm", "stop", sel->rec.name});
    ImGui::EndDisabled();
    flow(T("gui.action.remove_vm"), left, width);
    ImGui::BeginDisabled(!sel);
    if (ImGui::Button(T("gui.action.remove_vm")) && sel) {
        app.act({"vm", "rm", "-f", sel->rec.name});
        app.selected_vm.clear();
    }
    ImGui::EndDisabled();
    ImGui::EndGroup();
}

void draw_container_side(App& app, const view::WorldSnapshot& w, const view::StackModel& m, float width, float height) {
    ImGui::BeginGroup();
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
    ImGui::TextUnformatted(T("gui.stack.containers"));
    ImGui::TextDisabled("%s", T("gui.stack.containers_hint"));
    ImGui::PopTextWrapPos();
    float line = ImGui::GetTextLineHeightWithSpacing();
    float gap = ImGui::GetStyle().ItemSpacing.x;
    // Which containers get a column: those with a process first, the selected one always.
    std::vector<const view::ContainerBox*> order;
    for (const auto& c : m.containers)
        if (c.state == "running" || c.state == "paused" || c.state == "restarting") order.push_back(&c);
    for (const auto& c : m.containers)
        if (!(c.state == "running" || c.state == "paused" || c.state == "restarting")) order.push_back(&c);
    size_t fits = static_cast<size_t>(std::max(1.0f, (width + gap) / (line * 4.5f + gap)));
    if (order.size() > fits) fits = std::max<size_t>(fits - 1, 1);  // room for the "+N" column
    for (size_t i = fits; i < order.size(); ++i)
        if (order[i]->name == app.selected_container) std::swap(order[i], order[fits - 1]);
    size_t shown = std::min(order.size(), fits);
    size_t n = std::max<size_t>(shown + (m.containers.size() > shown ? 1 : 0), 1);
    float col = (width - gap * static_cast<float>(n - 1)) / static_cast<float>(n);
    float h_eng = fit(m.engine, width, 1.2f), h_ker = fit(m.shared_kernel, width, 1.3f);
    float h_os = fit(m.host_os, width, 1.2f), h_hw = fit(m.hardware, width, 1.1f);
    float h_app = line * 1.3f, h_libs = line * 1.3f, h_pid = line * 1.4f;
    for (size_t i = 0; i < shown; ++i) {
        h_app = std::max(h_app, fit(order[i]->app, col, 1.0f));
        h_libs = std::max(h_libs, fit(order[i]->libs, col, 1.0f));
        h_pid = std::max(h_pid, fit(order[i]->pids, col, 1.2f));
    }
    float used = ImGui::GetCursorPosY() + h_eng + h_ker + h_os + h_hw + line * 4.4f + gap * 8 + h_app + h_libs + h_pid + line;
    float slack = std::max(0.0f, height - used);
    h_app += slack * 0.3f;
    h_libs += slack * 0.3f;
    h_pid += slack * 0.4f;
    if (m.containers.empty()) {
        box("noc", T("gui.stack.no_container"), width, h_app + h_libs + h_pid + line + gap * 3, IM_COL32(60, 60, 70, 255), kWhite);
    } else {
        for (size_t i = 0; i < shown; ++i) {
            const auto& c = *order[i];
            if (i) ImGui::SameLine();
            ImGui::BeginGroup();
            ImGui::PushID(c.id.c_str());
            bool sel = app.selected_container == c.name;
            if (box("app", c.app, col, h_app, kApp, kWhite, sel, c.app_tip)) app.selected_container = c.name;
            if (box("libs", c.libs, col, h_libs, kLibs, kWhite, sel, c.libs_tip)) app.selected_container = c.name;
            if (box("pid", c.pids, col, h_pid, IM_COL32(50, 60, 75, 255), kWhite, sel, T("gui.stack.pid_tip")))
                app.selected_container = c.name;
            // Name and state on the state's color, cut to the column (no text runs into the next).
            // The name on the state's color (the state in words in the tooltip): one line, never wrapped.
            std::string label = c.name + " · " + std::string(T(("gui.state." + c.state).c_str()));
            if (!c.health.empty()) label += " · " + std::string(T(("gui.health." + c.health).c_str()));
            std::string shown_label = ImGui::CalcTextSize(label.c_str()).x < col - 8 ? label : c.name;
            if (box("name", shown_label, col, line * 1.1f, state_color(c.state), kWhite, sel, label)) app.selected_container = c.name;
            ImGui::PopID();
            ImGui::EndGroup();
        }
        if (m.containers.size() > shown) {
            ImGui::SameLine();
            char more[64];
            std::snprintf(more, sizeof more, "+%zu", m.containers.size() - shown);
            std::string rest;
            for (size_t i = shown; i < order.size(); ++i) rest += (rest.empty() ? "" : "\n") + order[i]->name + " · " + order[i]->state;
            box("more", more, col, h_app + h_libs + h_pid + line * 1.1f + gap * 3, IM_COL32(60, 60, 70, 255), kWhite, false, rest);
        }
    }
    bar("engine", m.engine, width, h_eng, kEngine, T("gui.stack.engine_tip"));
    app.outline_last_item("engine");
    // The punch line: ONE kernel under every container, the host's own.
    bar("kernel", m.shared_kernel, width, h_ker, kKernelShared, T("gui.stack.shared_kernel_tip"));
    app.outline_last_item("host-kernel");
    bar("hostos_r", m.host_os, width, h_os, kHostOs);
    bar("hw_r", m.hardware, width, h_hw, kHardware);
    draw_ram_bar(m, width, line * 0.9f);
    // Actions on containers.
    if (ImGui::Button(T("gui.action.run_container"))) app.command(view::run_web_command(w));
    const view::ContainerView* sel = w.container(app.selected_container);
    std::string state = sel ? std::string(to_string(sel->rec.state)) : "";
    float left = ImGui::GetItemRectMin().x;
    flow(T("gui.action.pause"), left, width);
    ImGui::BeginDisabled(!sel || state != "running");
    if (ImGui::Button(T("gui.action.pause")) && sel) app.act({"pause", sel->rec.name});
    ImGui::EndDisabled();
    flow(T("gui.action.unpause"), left, width);
    ImGui::BeginDisabled(!sel || state != "paused");
    if (ImGui::Button(T("gui.action.unpause")) && sel) app.act({"unpause", sel->rec.name});
    ImGui::EndDisabled();
    flow(T("gui.action.stop"), left, width);
    ImGui::BeginDisabled(!sel || (state != "running" && state != "paused"));
    if (ImGui::Button(T("gui.action.stop")) && sel) app.act({"stop", "-t", "2", sel->rec.name});
    ImGui::EndDisabled();
    flow(T("gui.action.remove"), left, width);
    ImGui::BeginDisabled(!sel);
    if (ImGui::Button(T("gui.action.remove")) && sel) {
        app.act({"rm", "-f", sel->rec.name});
        app.selected_container.clear();
    }
    ImGui::EndDisabled();
    ImGui::EndGroup();
}

}  // namespace

void draw_stacks(App& app) {
    auto w = app.world();
    if (!w) {
        ImGui::TextDisabled("%s", T("gui.loading"));
        return;
    }
    if (!w->error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", w->error.c_str());
    view::StackModel m = view::build_stacks(*w);
    float gap = ImGui::GetStyle().ItemSpacing.x * 3;
    float half = (ImGui::GetContentRegionAvail().x - gap) * 0.5f;
    // The lesson sentence below the stacks keeps its lines; the stacks take the rest.
    float lesson_h = ImGui::CalcTextSize(m.lesson_line.c_str(), nullptr, false, ImGui::GetContentRegionAvail().x).y +
                     ImGui::GetTextLineHeightWithSpacing();
    float height = ImGui::GetCursorPosY() + ImGui::GetContentRegionAvail().y - lesson_h;
    // Each side in its own child of exactly half the width: nothing of one side can push the other.
    float child_h = height - ImGui::GetCursorPosY();
    // When the window is short (a lesson's banner, 1280x720 on a projector) a side may not fit:
    // it scrolls rather than cut its lowest rows off.
    ImGui::BeginChild("vm_side", ImVec2(half, child_h), false);
    draw_vm_side(app, *w, m, half, child_h);
    ImGui::EndChild();
    app.outline_last_item("hosted-stack");
    ImGui::SameLine(0, gap);
    ImGui::BeginChild("container_side", ImVec2(half, child_h), false);
    draw_container_side(app, *w, m, half, child_h);
    ImGui::EndChild();
    app.outline_last_item("container-stack");
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(m.lesson_line.c_str());
    ImGui::PopTextWrapPos();
}

}  // namespace isolab::gui
