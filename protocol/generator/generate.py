#!/usr/bin/env python3
"""kwire's code generator: schema files in, C++ out.

A schema file defines an API (request and response) or a data type (a
struct with versions but no API key, carried inside other messages).

Stages: parse (dsl.py), validate and build a typed model (model.py), render
(render_cpp.py with render_codec.py, render_fill.py, render_json.py,
render_errors.py), then format (format_cpp.py: clang-format when it is
installed). Output files are written only when their content changes, so an
unrelated schema edit does not rebuild every message.

Usage: generate.py --schema-dir DIR --errors FILE --out-dir DIR
                   [--clang-format PROGRAM --format-style FILE]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dsl  # noqa: E402
import format_cpp  # noqa: E402
import model  # noqa: E402
import render_cpp  # noqa: E402
import render_errors  # noqa: E402
import render_fill  # noqa: E402
import render_json  # noqa: E402


def write_if_changed(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schema-dir", required=True)
    ap.add_argument("--errors", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--clang-format", default="",
                    help="clang-format program; empty: leave the output unformatted")
    ap.add_argument("--format-style", default="", help="the .clang-format file to format with")
    args = ap.parse_args(argv)

    try:
        nodes, data_nodes = [], []
        for name in sorted(os.listdir(args.schema_dir)):
            if name.endswith(".kws"):
                node = dsl.parse_file(os.path.join(args.schema_dir, name))
                (data_nodes if isinstance(node, dsl.DataNode) else nodes).append((node, name[:-4]))
        apis = model.build_all(nodes)
        datas = model.build_data_types(data_nodes, apis)
        errors = dsl.parse_errors(args.errors)
    except dsl.SchemaError as e:
        print(f"kwire generator: {e}", file=sys.stderr)
        return 1

    out = args.out_dir
    inc = os.path.join(out, "kwire", "protocol")
    files = {}  # path -> text, written after one formatting pass over all of them
    for api in apis:
        files[os.path.join(inc, "messages", api.stem + ".hpp")] = render_cpp.render_api_header(api)
        files[os.path.join(out, "src", "messages", api.stem + ".cc")] = render_cpp.render_api_source(api)
    for data in datas:
        files[os.path.join(inc, "messages", data.stem + ".hpp")] = render_cpp.render_data_header(data)
        files[os.path.join(out, "src", "messages", data.stem + ".cc")] = render_cpp.render_data_source(data)
    files[os.path.join(inc, "messages.hpp")] = render_cpp.render_umbrella(apis, datas)
    files[os.path.join(inc, "api_keys.hpp")] = render_cpp.render_api_keys(apis)
    files[os.path.join(out, "src", "api_table.cc")] = render_cpp.render_api_table(apis)
    files[os.path.join(out, "src", "schema_json.cc")] = render_json.render_schema_source(apis, datas)
    files[os.path.join(inc, "kafka_error.hpp")] = render_errors.render_errors_header(errors)
    files[os.path.join(out, "src", "kafka_error.cc")] = render_errors.render_errors_source(errors)
    files[os.path.join(out, "testing", "random_fill.hpp")] = render_fill.RANDOM_FILL_HEADER
    files[os.path.join(out, "testing", "random_fill.cc")] = render_fill.render_random_fill(apis, datas)
    if args.clang_format:
        try:
            files = format_cpp.format_all(files, args.clang_format, args.format_style)
        except format_cpp.FormatError as e:
            print(f"kwire generator: {e}", file=sys.stderr)
            return 1
    for path, text in files.items():
        write_if_changed(path, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
