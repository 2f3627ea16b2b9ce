#include "sim/engine/reference.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace isolab {

namespace {

constexpr size_t kNameTotalLengthMax = 255;

// The grammar of reference.hpp as one anchored expression; the groups are name, tag, digest.
const std::regex& reference_regex() {
    static const std::regex re = [] {
        const std::string alnum = "[a-z0-9]+";
        const std::string sep = "(?:[._]|__|-+)";
        const std::string path_component = alnum + "(?:" + sep + alnum + ")*";
        const std::string domain_component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        const std::string host = "(?:" + domain_component + "(?:\\." + domain_component + ")*|\\[[a-fA-F0-9:]+\\])";
        const std::string domain = host + "(?::[0-9]+)?";
        const std::string name = "(?:" + domain + "/)?" + path_component + "(?:/" + path_component + ")*";
        const std::string tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
        const std::string digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
        return std::regex("^(" + name + ")(?::(" + tag + "))?(?:@(" + digest + "))?$");
    }();
    return re;
}

// The domain part of a NAME, as the regex's domain alternative can match it: a first element
// followed by '/'. Used only after a full match, so the split is the grammar's.
void split_domain(const std::string& name, std::string* domain, std::string* path) {
    size_t slash = name.find('/');
    if (slash == std::string::npos) {
        *domain = "";
        *path = name;
        return;
    }
    std::string first = name.substr(0, slash);
    // A first element that the path grammar accepts is a path component unless it looks like a
    // host (the regex prefers the domain reading only when the path reading is impossible, which
    // is exactly when it has '.', ':', '[' or an upper-case letter — or is `localhost`).
    *domain = first;
    *path = name.substr(slash + 1);
}

bool is_hex64_lower(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// go-digest's Validate for the algorithms Docker knows.
Status validate_digest(const std::string& digest) {
    size_t colon = digest.find(':');
    std::string algorithm = digest.substr(0, colon), hex = digest.substr(colon + 1);
    size_t want = 0;
    if (algorithm == "sha256") want = 64;
    else if (algorithm == "sha384") want = 96;
    else if (algorithm == "sha512") want = 128;
    else return make_error("unsupported digest algorithm");
    if (hex.size() != want) return make_error("invalid checksum digest length");
    for (char c : hex)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return make_error("invalid checksum digest format");
    return {};
}

// Docker's Parse: the grammar, the length limit and the digest, without normalization.
Result<ImageReference> parse_plain(const std::string& s) {
    std::smatch m;
    if (!std::regex_match(s, m, reference_regex())) {
        if (s.empty()) return make_error("repository name must have at least one component");
        std::string low = lower(s);
        if (std::regex_match(low, reference_regex()))
            return make_error("repository name must be lowercase");
        return make_error("invalid reference format");
    }
    std::string name = m[1].str();
    if (name.size() > kNameTotalLengthMax) return make_error("repository name must not be more than 255 characters");
    ImageReference ref;
    split_domain(name, &ref.domain, &ref.path);
    ref.tag = m[2].matched ? m[2].str() : "";
    ref.digest = m[3].matched ? m[3].str() : "";
    if (!ref.digest.empty()) ISOLAB_TRY(validate_digest(ref.digest));
    return ref;
}

}  // namespace

std::string ImageReference::full() const {
    std::string s = repository();
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

std::string ImageReference::familiar_name() const {
    if (domain != "docker.io") return repository();
    if (path.rfind("library/", 0) == 0 && path.find('/', 8) == std::string::npos) return path.substr(8);
    return path;
}

std::string ImageReference::familiar() const {
    std::string s = familiar_name();
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

Result<ImageReference> parse_reference(const std::string& text) {
    if (is_hex64_lower(text))
        return make_error("invalid repository name (" + text + "), cannot specify 64-byte hexadecimal strings");
    // splitDockerDomain
    std::string domain, remainder;
    size_t slash = text.find('/');
    std::string first = slash == std::string::npos ? "" : text.substr(0, slash);
    if (slash == std::string::npos ||
        (first.find_first_of(".:") == std::string::npos && first != "localhost" && lower(first) == first)) {
        domain = "docker.io";
        remainder = text;
    } else {
        domain = first;
        remainder = text.substr(slash + 1);
    }
    if (domain == "index.docker.io") domain = "docker.io";
    if (domain == "docker.io" && remainder.find('/') == std::string::npos) remainder = "library/" + remainder;
    std::string remote = remainder.substr(0, remainder.find(':'));
    if (lower(remote) != remote)
        return make_error("invalid reference format: repository name (" + remote + ") must be lowercase");
    auto ref = parse_plain(domain + "/" + remainder);
    ISOLAB_TRY(ref);
    // parse_plain split at the first '/', which is DOMAIN's end by construction.
    return ref;
}

Result<ImageReference> parse_reference_with_default_tag(const std::string& text) {
    auto ref = parse_reference(text);
    ISOLAB_TRY(ref);
    if (ref->tag.empty() && ref->digest.empty()) ref->tag = "latest";
    return ref;
}

}  // namespace isolab
