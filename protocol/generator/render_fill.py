"""Stage 3, testing: random field values for property tests and fuzzers,
walking the same field table as the codec.
"""

from cpp_common import HEADER_NOTE, Ctx, Emitter, null_guard
from model import PRIMITIVES

# ---- random fill (testing library) ---------------------------------------------------

def emit_fill_value(out, f, e, ctx, null_ok, tagged):
    def scalar(x, is_new):
        if f.struct is not None:
            out(f"fill_struct({x}, version, g);")
        elif f.elem == "string":
            out(f"{x} = random_string(g);")
        elif f.elem == "bytes":
            out(f"{x} = random_bytes(g);")
        elif f.elem == "records":
            out(f"{x} = kwire::record_set(random_bytes(g));")
        elif f.elem == "uuid":
            out(f"{x} = random_uuid(g);")
        elif f.elem == "bool":
            out(f"{x} = (g() & 1) != 0;")
        elif f.elem == "float64":
            out(f"{x} = static_cast<double>(static_cast<std::int32_t>(g())) / 8.0;")
        else:
            out(f"{x} = static_cast<{PRIMITIVES[f.elem][0]}>(g());")
    opt = f.can_be_null and f.elem != "records"
    if f.can_be_null and null_ok != "false":
        cond = "g() % 4 == 0" if null_ok == "true" else f"({null_ok}) && g() % 4 == 0"
        out(f"if ({cond}) {{")
        out(f"  {e} = {{}};")
        out("} else {")
        out.indent()
        nullable_block = True
    else:
        nullable_block = False
    target = e
    if opt:
        out(f"auto& value = {e}.emplace();")
        target = "value"
    if f.is_array:
        out(f"{target}.resize(g() % 3);")
        out(f"for (auto& item : {target}) {{")
        out.indent()
        if f.elem == "bool":
            raise ValueError("arrays of bool are not supported")
        scalar("item", False)
        out.dedent()
        out("}")
    else:
        scalar(target, True)
    if nullable_block:
        out.dedent()
        out("}")


def _messages(apis, datas):
    """Every message of every API, then the data types."""
    out = [m for api in apis for m in (api.request, api.response)]
    return out + [d.message for d in datas]


def render_random_fill(apis, datas=()):
    out = Emitter()
    out(HEADER_NOTE.format(src="protocol/schema/*.kws").rstrip("\n"))
    out("#include \"random_fill.hpp\"")
    out()
    out("#include \"kwire/protocol/messages.hpp\"")
    out()
    out("namespace kwire::testing {")
    out("namespace {")
    out()
    out("using rng = std::mt19937_64;")
    out()
    out("std::string random_string(rng& g) {")
    out("  std::string s(g() % 9, 'a');")
    out("  for (auto& c : s) c = static_cast<char>('a' + g() % 26);")
    out("  return s;")
    out("}")
    out("std::vector<std::uint8_t> random_bytes(rng& g) {")
    out("  std::vector<std::uint8_t> b(g() % 17);")
    out("  for (auto& c : b) c = static_cast<std::uint8_t>(g());")
    out("  return b;")
    out("}")
    out("kwire::uuid random_uuid(rng& g) {")
    out("  kwire::uuid id{};")
    out("  for (auto& c : id) c = static_cast<std::uint8_t>(g());")
    out("  return id;")
    out("}")
    out()
    for msg in _messages(apis, datas):
        ctx = Ctx(msg, msg.versions)
        for st in msg.structs + [msg.root]:
            out(f"void fill_struct({ctx.qual(st)}& m, std::int16_t version, rng& g);")
    out()
    for msg in _messages(apis, datas):
        ctx = Ctx(msg, msg.versions)
        for st in msg.structs + [msg.root]:
            out(f"void fill_struct([[maybe_unused]] {ctx.qual(st)}& m, [[maybe_unused]] std::int16_t version, [[maybe_unused]] rng& g) {{")
            out.indent()
            if not st.fields:
                pass
            for f in st.fields:
                g = ctx.guard(f.versions)
                cond = g
                if f.is_tagged:
                    cond = f"({g}) && (g() & 1)" if g != "true" else "(g() & 1)"
                if cond == "false":
                    continue
                if cond != "true":
                    out(f"if ({cond}) {{")
                    out.indent()
                emit_fill_value(out, f, "m." + f.cpp, ctx, null_guard(f, ctx), f.is_tagged)
                if cond != "true":
                    out.dedent()
                    out("}")
            out.dedent()
            out("}")
            out()
    out("template <class T>")
    out("void fill_erased(void* m, std::int16_t version, rng& g) { fill_struct(*static_cast<T*>(m), version, g); }")
    out()
    out("}  // namespace")
    out()
    out("bool random_fill(const kwire::message_ops& ops, void* message, std::int16_t version, std::mt19937_64& g) {")
    out("  using fill_fn = void (*)(void*, std::int16_t, rng&);")
    out("  struct entry { const kwire::message_ops* ops; fill_fn fill; };")
    out("  static const entry table[] = {")
    for msg in _messages(apis, datas):
        out(f"      {{&{msg.cpp}::ops(), &fill_erased<{msg.cpp}>}},")
    out("  };")
    out("  for (const auto& e : table) {")
    out("    if (e.ops == &ops) {")
    out("      e.fill(message, version, g);")
    out("      return true;")
    out("    }")
    out("  }")
    out("  return false;")
    out("}")
    out()
    out("}  // namespace kwire::testing")
    return out.text()


RANDOM_FILL_HEADER = """// Generated by kwire's generator (protocol/generator). Do not edit.
// Random field values for property tests and fuzzers.
#pragma once

#include <cstdint>
#include <random>

#include "kwire/protocol/message.hpp"

namespace kwire::testing {

/// Fills `message` (whose type `ops` describes) with random values for every
/// field present in `version`; fields absent from it keep their defaults.
/// Returns false if `ops` is not a generated message.
bool random_fill(const kwire::message_ops& ops, void* message, std::int16_t version,
                 std::mt19937_64& rng);

}  // namespace kwire::testing
"""

