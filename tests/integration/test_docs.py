#!/usr/bin/python3
"""Documentation: the man pages are part of the interface. They lint clean
with mandoc, and every config key, contract and field key, field type,
protocol op, error code, option, command and environment variable the
sources accept is documented where a reader looks for it. The lists come
from the sources themselves (src/lib/conf.c, src/lib/contract.c, src/lib/proto.c,
src/warrend/client.c, src/warrend/consume.c, src/warrend/warrend.c, src/warren/warren.c), so a key added to
the code without its documentation fails here."""

import glob
import os
import re
import shutil
import subprocess

from warrentest import TOP_SRCDIR, expect, fail, run

SRC = os.path.join(TOP_SRCDIR, "src")
MAN = os.path.join(TOP_SRCDIR, "man")


# ------------------------------------------------------------- reading C


def read(*parts):
    path = os.path.join(TOP_SRCDIR, *parts)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %s: %r" % (path, e))


def strip_c_comments(text):
    """C source without comments; string and char literals kept as they are."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j == -1 else j + 2
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def c_source(name):
    for layer in ("lib", "warrend", "warren"):
        if os.path.exists(os.path.join(SRC, layer, name)):
            return strip_c_comments(read("src", layer, name))
    fail("no src/*/%s" % name)


def balanced(text, start, open_ch, close_ch):
    """text[start] is open_ch: the text up to its matching close_ch
    (exclusive), skipping string literals."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    fail("unbalanced %s%s in C source from offset %d" % (open_ch, close_ch, start))


def c_table(src, name, file):
    """The initializer body of the array `name[] = { ... }`."""
    m = re.search(r"\b%s\s*\[[^\]]*\]\s*=\s*\{" % re.escape(name), src)
    if m is None:
        fail("cannot find the table %s[] in %s (the test reads the keys from it)"
             % (name, file))
    return balanced(src, m.end() - 1, "{", "}")


def c_function(src, name, file):
    """The body of the function defined as `name(...)` at a line start."""
    m = re.search(r"^%s\s*\(" % re.escape(name), src, re.M)
    if m is None:
        fail("cannot find the function %s() in %s" % (name, file))
    brace = src.index("{", m.end())
    return balanced(src, brace, "{", "}")


def call_args(src, func):
    """For every call func(...) in src, its top-level arguments as text."""
    out = []
    for m in re.finditer(r"\b%s\s*\(" % re.escape(func), src):
        body = balanced(src, m.end() - 1, "(", ")")
        args, depth, cur, i = [], 0, [], 0
        while i < len(body):
            c = body[i]
            if c == '"':
                j = i + 1
                while j < len(body) and body[j] != '"':
                    j += 2 if body[j] == "\\" else 1
                cur.append(body[i:j + 1])
                i = j + 1
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            if c == "," and depth == 0:
                args.append("".join(cur).strip())
                cur = []
            else:
                cur.append(c)
            i += 1
        args.append("".join(cur).strip())
        out.append(args)
    return out


def literals(text):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


def word_literals(text):
    """String literals that are single identifiers (keys, codes)."""
    return [s for s in literals(text) if re.fullmatch(r"[a-z][a-z0-9_]*", s)]


def conf_keys():
    """(group or None, name, type) of every entry of conf_keys[]."""
    body = c_table(c_source("conf.c"), "conf_keys", "src/lib/conf.c")
    keys = [(None if g == "NULL" else g.strip('"'), n, t) for g, n, t in re.findall(
        r'\{\s*(NULL|"[\w.]+")\s*,\s*"(\w+)"\s*,\s*(T_\w+)', body)]
    expect(len(keys) >= 10, "the entries of conf_keys[] in src/lib/conf.c", body[:300])
    return keys


