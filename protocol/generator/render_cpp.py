"""Stage 3: render C++ declarations and sources for the typed model: one
header and one source per API and per data type, the umbrella header, the API key enum, the
table of all APIs, whole-frame encoders and the per-message setters.
"""

from cpp_common import HEADER_NOTE, Ctx, Emitter, default_init, field_cpp_type
from render_codec import struct_forward_declarations, struct_functions

# Top-level fields that message_ops can set on any message that has them, so
# that a mock broker can fail or throttle a response of any type: schema name,
# schema type, message_ops member.
SETTABLE_FIELDS = [("ErrorCode", "int16", "set_error_code"),
                   ("ThrottleTimeMs", "int32", "set_throttle_time_ms")]


def settable_field(msg, name, type_text):
    """The top-level field `name` of type `type_text`, or None."""
    for f in msg.root.fields:
        if f.name == name and f.type_text == type_text:
            return f
    return None


def struct_declaration(out, st, msg, is_root):
    for f in st.fields:
        if f.struct is not None and f.is_tagged and f.can_be_null:
            raise ValueError(f"{f.where}: nullable tagged structs are not supported")
    # Nested types are defined at namespace scope (complete before the message
    # that holds them, which std::optional needs under clang) and aliased inside.
    scope = lambda s: f"{msg.cpp}_{s.cpp}"
    for f in st.fields:
        out(f"{field_cpp_type(f, scope)} {f.cpp}{default_init(f, scope)};")
    out("/// Tagged fields this version of kwire does not know, kept for re-encoding.")
    out("kwire::unknown_tagged_fields unknown_tags;")


def render_message_decl(out, msg):
    root = msg.root
    fl = msg.flexible.intersect(msg.versions)
    first_flex = -1 if fl.empty else fl.lo
    for st in msg.structs:
        out(f"/// {st.name}, a part of {msg.name}; also named {msg.cpp}::{st.cpp}.")
        out(f"struct {msg.cpp}_{st.cpp} {{")
        out.indent()
        struct_declaration(out, st, msg, False)
        out(f"bool operator==(const {msg.cpp}_{st.cpp}&) const = default;")
        out.dedent()
        out("};")
        out()
    if msg.kind == "data":
        out(f"/// {msg.name}: a data type (no API key), versions {msg.versions.text()}, "
            f"flexible {msg.flexible.text()}.")
    else:
        out(f"/// {msg.name}: API key {msg.api.key}, versions {msg.versions.text()}, "
            f"flexible {msg.flexible.text()}.")
    out(f"struct {msg.cpp} {{")
    out.indent()
    if msg.kind == "data":
        out("/// Not an API message: -1, so that message_ops tells it apart.")
    out(f"static constexpr std::int16_t api_key = {msg.api.key};")
    out(f"static constexpr bool is_request = {'true' if msg.kind == 'request' else 'false'};")
    out(f"static constexpr std::string_view name = \"{msg.name}\";")
    out(f"static constexpr std::int16_t min_version = {msg.versions.lo};")
    out(f"static constexpr std::int16_t max_version = {msg.versions.hi};")
    out(f"/// First flexible version, or -1 if none.")
    out(f"static constexpr std::int16_t first_flexible_version = {first_flex};")
    out()
    for st in msg.structs:
        out(f"using {st.cpp} = {msg.cpp}_{st.cpp};")
    if msg.structs:
        out()
    struct_declaration(out, root, msg, True)
    out()
    out("/// Appends the encoding for `version`; failures are recorded in the writer.")
    out("void encode(kwire::writer& w, std::int16_t version) const;")
    out("/// Exactly the number of bytes encode() appends for `version`.")
    out("std::size_t encoded_size(std::int16_t version) const;")
    out("/// Decodes one message of `version`; the error names the field and byte offset.")
    out(f"static kwire::result<{msg.cpp}> decode(kwire::reader& r, std::int16_t version);")
    out("/// Decodes into *this (fields absent from `version` keep their defaults);")
    out("/// false leaves the error in the reader, without the message context.")
    out("bool decode_from(kwire::reader& r, std::int16_t version);")
    out("/// Walks the fields present in `version` (all fields for -1) with their schema names.")
    out("void visit(kwire::field_visitor& v, std::int16_t version = -1) const;")
    if msg.kind == "data":
        out("/// The type-erased operations on this data type (not listed in all_apis()).")
    else:
        out("/// The type-erased operations on this message, as listed in all_apis().")
    out("static const kwire::message_ops& ops() noexcept;")
    out(f"bool operator==(const {msg.cpp}&) const = default;")
    out.dedent()
    out("};")
    out()
    out(f"/// Prints the fields (never record payloads or byte contents).")
    out(f"std::ostream& operator<<(std::ostream& os, const {msg.cpp}& m);")
    out()


