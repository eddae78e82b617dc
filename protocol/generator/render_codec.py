"""Stage 3, the codec: encode, size, decode and visit functions for one struct.

One field table drives all four, so they cannot drift apart: every function
below walks the same Field list with the same version guards.
"""

from cpp_common import (INT_WRITERS, emit_array_or_null, emit_for_each, is_default_expr,
                        min_elem_size, negate, null_guard)
from model import PRIMITIVES, Versions

# ---- encode -----------------------------------------------------------------

def emit_encode_value(out, f, e, ctx, flex, null_ok):
    """Writes value `e` of field f. null_ok: C++ bool expression."""
    if f.is_array:
        def body(vec):
            out(f"w.write_array_length(static_cast<std::int64_t>({vec}.size()), {flex}, false);")
            emit_for_each(out, vec, lambda item: emit_encode_scalar(out, f, item, ctx, flex))
        emit_array_or_null(out, f, e, f"w.write_array_length(-1, {flex}, {null_ok});", body)
        return
    if f.struct is not None and f.can_be_null:
        out(f"if (!{e}) {{")
        out(f"  if (!({null_ok})) w.fail_field(kwire::codec_errc::null_not_allowed, \"{f.name}\");")
        out("  w.write_int8(-1);")
        out("} else {")
        out("  w.write_int8(1);")
        out(f"  encode_struct(*{e}, w, version);")
        out("}")
        return
    if f.elem == "records":
        out(f"w.write_records({e}, {flex}, {null_ok});")
        return
    if f.can_be_null:
        kind = "string" if f.elem == "string" else "bytes"
        if null_ok != "true":
            out(f"if (!{e} && !({null_ok})) w.fail_field(kwire::codec_errc::null_not_allowed, \"{f.name}\");")
        out(f"w.write_nullable_{kind}({e}, {flex});")
        return
    emit_encode_scalar(out, f, e, ctx, flex)


def emit_encode_scalar(out, f, e, ctx, flex):
    if f.struct is not None:
        out(f"encode_struct({e}, w, version);")
    elif f.elem == "string":
        out(f"w.write_string({e}, {flex});")
    elif f.elem == "bytes":
        out(f"w.write_bytes({e}, {flex});")
    else:
        out(f"w.write_{INT_WRITERS[f.elem]}({e});")


def emit_size_value(out, f, e, ctx, flex, acc="n"):
    if f.is_array:
        def body(vec):
            out(f"{acc} += kwire::wire_size::array_length(static_cast<std::int64_t>({vec}.size()), {flex});")
            fixed = PRIMITIVES.get(f.elem, (None, None))[1] if f.struct is None else None
            if fixed:
                out(f"{acc} += {vec}.size() * {fixed};")
            else:
                emit_for_each(out, vec, lambda item: emit_size_scalar(out, f, item, ctx, flex, acc))
        emit_array_or_null(out, f, e, f"{acc} += kwire::wire_size::array_length(-1, {flex});", body)
        return
    if f.struct is not None and f.can_be_null:
        out(f"{acc} += 1;")
        out(f"if ({e}) {acc} += size_struct(*{e}, version);")
        return
    if f.elem == "records":
        out(f"{acc} += kwire::wire_size::records({e}, {flex});")
        return
    if f.can_be_null:
        kind = "string" if f.elem == "string" else "bytes"
        out(f"{acc} += kwire::wire_size::nullable_{kind}({e}, {flex});")
        return
    emit_size_scalar(out, f, e, ctx, flex, acc)


def emit_size_scalar(out, f, e, ctx, flex, acc):
    if f.struct is not None:
        out(f"{acc} += size_struct({e}, version);")
    elif f.elem == "string":
        out(f"{acc} += kwire::wire_size::string({e}, {flex});")
    elif f.elem == "bytes":
        out(f"{acc} += kwire::wire_size::bytes({e}.size(), {flex});")
    else:
        out(f"{acc} += {PRIMITIVES[f.elem][1]};")


# ---- decode -----------------------------------------------------------------