def contract_keys():
    """The keys a contract group accepts: the strcmp(name, "...") tests of
    contract_key() in src/lib/contract.c."""
    body = c_function(c_source("contract.c"), "contract_key", "src/lib/contract.c")
    keys = re.findall(r'strcmp\s*\(\s*name\s*,\s*"(\w+)"\s*\)', body)
    expect(len(keys) >= 5, 'strcmp(name, "...") key tests in contract_key() in '
           "src/lib/contract.c", body[:300])
    return keys


def field_keys():
    body = c_table(c_source("contract.c"), "field_keys", "src/lib/contract.c")
    keys = re.findall(r'\{\s*"(\w+)"\s*,', body)
    expect(len(keys) >= 5, "the entries of field_keys[] in src/lib/contract.c", body[:300])
    return keys


def field_types():
    body = c_table(c_source("contract.c"), "field_type_names", "src/lib/contract.c")
    types = word_literals(body)
    expect(len(types) >= 5, "the entries of field_type_names[] in src/lib/contract.c",
           body[:300])
    return types


def proto_ops():
    body = c_table(c_source("proto.c"), "proto_ops", "src/lib/proto.c")
    ops = re.findall(r'\{\s*"(\w+)"\s*,\s*OP_\w+', body)
    expect(len(ops) >= 5, "the entries of proto_ops[] in src/lib/proto.c", body[:300])
    return ops


def warrend_sources():
    """The C files of warrend: src/lib and src/warrend, not the client's."""
    names = [os.path.basename(p) for layer in ("lib", "warrend")
             for p in sorted(glob.glob(os.path.join(SRC, layer, "*.c")))]
    expect(len(names) >= 5, "warrend's C files in src/lib and src/warrend", names)
    return names


def error_codes():
    """{code: [where it comes from, ...]} for every error code warrend can
    send. The sources: the proto_error_codes[] table of src/lib/proto.c, the
    literal given as the `code` parameter of every function that has one
    (client_error, request_error, proto_reply_error, ...), literals assigned
    to a variable named code, and error lines written out by hand."""
    found = {}

    def add(code, where):
        found.setdefault(code, []).append(where)

    for code in word_literals(c_table(c_source("proto.c"), "proto_error_codes",
                                      "src/lib/proto.c")):
        add(code, "proto.c proto_error_codes[]")
    files = warrend_sources()
    srcs = {f: c_source(f) for f in files}
    # Functions with a `const char *code` parameter, and its position.
    code_arg = {}
    for src in srcs.values():
        for m in re.finditer(r"^(\w+)\s*\(", src, re.M):
            params = balanced(src, m.end() - 1, "(", ")").split(",")
            for i, p in enumerate(params):
                if re.search(r"\bchar\s*\*\s*code\s*$", p.strip()):
                    code_arg[m.group(1)] = i
    expect(code_arg, "functions taking an error `code` parameter in src/", code_arg)
    for f, src in srcs.items():
        for func, idx in code_arg.items():
            for args in call_args(src, func):
                if len(args) > idx:
                    for code in word_literals(args[idx]):
                        add(code, "%s %s()" % (f, func))
        for rhs in re.findall(r"(?<![\w.>])\*?\s*code\s*=\s*([^;]*);", src):
            for code in word_literals(rhs):
                add(code, "%s code = ..." % f)
        # Error lines written by hand: "{\"ok\":false,\"error\":" "\"CODE\"..."
        for code in re.findall(r'\\"error\\":(?:"\s*")?\\"(\w+)\\"', src):
            add(code, "%s literal reply" % f)
    expect(len(found) >= 8, "error codes in warrend's sources", sorted(found))
    return found


def getopt_letters(file):
    src = c_source(file)
    m = re.search(r'\bgetopt(?:_long)?\s*\(\s*argc\s*,\s*argv\s*,\s*"([^"]*)"', src)
    if m is None:
        fail("cannot find the getopt() option string in src/%s" % file)
    letters = [c for c in m.group(1) if c.isalnum()]
    expect(letters, "option letters in the getopt string of src/%s" % file, m.group(1))
    return letters