def render_api_header(api):
    out = Emitter()
    out(HEADER_NOTE.format(src=f"protocol/schema/{api.stem}.kws").rstrip("\n"))
    out("#pragma once")
    out()
    out("#include \"kwire/protocol/frame_encode.hpp\"")
    out("#include \"kwire/protocol/message.hpp\"")
    out()
    out("namespace kwire {")
    out()
    render_message_decl(out, api.request)
    render_message_decl(out, api.response)
    render_frame_encoder_decls(out, api)
    rq = api.request
    fl = rq.flexible.intersect(rq.versions)
    out(f"/// The {api.name} API: its key, name, versions and message types.")
    out(f"struct {api.stem}_api {{")
    out(f"  using request_type = {api.request.cpp};")
    out(f"  using response_type = {api.response.cpp};")
    out(f"  static constexpr std::int16_t key = {api.key};")
    out(f"  static constexpr std::string_view name = \"{api.name}\";")
    out(f"  static constexpr std::int16_t min_version = {rq.versions.lo};")
    out(f"  static constexpr std::int16_t max_version = {rq.versions.hi};")
    out(f"  static constexpr std::int16_t first_flexible_version = {-1 if fl.empty else fl.lo};")
    out("};")
    out()
    out("}  // namespace kwire")
    return out.text()


def render_message_impl(out, msg):
    ctx = Ctx(msg, msg.versions)
    for st in msg.structs + [msg.root]:
        struct_functions(out, st, ctx)


def render_api_source(api):
    out = Emitter()
    out(HEADER_NOTE.format(src=f"protocol/schema/{api.stem}.kws").rstrip("\n"))
    out(f"#include \"kwire/protocol/messages/{api.stem}.hpp\"")
    out()
    out("#include \"kwire/protocol/detail/message_support.hpp\"")
    out()
    out("namespace kwire {")
    out("namespace {")
    out()
    for msg in (api.request, api.response):
        ctx = Ctx(msg, msg.versions)
        for st in msg.structs + [msg.root]:
            struct_forward_declarations(out, st, ctx)
    out()
    for msg in (api.request, api.response):
        render_message_impl(out, msg)
        render_setters(out, msg)
    out("}  // namespace")
    out()
    for msg in (api.request, api.response):
        render_member_definitions(out, msg)
    render_frame_encoders(out, api)
    out("}  // namespace kwire")
    return out.text()


def render_setters(out, msg):
    """message_ops setters for the top-level fields the message has."""
    for name, type_text, setter in SETTABLE_FIELDS:
        f = settable_field(msg, name, type_text)
        if f is None:
            continue
        arg = "std::int16_t" if type_text == "int16" else "std::int32_t"
        out(f"bool {setter}_{msg.cpp}(void* m, {arg} value) noexcept {{")
        out(f"  static_cast<{msg.cpp}*>(m)->{f.cpp} = value;")
        out("  return true;")
        out("}")
        out()


