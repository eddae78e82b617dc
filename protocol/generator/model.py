"""Stage 2: validate the syntax trees and build a typed model.

Version ranges are a class that knows how to emit only the guard a version
needs inside a given enclosing range, so generated code tests nothing that is
always true.
"""

import keyword
import re
from dataclasses import dataclass, field
from typing import List, Optional

from dsl import SchemaError

MAX_VERSION = 0x7FFF


@dataclass(frozen=True)
class Versions:
    lo: int  # first version; lo > hi means no version
    hi: int  # last version, MAX_VERSION for "N+"

    @staticmethod
    def parse(text, where):
        try:
            if text == "none":
                return Versions(1, 0)
            if text.endswith("+"):
                return Versions(int(text[:-1]), MAX_VERSION)
            if "-" in text:
                a, b = text.split("-")
                return Versions(int(a), int(b))
            n = int(text)
            return Versions(n, n)
        except ValueError:
            raise SchemaError(f"{where}: bad version range '{text}'") from None

    @property
    def empty(self):
        return self.lo > self.hi

    def contains(self, v):
        return self.lo <= v <= self.hi

    def covers(self, other):
        return other.empty or (not self.empty and self.lo <= other.lo and other.hi <= self.hi)

    def intersect(self, other):
        return Versions(max(self.lo, other.lo), min(self.hi, other.hi))

    def text(self):
        if self.empty:
            return "none"
        if self.hi == MAX_VERSION:
            return f"{self.lo}+"
        if self.lo == self.hi:
            return str(self.lo)
        return f"{self.lo}-{self.hi}"

    def guard(self, within, var="version"):
        """C++ condition for `var in self`, given that `var in within` holds.
        Returns "true", "false", or an expression."""
        eff = self.intersect(within)
        if eff.empty:
            return "false"
        parts = []
        if eff.lo > within.lo:
            parts.append(f"{var} >= {eff.lo}")
        if eff.hi < within.hi:
            parts.append(f"{var} <= {eff.hi}")
        return " && ".join(parts) if parts else "true"


PRIMITIVES = {
    "bool": ("bool", 1), "int8": ("std::int8_t", 1), "int16": ("std::int16_t", 2),
    "int32": ("std::int32_t", 4), "int64": ("std::int64_t", 8), "uint16": ("std::uint16_t", 2),
    "uint32": ("std::uint32_t", 4), "float64": ("double", 8), "uuid": ("kwire::uuid", 16),
    "string": ("std::string", None), "bytes": ("std::vector<std::uint8_t>", None),
    "records": ("kwire::record_set", None),
}
NUMERIC = {"int8", "int16", "int32", "int64", "uint16", "uint32", "float64"}
INT_RANGES = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1), "int32": (-2**31, 2**31 - 1),
              "int64": (-2**63, 2**63 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1)}

CPP_KEYWORDS = set(keyword.kwlist) | {
    "default", "operator", "delete", "new", "namespace", "class", "struct", "union", "template",
    "this", "throw", "switch", "case", "register", "private", "public", "protected", "virtual",
    "friend", "typename", "explicit", "inline", "static", "const", "auto", "int", "long", "short",
    "char", "signed", "unsigned", "void", "volatile", "bool", "true", "false", "enum", "goto",
    "sizeof", "typedef", "using", "export", "mutable", "extern", "do", "double", "float",
}


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def member_name(name):
    s = snake(name)
    return s + "_" if s in CPP_KEYWORDS else s


@dataclass
class Struct:
    name: str           # schema name, e.g. TopicProduceData
    cpp: str = ""       # C++ type name inside the message
    versions: Versions = None
    fields: List["Field"] = field(default_factory=list)
    common: bool = False
    where: str = ""


@dataclass
class Field:
    name: str
    cpp: str
    type_text: str          # as written: int32, []int32, []Foo, Foo
    is_array: bool
    elem: str               # primitive name or struct name
    struct: Optional[Struct]
    versions: Versions
    nullable: Versions
    tagged: Versions
    tag: Optional[int]
    default_text: Optional[str]   # as written in the schema
    ignorable: bool
    map_key: bool
    where: str
    struct_inline: bool = False  # nested fields written under this field

    @property
    def is_struct(self):
        return self.struct is not None

    @property
    def can_be_null(self):
        return not self.nullable.empty

    @property
    def is_tagged(self):
        return self.tag is not None