def warren_commands():
    """The commands of warren's usage message: the names in the warren_cmds[]
    table of src/warren/warren-usage.c."""
    src = c_source("warren-usage.c")
    m = re.search(r"warren_cmds\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if m is None:
        fail("no warren_cmds[] table in src/warren/warren-usage.c")
    cmds = re.findall(r'^\s*\{\s*"([a-z][a-z0-9-]*)"', m.group(1), re.M)
    expect(len(cmds) >= 3, "commands in warren_cmds[]", m.group(1)[:300])
    return cmds


def warrend_environment():
    """Environment variables warrend reads: literals given to getenv() and to
    sdnotify_for_us() (which calls getenv) in warrend's own sources."""
    names = set()
    for base in warrend_sources():
        src = c_source(base)
        names.update(re.findall(
            r'\b(?:getenv|sdnotify_for_us)\s*\(\s*"([A-Z_][A-Z0-9_]*)"', src))
    expect(names, "getenv() calls in warrend's sources", names)
    return sorted(names)


# ------------------------------------------------------------- reading mdoc


def man(page):
    return read("man", page)


def mdoc_sections(text):
    """[(sh, ss or None, [lines])] in page order."""
    out = []
    sh, ss, cur = None, None, []
    for line in text.split("\n"):
        m = re.match(r"\.(Sh|Ss)\s+(.*)$", line)
        if m:
            out.append((sh, ss, cur))
            cur = []
            title = m.group(2).strip().strip('"')
            if m.group(1) == "Sh":
                sh, ss = title, None
            else:
                ss = title
            continue
        cur.append(line)
    out.append((sh, ss, cur))
    return out


def section(page, sh, ss=None):
    """Lines of .Sh sh (all its .Ss when ss is None) or of .Ss ss in it."""
    secs = mdoc_sections(man(page))
    lines = [ln for s, t, ls in secs if s == sh and (ss is None or t == ss) for ln in ls]
    if not any(s == sh and (ss is None or t == ss) for s, t, _ in secs):
        fail("man/%s has no section %s%s (sections: %s)" % (
            page, ".Sh %s" % sh, "" if ss is None else " / .Ss %s" % ss,
            sorted({"%s%s" % (s, "" if t is None else " / " + t)
                    for s, t, _ in secs if s})))
    return lines


def tagged(lines, macro, word):
    """Is there an `.It <macro> word` item, word first or in a list such as
    `.It Ev LISTEN_FDS , Ev LISTEN_PID`?"""
    rx = re.compile(r"^\.It\s+(?:.*\s,\s+)?%s\s+\\?&?%s(\s|$)" % (macro, re.escape(word)))
    return any(rx.match(ln) for ln in lines)


def marked(lines, macro, word):
    """Does `<macro> word` occur on any macro line, e.g. `.Ic socket`?"""
    rx = re.compile(r"(^\.|\s)%s\s+%s(\s|$)" % (macro, re.escape(word)))
    return any(ln.startswith(".") and rx.search(ln) for ln in lines)


def report_missing(missing, what):
    if missing:
        fail("%s; missing: %s" % (what, "; ".join(missing)))


# ------------------------------------------------------------- tests


def man_pages_lint_clean_with_mandoc():
    mandoc = shutil.which("mandoc")
    if mandoc is None:
        fail("expected mandoc on PATH (script/bootstrap installs it), got none")
    pages = sorted(glob.glob(os.path.join(MAN, "*.[0-9]")))
    expect(len(pages) >= 4, "the man pages in man/", pages)
    problems = []
    for page in pages:
        p = subprocess.run([mandoc, "-Tlint", "-W", "warning", page],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
        if p.returncode != 0 or out:
            problems.append("%s (exit %d):\n%s" % (os.path.basename(page),
                                                  p.returncode, out))
    expect(not problems, "no output from mandoc -Tlint -W warning on every man page",
           "\n".join(problems))


def every_config_key_documented_in_warrend_conf_5():
    page = "warrend.conf.5"
    missing = []
    for group, name, typ in conf_keys():
        if group is None and typ == "T_GROUP":
            # A group has its own section, e.g. "SOCKET SETTINGS", naming it.
            sh = "%s SETTINGS" % name.upper()
            lines = section(page, sh)
            if not marked(lines, "Ic", name):
                missing.append(".Ic %s in %s" % (name, sh))
        elif group is None:
            if not tagged(section(page, "GLOBAL SETTINGS"), "Ic", name):
                missing.append(".It Ic %s in GLOBAL SETTINGS" % name)
        else:
            # A group inside a group ("broker.tls") is in its parent's section.
            sh = "%s SETTINGS" % group.split(".")[0].upper()
            if not tagged(section(page, sh), "Ic", name):
                missing.append(".It Ic %s in %s (key %s.%s)" % (name, sh, group, name))
    report_missing(missing, "every key of conf_keys[] (src/lib/conf.c) documented in "
                   "man/%s" % page)


def every_contract_key_documented_in_warrend_conf_5():
    lines = section("warrend.conf.5", "CONTRACTS", "Contract keys")
    missing = [".It Ic %s" % k for k in contract_keys() if not tagged(lines, "Ic", k)]
    report_missing(missing, "every contract key of contract_key() (src/lib/contract.c) "
                   "in man/warrend.conf.5, CONTRACTS / Contract keys")


def every_field_key_documented_in_warrend_conf_5():
    lines = section("warrend.conf.5", "CONTRACTS", "Field keys")
    missing = [".It Ic %s" % k for k in field_keys() if not tagged(lines, "Ic", k)]
    report_missing(missing, "every key of field_keys[] (src/lib/contract.c) in "
                   "man/warrend.conf.5, CONTRACTS / Field keys")


def every_field_type_documented_in_warrend_conf_5():
    lines = section("warrend.conf.5", "CONTRACTS", "Types")
    missing = [".It Ic %s" % t for t in field_types() if not tagged(lines, "Ic", t)]
    report_missing(missing, "every type of field_type_names[] (src/lib/contract.c) in "
                   "man/warrend.conf.5, CONTRACTS / Types")


def every_error_code_documented_in_warren_protocol_7():
    lines = section("warren-protocol.7", "ERROR CODES")
    codes = error_codes()
    missing = [".It Ql %s (from %s)" % (c, ", ".join(sorted(set(w))))
               for c, w in sorted(codes.items()) if not tagged(lines, "Ql", c)]
    report_missing(missing, "every error code warrend sends (%s) in "
                   "man/warren-protocol.7, ERROR CODES" % ", ".join(sorted(codes)))


def every_op_documented_in_warren_protocol_7():
    titles = set()
    for sh, ss, _ in mdoc_sections(man("warren-protocol.7")):
        if sh == "OPERATIONS" and ss:
            titles.update(t.strip() for t in ss.split(","))
    expect(titles, "operation subsections (.Ss) in man/warren-protocol.7 OPERATIONS",
           "none")
    missing = [".Ss %s" % op for op in proto_ops() if op not in titles]
    report_missing(missing, "every op of proto_ops[] (src/lib/proto.c) with its own .Ss in "
                   "man/warren-protocol.7, OPERATIONS (found: %s)" % sorted(titles))


def every_warrend_option_documented_in_warrend_8():
    lines = section("warrend.8", "OPTIONS")
    missing = [".It Fl %s" % c for c in getopt_letters("warrend.c")
               if not tagged(lines, "Fl", c)]
    report_missing(missing, "every option letter of warrend's getopt string "
                   "(src/warrend/warrend.c) in man/warrend.8, OPTIONS")


def every_warren_option_documented_in_warren_1():
    lines = section("warren.1", "OPTIONS")
    missing = [".It Fl %s" % c for c in getopt_letters("warren.c")
               if not tagged(lines, "Fl", c)]
    report_missing(missing, "every option letter of warren's getopt string "
                   "(src/warren/warren.c) in man/warren.1, OPTIONS")


def every_warren_command_documented_in_warren_1():
    lines = section("warren.1", "DESCRIPTION")
    synopsis = section("warren.1", "SYNOPSIS")
    missing = []
    for cmd in warren_commands():
        if not tagged(lines, "Cm", cmd):
            missing.append(".It Cm %s in DESCRIPTION" % cmd)
        if not marked(synopsis, "Cm", cmd):
            missing.append(".Cm %s in SYNOPSIS" % cmd)
    report_missing(missing, "every command of warren's usage message (src/warren/warren-usage.c) "
                   "in man/warren.1")


def every_environment_variable_warrend_reads_documented_in_warrend_8():
    lines = section("warrend.8", "ENVIRONMENT")
    missing = [".It Ev %s" % v for v in warrend_environment() if not tagged(lines, "Ev", v)]
    report_missing(missing, "every environment variable warrend reads (getenv() in "
                   "src/*.c) in man/warrend.8, ENVIRONMENT")


def shipped_config_mentions_every_config_key():
    """conf/warrend.conf shows every key of conf_keys[] in its place: as a
    setting, or commented out ("# group = ...", "# metrics: { ... };")
    inside its group."""
    text = read("conf", "warrend.conf")
    seen = set()
    stack = []          # the groups/lists we are inside, by setting name
    last = [None]
    token = re.compile(r'"(?:[^"\\]|\\.)*"|([A-Za-z_][\w-]*)\s*[=:]|([{(\[])|([})\]])')
    # A comment that is a setting or a closing bracket, not prose.
    commented = re.compile(r'\s*([A-Za-z_][\w-]*\s*[=:]\s*([{(\["\d-]|true|false)'
                           r'|[})\]]\s*[;,]?\s*$)')

    def scan(code):
        for tok in token.finditer(code):
            if tok.group(1):
                last[0] = tok.group(1)
                seen.add((tuple(stack), last[0]))
            elif tok.group(2):
                stack.append(last[0])
                last[0] = None
            elif tok.group(3):
                if stack:
                    stack.pop()
                last[0] = None

    for line in text.split("\n"):
        code, comment = split_conf_comment(line)
        scan(code)
        if commented.match(comment):
            scan(split_conf_comment(comment)[0])
    missing = []
    for group, name, _ in conf_keys():
        where = () if group is None else tuple(group.split("."))
        if (where, name) not in seen:
            missing.append("%s%s" % ("" if group is None else group + ".", name))
    report_missing(missing, "every key of conf_keys[] (src/lib/conf.c) shown in "
                   "conf/warrend.conf, in its group")


def split_conf_comment(line):
    """(code, comment text) of a libconfig line; '#' and '//' inside strings
    (as in amqp:// URLs) are not comments."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == '"':
            j = i + 1
            while j < n and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
            continue
        if c == "#":
            return line[:i], line[i + 1:]
        if line.startswith("//", i):
            return line[:i], line[i + 2:]
        i += 1
    return line, ""


if __name__ == "__main__":
    run([
        man_pages_lint_clean_with_mandoc,
        every_config_key_documented_in_warrend_conf_5,
        every_contract_key_documented_in_warrend_conf_5,
        every_field_key_documented_in_warrend_conf_5,
        every_field_type_documented_in_warrend_conf_5,
        every_error_code_documented_in_warren_protocol_7,
        every_op_documented_in_warren_protocol_7,
        every_warrend_option_documented_in_warrend_8,
        every_warren_option_documented_in_warren_1,
        every_warren_command_documented_in_warren_1,
        every_environment_variable_warrend_reads_documented_in_warrend_8,
        shipped_config_mentions_every_config_key,
    ])