def render_member_definitions(out, msg):
    T = msg.cpp
    out(f"void {T}::encode(kwire::writer& w, std::int16_t version) const {{")
    out(f"  if (version < min_version || version > max_version) {{")
    out(f"    w.fail(kwire::codec_errc::unsupported_version, \"{msg.name} v\" + std::to_string(version));")
    out("    return;")
    out("  }")
    out("  encode_struct(*this, w, version);")
    out("}")
    out()
    out(f"std::size_t {T}::encoded_size(std::int16_t version) const {{ return size_struct(*this, version); }}")
    out()
    out(f"bool {T}::decode_from(kwire::reader& r, std::int16_t version) {{")
    out("  if (version < min_version || version > max_version) {")
    out("    r.fail(kwire::codec_errc::unsupported_version, \"version \" + std::to_string(version));")
    out("    return false;")
    out("  }")
    out("  return decode_struct(*this, r, version);")
    out("}")
    out()
    out(f"kwire::result<{T}> {T}::decode(kwire::reader& r, std::int16_t version) {{")
    out(f"  {T} m;")
    out("  if (!m.decode_from(r, version)) return kwire::detail::context_error(r, name, version);")
    out("  return m;")
    out("}")
    out()
    out(f"void {T}::visit(kwire::field_visitor& v, std::int16_t version) const {{ visit_struct(*this, v, version); }}")
    out()
    setters = []
    for name, type_text, setter in SETTABLE_FIELDS:
        has = settable_field(msg, name, type_text) is not None
        setters.append(f"&{setter}_{msg.cpp}" if has else "nullptr")
    out(f"const kwire::message_ops& {T}::ops() noexcept {{")
    while setters and setters[-1] == "nullptr":
        setters.pop()
    out(f"  static const kwire::message_ops instance = kwire::detail::make_ops<{T}>({', '.join(setters)});")
    out("  return instance;")
    out("}")
    out()
    out(f"std::ostream& operator<<(std::ostream& os, const {T}& m) {{ return kwire::print_message(os, {T}::ops(), &m); }}")
    out()


def render_frame_encoder_decls(out, api):
    rq, rs = api.request.cpp, api.response.cpp
    out(f"/// Encodes a whole {api.request.name} frame (size prefix, header, body) for")
    out("/// header.api_version; the API key and the header version come from the type.")
    out("/// The error names the message and, where the writer knows it, the field and offset.")
    out(f"result<std::vector<std::uint8_t>> encode_request(request_header header, const {rq}& body);")
    out()
    out(f"/// Encodes a whole {api.response.name} frame (size prefix, header, body) of `version`.")
    out(f"result<std::vector<std::uint8_t>> encode_response(std::int32_t correlation_id, std::int16_t version,")
    out(f"                                                  const {rs}& body);")
    out()


def render_frame_encoders(out, api):
    rq, rs = api.request.cpp, api.response.cpp
    out(f"result<std::vector<std::uint8_t>> encode_request(request_header header, const {rq}& body) {{")
    out(f"  return kwire::detail::encode_request_frame(header, {rq}::ops(), &body);")
    out("}")
    out()
    out(f"result<std::vector<std::uint8_t>> encode_response(std::int32_t correlation_id, std::int16_t version,")
    out(f"                                                  const {rs}& body) {{")
    out(f"  return kwire::detail::encode_response_frame(correlation_id, version, {rs}::ops(), &body);")
    out("}")
    out()


def render_data_header(data):
    msg = data.message
    T = msg.cpp
    out = Emitter()
    out(HEADER_NOTE.format(src=f"protocol/schema/{data.stem}.kws").rstrip("\n"))
    out("#pragma once")
    out()
    out("#include <span>")
    out("#include <vector>")
    out()
    out("#include \"kwire/protocol/message.hpp\"")
    out()
    out("namespace kwire {")
    out()
    render_message_decl(out, msg)
    out(f"/// Encodes `m` as clients carry it inside other messages: the int16 `version`,")
    out(f"/// then the {msg.name} of that version. An unsupported version, or a value the")
    out("/// version cannot carry, is an error naming the field.")
    out(f"result<std::vector<std::uint8_t>> encode_{T}(const {T}& m, std::int16_t version);")
    out()
    out(f"/// Decodes an int16 version, then the {msg.name} of that version. As in Kafka,")
    out(f"/// a version above {T}::max_version is read as max_version (newer versions")
    out("/// only append fields) and bytes after the known fields are ignored. A negative")
    out("/// version, or input that is truncated or malformed, is an error naming the field")
    out("/// and byte offset (counted from the version prefix). The result owns its data.")
    out(f"result<{T}> decode_{T}(std::span<const std::uint8_t> bytes);")
    out()
    out("}  // namespace kwire")
    return out.text()