def emit_decode_value(out, f, e, ctx, flex, null_ok):
    """Reads into `e`; on an element failure returns false with the path set."""
    if f.is_array:
        out("{")
        out.indent()
        nullable = null_ok if f.can_be_null else "false"
        out(f"const std::int32_t count = r.read_array_length({flex}, {nullable}, {min_elem_size(f, flex)});")
        if f.can_be_null:
            out("if (count < 0) {")
            out(f"  {e}.reset();")
            out("} else {")
            out.indent()
            out(f"auto& vec = {e}.emplace();")
        else:
            out(f"auto& vec = {e};")
        out("vec.clear();")
        out("vec.reserve(static_cast<std::size_t>(count));")
        out("for (std::int32_t i = 0; i < count; ++i) {")
        out.indent()
        if f.struct is not None:
            out("vec.emplace_back();")
            out("if (!decode_struct(vec.back(), r, version)) {")
        else:
            out(f"vec.push_back({decode_scalar_expr(f, flex)});")
            out("if (!r.ok()) {")
        out(f"  r.prefix_path_index(\"{f.name}\", static_cast<std::size_t>(i));")
        out("  return false;")
        out("}")
        out.dedent()
        out("}")
        if f.can_be_null:
            out.dedent()
            out("}")
        out.dedent()
        out("}")
        return
    if f.struct is not None:
        if f.can_be_null:
            out("{")
            out("  const std::size_t at = r.offset();")
            out("  if (r.read_int8() < 0) {")
            out(f"    if (r.ok() && !({null_ok})) r.fail_at(at, kwire::codec_errc::null_not_allowed, \"null struct\");")
            out(f"    {e}.reset();")
            out(f"  }} else if (r.ok() && !decode_struct({e}.emplace(), r, version)) {{")
            out(f"    r.prefix_path(\"{f.name}\");")
            out("    return false;")
            out("  }")
            out("}")
        else:
            out(f"if (!decode_struct({e}, r, version)) {{")
            out(f"  r.prefix_path(\"{f.name}\");")
            out("  return false;")
            out("}")
        return
    if f.elem == "records":
        out(f"{e} = r.read_records({flex}, {null_ok});")
        return
    if f.can_be_null:
        kind = "string" if f.elem == "string" else "bytes"
        out(f"{e} = kwire::detail::read_nullable_{kind}(r, {flex}, {null_ok});")
        return
    out(f"{e} = {decode_scalar_expr(f, flex)};")


def decode_scalar_expr(f, flex):
    if f.elem == "string":
        return f"r.read_string({flex})"
    if f.elem == "bytes":
        return f"r.read_bytes({flex})"
    return f"r.read_{INT_WRITERS[f.elem]}()"


# ---- visit --------------------------------------------------------------------

VISIT_KIND = {"bool": "bool", "int8": "int", "int16": "int", "int32": "int", "int64": "int",
              "uint16": "uint", "uint32": "uint", "float64": "float", "uuid": "uuid",
              "string": "string", "bytes": "bytes", "records": "records"}


def emit_visit_value(out, f, e):
    def scalar(x):
        if f.struct is not None:
            out(f"visit_struct({x}, v, version);")
        else:
            out(f"v.value_{VISIT_KIND[f.elem]}({x});")
    if f.can_be_null and f.elem != "records":
        out(f"if (!{e}) {{")
        out("  v.value_null();")
        out("} else {")
        out.indent()
        e = f"(*{e})"
    if f.is_array:
        out(f"v.begin_array({e}.size());")
        out(f"for (const auto& item : {e}) {{")
        out.indent()
        scalar("item")
        out.dedent()
        out("}")
        out("v.end_array();")
    else:
        scalar(e)
    if f.can_be_null and f.elem != "records":
        out.dedent()
        out("}")


# ---- struct functions ----------------------------------------------------------

class StructParts:
    """The pieces of one struct that every function below needs."""

    def __init__(self, st, ctx):
        self.st = st
        self.ctx = ctx
        self.T = ctx.qual(st)
        self.flex = ctx.msg.flexible.guard(ctx.within)
        self.plain = [f for f in st.fields if not f.is_tagged]
        self.tagged = sorted([f for f in st.fields if f.is_tagged], key=lambda f: f.tag)

    def flex_decl(self, out):
        """Declares `flex` when it depends on the version; returns the expression to use."""
        if self.flex in ("true", "false"):
            return self.flex
        out(f"const bool flex = {self.flex};")
        return "flex"

    def open_flex(self, out, fx):
        if fx != "true":
            out(f"if ({fx}) {{")
            out.indent()

    def close_flex(self, out, fx):
        if fx != "true":
            out.dedent()
            out("}")


