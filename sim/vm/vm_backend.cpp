#include "sim/vm/vm_backend.hpp"

namespace isolab::vm {

std::string_view to_string(VmBackendKind k) {
    switch (k) {
        case VmBackendKind::QemuKvm: return "qemu-kvm";
        case VmBackendKind::QemuTcg: return "qemu-tcg";
        case VmBackendKind::Model: return "model";
    }
    return "model";
}

bool parse_vm_backend(std::string_view text, VmBackendKind* out) {
    for (VmBackendKind k : kAllVmBackendKinds)
        if (to_string(k) == text) {
            *out = k;
            return true;
        }
    return false;
}

bool is_modeled(VmBackendKind k) {
    switch (k) {
        case VmBackendKind::QemuKvm:
        case VmBackendKind::QemuTcg: return false;
        case VmBackendKind::Model: return true;
    }
    return true;
}

bool names_modeled_vm(std::string_view text) {
    VmBackendKind k;
    return parse_vm_backend(text, &k) && is_modeled(k);
}

Result<VmBackendKind> choose_vm_backend(const VmHostFacts& f) {
    if (!f.requested.empty()) {
        VmBackendKind k;
        if (!parse_vm_backend(f.requested, &k))
            return make_error("ISOLAB_VM_BACKEND=" + f.requested + " names no VM backend: use qemu-kvm, qemu-tcg or model",
                              125);
        return k;
    }
    if (!f.qemu_found || !f.guest_found) return VmBackendKind::Model;
    if (f.kvm_known_broken) return VmBackendKind::QemuTcg;
    return f.kvm_works && f.kvm_works() ? VmBackendKind::QemuKvm : VmBackendKind::QemuTcg;
}

}  // namespace isolab::vm
