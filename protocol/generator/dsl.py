"""Stage 1: parse kwire schema files (.kws) into plain syntax trees.

The format, one API (or one data type) per file:

    # comment
    api Produce 0
    request versions 0-11 flexible 9+ [unstable]
      FieldName type versions [nullable=V] [tag=N@V] [default=X] [ignorable] [key]
        NestedField ...              (indented under a struct or []struct field)
      struct CommonName versions     (a struct shared by several fields)
        Field ...
    response versions ... flexible ...
      ...

A data type is a struct that is not an API message: clients put its bytes
inside other messages (e.g. ConsumerProtocolSubscription inside JoinGroup's
protocol metadata). It has no API key, and its file holds one block instead
of the api, request and response lines:

    data ConsumerProtocolAssignment versions 0-3 flexible none
      FieldName type versions ...   (as in a request or response)

Versions are `N`, `N+`, `N-M` or `none`. Indentation is two spaces a level.
Errors name the file and line.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional


class SchemaError(Exception):
    pass


@dataclass
class FieldNode:
    name: str
    type: str
    versions: str
    attrs: dict
    children: List["FieldNode"] = field(default_factory=list)
    where: str = ""


@dataclass
class StructNode:
    name: str
    versions: str
    fields: List[FieldNode]
    where: str = ""


@dataclass
class MessageNode:
    kind: str  # "request", "response" or "data"
    valid_versions: str
    flexible_versions: str
    unstable: bool
    fields: List[FieldNode]
    common_structs: List[StructNode]
    where: str = ""


@dataclass
class ApiNode:
    name: str
    key: int
    messages: List[MessageNode]
    path: str


@dataclass
class DataNode:
    name: str
    message: MessageNode
    path: str


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_ATTR = re.compile(r"^(nullable|tag|default)=(.*)$")


def _parse_field(tokens, where):
    if len(tokens) < 3:
        raise SchemaError(f"{where}: a field needs a name, a type and versions")
    name, typ, versions = tokens[:3]
    if not _NAME.match(name):
        raise SchemaError(f"{where}: field name '{name}' must be letters and digits")
    attrs = {}
    for tok in tokens[3:]:
        m = _ATTR.match(tok)
        if m:
            key, value = m.groups()
            if key in attrs:
                raise SchemaError(f"{where}: '{key}' given twice")
            attrs[key] = value
        elif tok in ("ignorable", "key"):
            attrs[tok] = True
        else:
            raise SchemaError(f"{where}: unknown attribute '{tok}'")
    return FieldNode(name, typ, versions, attrs, [], where)


def _tokenize(line):
    # default="some text" may hold spaces; everything else splits on blanks.
    out, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        j = i
        while j < len(line) and line[j] != " ":
            if line[j] == '"':
                k = line.index('"', j + 1)
                j = k + 1
            else:
                j += 1
        out.append(line[i:j])
        i = j
    return out


def parse_file(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse_text(text, path)


def parse_text(text, path):
    """An ApiNode, or a DataNode for a file with a `data` block."""
    api = None
    data = None
    messages = []
    # Stack of (indent, container list) for nesting fields.
    stack = []
    current = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        where = f"{path}:{lineno}"
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent % 2:
            raise SchemaError(f"{where}: indentation must be a multiple of two spaces")
        level = indent // 2
        tokens = _tokenize(line.strip())
        if level == 0:
            if tokens[0] == "api":
                if api is not None or len(tokens) != 3:
                    raise SchemaError(f"{where}: expected one 'api NAME KEY' line")
                api = (tokens[1], int(tokens[2]))
            elif tokens[0] in ("request", "response"):
                if len(tokens) < 5 or tokens[1] != "versions" or tokens[3] != "flexible":
                    raise SchemaError(f"{where}: expected '{tokens[0]} versions V flexible V'")
                extra = tokens[5:]
                if extra not in ([], ["unstable"]):
                    raise SchemaError(f"{where}: unexpected '{' '.join(extra)}'")
                current = MessageNode(tokens[0], tokens[2], tokens[4], bool(extra), [], [], where)
                messages.append(current)
                stack = [(0, current.fields)]
            elif tokens[0] == "data":
                if (data is not None or len(tokens) != 6 or tokens[2] != "versions"
                        or tokens[4] != "flexible" or not _NAME.match(tokens[1])):
                    raise SchemaError(f"{where}: expected one 'data NAME versions V flexible V' line")
                current = MessageNode("data", tokens[3], tokens[5], False, [], [], where)
                data = (tokens[1], current)
                stack = [(0, current.fields)]
            else:
                raise SchemaError(f"{where}: unknown top-level keyword '{tokens[0]}'")
            continue
        if current is None:
            raise SchemaError(f"{where}: field outside a request, response or data type")
        while stack and stack[-1][0] >= level:
            stack.pop()
        if not stack or stack[-1][0] != level - 1:
            raise SchemaError(f"{where}: unexpected indentation")
        container = stack[-1][1]
        if tokens[0] == "struct":
            if level != 1 or len(tokens) != 3:
                raise SchemaError(f"{where}: 'struct NAME VERSIONS' belongs at the first level")
            node = StructNode(tokens[1], tokens[2], [], where)
            current.common_structs.append(node)
            stack.append((level, node.fields))
        else:
            node = _parse_field(tokens, where)
            container.append(node)
            stack.append((level, node.children))
    if data is not None:
        if api is not None or messages:
            raise SchemaError(f"{path}: a data type's file holds no api, request or response")
        return DataNode(data[0], data[1], path)
    if api is None:
        raise SchemaError(f"{path}: no 'api NAME KEY' line")
    return ApiNode(api[0], api[1], messages, path)


@dataclass
class ErrorCode:
    code: int
    name: str
    retriable: bool


def parse_errors(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3 or parts[2] not in ("retriable", "fatal"):
                raise SchemaError(f"{path}:{lineno}: expected 'CODE NAME retriable|fatal'")
            out.append(ErrorCode(int(parts[0]), parts[1], parts[2] == "retriable"))
    return out