def render_data_source(data):
    msg = data.message
    T = msg.cpp
    out = Emitter()
    out(HEADER_NOTE.format(src=f"protocol/schema/{data.stem}.kws").rstrip("\n"))
    out(f"#include \"kwire/protocol/messages/{data.stem}.hpp\"")
    out()
    out("#include \"kwire/protocol/detail/message_support.hpp\"")
    out("#include \"kwire/protocol/detail/versioned_data.hpp\"")
    out()
    out("namespace kwire {")
    out("namespace {")
    out()
    ctx = Ctx(msg, msg.versions)
    for st in msg.structs + [msg.root]:
        struct_forward_declarations(out, st, ctx)
    out()
    render_message_impl(out, msg)
    render_setters(out, msg)
    out("}  // namespace")
    out()
    render_member_definitions(out, msg)
    out(f"result<std::vector<std::uint8_t>> encode_{T}(const {T}& m, std::int16_t version) {{")
    out(f"  return kwire::detail::encode_versioned_data({T}::ops(), &m, version);")
    out("}")
    out()
    out(f"result<{T}> decode_{T}(std::span<const std::uint8_t> bytes) {{")
    out(f"  {T} m;")
    out(f"  if (auto e = kwire::detail::decode_versioned_data({T}::ops(), &m, bytes)) return std::move(*e);")
    out("  return m;")
    out("}")
    out()
    out("}  // namespace kwire")
    return out.text()


def render_umbrella(apis, datas=()):
    out = Emitter()
    out(HEADER_NOTE.format(src="protocol/schema/*.kws").rstrip("\n"))
    out("// Every message of every API. Include only the API headers you use to keep")
    out("// builds fast; this header is for code that really needs them all.")
    out("#pragma once")
    out()
    for api in apis:
        out(f"#include \"kwire/protocol/messages/{api.stem}.hpp\"")
    if datas:
        out()
        out("// Data types: no API key, carried inside other messages' bytes fields.")
    for data in datas:
        out(f"#include \"kwire/protocol/messages/{data.stem}.hpp\"")
    return out.text()


def render_api_keys(apis):
    out = Emitter()
    out(HEADER_NOTE.format(src="protocol/schema/*.kws").rstrip("\n"))
    out("#pragma once")
    out()
    out("#include <cstdint>")
    out()
    out("namespace kwire {")
    out()
    out("/// Every API key kwire knows, by name.")
    out("enum class api_key : std::int16_t {")
    for api in apis:
        out(f"  {api.stem} = {api.key},")
    out("};")
    out()
    out("}  // namespace kwire")
    return out.text()


def render_api_table(apis):
    out = Emitter()
    out(HEADER_NOTE.format(src="protocol/schema/*.kws").rstrip("\n"))
    out("#include \"kwire/protocol/api.hpp\"")
    out()
    out("#include \"kwire/protocol/messages.hpp\"")
    out()
    out("namespace kwire {")
    out()
    out("std::span<const api_info> all_apis() noexcept {")
    out("  static const api_info table[] = {")
    for api in apis:
        rq = api.request
        fl = rq.flexible.intersect(rq.versions)
        unstable = "true" if (rq.unstable or api.response.unstable) else "false"
        out(f"      {{{api.key}, \"{api.name}\", {rq.versions.lo}, {rq.versions.hi}, "
            f"{-1 if fl.empty else fl.lo}, {unstable}, &{api.request.cpp}::ops(), &{api.response.cpp}::ops()}},")
    out("  };")
    out("  return table;")
    out("}")
    out()
    out("}  // namespace kwire")
    return out.text()