def struct_encode(out, p):
    ctx = p.ctx
    out(f"void encode_struct([[maybe_unused]] const {p.T}& m, [[maybe_unused]] kwire::writer& w, "
        "[[maybe_unused]] std::int16_t version) {")
    out.indent()
    fx = p.flex_decl(out)
    for f in p.plain:
        g = ctx.guard(f.versions)
        null_ok = null_guard(f, ctx)
        e = f"m.{f.cpp}"
        if g == "true":
            emit_encode_value(out, f, e, ctx, fx, null_ok)
            continue
        out(f"if ({g}) {{")
        out.indent()
        emit_encode_value(out, f, e, ctx, fx, null_ok)
        out.dedent()
        if not f.ignorable:
            out(f"}} else if ({negate(is_default_expr(f, e, ctx.qual))}) {{")
            out(f"  w.fail_field(kwire::codec_errc::field_not_in_version, \"{f.name}\");")
        out("}")
    if fx != "false":
        p.open_flex(out, fx)
        out("std::size_t tag_count = m.unknown_tags.size();")
        for f in p.tagged:
            g = ctx.guard(f.versions)
            present = negate(is_default_expr(f, "m." + f.cpp, ctx.qual))
            out(f"const bool has_{f.cpp} = ({g}) && {present};")
            out(f"tag_count += has_{f.cpp} ? 1 : 0;")
            if not f.ignorable and g != "true":
                out(f"if (!({g}) && {present}) "
                    f"w.fail_field(kwire::codec_errc::field_not_in_version, \"{f.name}\");")
        out("w.write_uvarint(static_cast<std::uint32_t>(tag_count));")
        if not p.tagged:
            out("for (const auto& t : m.unknown_tags) kwire::detail::write_tagged(w, t);")
        else:
            out("auto unknown = m.unknown_tags.begin();")
            for f in p.tagged:
                if f.tag > 0:
                    out(f"for (; unknown != m.unknown_tags.end() && unknown->tag < {f.tag}; ++unknown) "
                        "kwire::detail::write_tagged(w, *unknown);")
                out(f"if (has_{f.cpp}) {{")
                out.indent()
                out("std::size_t size = 0;")
                emit_size_value(out, f, "m." + f.cpp, ctx, "true", "size")
                out(f"w.write_tag_header({f.tag}, size);")
                emit_encode_value(out, f, "m." + f.cpp, ctx, "true", null_guard(f, ctx))
                out.dedent()
                out("}")
            out("for (; unknown != m.unknown_tags.end(); ++unknown) "
                "kwire::detail::write_tagged(w, *unknown);")
        p.close_flex(out, fx)
    out.dedent()
    out("}")
    out()


def struct_size(out, p):
    ctx = p.ctx
    out(f"std::size_t size_struct([[maybe_unused]] const {p.T}& m, "
        "[[maybe_unused]] std::int16_t version) {")
    out.indent()
    out("std::size_t n = 0;")
    fx = p.flex_decl(out)
    for f in p.plain:
        g = ctx.guard(f.versions)
        if g == "true":
            emit_size_value(out, f, "m." + f.cpp, ctx, fx)
        else:
            out(f"if ({g}) {{")
            out.indent()
            emit_size_value(out, f, "m." + f.cpp, ctx, fx)
            out.dedent()
            out("}")
    if fx != "false":
        p.open_flex(out, fx)
        out("std::size_t tag_count = m.unknown_tags.size();")
        out("for (const auto& t : m.unknown_tags) n += kwire::detail::tagged_size(t);")
        for f in p.tagged:
            g = ctx.guard(f.versions)
            out(f"if (({g}) && {negate(is_default_expr(f, 'm.' + f.cpp, ctx.qual))}) {{")
            out.indent()
            out("std::size_t size = 0;")
            emit_size_value(out, f, "m." + f.cpp, ctx, "true", "size")
            out(f"n += kwire::wire_size::uvarint({f.tag}) + kwire::wire_size::uvarlong(size) + size;")
            out("++tag_count;")
            out.dedent()
            out("}")
        out("n += kwire::wire_size::uvarlong(tag_count);")
        p.close_flex(out, fx)
    out("return n;")
    out.dedent()
    out("}")
    out()