@dataclass
class Message:
    api: "Api"           # the DataType for a data type
    kind: str            # "request", "response" or "data"
    name: str            # ProduceRequest
    cpp: str             # produce_request
    versions: Versions
    flexible: Versions
    unstable: bool
    root: Struct
    structs: List[Struct]   # nested and common structs, children before parents
    common_names: List[str]


@dataclass
class Api:
    name: str
    key: int
    stem: str
    request: Message = None
    response: Message = None


@dataclass
class DataType:
    """A struct that is not an API message (no API key): clients carry its
    encoding inside other messages, as an int16 version and the struct."""
    name: str
    stem: str
    message: Message = None
    key: int = -1  # no API key; message_ops shows -1


def _check_default(f, where):
    d = f.default_text
    if d is None:
        return
    if d == "null":
        if not f.can_be_null:
            raise SchemaError(f"{where}: default null on a field that is never nullable")
        return
    if f.is_array or f.is_struct:
        raise SchemaError(f"{where}: only null may be the default of an array or struct")
    if f.elem in INT_RANGES:
        try:
            v = int(d, 0)
        except ValueError:
            raise SchemaError(f"{where}: default '{d}' is not an integer") from None
        lo, hi = INT_RANGES[f.elem]
        if not lo <= v <= hi:
            raise SchemaError(f"{where}: default {d} does not fit {f.elem}")
    elif f.elem == "float64":
        float(d)
    elif f.elem == "bool":
        if d not in ("true", "false"):
            raise SchemaError(f"{where}: bool default must be true or false")
    elif f.elem == "string":
        if not (d.startswith('"') and d.endswith('"')):
            raise SchemaError(f"{where}: string default must be quoted")
    else:
        raise SchemaError(f"{where}: a {f.elem} field cannot have a default")


def build_message(api, node):
    where = node.where
    versions = Versions.parse(node.valid_versions, where)
    flexible = Versions.parse(node.flexible_versions, where)
    if versions.empty:
        raise SchemaError(f"{where}: a message needs at least one version")
    if node.kind == "data":
        name = api.name
    else:
        name = api.name + ("Request" if node.kind == "request" else "Response")
    msg = Message(api, node.kind, name, snake(name), versions, flexible, node.unstable,
                  None, [], [s.name for s in node.common_structs])
    by_name = {}
    ordered = []

    def make_struct(sname, sversions, fnodes, common, swhere):
        st = Struct(sname, "", sversions, [], common, swhere)
        seen = set()
        tags = set()
        for fn in fnodes:
            st.fields.append(make_field(fn, sversions))
            f = st.fields[-1]
            if f.name in seen:
                raise SchemaError(f"{fn.where}: field '{f.name}' repeated")
            seen.add(f.name)
            if f.is_tagged:
                if f.tag in tags:
                    raise SchemaError(f"{fn.where}: tag {f.tag} repeated")
                tags.add(f.tag)
        return st

    def make_field(fn, parent_versions):
        fw = fn.where
        is_array = fn.type.startswith("[]")
        elem = fn.type[2:] if is_array else fn.type
        fversions = Versions.parse(fn.versions, fw)
        # A nested field may list more versions than its parent; only the overlap is used.
        nullable = Versions.parse(fn.attrs.get("nullable", "none"), fw)
        # Kafka's own definitions sometimes list nullable versions before the
        # field exists; only the overlap means anything.
        tag = None
        tagged = Versions(1, 0)
        if "tag" in fn.attrs:
            t, _, tv = fn.attrs["tag"].partition("@")
            tag = int(t)
            tagged = Versions.parse(tv, fw)
            if tagged != fversions:
                raise SchemaError(f"{fw}: a tagged field's tagged versions must equal its versions")
            if not flexible.covers(tagged.intersect(versions)):
                raise SchemaError(f"{fw}: tagged versions outside the flexible versions")
        struct = None
        if elem not in PRIMITIVES:
            if not _NAME_OK(elem):
                raise SchemaError(f"{fw}: unknown type '{fn.type}'")
            if fn.children:
                struct = make_struct(elem, fversions, fn.children, False, fw)
                register(struct, fw)
            else:
                struct = ("ref", elem, fw)  # resolved once common structs are known
        elif fn.children:
            raise SchemaError(f"{fw}: a {elem} field cannot have nested fields")
        if elem == "records" and is_array:
            raise SchemaError(f"{fw}: arrays of records are not supported")
        if not is_array and elem in ("bool", "int8", "int16", "int32", "int64", "uint16", "uint32",
                                     "float64", "uuid") and not nullable.empty:
            raise SchemaError(f"{fw}: a {elem} field cannot be nullable")
        f = Field(fn.name, member_name(fn.name), fn.type, is_array, elem, struct, fversions,
                  nullable, tagged, tag, fn.attrs.get("default"), bool(fn.attrs.get("ignorable")),
                  bool(fn.attrs.get("key")), fw)
        f.struct_inline = bool(fn.children)
        if not isinstance(struct, tuple):
            _check_default(f, fw)
        all_fields.append(f)
        return f

    def register(st, swhere):
        prev = by_name.get(st.name)
        if prev is not None:
            if _shape(prev) != _shape(st):
                raise SchemaError(f"{swhere}: struct '{st.name}' defined twice with different fields")
            return
        by_name[st.name] = st
        ordered.append(st)

    all_fields = []
    root = make_struct(name, versions, node.fields, False, where)
    for cs in node.common_structs:
        st = make_struct(cs.name, Versions.parse(cs.versions, cs.where), cs.fields, True, cs.where)
        if cs.name in by_name:
            raise SchemaError(f"{cs.where}: struct '{cs.name}' already defined")
        register(st, cs.where)
    for f in all_fields:
        if isinstance(f.struct, tuple):
            _, sname, fw = f.struct
            if sname not in by_name:
                raise SchemaError(f"{fw}: unknown struct type '{sname}'")
            f.struct = by_name[sname]
            _check_default(f, fw)
        elif f.struct is not None and f.struct.name in by_name:
            f.struct = by_name[f.struct.name]
    # C++ names. Nested types are aliased inside the message, so one whose name
    # equals a member of the message itself gets a suffix.
    root_names = {f.cpp for f in root.fields}
    for st in ordered:
        cpp = snake(st.name)
        if cpp in root_names or cpp in CPP_KEYWORDS or cpp == msg.cpp:
            cpp += "_entry"
        st.cpp = cpp
    msg.root = root
    root.cpp = msg.cpp
    msg.structs = _children_first(root, ordered)
    return msg