def struct_decode_tag(out, p):
    """The known tagged fields of a struct, as a handler for read_tagged_fields:
    true when it read the field (check the reader), false for an unknown tag."""
    ctx = p.ctx
    out(f"bool decode_tag({p.T}& m, kwire::reader& r, std::uint32_t tag, std::uint32_t size, "
        "[[maybe_unused]] std::int16_t version) {")
    out.indent()
    out("switch (tag) {")
    for f in p.tagged:
        g = ctx.guard(f.versions)
        out(f"  case {f.tag}:")
        out(f"    if ({g}) {{")
        out.indent()
        out.indent()
        out("const std::uint8_t* end = r.narrow(size);")
        emit_decode_value(out, f, "m." + f.cpp, ctx, "true", null_guard(f, ctx))
        out("r.restore_end(end);")
        out(f"if (!r.ok()) r.prefix_path(\"{f.name}\");")
        out("return true;")
        out.dedent()
        out.dedent()
        out("    }")
        out("    break;")
    out("  default:")
    out("    break;")
    out("}")
    out("return false;")
    out.dedent()
    out("}")
    out()


def struct_decode(out, p):
    ctx = p.ctx
    out(f"bool decode_struct([[maybe_unused]] {p.T}& m, [[maybe_unused]] kwire::reader& r, "
        "[[maybe_unused]] std::int16_t version) {")
    out.indent()
    fx = p.flex_decl(out)
    for f in p.plain:
        g = ctx.guard(f.versions)
        null_ok = null_guard(f, ctx)
        if g != "true":
            out(f"if ({g}) {{")
            out.indent()
        emit_decode_value(out, f, "m." + f.cpp, ctx, fx, null_ok)
        out("if (!r.ok()) {")
        out(f"  r.prefix_path(\"{f.name}\");")
        out("  return false;")
        out("}")
        if g != "true":
            out.dedent()
            out("}")
    if fx != "false":
        p.open_flex(out, fx)
        if p.tagged:
            out("constexpr kwire::detail::known_tag_reader known = [](void* target, kwire::reader& in, "
                "std::uint32_t tag, std::uint32_t size, std::int16_t v) {")
            out(f"  return decode_tag(*static_cast<{p.T}*>(target), in, tag, size, v);")
            out("};")
            out("if (!kwire::detail::read_tagged_fields(r, m.unknown_tags, version, &m, known)) "
                "return false;")
        else:
            out("if (!kwire::detail::read_tagged_fields(r, m.unknown_tags)) return false;")
        p.close_flex(out, fx)
    out("return true;")
    out.dedent()
    out("}")
    out()


def struct_visit(out, p):
    ctx = p.ctx
    st = p.st
    out(f"void visit_struct([[maybe_unused]] const {p.T}& m, kwire::field_visitor& v, "
        "[[maybe_unused]] std::int16_t version) {")
    out.indent()
    out("v.begin_struct();")
    for f in st.fields:
        g = ctx.guard(f.versions)
        cond = "true" if g == "true" else f"version < 0 || ({g})"
        if cond != "true":
            out(f"if ({cond}) {{")
            out.indent()
        out(f"v.field(\"{f.name}\");")
        emit_visit_value(out, f, "m." + f.cpp)
        if cond != "true":
            out.dedent()
            out("}")
    if st.fields and ctx.msg.flexible.intersect(ctx.within) != Versions(1, 0):
        out("if (!m.unknown_tags.empty()) kwire::detail::visit_unknown_tags(m.unknown_tags, v);")
    out("v.end_struct();")
    out.dedent()
    out("}")
    out()


def struct_forward_declarations(out, st, ctx):
    """Declarations that let structs refer to each other in any order."""
    T = ctx.qual(st)
    out(f"void encode_struct(const {T}& m, kwire::writer& w, std::int16_t version);")
    out(f"std::size_t size_struct(const {T}& m, std::int16_t version);")
    out(f"bool decode_struct({T}& m, kwire::reader& r, std::int16_t version);")
    out(f"void visit_struct(const {T}& m, kwire::field_visitor& v, std::int16_t version);")


def struct_functions(out, st, ctx):
    """Encode, size, decode and visit for one struct of a message."""
    p = StructParts(st, ctx)
    struct_encode(out, p)
    struct_size(out, p)
    if p.tagged and p.flex != "false":
        struct_decode_tag(out, p)
    struct_decode(out, p)
    struct_visit(out, p)