def _NAME_OK(s):
    return re.match(r"^[A-Z][A-Za-z0-9]*$", s) is not None


def _shape(st):
    return [(f.name, f.type_text, f.versions, f.nullable, f.tag, f.default_text) for f in st.fields]


def _children_first(root, ordered):
    out, seen = [], set()

    def visit(st):
        for f in st.fields:
            if f.struct is not None and f.struct.name not in seen:
                seen.add(f.struct.name)
                visit(f.struct)
                out.append(f.struct)
    visit(root)
    for st in ordered:  # common structs nobody references still get emitted
        if st.name not in seen:
            seen.add(st.name)
            visit(st)
            out.append(st)
    return out


def build_api(node, stem):
    api = Api(node.name, node.key, stem)
    kinds = [m.kind for m in node.messages]
    if sorted(kinds) != ["request", "response"]:
        raise SchemaError(f"{node.path}: an API needs exactly one request and one response")
    for m in node.messages:
        msg = build_message(api, m)
        setattr(api, m.kind, msg)
    if api.request.versions != api.response.versions:
        raise SchemaError(f"{node.path}: request and response versions differ")
    return api


def build_data_type(node, stem):
    data = DataType(node.name, stem)
    data.message = build_message(data, node.message)
    for f in data.message.root.fields + [f for s in data.message.structs for f in s.fields]:
        if f.elem == "records":
            raise SchemaError(f"{f.where}: a data type cannot hold records")
    return data


def build_data_types(nodes_with_stems, apis):
    """The data types, sorted by name; their C++ names must not clash with any message's."""
    datas = sorted((build_data_type(n, stem) for n, stem in nodes_with_stems), key=lambda d: d.name)
    taken = {m.cpp: m.name for a in apis for m in (a.request, a.response)}
    taken.update({f"{a.stem}_api": a.name for a in apis})
    for d in datas:
        if d.message.cpp in taken:
            raise SchemaError(f"{d.stem}: data type {d.name} has the C++ name of {taken[d.message.cpp]}")
        taken[d.message.cpp] = d.name
    return datas


def build_all(nodes_with_stems):
    apis = [build_api(n, stem) for n, stem in nodes_with_stems]
    keys = {}
    for a in apis:
        if a.key in keys:
            raise SchemaError(f"{a.stem}: API key {a.key} also used by {keys[a.key]}")
        keys[a.key] = a.name
    apis.sort(key=lambda a: a.key)
    return apis
